#pragma once
// Committing a new cluster-wide config version (docs/configuration.md) over
// the store seam. There is no multi-key transaction, so a commit is a
// protocol of compare-and-sets (records: gslb/config_versions.hpp):
//
//   1. read _config/current (linearizable): the version it replaces;
//   2. claim the next version number by writing the record with a
//      compare-and-set on an absent key; a number already holding a record
//      (a stray of a lost or crashed apply, never current) is skipped, up
//      to kMaxClaims numbers;
//   3. move _config/current from the number read to the new one with a
//      compare-and-set: if another apply moved it first, this commit lost,
//      removes its record (if still its own) and changes nothing else;
//   4. after answering, trim: keep the newest kMaxConfigVersions of the
//      history and delete every other record at or below the committed
//      number (older versions and strays; a record above it may be an
//      apply in flight).
//
// Two applies racing therefore never both win one number, and the loser
// is told to apply again.
//
// Thread rule: commit_config_version may be called from any thread but a
// store callback's. `done` runs once, on a thread of the store's (or
// before the call returns, with the memory store); it must be quick.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "gslb/config_versions.hpp"
#include "store/replicated_store.hpp"

namespace meridian::gslb {

/// Version numbers tried past records left by lost or crashed applies.
inline constexpr int kMaxConfigClaims = 8;

/// Why a version was not committed.
enum class CommitErrorKind : std::uint8_t {
  store,  ///< a step failed in the store: `store` says how (a timeout: the outcome is unknown)
  damaged_current,  ///< _config/current holds no version number: nothing was changed
  numbers_taken,    ///< kMaxConfigClaims numbers in a row held other applies' records: nothing was
                    ///< changed
  lost_race,        ///< another apply moved _config/current first: nothing was changed, apply again
};

struct CommitError {
  CommitErrorKind kind = CommitErrorKind::store;
  std::string message;                     ///< for a human (the store's message with kind store)
  std::optional<store::StoreError> store;  ///< with kind store: the store's error
};

/// The committed record (number and previous filled in), or the error.
using CommitDone = std::function<void(ConfigVersion committed, std::optional<CommitError> error)>;

/// Commits `record` as the next version: everything but `number` and
/// `previous` set by the caller (text, fingerprint, author, comment,
/// time_ms, rollback_of), and validate_config_version holding (an
/// assertion when encoded). `store` must outlive the commit (its callbacks
/// keep the commit alive).
void commit_config_version(store::ReplicatedStore& store, ConfigVersion record, CommitDone done);

}  // namespace meridian::gslb
