#include "gslb/node_health.hpp"

#include <boost/asio/post.hpp>

namespace meridian::gslb {

namespace asio = boost::asio;

NodeHealth::NodeHealth(asio::io_context& io, dns::RoutingTableSlot& slot, NodeViewSlot& views,
                       dns::StatsSlotRegistry& stats_slots, const Clock& clock, Logger& logger,
                       std::uint64_t seed)
    : io_(io),
      views_(views),
      clock_(clock),
      logger_(logger),
      seed_(seed),
      routing_(slot, stats_slots) {}

void NodeHealth::join_cluster(ReplicatedHealth& replicated) {
  replicated_ = &replicated;
  routing_.follow_cluster();
  if (!generation_.config) return;
  replicated.set_targets(target_infos(generation_.plan, *generation_.config));  // publishes a table
  replicated.publisher().local_health_changed(monitor_->tracker());
}

void NodeHealth::local_health_changed() {
  if (stopped_ || !monitor_) return;
  const health::HealthTracker& tracker = monitor_->tracker();
  if (replicated_ != nullptr) replicated_->publisher().local_health_changed(tracker);
  routing_.local_health_changed(tracker);
}

asio::awaitable<void> NodeHealth::switch_to(Generation generation, bool first) {
  health::HealthTracker tracker(generation.plan.targets, generation.config->health.unknown);
  if (monitor_) {
    tracker.inherit(monitor_->tracker());
    monitor_->stop();
  }
  apply_config_overrides(*generation.config, tracker);
  generation_ = std::move(generation);
  monitor_ = std::make_shared<health::HealthMonitor>(io_, std::move(tracker), clock_, seed_++,
                                                     logger_, [this] { local_health_changed(); });
  monitor_->set_metrics(probe_metrics_);
  routing_.switch_to(generation_, monitor_->tracker());
  if (replicated_ != nullptr)
    replicated_->set_targets(target_infos(generation_.plan, *generation_.config));
  if (first && !generation_.plan.targets.empty()) {
    const auto started = clock_.now();
    co_await monitor_->initial_round();
    logger_.info("health", "first round of " + std::to_string(generation_.plan.targets.size()) +
                               " target(s) in " +
                               std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                  clock_.now() - started)
                                                  .count()) +
                               " ms");
  }
  if (replicated_ != nullptr) replicated_->publisher().local_health_changed(monitor_->tracker());
  routing_.publish();
  monitor_->start();
  refresh_view();
}

void NodeHealth::stop() {
  stopped_ = true;
  if (monitor_) monitor_->stop();
  if (replicated_ != nullptr) replicated_->stop();
}

void NodeHealth::refresh_view() {
  if (stopped_ || !monitor_) return;
  const ServiceVerdicts verdicts = routing_.verdicts();
  views_.publish(std::make_shared<const NodeView>(build_node_view(
      NodeViewInputs{*generation_.config, generation_.plan, monitor_->tracker(), verdicts,
                     replicated_, probe_metrics_.get(), clock_, routing_.table_version()})));
  view_built_ = clock_.now();
}

void NodeHealth::fresh_view(std::function<void(std::shared_ptr<const NodeView>)> done) {
  asio::post(io_, [this, done = std::move(done)] {
    if (!stopped_ && monitor_ && clock_.now() - view_built_ > kViewMaxAge) refresh_view();
    done(views_.load());
  });
}

}  // namespace meridian::gslb
