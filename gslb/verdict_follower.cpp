#include "gslb/verdict_follower.hpp"

#include <string_view>

#include "base/assert.hpp"

namespace meridian::gslb {

namespace {

constexpr std::string_view kComponent = "health";
/// What the follower watches and loads.
constexpr std::string_view kPrefixes[] = {"_health/", "_ops/", "_events/"};
/// A bound on what the initial load reads of one prefix.
constexpr std::size_t kMaxLoaded = 1'000'000;

}  // namespace

VerdictFollower::VerdictFollower(store::ReplicatedStore& store, Scheduler& scheduler,
                                 const Clock& clock, Logger& logger,
                                 Clock::Duration local_fallback_after, VerdictSink& sink)
    : store_(store),
      scheduler_(scheduler),
      logger_(logger),
      local_fallback_after_(local_fallback_after),
      sink_(sink),
      leader_seen_(clock.now()) {}

VerdictFollower::~VerdictFollower() {
  stop();
}

void VerdictFollower::start(const std::function<void(Result<void>)>& loaded) {
  std::weak_ptr<VerdictFollower*> alive = alive_;
  auto pending = std::make_shared<int>(static_cast<int>(std::size(kPrefixes)));
  for (const std::string_view prefix : kPrefixes) {
    // Runs on the store's thread: hand the change to the scheduler's.
    auto watched = store_.watch(
        std::string(prefix),
        [alive, &scheduler = scheduler_](
            const std::string& key, const std::optional<std::string>& value, std::uint64_t index) {
          scheduler.post([alive, key, value, index] {
            if (auto self = alive.lock(); self && !(*self)->stopped_)
              (*self)->apply(key, value, index);
          });
        });
    if (!watched) {
      *pending = -1;  // the scans already asked for answer nothing more
      return loaded(watched.error());
    }
    watches_.push_back(*watched);
    // What the store already holds (the watch sees only later changes). A
    // change between the watch and the scan may come twice: applying a
    // record is idempotent.
    store_.scan(std::string(prefix), kMaxLoaded, store::ReadMode::local,
                [alive, pending, loaded, &scheduler = scheduler_](
                    store::KeyValues pairs, const std::optional<store::StoreError>& error) {
                  scheduler.post([alive, pending, loaded, pairs = std::move(pairs), error] {
                    auto self = alive.lock();
                    if (!self || (*self)->stopped_) return;
                    if (*pending < 0) return;  // answered already, with an error
                    if (error) {
                      *pending = -1;
                      return loaded(fail("cannot load the replicated health: ", error->message));
                    }
                    for (const auto& [key, value] : pairs) (*self)->apply(key, value, 0);
                    if (*pending > 0 && --*pending == 0) loaded({});
                  });
                });
  }
}

void VerdictFollower::stop() {
  if (stopped_) return;
  stopped_ = true;
  for (const store::WatchId id : watches_) store_.unwatch(id);
  watches_.clear();
}

void VerdictFollower::set_targets(std::vector<TargetInfo> targets) {
  targets_ = std::move(targets);
  changed();
}

std::optional<bool> VerdictFollower::forced(const TargetInfo& target) const {
  // An endpoint's override names its probed or one of its answered
  // addresses, and beats its site's.
  const auto& overrides = state_.overrides;
  auto it = overrides.find(std::string(kEndpointOverridePrefix) + target.address);
  for (std::size_t i = 0; it == overrides.end() && i < target.answered.size(); ++i) {
    it = overrides.find(std::string(kEndpointOverridePrefix) + target.answered[i]);
  }
  if (it == overrides.end()) it = overrides.find(std::string(kSiteOverridePrefix) + target.site);
  if (it == overrides.end()) return std::nullopt;
  return it->second.state == ForcedState::up;
}

std::vector<TargetAnswer> VerdictFollower::answers() const {
  std::vector<TargetAnswer> out(targets_.size());
  for (std::size_t i = 0; i < targets_.size(); ++i) {
    out[i] = TargetAnswer{forced(targets_[i]), std::nullopt, fallback_};
    if (auto it = state_.verdicts.find(targets_[i].key); it != state_.verdicts.end())
      out[i].verdict = it->second.up;
  }
  return out;
}

std::vector<std::optional<bool>> VerdictFollower::verdicts() const {
  std::vector<std::optional<bool>> out(targets_.size());
  if (fallback_) return out;
  for (std::size_t i = 0; i < targets_.size(); ++i) {
    if (auto it = state_.verdicts.find(targets_[i].key); it != state_.verdicts.end())
      out[i] = it->second.up;
  }
  return out;
}

std::optional<Verdict> VerdictFollower::verdict(const std::string& key) const {
  auto it = state_.verdicts.find(key);
  if (it == state_.verdicts.end()) return std::nullopt;
  return it->second;
}

void VerdictFollower::changed() {
  if (!stopped_) sink_.cluster_verdicts_changed(answers());
}

void VerdictFollower::apply(const std::string& key, const std::optional<std::string>& value,
                            std::uint64_t index) {
  const std::string_view name(key);
  if (name.starts_with(kEventPrefix)) {
    if (value) {
      state_.events.insert(key);
    } else {
      state_.events.erase(key);
    }
    return;
  }
  if (name.starts_with("_ops/override/")) {
    if (!value) {
      state_.overrides.erase(key);
    } else if (auto decoded = decode_override(*value)) {
      state_.overrides[key] = *decoded;
    } else {
      logger_.warn(kComponent, "ignoring the override " + key + ": " + decoded.error().message);
      return;
    }
    state_.override_index[key] = index;
    changed();
    return;
  }
  if (name.starts_with(kObservationPrefix)) {
    const std::string observer = key.substr(kObservationPrefix.size());
    if (!value) {
      state_.observations.erase(observer);
      return;
    }
    auto decoded = decode_observations(*value);
    if (!decoded) {
      logger_.warn(kComponent,
                   "ignoring the observations of " + observer + ": " + decoded.error().message);
      state_.observations.erase(observer);
      return;
    }
    state_.observations[observer] = std::move(*decoded);
    return;
  }
  if (name.starts_with(kVerdictPrefix)) {
    const std::string target = key.substr(kVerdictPrefix.size());
    const auto current = state_.verdicts.find(target);
    const bool existed = current != state_.verdicts.end();
    const bool before = existed ? current->second.up : true;
    if (!value) {
      state_.verdicts.erase(target);
    } else if (auto decoded = decode_verdict(*value)) {
      state_.verdicts[target] = *decoded;
    } else {
      logger_.warn(kComponent,
                   "ignoring the verdict of " + target + ": " + decoded.error().message);
      return;
    }
    state_.verdict_index[target] = index;
    const auto after_it = state_.verdicts.find(target);
    const bool after = after_it != state_.verdicts.end() ? after_it->second.up : true;
    if (existed && before != after) ++verdict_changes_;
    if (!existed || before != after) {
      logger_.info(kComponent,
                   target + " is " + (after ? "up" : "down") +
                       (value ? " (" + *value + " observers)" : std::string(" (verdict removed)")));
    }
    changed();
  }
  // Lease renewals (_health/lease/) are the store's to stamp (store/lease_book.hpp).
}

void VerdictFollower::tick(Clock::TimePoint now) {
  if (stopped_) return;
  if (!store_.status().leader.empty()) leader_seen_ = now;
  const bool cut_off = now - leader_seen_ > local_fallback_after_;
  if (cut_off == fallback_) return;
  fallback_ = cut_off;
  if (fallback_) {
    logger_.warn(kComponent,
                 "no leader for " +
                     std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        local_fallback_after_)
                                        .count()) +
                     " ms: answering from this node's own probes until the cluster is back");
  } else {
    logger_.info(kComponent, "a leader is back: answering from the replicated verdicts again");
  }
  changed();
}

}  // namespace meridian::gslb
