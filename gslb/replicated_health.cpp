#include "gslb/replicated_health.hpp"

namespace meridian::gslb {

ReplicatedHealth::ReplicatedHealth(store::ReplicatedStore& store, Scheduler& scheduler,
                                   const Clock& clock, Logger& logger,
                                   ReplicatedHealthSettings settings, VerdictSink& sink)
    : scheduler_(scheduler),
      clock_(clock),
      settings_(std::move(settings)),
      publisher_(store, scheduler, settings_.self, settings_.publish_interval),
      follower_(store, scheduler, clock, logger, settings_.local_fallback_after, sink),
      decider_(
          store, scheduler, clock, follower_,
          VerdictDecider::Settings{settings_.self, settings_.quorum, settings_.lease_timeout}) {}

ReplicatedHealth::~ReplicatedHealth() {
  stop();
}

void ReplicatedHealth::start(const std::function<void(Result<void>)>& loaded) {
  running_ = true;
  follower_.start(loaded);
  std::weak_ptr<ReplicatedHealth*> alive = alive_;
  scheduler_.post([alive] {
    if (auto self = alive.lock()) (*self)->tick();
  });
}

void ReplicatedHealth::stop() {
  running_ = false;
  follower_.stop();
}

void ReplicatedHealth::set_targets(std::vector<TargetInfo> targets) {
  publisher_.set_targets(targets);
  follower_.set_targets(std::move(targets));
}

void ReplicatedHealth::tick() {
  if (!running_) return;
  const Clock::TimePoint now = clock_.now();
  follower_.tick(now);
  publisher_.tick(now);
  decider_.tick(now);
  std::weak_ptr<ReplicatedHealth*> alive = alive_;
  scheduler_.after(settings_.publish_interval / 2, [alive] {
    if (auto self = alive.lock()) (*self)->tick();
  });
}

}  // namespace meridian::gslb
