#pragma once
// The one interface the GSLB core offers to the admin layer
// (docs/architecture.md: admin/ uses the core's node interface): what a
// running node is, what it sees, what it counts, and where its replicated
// store is.
// Every admin route (admin/node_routes.hpp) talks to a NodeApi and to
// nothing else of the node; the composition root (main/node.cpp)
// implements it over the parts it wires, tests with fakes.
//
// Ownership: the implementation outlives every user (the admin server
// holds a reference); what it returns is a copy or a shared snapshot.
// Thread rule: stated per method. "Any thread" includes the admin server's,
// which also runs the DNS TCP server: no method blocks on the network.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "base/clock.hpp"
#include "base/result.hpp"
#include "gslb/config_status.hpp"
#include "gslb/explain.hpp"
#include "gslb/node_view.hpp"
#include "gslb/query_totals.hpp"
#include "store/replicated_store.hpp"

namespace meridian::gslb {

/// Who the node is; fixed for its lifetime.
struct NodeIdentity {
  std::string name;              ///< node.id
  std::string site;              ///< the name of its site
  std::string version;           ///< the running release ("0.1.0")
  Clock::TimePoint started{};    ///< by clock(): when the node started
  std::uint64_t started_ms = 0;  ///< the same moment on the wall clock (Unix ms)
};

/// The DNS TCP server's connection caps at work (dns/tcp_connection_table.hpp),
/// counted since the node started.
struct TcpLimitStats {
  std::uint64_t client_networks = 0;       ///< networks (/24, /56) holding a connection now
  std::uint64_t refused_client_limit = 0;  ///< closed at accept: tcp_max_connections_per_client
  std::uint64_t refused_server_limit = 0;  ///< closed at accept: full, nothing idle to evict
  std::uint64_t evicted = 0;               ///< idle connections closed to make room
};

class NodeApi {
 public:
  virtual ~NodeApi() = default;

  // --- Identity -------------------------------------------------------

  /// Any thread; the same object every call.
  virtual const NodeIdentity& identity() const = 0;
  /// The node's clock (uptime, the time stamps of records written through
  /// the API). Any thread.
  virtual const Clock& clock() const = 0;

  // --- The status view (gslb/node_view.hpp) -----------------------------

  /// The latest view as published; null while the node starts. Any thread.
  virtual std::shared_ptr<const NodeView> current_view() const = 0;
  /// Calls `done` with a view at most a second old, built first when the
  /// current one is older (null while the node starts). Any thread; `done`
  /// runs once, on the node's health thread (or, in a fake, before the
  /// call returns) and should hand its work elsewhere.
  virtual void fresh_view(std::function<void(std::shared_ptr<const NodeView>)> done) = 0;

  // --- DNS ------------------------------------------------------------

  /// Every DNS worker's counters summed, with the slot names
  /// (gslb/query_totals.hpp). Any thread.
  virtual QueryTotals query_totals() const = 0;
  /// Open DNS TCP connections. Only on the admin server's thread (the TCP
  /// server's, which counts them).
  virtual std::uint32_t tcp_connections() const = 0;
  /// What the TCP connection caps did. Only on the admin server's thread,
  /// like tcp_connections().
  virtual TcpLimitStats tcp_limits() const = 0;

  // --- Explain (gslb/explain.hpp) ---------------------------------------

  /// The decision trace of `query` against the config and routing table
  /// the node serves now (live health, its GeoIP databases). Errors:
  /// starting, reloading, bad_query. Any thread.
  virtual std::variant<CurrentExplanation, ExplainError> explain(
      const ExplainQuery& query) const = 0;

  // --- Config versions (gslb/config_status.hpp) -------------------------

  /// Which config version the node serves and whether its file agrees;
  /// nullopt outside a cluster (no versions). Any thread.
  virtual std::optional<ConfigNodeStatus> config_status() const = 0;
  /// Validates `text` as the shared sections of this node's config (with
  /// its file's node-local sections), errors starting with `name`, one per
  /// line. Parses YAML and zone files, which may take a while: call it on
  /// a worker thread, not the admin server's. Outside a cluster: an error.
  virtual Result<ValidatedConfig> validate_config(const std::string& text,
                                                  const std::string& name) const = 0;

  // --- Operator overrides (gslb/operator_actions.hpp) -------------------

  /// Whether an operator override may name `name` in the config served
  /// now: a site (when `site`) or an endpoint address. Errors say what is
  /// not known. Any thread.
  virtual Result<void> override_target_known(bool site, const std::string& name) const = 0;

  // --- The store seam (store/replicated_store.hpp) ----------------------

  /// The node's replicated store, null outside a cluster; membership
  /// changes through its membership() facet. Any thread (the store's own
  /// thread rule applies to its methods).
  virtual store::ReplicatedStore* store() const = 0;
};

}  // namespace meridian::gslb
