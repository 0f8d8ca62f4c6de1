#pragma once
// A resource record as zone data: owner, type, TTL and RDATA in uncompressed
// wire form, with the positions of the domain names inside the RDATA (so the
// renderer can compress them where RFC 3597 allows it, and the answerer can
// add addresses for NS/MX/SRV targets). Rdata and RRset are the same RDATA
// grouped by owner and type, as zones hold it and the renderer writes it.

#include <cstdint>
#include <vector>

#include "dns/wire/name.hpp"

namespace meridian::dns {

/// Where a domain name sits inside RDATA.
struct RdataName {
  std::uint16_t offset = 0;
  std::uint16_t length = 0;
};

struct Record {
  Name owner;
  std::uint16_t type = 0;
  std::uint16_t rclass = 1;  // IN
  std::uint32_t ttl = 0;
  std::vector<std::uint8_t> rdata;
  std::vector<RdataName> rdata_names;

  /// The domain name at `rdata_names[i]`.
  Name rdata_name(std::size_t i) const noexcept;
};

/// One RDATA of an RRset.
struct Rdata {
  std::vector<std::uint8_t> bytes;
  std::vector<RdataName> names;  ///< embedded domain names, in order
};

/// All records of one owner and type. TTL is the lowest of its records
/// (RFC 2181 5.2).
struct RRset {
  std::uint16_t type = 0;
  std::uint32_t ttl = 0;
  std::vector<Rdata> rdatas;
};

}  // namespace meridian::dns
