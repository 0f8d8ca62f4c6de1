#pragma once
// What a node knows of its services, sites and health at one moment, for
// the status API, /metrics and the dashboard (admin/ routes read it from
// any thread). Built on the health thread, where the tracker and the
// replicated health live, each time the routing table is published and once
// a second; published through a NodeViewSlot like the routing table.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.hpp"
#include "config/config.hpp"
#include "gslb/health_plan.hpp"
#include "gslb/replicated_health.hpp"
#include "gslb/routing_builder.hpp"
#include "health/probe_metrics.hpp"
#include "health/tracker.hpp"

namespace meridian::gslb {

struct EndpointView {
  std::vector<std::string> addresses;  ///< as answered
  std::string site;
  std::string target;  ///< the health target key (gslb/health_plan.hpp target_keys)
  std::string check;   ///< the check's name, or "none"
  bool usable = true;  ///< in answers now
  VerdictSource source = VerdictSource::local;
  /// This node's own probes: "up", "down", "unknown", or "not probed here" (probe_from).
  std::string probed;
  std::optional<bool> cluster_verdict;  ///< the replicated verdict, in a cluster
  bool verdict_stale = false;
  std::uint64_t since_ms =
      0;               ///< wall clock of the last change of the probed state; 0: never probed
  std::string reason;  ///< the latest probe failure (kept after recovery)
  std::optional<double> latency_ms;          ///< of the last probe
  std::optional<OperatorOverride> override;  ///< an operator's, from the store
};

struct ServiceView {
  std::string name;  ///< absolute
  std::string policy;
  std::uint32_t ttl_s = 0;
  std::vector<EndpointView> endpoints;
};

struct SiteView {
  std::string name;
  double latitude_deg = 0;
  double longitude_deg = 0;
  std::uint32_t endpoints = 0;  ///< configured endpoints at the site, over all services
  std::uint32_t usable = 0;     ///< of which in answers now
  /// "up" (all usable), "degraded", "down" (none, or an operator forced the
  /// site down), "drained" (an operator drained the site, or each of its
  /// endpoints), or "empty" (no endpoints).
  std::string state;
  std::optional<OperatorOverride> override;
};

/// One row of the observer x target matrix.
struct MatrixRow {
  std::string target;
  std::string site;
  /// By observer: "up", "down", or "unknown" (not probed yet, or not by
  /// that observer: probe_from).
  std::map<std::string, std::string> views;
  std::optional<bool> verdict;
  bool stale = false;
};

struct NodeView {
  std::uint64_t built_ms = 0;  ///< wall clock
  std::vector<ServiceView> services;
  std::vector<SiteView> sites;
  /// Observers of the cluster with whether their lease is live; empty on a single node.
  std::vector<std::pair<std::string, bool>> observers;
  std::vector<MatrixRow> matrix;
  bool fallback = false;  ///< cut off from the cluster: answering from its own probes
  health::ProbeMetrics probes;
  std::uint64_t verdict_changes = 0;  ///< replicated verdict flips applied here
  std::uint64_t table_version = 0;
};

/// Everything the view is made of, as the health thread holds it.
struct NodeViewInputs {
  const Config& config;
  const HealthPlan& plan;
  const health::HealthTracker& tracker;
  const ServiceVerdicts& verdicts;
  const ReplicatedHealth* replicated = nullptr;  ///< null outside a cluster
  const health::ProbeMetrics* probes = nullptr;
  const Clock& clock;
  std::uint64_t table_version = 0;
};

NodeView build_node_view(const NodeViewInputs& inputs);

/// The latest view, for readers on any thread.
class NodeViewSlot {
 public:
  void publish(std::shared_ptr<const NodeView> view) noexcept { current_.store(std::move(view)); }
  std::shared_ptr<const NodeView> load() const noexcept { return current_.load(); }

 private:
  std::atomic<std::shared_ptr<const NodeView>> current_;
};

}  // namespace meridian::gslb
