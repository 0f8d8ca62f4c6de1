// The ldns adapter: presentation-format text in, Meridian records out.
#include "dns/presentation.hpp"

#include <fcntl.h>
#include <ldns/ldns.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "dns/wire/types.hpp"

namespace meridian::dns {
namespace {

struct RrDeleter {
  void operator()(ldns_rr* rr) const noexcept { ldns_rr_free(rr); }
};
struct RdfDeleter {
  void operator()(ldns_rdf* rdf) const noexcept { ldns_rdf_deep_free(rdf); }
};
struct FileCloser {
  void operator()(FILE* f) const noexcept { std::fclose(f); }
};
using RrPtr = std::unique_ptr<ldns_rr, RrDeleter>;
using RdfPtr = std::unique_ptr<ldns_rdf, RdfDeleter>;

RdfPtr origin_rdf(const Name& origin) {
  const auto wire = origin.wire();
  // ldns copies the data; the const_cast is for its C signature only.
  return RdfPtr(ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, wire.size(),
                                      const_cast<std::uint8_t*>(wire.data())));
}

// Converts a parsed ldns record; ldns stores each RDATA field in wire form,
// so RDATA is their concatenation, and DNAME fields are the embedded names.
Result<Record> from_ldns(const ldns_rr* rr) {
  Record record;
  const ldns_rdf* owner = ldns_rr_owner(rr);
  if (!Name::from_wire(std::span<const std::uint8_t>(ldns_rdf_data(owner), ldns_rdf_size(owner)),
                       record.owner)) {
    return fail("invalid owner name");
  }
  record.type = static_cast<std::uint16_t>(ldns_rr_get_type(rr));
  record.rclass = static_cast<std::uint16_t>(ldns_rr_get_class(rr));
  record.ttl = ldns_rr_ttl(rr);
  if (record.type == rrtype::OPT || record.type == rrtype::ANY || record.type == rrtype::AXFR ||
      record.type == rrtype::IXFR) {
    return fail("type ", type_to_text(record.type), " cannot appear in zone data");
  }
  for (std::size_t i = 0; i < ldns_rr_rd_count(rr); ++i) {
    const ldns_rdf* field = ldns_rr_rdf(rr, i);
    const std::size_t size = ldns_rdf_size(field);
    if (ldns_rdf_get_type(field) == LDNS_RDF_TYPE_DNAME) {
      record.rdata_names.push_back(RdataName{static_cast<std::uint16_t>(record.rdata.size()),
                                             static_cast<std::uint16_t>(size)});
    }
    const std::uint8_t* data = ldns_rdf_data(field);
    record.rdata.insert(record.rdata.end(), data, data + size);
  }
  if (record.rdata.size() > 65535) return fail("RDATA longer than 65535 bytes");
  return record;
}

/// Opens `path` for reading if it is a regular file; else null, with the
/// reason in `error`. ldns reads a directory (EISDIR, never end of file) or
/// a device such as /dev/zero forever, and opening a FIFO blocks until a
/// writer comes: any of them, named by a typo in zones[].file, would hang
/// the config load. Opened without blocking, then checked on the
/// descriptor itself, so nothing can swap the file in between.
FILE* open_regular_file(const std::string& path, std::string& error) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    error = std::strerror(errno);
    return nullptr;
  }
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    error = std::strerror(errno);
    ::close(fd);
    return nullptr;
  }
  if (!S_ISREG(info.st_mode)) {
    error = S_ISDIR(info.st_mode) ? "a directory, not a file" : "not a regular file";
    ::close(fd);
    return nullptr;
  }
  FILE* file = ::fdopen(fd, "r");
  if (file == nullptr) {
    error = std::strerror(errno);
    ::close(fd);
  }
  return file;
}

std::string status_text(ldns_status status) {
  const char* text = ldns_get_errorstr_by_id(status);
  return text != nullptr ? text : "unknown ldns error";
}

}  // namespace

Result<Record> parse_record(std::string_view text, const Name& origin, std::uint32_t default_ttl) {
  const std::string line(text);
  if (line.find_first_not_of(" \t") == std::string::npos) return fail("empty record");
  RdfPtr origin_name = origin_rdf(origin);
  ldns_rr* raw = nullptr;
  const ldns_status status =
      ldns_rr_new_frm_str(&raw, line.c_str(), default_ttl, origin_name.get(), nullptr);
  RrPtr rr(raw);
  if (status != LDNS_STATUS_OK) return fail(status_text(status));
  if (ldns_rr_get_class(rr.get()) != LDNS_RR_CLASS_IN) return fail("class must be IN");
  return from_ldns(rr.get());
}

Result<std::vector<ZoneFileRecord>> read_zone_file(const std::string& path, const Name& origin,
                                                   std::uint32_t default_ttl) {
  std::string open_error;
  std::unique_ptr<FILE, FileCloser> file(open_regular_file(path, open_error));
  if (!file) return fail(path, ": cannot open: ", open_error);
  // ldns reads tokens as C strings: a NUL byte would cut one short and the
  // record read would not be the record written. Zone files are text (RFC
  // 1035 writes any octet as \DDD), so a raw NUL is refused up front.
  int line_of_nul = 1;
  for (int c = std::fgetc(file.get()); c != EOF; c = std::fgetc(file.get())) {
    if (c == '\n') ++line_of_nul;
    if (c == '\0') {
      return fail(path, ":", std::to_string(line_of_nul),
                  ": a NUL byte (a zone file is text; write an octet as \\000)");
    }
  }
  if (std::ferror(file.get())) return fail(path, ": cannot read the file");
  std::rewind(file.get());

  // ldns updates these as it meets $ORIGIN, $TTL and owner-less lines.
  ldns_rdf* current_origin = origin_rdf(origin).release();
  ldns_rdf* previous_owner = nullptr;
  std::uint32_t ttl = default_ttl;
  int line_number = 0;
  std::vector<ZoneFileRecord> records;
  Result<std::vector<ZoneFileRecord>> outcome = records;

  while (!std::feof(file.get())) {
    ldns_rr* raw = nullptr;
    const int line_before = line_number + 1;
    const ldns_status status = ldns_rr_new_frm_fp_l(&raw, file.get(), &ttl, &current_origin,
                                                    &previous_owner, &line_number);
    RrPtr rr(raw);
    // A read error never reaches end of file: stop rather than loop.
    if (std::ferror(file.get())) {
      outcome = fail(path, ":", std::to_string(line_number), ": cannot read the file");
      break;
    }
    if (status == LDNS_STATUS_SYNTAX_EMPTY || status == LDNS_STATUS_SYNTAX_TTL ||
        status == LDNS_STATUS_SYNTAX_ORIGIN) {
      continue;
    }
    if (status == LDNS_STATUS_SYNTAX_INCLUDE) {
      outcome = fail(path, ":", std::to_string(line_number), ": $INCLUDE is not supported");
      break;
    }
    if (status != LDNS_STATUS_OK) {
      // At end of file ldns may report an error for a trailing empty read.
      if (std::feof(file.get()) && raw == nullptr && status == LDNS_STATUS_SYNTAX_ERR) break;
      outcome = fail(path, ":", std::to_string(line_number), ": ", status_text(status));
      break;
    }
    if (ldns_rr_get_class(rr.get()) != LDNS_RR_CLASS_IN) {
      outcome = fail(path, ":", std::to_string(line_number), ": class must be IN");
      break;
    }
    auto record = from_ldns(rr.get());
    if (!record) {
      outcome = fail(path, ":", std::to_string(line_number), ": ", record.error().message);
      break;
    }
    records.push_back(
        ZoneFileRecord{std::move(record).value(), line_number > 0 ? line_number : line_before});
  }
  ldns_rdf_deep_free(current_origin);
  if (previous_owner != nullptr) ldns_rdf_deep_free(previous_owner);
  if (!outcome.ok()) return outcome;
  return records;
}

std::string to_text(const Record& record) {
  // Assemble the record's wire form and let ldns print it.
  std::vector<std::uint8_t> wire(record.owner.wire().begin(), record.owner.wire().end());
  auto put16 = [&](std::uint16_t v) {
    wire.push_back(static_cast<std::uint8_t>(v >> 8));
    wire.push_back(static_cast<std::uint8_t>(v));
  };
  put16(record.type);
  put16(record.rclass);
  put16(static_cast<std::uint16_t>(record.ttl >> 16));
  put16(static_cast<std::uint16_t>(record.ttl));
  put16(static_cast<std::uint16_t>(record.rdata.size()));
  wire.insert(wire.end(), record.rdata.begin(), record.rdata.end());

  ldns_rr* raw = nullptr;
  std::size_t pos = 0;
  if (ldns_wire2rr(&raw, wire.data(), wire.size(), &pos, LDNS_SECTION_ANSWER) != LDNS_STATUS_OK) {
    return record.owner.to_text() + " (unprintable " + type_to_text(record.type) + ")";
  }
  RrPtr rr(raw);
  char* text = ldns_rr2str(rr.get());
  std::string result = text != nullptr ? text : "";
  std::free(text);
  while (!result.empty() && (result.back() == '\n' || result.back() == ' ')) result.pop_back();
  return result;
}

std::string type_to_text(std::uint16_t type) {
  char* text = ldns_rr_type2str(static_cast<ldns_rr_type>(type));
  std::string result = text != nullptr ? text : "TYPE" + std::to_string(type);
  std::free(text);
  return result;
}

}  // namespace meridian::dns
