#pragma once
// The DNS cookie secret (dns/cookie.hpp) every node of a cluster shares, so
// that a resolver's server cookie learned from one node is valid at every
// other one, and its rotation.
//
// - In a cluster the secret lives in the replicated store under
//   kCookieSecretKey. The decider creates it, and replaces it once it is
//   `rotate_every` old: the new secret becomes current, the old one stays
//   accepted as previous, so no client's cookie stops working at a
//   rotation (a cookie lives at most an hour, RFC 9018). Every node follows
//   the key and hands the secrets to the DNS workers' slot. Until the
//   cluster's secret has arrived a node uses a secret of its own: clients
//   then simply receive a fresh cookie once the shared one is in place.
// - A node alone keeps a secret of its own and rotates it the same way.
//
// The record is never shown by the admin API (kSecretKeyPrefix), since
// whoever holds the secret can mint cookies that pass rate limiting.
//
// Thread rule: every method runs on the scheduler's thread; the store's
// callbacks are handed over to it.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/clock.hpp"
#include "base/log.hpp"
#include "base/result.hpp"
#include "base/scheduler.hpp"
#include "dns/cookie.hpp"
#include "store/replicated_store.hpp"

namespace meridian::gslb {

/// Keys under this prefix hold secrets: the admin API neither shows nor
/// exports them.
inline constexpr std::string_view kSecretKeyPrefix = "_secret/";
inline constexpr std::string_view kCookieSecretKey = "_secret/dns_cookie";

/// The stored record: "v1 MADE_MS CURRENT_HEX [PREVIOUS_HEX]".
struct CookieSecretRecord {
  std::uint64_t made_ms = 0;  ///< wall clock when `current` was made
  dns::CookieSecrets secrets;
};
std::string encode_cookie_record(const CookieSecretRecord& record);
std::optional<CookieSecretRecord> decode_cookie_record(std::string_view text);

/// The secrets of an operator's secret file (dns.cookies.secret_file): a
/// line of 32 hex digits, the current secret, and optionally a second line,
/// the previous one (blank lines and surrounding spaces ignored). The error
/// says what is wrong, never what the file holds.
Result<dns::CookieSecrets> parse_cookie_secret_file(std::string_view text);

class CookieSecretKeeper {
 public:
  /// Makes a new secret from a cryptographic source (the node reads the
  /// kernel's; tests pass a fixed sequence).
  using SecretSource = std::function<dns::CookieSecret()>;

  /// `store` is null for a node alone. Everything given must outlive the
  /// keeper.
  CookieSecretKeeper(store::ReplicatedStore* store, Scheduler& scheduler, const Clock& clock,
                     Logger& logger, Clock::Duration rotate_every, SecretSource source,
                     dns::CookieSecretSlot& slot);
  ~CookieSecretKeeper();
  CookieSecretKeeper(const CookieSecretKeeper&) = delete;
  CookieSecretKeeper& operator=(const CookieSecretKeeper&) = delete;

  /// Publishes a first secret at once, follows the store's record, and
  /// checks every `check_every` whether a rotation is due.
  void start(Clock::Duration check_every = std::chrono::seconds(5));
  /// Later store callbacks and timers do nothing.
  void stop();

  /// The record in force (the cluster's once it has arrived).
  const CookieSecretRecord& record() const noexcept { return record_; }
  /// True once the secrets come from the cluster's record.
  bool shared() const noexcept { return shared_; }
  /// Rotations this node made (as decider, or alone).
  std::uint64_t rotations() const noexcept { return rotations_; }

  /// One check: rotates when this node decides (or is alone) and the
  /// current secret is older than rotate_every, or when the cluster has no
  /// record yet.
  void tick();

 private:
  struct Alive;
  void apply(const std::optional<std::string>& value);
  void publish();

  store::ReplicatedStore* store_;
  Scheduler& scheduler_;
  const Clock& clock_;
  Logger& logger_;
  Clock::Duration rotate_every_;
  SecretSource source_;
  dns::CookieSecretSlot& slot_;
  CookieSecretRecord record_;
  std::optional<std::string> stored_;  // the store's value as last seen
  bool shared_ = false;
  bool writing_ = false;
  std::uint64_t rotations_ = 0;
  Clock::Duration check_every_{};
  std::optional<store::WatchId> watch_;
  std::shared_ptr<Alive> alive_;
};

}  // namespace meridian::gslb
