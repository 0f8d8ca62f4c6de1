#include "gslb/observation_publisher.hpp"

namespace meridian::gslb {

std::vector<std::optional<bool>> local_views(const health::HealthTracker& tracker) {
  std::vector<std::optional<bool>> views(tracker.size());
  for (std::size_t i = 0; i < tracker.size(); ++i) {
    const health::Health probed = tracker.state(i).probed;
    if (probed != health::Health::unknown) views[i] = probed == health::Health::up;
  }
  return views;
}

ObservationPublisher::ObservationPublisher(store::ReplicatedStore& store, Scheduler& scheduler,
                                           std::string self, Clock::Duration publish_interval)
    : store_(store),
      scheduler_(scheduler),
      self_(std::move(self)),
      publish_interval_(publish_interval) {}

void ObservationPublisher::set_targets(const std::vector<TargetInfo>& targets) {
  keys_.clear();
  Observations next;
  for (const TargetInfo& target : targets) {
    keys_.push_back(target.key);
    auto it = mine_.find(target.key);
    next[target.key] = it == mine_.end() ? std::nullopt : it->second;
  }
  changed_ = changed_ || next != mine_;
  mine_ = std::move(next);
}

void ObservationPublisher::local_health_changed(const health::HealthTracker& tracker) {
  observe(local_views(tracker));
}

void ObservationPublisher::observe(const std::vector<std::optional<bool>>& views) {
  for (std::size_t i = 0; i < keys_.size() && i < views.size(); ++i) {
    auto& slot = mine_[keys_[i]];
    if (slot != views[i]) {
      slot = views[i];
      changed_ = true;
    }
  }
}

void ObservationPublisher::tick(Clock::TimePoint now) {
  if (last_publish_ && now - *last_publish_ < publish_interval_) return;
  last_publish_ = now;
  if (!changed_ && !writing_) check_record();
  if (changed_ && !writing_) {
    changed_ = false;
    writing_ = true;
    std::weak_ptr<ObservationPublisher*> alive = alive_;
    store_.write_system(
        store::KvPut{std::string(kObservationPrefix) + self_, encode_observations(mine_)},
        [alive, &scheduler = scheduler_](const store::KvResult&,
                                         const std::optional<store::StoreError>& error) {
          scheduler.post([alive, failed = error.has_value()] {
            auto self = alive.lock();
            if (!self) return;
            (*self)->writing_ = false;
            // Not written: try again at the next interval.
            if (failed) (*self)->changed_ = true;
          });
        });
  }
  store_.renew_lease(self_);
}

void ObservationPublisher::check_record() {
  std::weak_ptr<ObservationPublisher*> alive = alive_;
  store_.read(std::string(kObservationPrefix) + self_, store::ReadMode::local,
              [alive, &scheduler = scheduler_](std::optional<std::string> value,
                                               const std::optional<store::StoreError>& error) {
                if (error) return;
                scheduler.post([alive, value = std::move(value)] {
                  auto self = alive.lock();
                  if (!self || (*self)->writing_ || (*self)->changed_) return;
                  // Not what was last written: write the view again.
                  if (value != encode_observations((*self)->mine_)) (*self)->changed_ = true;
                });
              });
}

}  // namespace meridian::gslb
