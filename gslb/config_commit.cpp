#include "gslb/config_commit.hpp"

#include <memory>
#include <set>
#include <utility>

#include "base/assert.hpp"

namespace meridian::gslb {

using store::ReadMode;
using store::StoreError;

namespace {

CommitError store_failure(const StoreError& error) {
  return CommitError{CommitErrorKind::store, error.message, error};
}

// One commit, in the steps of the header. Store callbacks keep it alive.
class Commit : public std::enable_shared_from_this<Commit> {
 public:
  Commit(store::ReplicatedStore& store, ConfigVersion record, CommitDone done)
      : store_(store), record_(std::move(record)), done_(std::move(done)) {}

  void start() {
    auto self = shared_from_this();
    store_.read(
        std::string(kConfigCurrentKey), ReadMode::linearizable,
        [self](std::optional<std::string> value, std::optional<StoreError> error) {
          if (error) return self->finish(store_failure(*error));
          if (value) {
            self->previous_ = decode_config_number(*value);
            if (!self->previous_) {
              return self->finish(CommitError{
                  CommitErrorKind::damaged_current,
                  "the stored current config version is damaged: '" + value->substr(0, 40) + "'",
                  {}});
            }
          }
          self->record_.previous = self->previous_.value_or(0);
          self->claim(self->previous_.value_or(0) + 1, 0);
        });
  }

 private:
  void claim(std::uint64_t number, int attempt) {
    record_.number = number;
    auto self = shared_from_this();
    store_.write_system(
        store::KvCompareAndSet{config_version_key(number), std::nullopt,
                               encode_config_version(record_)},
        [self, number, attempt](const store::KvResult& result, std::optional<StoreError> error) {
          if (error) return self->finish(store_failure(*error));
          if (result.ok) return self->point();
          // A record of a lost or crashed apply holds this
          // number: it was never current, take the next.
          if (attempt + 1 < kMaxConfigClaims) return self->claim(number + 1, attempt + 1);
          self->finish(CommitError{CommitErrorKind::numbers_taken,
                                   "versions " + std::to_string(number + 1 - kMaxConfigClaims) +
                                       " to " + std::to_string(number) +
                                       " are taken by other applies; try again",
                                   {}});
        });
  }

  void point() {
    auto self = shared_from_this();
    std::optional<std::string> expected;
    if (previous_) expected = encode_config_number(*previous_);
    store_.write_system(store::KvCompareAndSet{std::string(kConfigCurrentKey), expected,
                                               encode_config_number(record_.number)},
                        [self](const store::KvResult& result, std::optional<StoreError> error) {
                          if (error) return self->finish(store_failure(*error));
                          if (!result.ok) return self->lost(result.current);
                          self->finish(std::nullopt);
                          self->trim();
                        });
  }

  // Another apply moved _config/current first: this record never becomes
  // current; remove it (if it is still ours) and say so.
  void lost(const std::optional<std::string>& current) {
    store_.write_system(store::KvCompareAndSet{config_version_key(record_.number),
                                               encode_config_version(record_), std::nullopt},
                        [](const store::KvResult&, const std::optional<StoreError>&) {});
    finish(CommitError{CommitErrorKind::lost_race,
                       "another apply committed version " + current.value_or("?") +
                           " meanwhile; nothing was changed: check the history and apply again",
                       {}});
  }

  // Keeps the newest kMaxConfigVersions of the history and deletes every
  // other record at or below the version just committed: older versions,
  // and strays of lost or crashed applies (which can never become current,
  // since _config/current only grows). A record above it may be an apply
  // in flight.
  void trim() {
    auto self = shared_from_this();
    store_.scan(std::string(kConfigVersionPrefix), kMaxScannedConfigVersions, ReadMode::local,
                [self](const store::KeyValues& pairs, const std::optional<StoreError>& error) {
                  if (error) return;
                  const auto versions = decode_config_versions(pairs);
                  std::set<std::uint64_t> kept;
                  for (const ConfigVersion* version :
                       config_history(versions, self->record_.number, kMaxConfigVersions)) {
                    kept.insert(version->number);
                  }
                  for (const auto& [key, value] : pairs) {
                    const auto number = parse_config_version_key(key);
                    if (!number || *number > self->record_.number || kept.count(*number)) continue;
                    self->store_.write_system(
                        store::KvDelete{key},
                        [](const store::KvResult&, const std::optional<StoreError>&) {});
                  }
                });
  }

  // Answers once: the committed record, or why not.
  void finish(std::optional<CommitError> error) {
    MERIDIAN_ASSERT(done_, "a config commit answered twice");
    MERIDIAN_ASSERT(error || record_.number > record_.previous,
                    "a committed version must follow its previous");
    CommitDone done = std::move(done_);
    done_ = nullptr;
    done(record_, std::move(error));
  }

  store::ReplicatedStore& store_;
  ConfigVersion record_;
  CommitDone done_;
  std::optional<std::uint64_t> previous_;
};

}  // namespace

void commit_config_version(store::ReplicatedStore& store, ConfigVersion record, CommitDone done) {
  MERIDIAN_ASSERT(done, "a config commit needs someone to tell");
  std::make_shared<Commit>(store, std::move(record), std::move(done))->start();
}

}  // namespace meridian::gslb
