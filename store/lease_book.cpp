#include "store/lease_book.hpp"

namespace meridian::store {

KvPut LeaseBook::renewal(const std::string& holder) {
  std::lock_guard lock(mutex_);
  return KvPut{std::string(kLeasePrefix) + holder, std::to_string(++counter_)};
}

void LeaseBook::on_change(std::string_view key, const std::optional<std::string>& value) {
  if (!key.starts_with(kLeasePrefix) || key.size() == kLeasePrefix.size()) return;
  const std::string holder(key.substr(kLeasePrefix.size()));
  std::lock_guard lock(mutex_);
  if (value) {
    renewals_[holder] = clock_.now();
  } else {
    renewals_.erase(holder);
  }
}

LeaseRenewals LeaseBook::renewals() const {
  std::lock_guard lock(mutex_);
  return renewals_;
}

}  // namespace meridian::store
