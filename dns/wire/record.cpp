#include "dns/wire/record.hpp"

#include "base/assert.hpp"

namespace meridian::dns {

Name Record::rdata_name(std::size_t i) const noexcept {
  MERIDIAN_ASSERT(i < rdata_names.size(), "rdata name index");
  const RdataName& at = rdata_names[i];
  Name name;
  const bool ok =
      Name::from_wire(std::span<const std::uint8_t>(rdata.data() + at.offset, at.length), name);
  MERIDIAN_ASSERT(ok, "rdata name is not a valid wire name");
  return name;
}

}  // namespace meridian::dns
