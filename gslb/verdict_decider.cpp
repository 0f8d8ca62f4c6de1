#include "gslb/verdict_decider.hpp"

#include <vector>

namespace meridian::gslb {

namespace {

std::uint64_t index_of(const std::map<std::string, std::uint64_t>& indices,
                       const std::string& key) {
  const auto it = indices.find(key);
  return it == indices.end() ? 0 : it->second;
}

}  // namespace

VerdictDecider::VerdictDecider(store::ReplicatedStore& store, Scheduler& scheduler,
                               const Clock& clock, const VerdictFollower& follower,
                               Settings settings)
    : store_(store),
      scheduler_(scheduler),
      clock_(clock),
      follower_(follower),
      settings_(std::move(settings)),
      started_(clock.now()) {}

bool VerdictDecider::observer_live(const std::string& observer) const {
  const store::LeaseRenewals renewals = store_.lease_renewals();
  const auto it = renewals.find(observer);
  return it != renewals.end() && clock_.now() - it->second <= settings_.lease_timeout;
}

void VerdictDecider::tick(Clock::TimePoint now) {
  if (!store_.is_decider()) {
    deciding_since_.reset();
    proposed_.clear();
    expiring_.clear();
    trimming_.clear();
    return;
  }
  if (!deciding_since_) deciding_since_ = now;
  // Renewals take a lease_timeout to be heard after taking over (or
  // starting): until then, silence proves nothing.
  if (now - *deciding_since_ < settings_.lease_timeout || now - started_ < settings_.lease_timeout)
    return;
  expire_overrides();
  trim_events();
  decide(now);
}

void VerdictDecider::decide(Clock::TimePoint now) {
  const ReplicatedHealthState& state = follower_.state();
  const store::LeaseRenewals renewals = store_.lease_renewals();
  // Written verdicts settle once the follower applies a newer record.
  std::erase_if(proposed_, [&](const auto& entry) {
    return index_of(state.verdict_index, entry.first) != entry.second.replaced_index;
  });
  for (const TargetInfo& target : follower_.targets()) {
    const std::string& key = target.key;
    std::vector<std::optional<bool>> views;
    for (const auto& [observer, seen] : renewals) {
      if (now - seen > settings_.lease_timeout) continue;
      auto observations = state.observations.find(observer);
      if (observations == state.observations.end()) continue;
      auto view = observations->second.find(key);
      if (view != observations->second.end()) views.push_back(view->second);
    }
    std::optional<Verdict> decided = gslb::decide(target.quorum.value_or(settings_.quorum), views);
    auto current = state.verdicts.find(key);
    if (!decided) {
      // Nobody live has a view: the last verdict stands, marked stale.
      if (current == state.verdicts.end() || current->second.stale) continue;
      decided = current->second;
      decided->stale = true;
    }
    if (current != state.verdicts.end() && current->second == *decided) continue;
    if (auto pending = proposed_.find(key);
        pending != proposed_.end() && pending->second.verdict == *decided)
      continue;
    proposed_[key] = Proposal{*decided, index_of(state.verdict_index, key)};
    if (current == state.verdicts.end() || current->second.up != decided->up) {
      log_event(Event{0, "verdict", key, encode_verdict(*decided), settings_.self});
    }
    write(store::KvPut{std::string(kVerdictPrefix) + key, encode_verdict(*decided)},
          [key](VerdictDecider& self) { self.proposed_.erase(key); });
  }
}

void VerdictDecider::write(store::KvCommand command, std::function<void(VerdictDecider&)> refused) {
  std::weak_ptr<VerdictDecider*> alive = alive_;
  store_.write_as_decider(
      std::move(command),
      [alive, refused = std::move(refused), &scheduler = scheduler_](
          const store::KvResult&, const std::optional<store::StoreError>& error) {
        if (!error) return;
        // On the decider's thread, if it is still there.
        scheduler.post([alive, refused] {
          if (auto self = alive.lock()) refused(**self);
        });
      });
}

void VerdictDecider::log_event(Event event) {
  if (event.time_ms == 0) event.time_ms = wall_ms(clock_);
  store_.write_as_decider(store::KvPut{event_key(event.time_ms, settings_.self, ++event_sequence_),
                                       encode_event(event)},
                          [](const store::KvResult&, const std::optional<store::StoreError>&) {});
}

// Scheduled maintenance ends by itself: the decider removes what expired.
void VerdictDecider::expire_overrides() {
  const ReplicatedHealthState& state = follower_.state();
  // A removal settles once the override changes (removed, or set anew).
  std::erase_if(expiring_, [&](const auto& entry) {
    return !state.overrides.count(entry.first) ||
           index_of(state.override_index, entry.first) != entry.second;
  });
  const std::uint64_t now = wall_ms(clock_);
  // Not a structured binding: a lambda below captures the key, which C++20
  // allows but clang before 16 cannot compile.
  for (const auto& entry : state.overrides) {
    const std::string& key = entry.first;
    const OperatorOverride& value = entry.second;
    if (value.expires_ms == 0 || value.expires_ms > now || expiring_.count(key)) continue;
    expiring_[key] = index_of(state.override_index, key);
    write(store::KvDelete{key}, [key](VerdictDecider& self) { self.expiring_.erase(key); });
    const std::string subject = key.starts_with(kEndpointOverridePrefix)
                                    ? "endpoint " + key.substr(kEndpointOverridePrefix.size())
                                    : "site " + key.substr(kSiteOverridePrefix.size());
    log_event(Event{0, "override-expired", subject, std::string(to_string(value.state)) + " ended",
                    settings_.self});
  }
}

void VerdictDecider::trim_events() {
  const std::set<std::string>& events = follower_.state().events;
  // A deletion settles once applied; one that fails is forgotten by its
  // callback, or trimming would stop until the next change of decider.
  std::erase_if(trimming_, [&](const std::string& key) { return !events.count(key); });
  if (!trimming_.empty()) return;  // the last round is still on its way
  auto it = events.begin();
  for (std::size_t excess = events.size() > kMaxEvents ? events.size() - kMaxEvents : 0; excess > 0;
       --excess) {
    const std::string key = *it++;
    trimming_.insert(key);
    write(store::KvDelete{key}, [key](VerdictDecider& self) { self.trimming_.erase(key); });
  }
}

}  // namespace meridian::gslb
