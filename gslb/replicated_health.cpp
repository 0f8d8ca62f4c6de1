#include "gslb/replicated_health.hpp"

#include <boost/asio/post.hpp>
#include <atomic>
#include <future>

namespace meridian::gslb {

namespace asio = boost::asio;

namespace {
constexpr std::string_view kComponent = "health";
}  // namespace

std::shared_ptr<ReplicatedHealth> ReplicatedHealth::create(asio::io_context& io, store::ReplicatedStore& store,
                                                           ReplicatedHealthSettings settings, Logger& logger,
                                                           ChangeHandler on_change) {
  return std::make_shared<ReplicatedHealth>(io, store, std::move(settings), logger, std::move(on_change));
}

ReplicatedHealth::ReplicatedHealth(asio::io_context& io, store::ReplicatedStore& store, ReplicatedHealthSettings settings,
                                   Logger& logger, ChangeHandler on_change)
    : io_(io), store_(store), settings_(std::move(settings)), logger_(logger), on_change_(std::move(on_change)),
      timer_(io) {}

Result<void> ReplicatedHealth::start() {
  std::weak_ptr<ReplicatedHealth> weak = weak_from_this();
  // What the store holds already (from disk after a restart) is applied
  // before start() returns, so a node's first answers come from the
  // replicated state rather than from its own probes alone.
  struct Loading {
    std::atomic<int> pending{3};
    std::promise<void> done;
  };
  auto loading = std::make_shared<Loading>();
  // Runs on the store thread: hand the change to the health thread.
  for (const std::string prefix : {"_health/", "_ops/", "_events/"}) {
    auto watched = store_.watch(prefix, [weak, &io = io_](const std::string& key,
                                                          const std::optional<std::string>& value, std::uint64_t) {
      asio::post(io, [weak, key, value] {
        if (auto self = weak.lock(); self && !self->stopped_) self->on_key(key, value);
      });
    });
    if (!watched) return watched.error();
    // What the store already holds (the watch sees only later changes).
    store_.scan(prefix, 1'000'000, store::ReadMode::local,
                [weak, loading, &io = io_](std::vector<std::pair<std::string, std::string>> pairs,
                                           std::optional<store::StoreError>) {
                  asio::post(io, [weak, loading, pairs = std::move(pairs)] {
                    if (auto self = weak.lock(); self && !self->stopped_) {
                      for (const auto& [key, value] : pairs) self->on_key(key, value);
                    }
                    if (--loading->pending == 0) loading->done.set_value();
                  });
                });
  }
  // Bounded: a store that cannot answer a local scan is stopping.
  if (loading->done.get_future().wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    return fail("the store did not return its replicated health state within 10 s");
  }
  asio::post(io_, [self = shared_from_this()] { self->tick(); });
  return {};
}

void ReplicatedHealth::stop() {
  stopped_ = true;
  timer_.cancel();
}

void ReplicatedHealth::set_targets(std::vector<TargetInfo> targets) {
  targets_ = std::move(targets);
  Observations next;
  for (const TargetInfo& target : targets_) {
    const std::string& key = target.key;
    auto it = mine_.find(key);
    next[key] = it == mine_.end() ? std::nullopt : it->second;
  }
  mine_changed_ = mine_changed_ || next != mine_;
  mine_ = std::move(next);
}

void ReplicatedHealth::observe(std::vector<std::optional<bool>> views) {
  for (std::size_t i = 0; i < targets_.size() && i < views.size(); ++i) {
    auto& slot = mine_[targets_[i].key];
    if (slot != views[i]) {
      slot = views[i];
      mine_changed_ = true;
    }
  }
}

std::vector<std::optional<bool>> ReplicatedHealth::verdicts() const {
  std::vector<std::optional<bool>> out(targets_.size());
  if (fallback_) return out;
  for (std::size_t i = 0; i < targets_.size(); ++i) {
    if (auto it = verdicts_.find(targets_[i].key); it != verdicts_.end()) out[i] = it->second.up;
  }
  return out;
}

std::optional<bool> ReplicatedHealth::forced(const TargetInfo& target) const {
  // An endpoint's override names its probed or one of its answered
  // addresses, and beats its site's.
  auto it = overrides_.find(std::string(kEndpointOverridePrefix) + target.address);
  for (std::size_t i = 0; it == overrides_.end() && i < target.answered.size(); ++i) {
    it = overrides_.find(std::string(kEndpointOverridePrefix) + target.answered[i]);
  }
  if (it == overrides_.end()) it = overrides_.find(std::string(kSiteOverridePrefix) + target.site);
  if (it == overrides_.end()) return std::nullopt;
  return it->second.state == ForcedState::up;
}

bool ReplicatedHealth::observer_live(const std::string& observer) const {
  const auto it = lease_seen_.find(observer);
  return it != lease_seen_.end() && std::chrono::steady_clock::now() - it->second <= settings_.lease_timeout;
}

std::vector<TargetAnswer> ReplicatedHealth::answers() const {
  std::vector<TargetAnswer> out(targets_.size());
  for (std::size_t i = 0; i < targets_.size(); ++i) {
    out[i] = TargetAnswer{forced(targets_[i]), std::nullopt, fallback_};
    if (auto it = verdicts_.find(targets_[i].key); it != verdicts_.end()) out[i].verdict = it->second.up;
  }
  return out;
}

std::optional<Verdict> ReplicatedHealth::verdict(const std::string& key) const {
  auto it = verdicts_.find(key);
  if (it == verdicts_.end()) return std::nullopt;
  return it->second;
}

void ReplicatedHealth::on_key(const std::string& key, const std::optional<std::string>& value) {
  const std::string_view name(key);
  if (name.starts_with(kEventPrefix)) {
    if (value) {
      events_.insert(key);
    } else if (events_.erase(key) > 0 && trimming_ > 0) {
      --trimming_;
    }
    return;
  }
  if (name.starts_with("_ops/override/")) {
    expiring_.erase(key);
    if (!value) {
      overrides_.erase(key);
    } else if (auto decoded = decode_override(*value)) {
      overrides_[key] = *decoded;
    } else {
      logger_.warn(kComponent, "ignoring the override " + key + ": " + decoded.error().message);
      return;
    }
    if (on_change_) on_change_();
    return;
  }
  if (name.starts_with(kLeasePrefix)) {
    if (value) lease_seen_[key.substr(kLeasePrefix.size())] = std::chrono::steady_clock::now();
    return;
  }
  if (name.starts_with(kObservationPrefix)) {
    const std::string observer = key.substr(kObservationPrefix.size());
    if (!value) {
      observations_.erase(observer);
      return;
    }
    auto decoded = decode_observations(*value);
    if (!decoded) {
      logger_.warn(kComponent, "ignoring the observations of " + observer + ": " + decoded.error().message);
      observations_.erase(observer);
      return;
    }
    observations_[observer] = std::move(*decoded);
    return;
  }
  if (name.starts_with(kVerdictPrefix)) {
    const std::string target = key.substr(kVerdictPrefix.size());
    proposed_.erase(target);
    const bool before = verdicts_.count(target) ? verdicts_[target].up : true;
    const bool existed = verdicts_.count(target) > 0;
    if (!value) {
      verdicts_.erase(target);
    } else if (auto decoded = decode_verdict(*value)) {
      verdicts_[target] = *decoded;
    } else {
      logger_.warn(kComponent, "ignoring the verdict of " + target + ": " + decoded.error().message);
      return;
    }
    const bool after = verdicts_.count(target) ? verdicts_[target].up : true;
    if (existed && before != after) ++verdict_changes_;
    if (!existed || before != after) {
      logger_.info(kComponent, target + " is " + (after ? "up" : "down") +
                                   (value ? " (" + *value + " observers)" : std::string(" (verdict removed)")));
    }
    if (on_change_) on_change_();
  }
}

void ReplicatedHealth::tick() {
  if (stopped_) return;
  const SteadyTime now = std::chrono::steady_clock::now();
  check_fallback(now);
  publish(now);
  decide_as_leader(now);
  timer_.expires_after(settings_.publish_interval / 2);
  timer_.async_wait([self = shared_from_this()](const boost::system::error_code& error) {
    if (!error) self->tick();
  });
}

void ReplicatedHealth::publish(SteadyTime now) {
  if (now - last_publish_ < settings_.publish_interval) return;
  last_publish_ = now;
  if (mine_changed_) {
    mine_changed_ = false;
    std::weak_ptr<ReplicatedHealth> weak = weak_from_this();
    store_.write_system(store::KvPut{std::string(kObservationPrefix) + settings_.self, encode_observations(mine_)},
                        [weak, &io = io_](store::KvResult, std::optional<store::StoreError> error) {
                          if (!error) return;
                          // Not written: try again at the next interval.
                          asio::post(io, [weak] {
                            if (auto self = weak.lock()) self->mine_changed_ = true;
                          });
                        });
  }
  store_.renew_lease(settings_.self);
}

void ReplicatedHealth::decide_as_leader(SteadyTime now) {
  if (!store_.is_decider()) {
    leading_since_.reset();
    proposed_.clear();
    expiring_.clear();
    trimming_ = 0;
    return;
  }
  if (!leading_since_) leading_since_ = now;
  // Renewals take a lease_timeout to be heard after taking over (or
  // starting): until then, silence proves nothing.
  if (now - *leading_since_ < settings_.lease_timeout || now - started_ < settings_.lease_timeout) return;
  expire_overrides();
  trim_events();
  for (const TargetInfo& target : targets_) {
    const std::string& key = target.key;
    std::vector<std::optional<bool>> views;
    for (const auto& [observer, seen] : lease_seen_) {
      if (now - seen > settings_.lease_timeout) continue;
      auto observations = observations_.find(observer);
      if (observations == observations_.end()) continue;
      auto view = observations->second.find(key);
      if (view != observations->second.end()) views.push_back(view->second);
    }
    std::optional<Verdict> decided = decide(target.quorum.value_or(settings_.quorum), views);
    auto current = verdicts_.find(key);
    if (!decided) {
      // Nobody live has a view: the last verdict stands, marked stale.
      if (current == verdicts_.end() || current->second.stale) continue;
      decided = current->second;
      decided->stale = true;
    }
    if (current != verdicts_.end() && current->second == *decided) continue;
    if (auto pending = proposed_.find(key); pending != proposed_.end() && pending->second == *decided) continue;
    proposed_[key] = *decided;
    if (current == verdicts_.end() || current->second.up != decided->up) {
      log_event(Event{0, "verdict", key, encode_verdict(*decided), settings_.self});
    }
    std::weak_ptr<ReplicatedHealth> weak = weak_from_this();
    store_.write_system(store::KvPut{std::string(kVerdictPrefix) + key, encode_verdict(*decided)},
                        [weak, key, &io = io_](store::KvResult, std::optional<store::StoreError> error) {
                          if (!error) return;
                          asio::post(io, [weak, key] {
                            if (auto self = weak.lock()) self->proposed_.erase(key);
                          });
                        });
  }
}

namespace {
std::uint64_t wall_ms() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}
}  // namespace

void ReplicatedHealth::log_event(Event event) {
  if (event.time_ms == 0) event.time_ms = wall_ms();
  store_.write_system(store::KvPut{event_key(event.time_ms, settings_.self, ++event_sequence_), encode_event(event)},
                      [](store::KvResult, std::optional<store::StoreError>) {});
}

// Scheduled maintenance ends by itself: the leader removes what expired.
void ReplicatedHealth::expire_overrides() {
  const std::uint64_t now = wall_ms();
  for (const auto& [key, value] : overrides_) {
    if (value.expires_ms == 0 || value.expires_ms > now || expiring_.count(key)) continue;
    expiring_.insert(key);
    std::weak_ptr<ReplicatedHealth> weak = weak_from_this();
    store_.write_system(store::KvDelete{key}, [weak, key, &io = io_](store::KvResult, std::optional<store::StoreError> error) {
      if (!error) return;
      asio::post(io, [weak, key] {
        if (auto self = weak.lock()) self->expiring_.erase(key);
      });
    });
    const std::string subject = key.starts_with(kEndpointOverridePrefix)
                                    ? "endpoint " + key.substr(kEndpointOverridePrefix.size())
                                    : "site " + key.substr(kSiteOverridePrefix.size());
    log_event(Event{0, "override-expired", subject, std::string(to_string(value.state)) + " ended", settings_.self});
  }
}

void ReplicatedHealth::trim_events() {
  if (trimming_ > 0) return;  // the last round is still on its way
  auto it = events_.begin();
  for (std::size_t excess = events_.size() > kMaxEvents ? events_.size() - kMaxEvents : 0; excess > 0; --excess) {
    ++trimming_;
    // A delete that fails never reaches the watch: count it off here, or
    // trimming would stop until the next change of leader.
    std::weak_ptr<ReplicatedHealth> weak = weak_from_this();
    store_.write_system(store::KvDelete{*it++}, [weak, &io = io_](store::KvResult, std::optional<store::StoreError> error) {
      if (!error) return;
      asio::post(io, [weak] {
        if (auto self = weak.lock(); self && self->trimming_ > 0) --self->trimming_;
      });
    });
  }
}

void ReplicatedHealth::check_fallback(SteadyTime now) {
  const store::StoreStatus status = store_.status();
  if (!status.leader.empty()) leader_seen_ = now;
  const bool cut_off = now - leader_seen_ > settings_.local_fallback_after;
  if (cut_off == fallback_) return;
  fallback_ = cut_off;
  if (fallback_) {
    logger_.warn(kComponent, "no leader for " + std::to_string(settings_.local_fallback_after.count()) +
                                 " ms: answering from this node's own probes until the cluster is back");
  } else {
    logger_.info(kComponent, "a leader is back: answering from the replicated verdicts again");
  }
  if (on_change_) on_change_();
}

}  // namespace meridian::gslb
