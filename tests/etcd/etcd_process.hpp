#pragma once
// Real etcd members on loopback for the etcd store's tests and the store
// seam's contract test: one member, or three founding a cluster together,
// each a child process with its own data dir and log in one temporary
// directory. Clients speak plain HTTP, or TLS with client certificates of a
// CA made here (cluster/certs.hpp); the members speak plain HTTP to each
// other. The cluster can be hurt the ways a test needs: SIGKILL a member and
// restart it on the same data dir, SIGSTOP and SIGCONT it.
//
// Talking to the members (health, status, compaction, raw reads) goes
// through a small blocking client of its own (Boost.Beast), never through
// etcd/gateway.hpp, so the tests' oracle is independent of the code under
// test.
//
// Thread rule: one thread (the test's) uses a cluster. Children are started
// with PR_SET_PDEATHSIG, so a crashed test does not leave members behind.

#include <sys/types.h>

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "base/ip_address.hpp"
#include "base/result.hpp"
#include "cluster/certs.hpp"
#include "etcd/gateway.hpp"

namespace meridian::etcd::test {

struct EtcdClusterOptions {
  std::size_t members = 1;  ///< 1 or 3 (any count works; quorum is etcd's)
  /// Clients must speak TLS and present a certificate of the cluster's CA
  /// (--client-cert-auth).
  bool tls = false;
  /// How long start() and restart_members() wait for each member's /health.
  std::chrono::milliseconds ready_within{20'000};
};

class EtcdCluster {
 public:
  /// Starts the members and waits until each answers /health. Picks the
  /// ports again when one was taken before etcd bound it. Errors: etcd is
  /// not installed (run scripts/install-deps.sh), or a member did not come
  /// up (with the tail of its log).
  static Result<std::unique_ptr<EtcdCluster>> start(EtcdClusterOptions options);
  /// SIGKILLs every member and removes the directory. When a test is
  /// failing (an exception is unwinding), prints each member's log tail
  /// first.
  ~EtcdCluster();
  EtcdCluster(const EtcdCluster&) = delete;
  EtcdCluster& operator=(const EtcdCluster&) = delete;

  std::size_t size() const { return members_.size(); }
  /// Member i's name ("etcd-0", ...), as etcd's status and member list give it.
  const std::string& name(std::size_t i) const;
  /// Member i's client endpoint (127.0.0.1:port).
  SocketAddress client_endpoint(std::size_t i) const;
  /// Every client endpoint, in member order.
  std::vector<SocketAddress> client_endpoints() const;
  /// Gateway settings for a store: the endpoints in `order` (every member
  /// in member order when empty), and with TLS the CA and a client
  /// certificate it issued.
  GatewaySettings gateway_settings(const std::vector<std::size_t>& order = {}) const;

  /// With TLS: the CA the members trust, and a client certificate it issued.
  const cluster::IssuedCertificate& ca() const { return ca_; }
  const cluster::IssuedCertificate& client_certificate() const { return client_; }

  /// SIGKILL, and waits until it is gone. A no-op on a member that is not running.
  void kill_member(std::size_t i);
  /// Starts members again on their data dirs and ports, then waits until
  /// each answers /health (restart together the members a quorum needs).
  Result<void> restart_members(const std::vector<std::size_t>& members);
  Result<void> restart_member(std::size_t i) { return restart_members({i}); }
  /// SIGSTOP / SIGCONT, returning once the member has stopped (continued):
  /// a paused member keeps its connections but answers nothing.
  void pause_member(std::size_t i);
  void resume_member(std::size_t i);
  bool running(std::size_t i) const;

  /// The member that leads, as the running, unpaused members report it.
  /// Errors while there is none (an election is under way) or none answers.
  Result<std::size_t> leader() const;

  /// POSTs `body` to member i's `path` ("/v3/kv/range") and returns the
  /// JSON answer (which may itself be a gateway error). `timeout` bounds the
  /// whole exchange.
  Result<boost::json::object> call(
      std::size_t i, const std::string& path, const boost::json::object& body,
      std::chrono::milliseconds timeout = std::chrono::seconds(3)) const;
  /// call() to the first running, unpaused member that answers.
  Result<boost::json::object> call_any(const std::string& path,
                                       const boost::json::object& body) const;

  /// The last `lines` lines of member i's log (every run of it).
  std::string log_tail(std::size_t i, std::size_t lines = 40) const;
  /// The temporary directory of the data dirs and logs.
  const std::string& directory() const { return directory_; }

 private:
  struct Member {
    std::string name;
    std::uint16_t client_port = 0;
    std::uint16_t peer_port = 0;
    pid_t pid = -1;
    bool paused = false;
  };

  EtcdCluster(EtcdClusterOptions options, std::string directory);
  Result<void> write_certificates();
  void pick_ports();
  std::vector<std::string> arguments(std::size_t i) const;
  Result<void> spawn(std::size_t i);
  Result<void> wait_ready(std::size_t i);
  bool port_taken(std::size_t i) const;
  std::string data_dir(std::size_t i) const;
  std::string log_path(std::size_t i) const;

  EtcdClusterOptions options_;
  std::string directory_;
  std::string etcd_binary_;
  std::vector<Member> members_;
  cluster::IssuedCertificate ca_;
  cluster::IssuedCertificate client_;
  std::mt19937 port_rng_;
};

/// A CA and a client certificate it issued, unrelated to any cluster's:
/// what a peer that cannot authenticate presents.
Result<cluster::IssuedCertificate> foreign_client_certificate();

}  // namespace meridian::etcd::test
