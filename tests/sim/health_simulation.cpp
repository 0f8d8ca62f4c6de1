#include "tests/sim/health_simulation.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <deque>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <utility>
#include <vector>

#include "base/clock.hpp"
#include "base/log.hpp"
#include "base/rng.hpp"
#include "base/scheduler.hpp"
#include "cluster/raft.hpp"
#include "config/config.hpp"
#include "dns/routing_table.hpp"
#include "dns/stats_slots.hpp"
#include "geo/steering.hpp"
#include "gslb/generation.hpp"
#include "gslb/health_plan.hpp"
#include "gslb/health_records.hpp"
#include "gslb/replicated_health.hpp"
#include "gslb/routing_publisher.hpp"
#include "health/tracker.hpp"
#include "tests/sim/sim_member.hpp"
#include "tests/sim/sim_network.hpp"
#include "tests/sim/sim_store.hpp"
#include "tools/geoip_csv.hpp"
#include "tools/mmdb_writer.hpp"

namespace meridian::sim {
namespace {

using cluster::NodeId;
using gslb::ForcedState;
using gslb::OperatorOverride;

constexpr std::uint64_t kTickMs = 10;        // Raft's tick
constexpr std::uint64_t kSafetyMs = 30'000;  // faults on
constexpr std::uint64_t kLivenessBoundMs = 60'000;
constexpr std::uint64_t kPublishMs = 1000;  // ReplicatedHealthSettings::publish_interval
constexpr std::uint64_t kHealthTickMs = kPublishMs / 2;
constexpr std::uint64_t kRequestTimeoutMs = 5000;
constexpr std::uint64_t kCheckEveryMs = 10;
constexpr std::uint64_t kAnswersEveryMs = 100;
/// How long after its write a published view may still be judged (a
/// forwarded write may wait up to the request timeout).
constexpr std::uint64_t kViewWindowMs = kRequestTimeoutMs + kPublishMs + 200;

struct SiteInfo {
  const char* name;
  double lat, lon;
};
constexpr SiteInfo kSites[] = {
    {"us-west", 47.61, -122.33}, {"us-east", 39.04, -77.49}, {"eu-west", 51.51, -0.13}};
/// Clients located by the demo GeoIP database, and two it does not know.
const char* const kClients[] = {"81.2.69.1",    "89.160.20.1", "216.160.83.1", "175.16.199.1",
                                "200.160.0.1",  "54.80.0.1",   "127.0.0.1",    "2001:218::1",
                                "2a02:cf40::1", "10.1.2.3"};

/// The demo GeoIP database, built once per process from the demo's source
/// (configs/demo/geoip.csv) into a temporary file that goes with the process.
const std::string& demo_geoip_database() {
  struct Database {
    std::string path;
    Database() {
      path = (std::filesystem::temp_directory_path() /
              ("meridian-health-sim-" + std::to_string(::getpid()) + ".mmdb"))
                 .string();
      auto rows = geo::read_geoip_csv(std::string(MERIDIAN_SOURCE_DIR) + "/configs/demo/geoip.csv");
      if (!rows)
        throw std::runtime_error("the demo GeoIP source does not read: " + rows.error().message);
      if (auto written = geo::write_mmdb(*rows, path); !written) {
        throw std::runtime_error("cannot write " + path + ": " + written.error().message);
      }
    }
    ~Database() {
      std::error_code ignored;
      std::filesystem::remove(path, ignored);
    }
  };
  static const Database database;
  return database.path;
}

struct Violation : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void check(bool condition, const std::string& what) {
  if (!condition) throw Violation(what);
}

/// What one seed draws.
struct Params {
  std::uint64_t nodes = 3;
  std::uint64_t fallback_after_ms = 4000;
  std::uint64_t lease_ms = 2000;
  std::uint64_t interval_ms = 1000;
  std::uint32_t rise = 2, fall = 2;
  std::string quorum = "majority";
  std::string probe_from = "all";
  std::uint32_t answer_count = 1;
  bool stable_world = false;  // nothing ever changes in the world
  bool flaps = false;         // endpoints go up and down
  bool cuts = false;          // links from nodes to endpoints are cut
  bool operators = false;     // operator overrides come and go
  bool compaction = false;
  std::uint64_t crash_odds = 5000, partition_odds = 8000, flap_odds = 3000, cut_odds = 3000;

  std::string describe() const {
    std::ostringstream out;
    out << nodes << " nodes, fallback after " << fallback_after_ms << "ms, lease " << lease_ms
        << "ms, interval " << interval_ms << "ms rise " << rise << " fall " << fall << ", quorum "
        << quorum << ", probe_from " << probe_from << ", answer_count " << answer_count
        << (stable_world ? ", stable world" : "") << (flaps ? ", flaps" : "")
        << (cuts ? ", cut links" : "") << (operators ? ", operators" : "")
        << (compaction ? ", compaction" : "");
    return out.str();
  }
};

/// One configured endpoint, as the checks need it.
struct EndpointRef {
  std::size_t service = 0;
  std::size_t endpoint = 0;
  std::size_t target = 0;
  std::string site;
  std::vector<std::string> addresses;  // answered
};

struct Node {
  std::string name;
  NodeId id = 0;
  std::uint32_t site = 0;
  std::shared_ptr<const gslb::Generation> generation;
  std::unique_ptr<SimMember> member;
  // Alive only while the member is up.
  dns::RoutingTableSlot slot;
  dns::StatsSlotRegistry stats;
  std::unique_ptr<SimStore> store;
  std::unique_ptr<health::HealthTracker> tracker;
  std::unique_ptr<gslb::RoutingPublisher> routing;
  std::unique_ptr<gslb::ReplicatedHealth> replicated;
  bool loaded = false;
  std::vector<std::uint64_t> next_probe;  // per target; UINT64_MAX: not probed here
  std::vector<std::deque<bool>> results;  // per target, this incarnation's latest probes
  std::uint64_t restart_at = 0;
  std::uint64_t started_at = 0;
  std::optional<std::uint64_t>
      leaderless_since;  // first ms of the current stretch without a leader
  /// As leaderless_since, but a leader heard for less than a health tick
  /// does not end the stretch (the follower samples at its ticks).
  std::optional<std::uint64_t> quiet_since;
  std::optional<std::uint64_t> leader_since;  // first ms of the current stretch with one
  bool fallback = false;
  /// What the last check saw: the table's version and whether a leader was known.
  std::uint64_t checked_version = 0;
  bool checked_leader = false;
};

class Relay;

class Simulation {
 public:
  explicit Simulation(const HealthSimOptions& options);
  ~Simulation();

  HealthSimOutcome run();

  // ---- for the relay ----
  std::uint64_t now() const noexcept { return now_; }
  Rng& rng() noexcept { return rng_; }
  SimNetwork& network() noexcept { return network_; }
  Node* running(NodeId id, std::uint64_t incarnation);
  std::string name(NodeId id) const { return "n" + std::to_string(id); }

 private:
  void trace(const std::string& line) {
    if (options_.trace) std::cout << "[" << now_ << "ms] " << line << "\n";
  }
  bool odds(std::uint64_t one_in) { return rng_.below(one_in) == 0; }

  void choose_params();
  std::string config_text(const Node& node) const;
  void start(Node& node);
  void crash(Node& node);

  void step(bool faults);
  void deliver_messages();
  void inject_faults();
  void act_as_operator();
  void probe(Node& node);
  void heal_all();

  bool seen_up(const Node& node, const std::string& address) const {
    return world_up_.at(address) && !cut_.contains({node.id, address});
  }
  std::optional<bool> forced(const Node& node, const EndpointRef& endpoint) const;
  std::string fingerprint(const Node& node) const;
  bool decided(const Node& node, std::size_t target) const;
  std::vector<std::string> answers(const Node& node) const;

  bool something_changed();
  void check_all(bool answers_too);
  void check_node(Node& node);
  void check_agreement(bool answers_too);
  void check_published_view(const std::string& key, const std::optional<std::string>& value,
                            std::uint64_t index);
  std::string converged();

  HealthSimOptions options_;
  Rng rng_;
  Params params_;
  ManualClock clock_;
  ManualScheduler scheduler_{clock_};
  Logger logger_;
  SimNetwork network_{rng_};
  std::unique_ptr<Relay> relay_;
  std::uint64_t now_ = 0;
  bool faults_on_ = true;
  std::vector<std::unique_ptr<Node>> nodes_;
  store::Membership founders_;

  // The world, and what the configs say of it.
  std::map<std::string, bool> world_up_;          // by probed address
  std::set<std::pair<NodeId, std::string>> cut_;  // (node, address) links that are down
  std::vector<std::string> target_keys_;          // by target index (the same on every node)
  std::vector<std::string> target_address_;       // by target index
  std::map<std::string, std::size_t> target_of_key_;
  std::vector<EndpointRef> endpoints_;
  std::uint64_t heal_at_ = 0;

  // Operators: one action at a time; what the acknowledged ones leave.
  bool op_pending_ = false;
  NodeId op_via_ = 0;  // the node the pending action went through
  std::uint64_t next_op_at_ = 0;
  std::map<std::string, std::optional<OperatorOverride>>
      expected_;                     // by key: acknowledged, certain
  std::set<std::string> uncertain_;  // outcome unknown

  // What the checks remember.
  std::set<std::uint64_t> leader_terms_;
  std::set<std::uint64_t> checked_views_;  // log indices of observation records checked
  /// Per (observer, target key): every probed state its trackers held, by time.
  std::map<std::pair<std::string, std::string>,
           std::vector<std::pair<std::uint64_t, std::optional<bool>>>>
      held_;
  HealthSimOutcome outcome_;
};

/// Follower writes to the leader and the answers back, as the network
/// would carry them: delayed, lost while faulty, on cut links, or with a
/// crash of either end.
class Relay final : public SimRelay {
 public:
  explicit Relay(Simulation& sim) : sim_(sim) {}

  void forward(NodeId from, NodeId leader, store::KvCommand command, bool system,
               Answer answer) override {
    Node* origin = sim_.running(from, 0);
    if (origin == nullptr) return;
    const std::uint64_t from_boot = origin->member->incarnation();
    schedule(from, leader,
             [this, from, from_boot, leader, command = std::move(command), system,
              answer = std::move(answer)]() mutable {
               Node* target = sim_.running(leader, 0);
               if (target == nullptr || target->store == nullptr) return;
               target->store->propose(
                   std::move(command), system, false,
                   [this, from, from_boot, leader, answer](store::KvResult result,
                                                           std::optional<store::StoreError> error) {
                     schedule(leader, from, [this, from, from_boot, answer, result, error] {
                       if (sim_.running(from, from_boot) != nullptr) answer(result, error);
                     });
                   });
             });
  }

  /// Runs what is due now on links that are not cut.
  void deliver() {
    while (!in_flight_.empty() && in_flight_.begin()->first.first <= sim_.now()) {
      Trip trip = std::move(in_flight_.begin()->second);
      in_flight_.erase(in_flight_.begin());
      if (!sim_.network().cut(trip.from, trip.to)) trip.run();
    }
  }

 private:
  struct Trip {
    NodeId from = 0, to = 0;
    std::function<void()> run;
  };

  void schedule(NodeId from, NodeId to, std::function<void()> run) {
    SimNetwork& network = sim_.network();
    if (network.faulty() && sim_.rng().below(100) < network.drop_percent()) return;
    const std::uint64_t due = sim_.now() + 1 + sim_.rng().below(network.max_delay());
    in_flight_.emplace(std::make_pair(due, sequence_++), Trip{from, to, std::move(run)});
  }

  Simulation& sim_;
  std::multimap<std::pair<std::uint64_t, std::uint64_t>, Trip> in_flight_;
  std::uint64_t sequence_ = 0;
};

Simulation::Simulation(const HealthSimOptions& options)
    : options_(options),
      rng_(options.seed * 0x9E3779B97F4A7C15ull + 7),
      logger_(options.trace ? LogLevel::info : LogLevel::error,
              [this](std::string_view line) {
                if (options_.trace) std::cout << "[" << now_ << "ms]   log: " << line << "\n";
              }),
      relay_(std::make_unique<Relay>(*this)) {
  network_.choose_parameters();
  choose_params();
  std::vector<NodeId> voters;
  for (NodeId id = 1; id <= params_.nodes; ++id) voters.push_back(id);
  founders_.voters = voters;
  for (NodeId id = 1; id <= params_.nodes; ++id) {
    auto node = std::make_unique<Node>();
    node->id = id;
    node->name = name(id);
    node->site = static_cast<std::uint32_t>((id - 1) % std::size(kSites));
    auto config = parse_config(config_text(*node), node->name + ".yaml", "");
    if (!config)
      throw std::runtime_error("the simulation's config does not load:\n" + config.error().message);
    auto generation =
        gslb::make_generation(std::make_shared<const Config>(std::move(config).value()));
    if (!generation)
      throw std::runtime_error("the simulation's config does not build: " +
                               generation.error().message);
    node->generation = std::make_shared<const gslb::Generation>(std::move(generation).value());
    nodes_.push_back(std::move(node));
  }
  // The targets, their keys and the endpoints, the same on every node.
  const gslb::Generation& generation = *nodes_.front()->generation;
  target_keys_ = gslb::target_keys(generation.plan, *generation.config);
  for (std::size_t t = 0; t < generation.plan.targets.size(); ++t) {
    target_address_.push_back(generation.plan.targets[t].address.to_string());
    target_of_key_[target_keys_[t]] = t;
    world_up_[target_address_.back()] = rng_.below(5) != 0;
  }
  std::size_t service_index = 0;
  for (const ZoneConfig& zone : generation.config->zones) {
    for (const ServiceConfig& service : zone.services) {
      for (std::size_t e = 0; e < service.endpoints.size(); ++e) {
        EndpointRef ref{service_index,
                        e,
                        generation.plan.target_of[service_index][e],
                        generation.config->sites[service.endpoints[e].site].name,
                        {}};
        for (std::size_t a = 0; a < service.spec.endpoints.size(); ++a) {
          if (service.endpoint_of_address[a] == e)
            ref.addresses.push_back(service.spec.endpoints[a].address.to_string());
        }
        endpoints_.push_back(std::move(ref));
      }
      ++service_index;
    }
  }
  for (auto& node : nodes_) {
    cluster::Raft::Config raft;
    raft.id = node->id;
    raft.peers = voters;
    raft.max_inflight_msgs = 1 + rng_.below(8);
    raft.max_entries_per_msg = 1 + rng_.below(16);
    node->member = std::make_unique<SimMember>(raft, options_.seed, rng_, network_);
    start(*node);
  }
  outcome_.nodes = params_.nodes;
  outcome_.stable_world = params_.stable_world;
  trace("cluster: " + params_.describe() + "; network " + network_.describe());
}

Simulation::~Simulation() {
  // The health parts first: they hold the stores, which hold the members.
  for (auto& node : nodes_) {
    node->replicated.reset();
    node->routing.reset();
    node->store.reset();
  }
}

void Simulation::choose_params() {
  Params& p = params_;
  p.nodes = rng_.below(3) == 0 ? 5 : 3;
  p.fallback_after_ms = 2000 + 500 * rng_.below(9);
  p.lease_ms = 2000 + 500 * rng_.below(5);
  p.interval_ms = 500 + 100 * rng_.below(16);
  p.rise = 1 + static_cast<std::uint32_t>(rng_.below(3));
  p.fall = 1 + static_cast<std::uint32_t>(rng_.below(3));
  const std::uint64_t quorum = rng_.below(5);
  p.quorum = quorum < 3 ? "majority" : quorum == 3 ? "any" : "all";
  const std::uint64_t from = rng_.below(5);
  p.probe_from = from < 3 ? "all" : from == 3 ? "{ nearest: 1 }" : "{ nearest: 2 }";
  p.answer_count = 1 + static_cast<std::uint32_t>(rng_.below(2));
  p.stable_world = rng_.below(10) < 3;
  if (!p.stable_world) {
    p.flaps = rng_.below(3) != 0;
    p.cuts = !p.flaps || rng_.below(2) == 0;
  }
  p.operators = rng_.below(10) < 6;
  p.compaction = rng_.below(2) == 0;
  p.crash_odds = 3000 + rng_.below(8000);
  p.partition_odds = 4000 + rng_.below(8000);
  p.flap_odds = 1500 + rng_.below(4000);
  p.cut_odds = 1500 + rng_.below(4000);
}

std::string Simulation::config_text(const Node& node) const {
  const Params& p = params_;
  std::ostringstream y;
  y << "node: { id: " << node.name << ", site: " << kSites[node.site].name << ", data_dir: /sim/"
    << node.name << " }\n";
  y << "cluster:\n  listen: \"127.0.0.1:" << 7400 + node.id << "\"\n  peers:\n";
  for (NodeId id = 1; id <= p.nodes; ++id) {
    y << "    - { id: n" << id << ", address: \"127.0.0.1:" << 7400 + id << "\" }\n";
  }
  y << "  tls: { ca: ca.pem, cert: " << node.name << ".pem, key: " << node.name << ".key }\n";
  y << "geoip: { database: " << demo_geoip_database() << " }\n";
  y << "health: { unknown: up, local_fallback_after: " << p.fallback_after_ms
    << "ms, observer_lease: " << p.lease_ms << "ms }\n";
  y << "checks:\n  web: { type: http, port: 80, interval: " << p.interval_ms
    << "ms, timeout: " << p.interval_ms / 2 << "ms, rise: " << p.rise << ", fall: " << p.fall
    << ", quorum: " << p.quorum << ", probe_from: " << p.probe_from << " }\n";
  y << "sites:\n";
  for (const SiteInfo& site : kSites)
    y << "  " << site.name << ": { lat: " << site.lat << ", lon: " << site.lon << " }\n";
  y << "zones:\n  - origin: sim.test.\n    soa: { mname: ns1, rname: hostmaster }\n    ns: [ns1]\n"
       "    records: [\"ns1 IN A 192.0.2.1\"]\n    services:\n";
  y << "      www:\n        policy: closest\n        answer_count: " << p.answer_count
    << "\n        check: web\n        endpoints:\n";
  for (std::size_t s = 0; s < std::size(kSites); ++s) {
    for (int e = 1; e <= 2; ++e) {
      y << "          - { address: [10.0." << s + 1 << "." << e << ", \"2001:db8:" << s + 1
        << "::" << e << "\"], site: " << kSites[s].name << " }\n";
    }
  }
  y << "      api:\n        policy: failover\n        order: [us-east, eu-west, us-west]\n        "
       "check: web\n"
       "        endpoints:\n";
  for (std::size_t s = 0; s < std::size(kSites); ++s) {
    y << "          - { address: 10.9." << s + 1 << ".1, site: " << kSites[s].name << " }\n";
  }
  return y.str();
}

Node* Simulation::running(NodeId id, std::uint64_t incarnation) {
  if (id == 0 || id > nodes_.size()) return nullptr;
  Node& node = *nodes_[id - 1];
  if (!node.member->up() || node.store == nullptr) return nullptr;
  if (incarnation != 0 && node.member->incarnation() != incarnation) return nullptr;
  return &node;
}

// ---- nodes ------------------------------------------------------------------

void Simulation::start(Node& node) {
  if (!node.member->up()) node.member->start();
  const gslb::Generation& generation = *node.generation;
  node.store = std::make_unique<SimStore>(
      *node.member, *relay_, scheduler_, clock_, [this](NodeId id) { return name(id); },
      std::chrono::milliseconds(kRequestTimeoutMs));
  node.member->hooks.applied = [this, store = node.store.get()](
                                   const store::Entry& entry,
                                   const std::optional<store::KvResult>& result) {
    store->applied(entry, result);
    // Observation records as they first apply anywhere (the published
    // views); a snapshot's restore does not pass here, so old records are
    // not judged again.
    if (entry.type != store::EntryType::normal || entry.data.empty()) return;
    auto command = store::decode_command(entry.data);
    if (!command) return;
    if (const auto* put = std::get_if<store::KvPut>(&*command);
        put != nullptr && put->key.starts_with(gslb::kObservationPrefix)) {
      check_published_view(put->key, put->value, entry.index);
    }
  };
  node.member->hooks.read_ready = [store = node.store.get()](const cluster::ReadState& read) {
    store->read_ready(read);
  };
  node.member->hooks.soft_state = [this, &node](const cluster::SoftState& soft) {
    if (soft.role == cluster::Role::leader) {
      leader_terms_.insert(node.member->raft().term());
      trace(node.name + " leads term " + std::to_string(node.member->raft().term()));
    }
  };
  node.tracker = std::make_unique<health::HealthTracker>(generation.plan.targets,
                                                         generation.config->health.unknown);
  gslb::apply_config_overrides(*generation.config, *node.tracker);
  node.routing = std::make_unique<gslb::RoutingPublisher>(node.slot, node.stats);
  node.routing->switch_to(generation, *node.tracker);
  node.routing->follow_cluster();
  gslb::ReplicatedHealthSettings settings;
  settings.self = node.name;
  settings.lease_timeout = std::chrono::milliseconds(params_.lease_ms);
  settings.local_fallback_after = std::chrono::milliseconds(params_.fallback_after_ms);
  node.replicated = std::make_unique<gslb::ReplicatedHealth>(*node.store, scheduler_, clock_,
                                                             logger_, settings, *node.routing);
  node.loaded = false;
  node.replicated->start([this, &node](Result<void> loaded) {
    if (!loaded)
      throw Violation(node.name +
                      " could not load its replicated health: " + loaded.error().message);
    node.loaded = true;
  });
  node.replicated->set_targets(gslb::target_infos(generation.plan, *generation.config));

  node.next_probe.assign(generation.plan.targets.size(), UINT64_MAX);
  node.results.assign(generation.plan.targets.size(), {});
  for (std::size_t t = 0; t < generation.plan.targets.size(); ++t) {
    const health::TargetSpec& target = generation.plan.targets[t];
    held_[{node.name, target_keys_[t]}].emplace_back(now_, std::nullopt);
    // One round at start (as HealthMonitor::initial_round), then each
    // target at its own phase of the interval.
    if (target.check && target.probed_here) node.next_probe[t] = now_;
  }
  node.started_at = now_;
  node.leaderless_since.reset();
  node.quiet_since.reset();
  node.leader_since.reset();
  node.fallback = false;
  probe(node);
  for (std::size_t t = 0; t < node.next_probe.size(); ++t) {
    if (node.next_probe[t] != UINT64_MAX)
      node.next_probe[t] = now_ + 1 + rng_.below(params_.interval_ms);
  }
  node.replicated->publisher().local_health_changed(*node.tracker);
  node.routing->publish();
}

void Simulation::crash(Node& node) {
  trace("crash " + node.name + (node.member->unsynced() ? " (losing an unsynced write)" : ""));
  if (op_pending_ && op_via_ == node.id) {  // its answer is lost with the node
    op_pending_ = false;
    next_op_at_ = now_ + 500 + rng_.below(4000);
  }
  node.replicated.reset();
  node.routing.reset();
  node.tracker.reset();
  node.store.reset();
  node.member->hooks = {};
  node.member->crash();
  node.slot.publish(nullptr);
  node.loaded = false;
  ++outcome_.crashes;
}

void Simulation::probe(Node& node) {
  const gslb::Generation& generation = *node.generation;
  bool changed = false;
  for (std::size_t t = 0; t < node.next_probe.size(); ++t) {
    if (node.next_probe[t] > now_) continue;
    const health::TargetSpec& target = generation.plan.targets[t];
    node.next_probe[t] += target.check->interval.count();
    const bool ok = seen_up(node, target_address_[t]);
    const health::Health before = node.tracker->state(t).probed;
    health::ProbeResult result;
    result.ok = ok;
    result.failure = ok ? health::ProbeFailure::none : health::ProbeFailure::refused;
    changed = node.tracker->record(t, result, clock_.now()) || changed;
    ++outcome_.probes;
    auto& results = node.results[t];
    results.push_back(ok);
    if (results.size() > 8) results.pop_front();
    const health::Health after = node.tracker->state(t).probed;
    // Rise/fall, HAProxy style: the first probe decides; then `fall`
    // failures in a row take it down and `rise` passes bring it up, and
    // nothing less.
    const auto last_all = [&](std::uint32_t count, bool value) {
      if (results.size() < count) return false;
      return std::all_of(results.end() - count, results.end(), [&](bool r) { return r == value; });
    };
    const std::string where = node.name + " " + target_keys_[t];
    if (before == health::Health::unknown) {
      check(after == (ok ? health::Health::up : health::Health::down),
            "rise/fall: the first probe did not decide " + where);
    } else if (before == health::Health::up) {
      check((after == health::Health::down) == last_all(params_.fall, false),
            "rise/fall: " + where + " is " + health::to_string(after) + " after its last probes");
    } else {
      check((after == health::Health::up) == last_all(params_.rise, true),
            "rise/fall: " + where + " is " + health::to_string(after) + " after its last probes");
    }
    if (after != before) {
      held_[{node.name, target_keys_[t]}].emplace_back(now_, after == health::Health::up);
      trace(where + " probed " + health::to_string(after));
    }
  }
  if (changed) {
    // As the monitor hands on a change: to the publisher, then the table.
    node.replicated->publisher().local_health_changed(*node.tracker);
    node.routing->local_health_changed(*node.tracker);
  }
}

// ---- the loop ---------------------------------------------------------------

HealthSimOutcome Simulation::run() {
  try {
    for (now_ = 0; now_ < kSafetyMs; ++now_) step(true);
    heal_all();
    const std::uint64_t bound = now_ + kLivenessBoundMs;
    for (std::string why = "not yet checked";; ++now_) {
      step(false);
      if (now_ % kAnswersEveryMs != 0) continue;
      why = converged();
      if (why.empty()) break;
      if (now_ >= bound)
        throw Violation("liveness: not converged " + std::to_string(kLivenessBoundMs) +
                        " ms after the heal: " + why);
    }
  } catch (const Violation& violation) {
    outcome_.ok = false;
    outcome_.failure = "at " + std::to_string(now_) + "ms: " + violation.what();
    trace("VIOLATION " + outcome_.failure);
  } catch (const std::exception& error) {
    outcome_.ok = false;
    outcome_.failure = "at " + std::to_string(now_) + "ms: " + error.what();
    trace("ERROR " + outcome_.failure);
  }
  outcome_.sim_ms = now_;
  outcome_.leaders = leader_terms_.size();
  for (const auto& node : nodes_) {
    if (node->replicated) outcome_.flips += node->replicated->follower().verdict_changes();
  }
  return outcome_;
}

void Simulation::step(bool faults) {
  deliver_messages();
  relay_->deliver();
  if (faults) inject_faults();
  if (now_ % kTickMs == 0) {
    for (auto& node : nodes_) {
      if (node->member->up()) node->member->raft().tick();
    }
  }
  for (auto& node : nodes_) node->member->drive(now_);
  for (auto& node : nodes_) {
    if (node->store != nullptr) probe(*node);
  }
  scheduler_.run_due();
  // What the health code proposed this millisecond leaves now.
  for (auto& node : nodes_) node->member->drive(now_);
  // Every simulated step that changed what some node answers with (a new
  // table: probes, verdicts, overrides or fallback), or whether it hears a
  // leader; and every 10 ms regardless, for the checks that time alone
  // makes true or false (falling back).
  if (now_ % kCheckEveryMs == 0 || something_changed()) check_all(now_ % kAnswersEveryMs == 0);
  clock_.advance(std::chrono::milliseconds(1));
}

void Simulation::deliver_messages() {
  while (auto due = network_.next_due(now_)) {
    Node* node = running(due->to, 0);
    if (node == nullptr) continue;
    if (auto stepped = node->member->raft().step(*due); !stepped) {
      throw Violation("step refused real traffic: " + stepped.error().message);
    }
  }
}

void Simulation::inject_faults() {
  std::uint64_t down = 0;
  for (auto& node : nodes_) {
    if (node->member->up()) continue;
    ++down;
    if (node->restart_at <= now_) {
      trace("restart " + node->name);
      start(*node);
    }
  }
  if (odds(params_.crash_odds) && (down + 1) * 2 < nodes_.size() + 1) {
    Node* victim = nodes_[rng_.below(nodes_.size())].get();
    if (rng_.below(2) == 0) {  // half the crashes hit a leader, to force elections
      for (auto& node : nodes_) {
        if (node->member->up() && node->member->raft().role() == cluster::Role::leader)
          victim = node.get();
      }
    }
    if (victim->member->up()) {
      crash(*victim);
      victim->restart_at = now_ + 200 + rng_.below(8000);
    }
  }
  if (!network_.partitioned() && odds(params_.partition_odds)) {
    std::vector<NodeId> ids;
    for (auto& node : nodes_) ids.push_back(node->id);
    const std::vector<NodeId> side = network_.partition(ids);
    // Some long enough to cut a node off for good (local_fallback_after).
    heal_at_ = now_ + 300 + rng_.below(params_.fallback_after_ms * 2 + 2000);
    ++outcome_.partitions;
    std::string names;
    for (NodeId id : side) names += " " + name(id);
    trace("partition {" + names + " } from the rest until " + std::to_string(heal_at_) + "ms");
  }
  if (network_.partitioned() && heal_at_ <= now_) {
    network_.heal();
    trace("partition healed");
  }
  if (params_.flaps && odds(params_.flap_odds)) {
    auto it = std::next(world_up_.begin(), static_cast<long>(rng_.below(world_up_.size())));
    it->second = !it->second;
    trace("world: " + it->first + " goes " + (it->second ? "up" : "down"));
  }
  if (params_.cuts && odds(params_.cut_odds)) {
    const NodeId id = 1 + rng_.below(nodes_.size());
    const std::string address =
        std::next(world_up_.begin(), static_cast<long>(rng_.below(world_up_.size())))->first;
    const auto link = std::make_pair(id, address);
    const bool cutting = !cut_.contains(link);
    cutting ? (void)cut_.insert(link) : (void)cut_.erase(link);
    trace("world: the link from " + name(id) + " to " + address +
          (cutting ? " is cut" : " is back"));
  }
  if (params_.operators) act_as_operator();
  if (params_.compaction && odds(1500)) {
    Node& node = *nodes_[rng_.below(nodes_.size())];
    if (node.member->compact(founders_, rng_.below(4))) trace(node.name + " compacts its log");
  }
}

void Simulation::act_as_operator() {
  if (op_pending_ || now_ < next_op_at_) return;
  std::vector<Node*> up;
  for (auto& node : nodes_) {
    if (node->store != nullptr) up.push_back(node.get());
  }
  if (up.empty()) return;
  Node& via = *up[rng_.below(up.size())];
  std::string key;
  if (rng_.below(3) == 0) {
    key = std::string(gslb::kSiteOverridePrefix) + kSites[rng_.below(std::size(kSites))].name;
  } else {
    const EndpointRef& endpoint = endpoints_[rng_.below(endpoints_.size())];
    const bool by_answered = rng_.below(2) == 0 && !endpoint.addresses.empty();
    key = std::string(gslb::kEndpointOverridePrefix) +
          (by_answered ? endpoint.addresses[rng_.below(endpoint.addresses.size())]
                       : target_address_[endpoint.target]);
  }
  std::optional<OperatorOverride> value;
  const std::uint64_t now_wall_ms = meridian::wall_ms(clock_);
  if (rng_.below(4) != 0) {
    static constexpr ForcedState kStates[] = {ForcedState::drain, ForcedState::down,
                                              ForcedState::up};
    OperatorOverride set{kStates[rng_.below(3)], now_wall_ms, 0, "sim", "seeded"};
    if (rng_.below(3) == 0) set.expires_ms = now_wall_ms + 500 + rng_.below(8000);
    value = set;
  }
  store::KvCommand command =
      value ? store::KvCommand(store::KvPut{key, gslb::encode_override(*value)})
            : store::KvCommand(store::KvDelete{key});
  // Uncertain until acknowledged: a write whose answer never comes (its
  // node crashed) may still apply.
  op_pending_ = true;
  op_via_ = via.id;
  uncertain_.insert(key);
  trace("operator via " + via.name + ": " + key + " " +
        (value ? std::string(gslb::to_string(value->state)) +
                     (value->expires_ms ? " until " + std::to_string(value->expires_ms)
                                        : std::string())
               : std::string("removed")));
  via.store->write_system(
      std::move(command),
      [this, key, value](store::KvResult, std::optional<store::StoreError> error) {
        op_pending_ = false;
        next_op_at_ = now_ + 500 + rng_.below(4000);
        if (error) {
          // It may still apply: nothing certain about this key until the next ack.
          uncertain_.insert(key);
          trace("operator: " + key + " not acknowledged: " + error->message);
          return;
        }
        uncertain_.erase(key);
        expected_[key] = value;
        ++outcome_.overrides;
        trace("operator: " + key + " acknowledged");
      });
}

void Simulation::heal_all() {
  network_.set_faulty(false);
  network_.heal();
  cut_.clear();
  faults_on_ = false;
  for (auto& node : nodes_) {
    if (!node->member->up()) start(*node);
  }
  trace("liveness phase: all faults healed, every node up, the world frozen");
}

// ---- what a node answers -------------------------------------------------------

std::optional<bool> Simulation::forced(const Node& node, const EndpointRef& endpoint) const {
  const auto& overrides = node.replicated->follower().state().overrides;
  // An endpoint's override (probed address first, then any answered one)
  // beats its site's.
  auto it =
      overrides.find(std::string(gslb::kEndpointOverridePrefix) + target_address_[endpoint.target]);
  for (std::size_t i = 0; it == overrides.end() && i < endpoint.addresses.size(); ++i) {
    it = overrides.find(std::string(gslb::kEndpointOverridePrefix) + endpoint.addresses[i]);
  }
  if (it == overrides.end())
    it = overrides.find(std::string(gslb::kSiteOverridePrefix) + endpoint.site);
  if (it == overrides.end()) return std::nullopt;
  return it->second.state == ForcedState::up;
}

bool Simulation::decided(const Node& node, std::size_t target) const {
  if (node.replicated->follower().state().verdicts.count(target_keys_[target])) return true;
  for (const EndpointRef& endpoint : endpoints_) {
    if (endpoint.target == target && forced(node, endpoint)) return true;
  }
  return false;
}

std::string Simulation::fingerprint(const Node& node) const {
  const gslb::ReplicatedHealthState& state = node.replicated->follower().state();
  std::string out;
  for (const auto& [key, verdict] : state.verdicts) out += key + (verdict.up ? "=up;" : "=down;");
  out += "|";
  for (const auto& [key, value] : state.overrides)
    out += key + "=" + gslb::to_string(value.state) + ";";
  return out;
}

std::vector<std::string> Simulation::answers(const Node& node) const {
  std::vector<std::string> out;
  const auto table = node.slot.load();
  if (!table) return out;
  std::array<const IpAddress*, geo::kMaxAnswerCount> picked{};
  for (std::uint32_t s = 0; s < table->services().size(); ++s) {
    const dns::Service& service = table->service(s);
    for (const char* text : kClients) {
      IpAddress source;
      IpAddress::parse(text, source);
      const geo::ClientNetwork client =
          geo::select_client(service.steering.spec(), nullptr, source);
      for (const IpAddress::Family family : {IpAddress::Family::v4, IpAddress::Family::v6}) {
        Rng rng(42);  // the same draw on every node: equal inputs give equal picks
        const geo::Choice choice =
            service.steering.choose(table->locator(), client.network, family, rng, picked);
        std::string line = std::to_string(s) + " " + text + " " + geo::stage_name(choice.stage) +
                           (choice.degraded ? " degraded" : "") +
                           (choice.servfail ? " servfail" : "") + ":";
        for (std::uint32_t i = 0; i < choice.count; ++i) line += " " + picked[i]->to_string();
        out.push_back(std::move(line));
      }
    }
  }
  return out;
}

// ---- checks -------------------------------------------------------------------

bool Simulation::something_changed() {
  bool changed = false;
  for (auto& node : nodes_) {
    if (node->store == nullptr || !node->loaded) continue;
    const std::uint64_t version = node->routing->table_version();
    const bool leader = !node->store->status().leader.empty();
    changed = changed || version != node->checked_version || leader != node->checked_leader;
    node->checked_version = version;
    node->checked_leader = leader;
  }
  return changed;
}

void Simulation::check_all(bool answers_too) {
  for (auto& node : nodes_) {
    if (node->store != nullptr && node->loaded) check_node(*node);
  }
  check_agreement(answers_too);
}

void Simulation::check_node(Node& node) {
  const gslb::VerdictFollower& follower = node.replicated->follower();
  const bool leader_known = !node.store->status().leader.empty();
  if (leader_known) {
    node.leaderless_since.reset();
    if (!node.leader_since) node.leader_since = now_;
    if (now_ - *node.leader_since > kHealthTickMs + kCheckEveryMs) node.quiet_since.reset();
  } else {
    node.leader_since.reset();
    if (!node.leaderless_since) node.leaderless_since = now_;
    if (!node.quiet_since) node.quiet_since = now_;
  }
  // Fallback: the follower judges at its ticks (every kHealthTickMs), so
  // within one tick of the exact moment either way, and a leader heard only
  // between two ticks may go unnoticed.
  const std::uint64_t leaderless = node.leaderless_since ? now_ - *node.leaderless_since : 0;
  const std::uint64_t quiet = node.quiet_since ? now_ - *node.quiet_since : 0;
  const std::uint64_t with_leader = node.leader_since ? now_ - *node.leader_since : 0;
  const std::string fallback_state = node.name + " (no leader for " + std::to_string(leaderless) +
                                     " ms, a leader for " + std::to_string(with_leader) +
                                     " ms, fallback after " +
                                     std::to_string(params_.fallback_after_ms) + " ms)";
  if (follower.fallback()) {
    check(leader_known ? with_leader <= kHealthTickMs + kCheckEveryMs
                       : quiet + kHealthTickMs + kCheckEveryMs >= params_.fallback_after_ms,
          "fallback: " + fallback_state + " fell back too early or stayed too long");
  } else {
    check(leader_known || leaderless <= params_.fallback_after_ms + kHealthTickMs + kCheckEveryMs,
          "fallback: " + fallback_state + " did not fall back");
  }
  if (follower.fallback() != node.fallback) {
    node.fallback = follower.fallback();
    if (node.fallback) ++outcome_.fallbacks;
    trace(node.name +
          (node.fallback ? " falls back to its own probes" : " follows the cluster again"));
  }

  // What the node answers with, endpoint by endpoint: an operator's override
  // first, then the cluster's verdict, then (cut off, or no verdict yet) its
  // own probes.
  const gslb::ServiceVerdicts verdicts = node.routing->verdicts();
  const gslb::ReplicatedHealthState& state = follower.state();
  for (const EndpointRef& endpoint : endpoints_) {
    const gslb::EndpointVerdict& verdict = verdicts[endpoint.service][endpoint.endpoint];
    const std::string where = node.name + " answers " + target_keys_[endpoint.target];
    if (auto forced_up = this->forced(node, endpoint)) {
      check(verdict.usable == *forced_up && verdict.source == gslb::VerdictSource::operator_action,
            "override: " + where + (verdict.usable ? " usable" : " unusable") +
                " against the override in force");
      continue;
    }
    const health::TargetState& own = node.tracker->state(endpoint.target);
    const bool probed = own.probed != health::Health::unknown;
    const auto replicated = state.verdicts.find(target_keys_[endpoint.target]);
    if (replicated != state.verdicts.end() && !(follower.fallback() && probed)) {
      check(
          verdict.usable == replicated->second.up && verdict.source == gslb::VerdictSource::cluster,
          "agreement: " + where + (verdict.usable ? " usable" : " unusable") + " by " +
              gslb::to_string(verdict.source) + " where the cluster's verdict is " +
              (replicated->second.up ? "up" : "down") +
              (follower.fallback() ? "" : " and the node follows the cluster"));
    } else {
      check(verdict.usable == node.tracker->usable(endpoint.target) &&
                verdict.source == gslb::VerdictSource::local,
            "fallback: " + where + " not from its own probes");
    }
  }

  if (params_.stable_world) {
    // Nothing in the world ever changes: crashes, partitions and leader
    // changes alone must never flip a verdict, nor set a wrong one.
    check(follower.verdict_changes() == 0, "flap: " + node.name + " applied " +
                                               std::to_string(follower.verdict_changes()) +
                                               " verdict flip(s) in a world where nothing changed");
    for (const auto& [key, verdict] : state.verdicts) {
      const auto target = target_of_key_.find(key);
      check(target != target_of_key_.end(), "unknown verdict key " + key);
      check(verdict.up == world_up_.at(target_address_[target->second]),
            "flap: " + node.name + " holds verdict " + (verdict.up ? "up" : "down") + " for " +
                key + " which is " +
                (world_up_.at(target_address_[target->second]) ? "up" : "down"));
    }
  }
}

void Simulation::check_agreement(bool answers_too) {
  // Nodes that hear from a leader and have applied the same replicated
  // health answer alike, wherever it has decided.
  std::map<std::string, std::vector<Node*>> groups;
  for (auto& node : nodes_) {
    if (node->store == nullptr || !node->loaded) continue;
    if (node->store->status().leader.empty() || node->replicated->follower().fallback()) continue;
    groups[fingerprint(*node)].push_back(node.get());
  }
  for (const auto& [print, members] : groups) {
    if (members.size() < 2) continue;
    const Node& first = *members.front();
    const gslb::ServiceVerdicts reference = first.routing->verdicts();
    bool all_decided = true;
    for (std::size_t t = 0; t < target_keys_.size(); ++t)
      all_decided = all_decided && decided(first, t);
    std::vector<std::string> first_answers;
    if (answers_too && all_decided) first_answers = answers(first);
    for (std::size_t m = 1; m < members.size(); ++m) {
      const Node& other = *members[m];
      const gslb::ServiceVerdicts verdicts = other.routing->verdicts();
      for (const EndpointRef& endpoint : endpoints_) {
        if (!decided(first, endpoint.target)) continue;
        check(verdicts[endpoint.service][endpoint.endpoint].usable ==
                  reference[endpoint.service][endpoint.endpoint].usable,
              "agreement: " + first.name + " and " + other.name +
                  " hold the same replicated health but disagree on " +
                  target_keys_[endpoint.target]);
      }
      if (first_answers.empty()) continue;
      const std::vector<std::string> other_answers = answers(other);
      ++outcome_.answers_compared;
      for (std::size_t i = 0; i < first_answers.size() && i < other_answers.size(); ++i) {
        check(first_answers[i] == other_answers[i], "agreement: " + first.name + " answers \"" +
                                                        first_answers[i] + "\" but " + other.name +
                                                        " answers \"" + other_answers[i] + "\"");
      }
    }
  }
}

void Simulation::check_published_view(const std::string& key,
                                      const std::optional<std::string>& value,
                                      std::uint64_t index) {
  // Judged once, where the record first applies (right after it commits).
  if (!value || !checked_views_.insert(index).second) return;
  const std::string observer = key.substr(gslb::kObservationPrefix.size());
  auto observations = gslb::decode_observations(*value);
  check(observations.ok(), "the observations of " + observer + " do not decode");
  for (const auto& [target, view] : *observations) {
    const auto held = held_.find({observer, target});
    check(held != held_.end(), observer + " published a view of " + target + " it never held");
    // Some state its tracker held within the window before now.
    const auto& states = held->second;
    const std::uint64_t since = now_ > kViewWindowMs ? now_ - kViewWindowMs : 0;
    bool found = false;
    for (std::size_t i = 0; i < states.size() && !found; ++i) {
      const bool in_window =
          states[i].first >= since || i + 1 == states.size() || states[i + 1].first > since;
      found = in_window && states[i].second == view;
    }
    check(found, "rise/fall: " + observer + " published " +
                     (view ? (*view ? "up" : "down") : "unknown") + " for " + target +
                     ", which its trackers did not hold lately");
  }
}

std::string Simulation::converged() {
  std::string leader;
  for (auto& node : nodes_) {
    if (node->store == nullptr || !node->loaded) return node->name + " is not running";
    if (node->member->raft().role() == cluster::Role::leader) leader = node->name;
  }
  if (leader.empty()) return "no leader";
  std::string print;
  for (auto& node : nodes_) {
    const gslb::VerdictFollower& follower = node->replicated->follower();
    if (node->store->status().leader != leader)
      return node->name + " does not know leader " + leader;
    if (follower.fallback()) return node->name + " is still in fallback";
    const std::string mine = fingerprint(*node);
    if (print.empty()) print = mine;
    if (mine != print)
      return node->name + " holds other verdicts or overrides than " + nodes_.front()->name;
    const gslb::ReplicatedHealthState& state = follower.state();
    for (std::size_t t = 0; t < target_keys_.size(); ++t) {
      const auto verdict = state.verdicts.find(target_keys_[t]);
      if (verdict == state.verdicts.end())
        return node->name + " has no verdict for " + target_keys_[t];
      if (verdict->second.stale)
        return node->name + " holds a stale verdict for " + target_keys_[t];
      if (verdict->second.up != world_up_.at(target_address_[t])) {
        return node->name + " holds verdict " + (verdict->second.up ? "up" : "down") + " for " +
               target_keys_[t] + ", which is " + (world_up_.at(target_address_[t]) ? "up" : "down");
      }
    }
    const std::uint64_t now_wall_ms = meridian::wall_ms(clock_);
    for (const auto& [key, value] : expected_) {
      if (uncertain_.contains(key)) continue;
      const auto held = state.overrides.find(key);
      const bool expired = value && value->expires_ms != 0 && value->expires_ms <= now_wall_ms;
      if (value && !expired && (held == state.overrides.end() || !(held->second == *value))) {
        return node->name + " does not honour the acknowledged override " + key;
      }
      if ((!value || expired) && held != state.overrides.end()) {
        return node->name + " still holds the " + (expired ? "expired" : "removed") + " override " +
               key;
      }
    }
  }
  // Everything equal: the answers too (checked by check_agreement every
  // 100 ms; here once more for every pair).
  const std::vector<std::string> first = answers(*nodes_.front());
  for (auto& node : nodes_) {
    if (answers(*node) != first)
      return node->name + " answers otherwise than " + nodes_.front()->name;
  }
  trace("converged: leader " + leader + ", every node answers alike");
  return {};
}

}  // namespace

HealthSimOutcome run_health_simulation(const HealthSimOptions& options) {
  return Simulation(options).run();
}

}  // namespace meridian::sim
