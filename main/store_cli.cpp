// meridian store export | import: the replicated state between the
// built-in store and etcd, through a node's admin API
// (admin/store_transfer_routes.hpp).
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <fstream>
#include <iostream>
#include <sstream>

#include "main/admin_call.hpp"
#include "main/admin_cli.hpp"

namespace meridian {
namespace {

namespace json = boost::json;
namespace http = boost::beast::http;

constexpr const char* kStoreUsage = R"(usage:
  meridian store export [--output FILE]     the node's replicated state as JSON (stdout by default)
  meridian store import FILE [--replace]    writes an export into the node's store; refused when
                                            the store already holds state, unless --replace
options: --admin HOST:PORT (default: admin.listen of -c FILE, else 127.0.0.1:8053)
         -c FILE (the node's config), --token-file FILE (default: admin.token_file of -c FILE)
)";

/// Each import request stays well under the admin server's 1 MiB body limit.
constexpr std::size_t kBatchBytes = std::size_t{512} * 1024;
/// An export larger than this is not a Meridian state (config versions are
/// capped at 100 of 768 KiB).
constexpr std::size_t kMaxExportBytes = std::size_t{256} << 20;

int usage(const std::string& message) {
  std::cerr << "meridian: " << message << "\n\n" << kStoreUsage;
  return 2;
}

int export_state(const CliArguments& args, const AdminTarget& target) {
  auto exported = call_admin(target, http::verb::get, "/api/v1/store/export");
  if (!exported) return 1;
  const std::string text = json::serialize(*exported) + "\n";
  const std::string path = args.value("--output");
  const json::value* entries = exported->if_contains("entries");
  const std::size_t count =
      entries != nullptr && entries->is_array() ? entries->as_array().size() : 0;
  if (path.empty()) {
    std::cout << text;
  } else {
    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    file << text;
    file.close();
    if (!file) {
      std::cerr << "meridian: cannot write " << path << "\n";
      return 1;
    }
  }
  std::cerr << "exported " << count << " key(s) from the "
            << cli_text(exported->if_contains("backend")) << " store of "
            << cli_text(exported->if_contains("node")) << "\n";
  return 0;
}

Result<json::object> read_export(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return fail("cannot read ", path);
  std::ostringstream text;
  text << file.rdbuf();
  if (text.str().size() > kMaxExportBytes) return fail(path, " is too large for an export");
  boost::system::error_code error;
  json::value value = json::parse(text.str(), error);
  if (error || !value.is_object()) return fail(path, " is not JSON (", error.message(), ")");
  return value.as_object();
}

int import_state(const CliArguments& args, const AdminTarget& target) {
  auto document = read_export(args.words[1]);
  if (!document) {
    std::cerr << "meridian: " << document.error().message << "\n";
    return 1;
  }
  const json::value* entries = document->if_contains("entries");
  if (entries == nullptr || !entries->is_array()) {
    std::cerr << "meridian: " << args.words[1] << " has no \"entries\" list\n";
    return 1;
  }
  // Every key of the import, so that --replace deletes only what it does not bring.
  json::array keep;
  for (const json::value& entry : entries->as_array()) {
    if (const json::object* pair = entry.if_object(); pair && pair->contains("key")) {
      keep.push_back(pair->at("key"));
    }
  }
  // Batches in the export's order (the current config version comes last).
  std::vector<json::array> batches(1);
  std::size_t batch_bytes = 0;
  for (const json::value& entry : entries->as_array()) {
    const std::size_t size = json::serialize(entry).size();
    if (!batches.back().empty() && batch_bytes + size > kBatchBytes) {
      batches.emplace_back();
      batch_bytes = 0;
    }
    batches.back().push_back(entry);
    batch_bytes += size;
  }
  std::uint64_t written = 0;
  std::uint64_t deleted = 0;
  for (std::size_t i = 0; i < batches.size(); ++i) {
    json::object body{
        {"format", document->contains("format") ? document->at("format") : nullptr},
        {"version", document->contains("version") ? document->at("version") : nullptr},
        {"entries", std::move(batches[i])},
        {"begin", i == 0},
        {"replace", args.has("--replace")}};
    if (i == 0) body["keep"] = keep;
    auto answer =
        call_admin(target, http::verb::post, "/api/v1/store/import", json::serialize(body));
    if (!answer) {
      if (i > 0) std::cerr << "meridian: the import stopped after " << written << " key(s)\n";
      return 1;
    }
    const auto number = [&](std::string_view name) {
      const json::value* value = answer->if_contains(name);
      return value != nullptr && value->is_number() ? value->to_number<std::uint64_t>() : 0;
    };
    written += number("written");
    deleted += number("deleted");
  }
  std::cout << "imported " << written << " key(s)";
  if (deleted > 0) std::cout << ", deleted " << deleted << " the export did not have";
  std::cout << "\n";
  return 0;
}

}  // namespace

int run_store_command(const std::vector<std::string_view>& raw) {
  const CliArguments args = split_cli_arguments(raw, {"--replace"}, {"--output"});
  if (!args.error.empty()) return usage(args.error);
  if (args.words.empty()) return usage("store needs export or import");
  auto target = resolve_admin_target(args);
  if (!target) {
    std::cerr << "meridian: " << target.error().message << "\n";
    return 1;
  }
  if (args.words[0] == "export") {
    if (args.words.size() != 1) return usage("store export takes no arguments");
    return export_state(args, *target);
  }
  if (args.words[0] == "import") {
    if (args.words.size() != 2) return usage("store import needs the FILE an export wrote");
    return import_state(args, *target);
  }
  return usage("unknown store subcommand '" + args.words[0] + "'");
}

}  // namespace meridian
