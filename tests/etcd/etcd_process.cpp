#include "tests/etcd/etcd_process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

namespace meridian::etcd::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
namespace ssl = asio::ssl;
using asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
/// Ports are picked below Linux's ephemeral range (32768 and up), so that
/// no client connection's source port takes one between the pick and
/// etcd's bind (tests run two at a time); a clash with another test's pick
/// is retried with new ports.
constexpr std::uint16_t kPortLow = 20000;
constexpr std::uint16_t kPortHigh = 32000;
constexpr int kStartAttempts = 5;
constexpr std::string_view kPortTaken = "address already in use";

std::string loopback(std::uint16_t port) {
  return "127.0.0.1:" + std::to_string(port);
}

/// Where `program` is on PATH, or "" when it is not.
std::string find_on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::stringstream folders(path != nullptr ? path : "/usr/bin:/bin");
  for (std::string folder; std::getline(folders, folder, ':');) {
    std::string candidate = (folder.empty() ? "." : folder) + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

bool port_free(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  const bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return bound;
}

/// One blocking HTTP exchange with a member: the tests' own client.
struct Exchange {
  tcp::endpoint to;
  ssl::context* tls = nullptr;  // null: plain HTTP
  http::request<http::string_body> request;
  std::chrono::milliseconds timeout{1000};

  template <class Stream>
  asio::awaitable<Result<json::object>> over(Stream& stream) {
    beast::get_lowest_layer(stream).expires_after(timeout);
    if (auto [error, n] = co_await http::async_write(stream, request, kUseTuple); error)
      co_return fail("sending: ", error.message());
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    if (auto [error, n] = co_await http::async_read(stream, buffer, response, kUseTuple); error)
      co_return fail("reading the answer: ", error.message());
    boost::system::error_code parse_error;
    json::value parsed = json::parse(response.body(), parse_error);
    if (parse_error || !parsed.is_object()) {
      co_return fail("HTTP ", std::to_string(response.result_int()),
                     ", not a JSON object: ", response.body().substr(0, 200));
    }
    co_return std::move(parsed.as_object());
  }

  asio::awaitable<Result<json::object>> run(asio::io_context& io) {
    beast::tcp_stream plain(io);
    plain.expires_after(timeout);
    if (auto [error] = co_await plain.async_connect(to, kUseTuple); error)
      co_return fail("connecting: ", error.message());
    if (tls == nullptr) co_return co_await over(plain);
    ssl::stream<beast::tcp_stream> secure(std::move(plain), *tls);
    secure.set_verify_callback(ssl::host_name_verification(to.address().to_string()));
    beast::get_lowest_layer(secure).expires_after(timeout);
    if (auto [error] = co_await secure.async_handshake(ssl::stream_base::client, kUseTuple); error)
      co_return fail("TLS handshake: ", error.message());
    co_return co_await over(secure);
  }
};

/// The client's side of a TLS cluster: trusts its CA, shows its client certificate.
struct ClientTls {
  const cluster::IssuedCertificate& ca;
  const cluster::IssuedCertificate& client;
};

std::optional<ClientTls> tls_of(bool tls, const cluster::IssuedCertificate& ca,
                                const cluster::IssuedCertificate& client) {
  if (!tls) return std::nullopt;
  return ClientTls{ca, client};
}

/// One request to 127.0.0.1:port; `timeout` bounds each step of it.
Result<json::object> ask(std::uint16_t port, const std::optional<ClientTls>& tls, http::verb verb,
                         const std::string& path, const std::string& body,
                         std::chrono::milliseconds timeout) {
  Exchange exchange;
  exchange.to = tcp::endpoint(asio::ip::address_v4::loopback(), port);
  exchange.request = {verb, path, 11};
  exchange.request.set(http::field::host, loopback(port));
  if (verb == http::verb::post) {
    exchange.request.set(http::field::content_type, "application/json");
    exchange.request.body() = body;
    exchange.request.prepare_payload();
  }
  exchange.timeout = timeout;
  ssl::context context(ssl::context::tls_client);
  if (tls) {
    boost::system::error_code error;
    context.set_verify_mode(ssl::verify_peer, error);
    if (!error) context.add_certificate_authority(asio::buffer(tls->ca.certificate_pem), error);
    if (!error) context.use_certificate_chain(asio::buffer(tls->client.certificate_pem), error);
    if (!error)
      context.use_private_key(asio::buffer(tls->client.key_pem), ssl::context::pem, error);
    if (error) return fail("the client's TLS material: ", error.message());
    exchange.tls = &context;
  }
  asio::io_context io;
  Result<json::object> out = fail("no answer");
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { out = co_await exchange.run(io); }, asio::detached);
  io.run();
  return out;
}

}  // namespace

Result<cluster::IssuedCertificate> foreign_client_certificate() {
  auto ca = cluster::create_ca({"a CA no etcd member trusts", {}, {}});
  if (!ca) return ca.error();
  return cluster::issue_node_certificate(*ca, {"intruder", {}, {IpAddress::v4(127, 0, 0, 1)}});
}

EtcdCluster::EtcdCluster(EtcdClusterOptions options, std::string directory)
    : options_(options),
      directory_(std::move(directory)),
      port_rng_(std::random_device{}() ^ static_cast<unsigned>(::getpid())) {
  members_.resize(options_.members);
  for (std::size_t i = 0; i < members_.size(); ++i) members_[i].name = "etcd-" + std::to_string(i);
}

Result<std::unique_ptr<EtcdCluster>> EtcdCluster::start(EtcdClusterOptions options) {
  const std::string binary = find_on_path("etcd");
  if (binary.empty()) {
    return fail(
        "etcd is not installed (no etcd on PATH): run scripts/install-deps.sh, "
        "which installs Debian's etcd-server and etcd-client");
  }
  if (options.members == 0) return fail("an etcd cluster of no members");
  std::string pattern = (std::filesystem::temp_directory_path() / "meridian-etcd-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr)
    return fail("mkdtemp ", pattern, ": ", std::strerror(errno));
  std::unique_ptr<EtcdCluster> cluster(new EtcdCluster(options, pattern));
  cluster->etcd_binary_ = binary;
  if (options.tls) {
    if (auto written = cluster->write_certificates(); !written) return written.error();
  }
  Error last{"not started"};
  for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
    cluster->pick_ports();
    bool started = true;
    for (std::size_t i = 0; i < cluster->size() && started; ++i) {
      if (auto spawned = cluster->spawn(i); !spawned) {
        last = spawned.error();
        started = false;
      }
    }
    // Every member first, then the waits: a member is healthy only once a
    // quorum has elected a leader.
    for (std::size_t i = 0; i < cluster->size() && started; ++i) {
      if (auto ready = cluster->wait_ready(i); !ready) {
        last = ready.error();
        started = false;
      }
    }
    if (started) return cluster;
    bool clash = false;
    for (std::size_t i = 0; i < cluster->size(); ++i) {
      cluster->kill_member(i);
      clash = clash || cluster->port_taken(i);
      std::error_code ignored;
      std::filesystem::remove_all(cluster->data_dir(i), ignored);
      std::filesystem::remove(cluster->log_path(i), ignored);
    }
    if (!clash) return last;
  }
  return fail("etcd did not start in ", std::to_string(kStartAttempts),
              " attempts, each with a port taken: ", last.message);
}

EtcdCluster::~EtcdCluster() {
  const bool failing = std::uncaught_exceptions() > 0;
  for (std::size_t i = 0; i < members_.size(); ++i) {
    if (failing) {
      std::cerr << "---- the tail of " << members_[i].name << "'s log (" << log_path(i) << ")\n"
                << log_tail(i) << "----\n";
    }
    kill_member(i);
  }
  std::error_code ignored;
  std::filesystem::remove_all(directory_, ignored);
}

Result<void> EtcdCluster::write_certificates() {
  auto ca = cluster::create_ca({"etcd test CA", {}, {}});
  if (!ca) return ca.error();
  ca_ = *ca;
  // One certificate serves every member: they share the address 127.0.0.1.
  auto server =
      cluster::issue_node_certificate(ca_, {"etcd", {"localhost"}, {IpAddress::v4(127, 0, 0, 1)}});
  if (!server) return server.error();
  auto client =
      cluster::issue_node_certificate(ca_, {"meridian", {}, {IpAddress::v4(127, 0, 0, 1)}});
  if (!client) return client.error();
  client_ = *client;
  const std::string tls = directory_ + "/tls";
  for (const auto& [name, certificate] :
       {std::pair{"ca", ca_}, std::pair{"server", *server}, std::pair{"client", client_}}) {
    if (auto written = cluster::write_certificate(tls, name, certificate); !written)
      return written.error();
  }
  return {};
}

void EtcdCluster::pick_ports() {
  std::uniform_int_distribution<int> pick(kPortLow, kPortHigh - 1);
  std::set<std::uint16_t> chosen;
  const auto next = [&] {
    for (;;) {
      const auto port = static_cast<std::uint16_t>(pick(port_rng_));
      if (!chosen.count(port) && port_free(port)) {
        chosen.insert(port);
        return port;
      }
    }
  };
  for (Member& member : members_) {
    member.client_port = next();
    member.peer_port = next();
  }
}

std::string EtcdCluster::data_dir(std::size_t i) const {
  return directory_ + "/" + members_[i].name + ".etcd";
}

std::string EtcdCluster::log_path(std::size_t i) const {
  return directory_ + "/" + members_[i].name + ".log";
}

std::vector<std::string> EtcdCluster::arguments(std::size_t i) const {
  const Member& member = members_[i];
  const std::string scheme = options_.tls ? "https://" : "http://";
  std::string initial_cluster;
  for (const Member& peer : members_) {
    initial_cluster +=
        (initial_cluster.empty() ? "" : ",") + peer.name + "=http://" + loopback(peer.peer_port);
  }
  std::vector<std::string> out{
      etcd_binary_,
      "--name=" + member.name,
      "--data-dir=" + data_dir(i),
      "--listen-client-urls=" + scheme + loopback(member.client_port),
      "--advertise-client-urls=" + scheme + loopback(member.client_port),
      "--listen-peer-urls=http://" + loopback(member.peer_port),
      "--initial-advertise-peer-urls=http://" + loopback(member.peer_port),
      "--initial-cluster=" + initial_cluster,
      "--initial-cluster-state=new",
      // A token of its own: members of another test's cluster that took
      // over a port can never join this one.
      "--initial-cluster-token=" + std::filesystem::path(directory_).filename().string(),
      "--logger=zap",
      "--log-outputs=stderr",
  };
  if (options_.tls) {
    const std::string tls = directory_ + "/tls/";
    out.push_back("--cert-file=" + tls + "server.pem");
    out.push_back("--key-file=" + tls + "server.key");
    out.push_back("--trusted-ca-file=" + tls + "ca.pem");
    out.emplace_back("--client-cert-auth");
  }
  return out;
}

Result<void> EtcdCluster::spawn(std::size_t i) {
  std::vector<std::string> args = arguments(i);
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const int log = ::open(log_path(i).c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) return fail("opening ", log_path(i), ": ", std::strerror(errno));
  const int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    // Only async-signal-safe calls from here: the test has threads.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(126);
    ::dup2(null, STDIN_FILENO);
    ::dup2(log, STDOUT_FILENO);
    ::dup2(log, STDERR_FILENO);
    // Not the test's sockets: a copy held by etcd would keep a connection
    // the test closed open.
    ::close_range(3, ~0U, 0);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  const int fork_error = errno;
  ::close(log);
  ::close(null);
  if (pid < 0) return fail("fork: ", std::strerror(fork_error));
  members_[i].pid = pid;
  members_[i].paused = false;
  return {};
}

bool EtcdCluster::running(std::size_t i) const {
  const pid_t pid = members_[i].pid;
  if (pid <= 0) return false;
  siginfo_t info{};
  // WNOWAIT: look without reaping, so kill_member still finds the child.
  return ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
         info.si_pid == 0;
}

Result<void> EtcdCluster::wait_ready(std::size_t i) {
  const auto end = std::chrono::steady_clock::now() + options_.ready_within;
  std::string last = "no answer yet";
  while (std::chrono::steady_clock::now() < end) {
    if (!running(i)) {
      return fail(members_[i].name, " exited while starting; the tail of its log:\n", log_tail(i));
    }
    auto answer = ask(members_[i].client_port, tls_of(options_.tls, ca_, client_), http::verb::get,
                      "/health", "", 1s);
    if (answer) {
      const json::value* healthy = answer->if_contains("health");
      if (healthy != nullptr && healthy->is_string() && healthy->as_string() == "true") return {};
      last = json::serialize(*answer);
    } else {
      last = answer.error().message;
    }
    std::this_thread::sleep_for(100ms);
  }
  return fail(members_[i].name, " is not healthy after ",
              std::to_string(options_.ready_within.count()), " ms (", last,
              "); the tail of its log:\n", log_tail(i));
}

bool EtcdCluster::port_taken(std::size_t i) const {
  return log_tail(i, 200).find(kPortTaken) != std::string::npos;
}

const std::string& EtcdCluster::name(std::size_t i) const {
  return members_.at(i).name;
}

SocketAddress EtcdCluster::client_endpoint(std::size_t i) const {
  return SocketAddress{IpAddress::v4(127, 0, 0, 1), members_.at(i).client_port};
}

std::vector<SocketAddress> EtcdCluster::client_endpoints() const {
  std::vector<SocketAddress> out;
  for (std::size_t i = 0; i < members_.size(); ++i) out.push_back(client_endpoint(i));
  return out;
}

GatewaySettings EtcdCluster::gateway_settings(const std::vector<std::size_t>& order) const {
  GatewaySettings settings;
  if (order.empty()) {
    settings.endpoints = client_endpoints();
  } else {
    for (std::size_t i : order) settings.endpoints.push_back(client_endpoint(i));
  }
  if (options_.tls) {
    settings.ca_pem = ca_.certificate_pem;
    settings.cert_pem = client_.certificate_pem;
    settings.key_pem = client_.key_pem;
  }
  return settings;
}

void EtcdCluster::kill_member(std::size_t i) {
  Member& member = members_.at(i);
  if (member.pid <= 0) return;
  ::kill(member.pid, SIGKILL);
  int status = 0;
  while (::waitpid(member.pid, &status, 0) < 0 && errno == EINTR) {}
  member.pid = -1;
  member.paused = false;
}

Result<void> EtcdCluster::restart_members(const std::vector<std::size_t>& members) {
  for (std::size_t i : members) {
    if (running(i)) return fail(members_.at(i).name, " is still running");
    kill_member(i);  // reaps a member that died by itself
    if (auto spawned = spawn(i); !spawned) return spawned.error();
  }
  for (std::size_t i : members) {
    if (auto ready = wait_ready(i); !ready) return ready.error();
  }
  return {};
}

void EtcdCluster::pause_member(std::size_t i) {
  Member& member = members_.at(i);
  if (member.pid <= 0 || member.paused) return;
  ::kill(member.pid, SIGSTOP);
  // kill() returns before every thread of etcd has stopped: wait for the
  // group stop, so that nothing is answered after pause_member returns.
  // WNOWAIT leaves the state to be seen again (running() and kill_member
  // still find an exit), WEXITED ends the wait if etcd died instead.
  siginfo_t info{};
  while (::waitid(P_PID, static_cast<id_t>(member.pid), &info, WSTOPPED | WEXITED | WNOWAIT) < 0 &&
         errno == EINTR) {}
  member.paused = true;
}

void EtcdCluster::resume_member(std::size_t i) {
  Member& member = members_.at(i);
  if (member.pid <= 0 || !member.paused) return;
  ::kill(member.pid, SIGCONT);
  siginfo_t info{};
  while (::waitid(P_PID, static_cast<id_t>(member.pid), &info, WCONTINUED | WEXITED | WNOWAIT) <
             0 &&
         errno == EINTR) {}
  member.paused = false;
}

Result<json::object> EtcdCluster::call(std::size_t i, const std::string& path,
                                       const json::object& body,
                                       std::chrono::milliseconds timeout) const {
  const Member& member = members_.at(i);
  auto answer = ask(member.client_port, tls_of(options_.tls, ca_, client_), http::verb::post, path,
                    json::serialize(body), timeout);
  if (!answer) return fail(member.name, " ", path, ": ", answer.error().message);
  return answer;
}

Result<json::object> EtcdCluster::call_any(const std::string& path,
                                           const json::object& body) const {
  Error last{"no member is running"};
  for (std::size_t i = 0; i < members_.size(); ++i) {
    if (!running(i) || members_[i].paused) continue;
    auto answer = call(i, path, body);
    if (answer) return answer;
    last = answer.error();
  }
  return last;
}

Result<std::size_t> EtcdCluster::leader() const {
  // Each member names the leader by id and itself in its answer's header:
  // the leader is a member that answered and whose id the others name.
  std::map<std::string, std::size_t> by_id;
  std::set<std::string> named;
  for (std::size_t i = 0; i < members_.size(); ++i) {
    if (!running(i) || members_[i].paused) continue;
    auto status = call(i, "/v3/maintenance/status", json::object{}, 1s);
    if (!status) continue;
    const json::value* leader = status->if_contains("leader");
    const json::value* header = status->if_contains("header");
    if (leader == nullptr || !leader->is_string() || header == nullptr || !header->is_object())
      continue;
    const json::value* id = header->as_object().if_contains("member_id");
    if (id == nullptr || !id->is_string()) continue;
    by_id[std::string(id->as_string())] = i;
    named.insert(std::string(leader->as_string()));
  }
  if (named.size() != 1) return fail("the members name ", std::to_string(named.size()), " leaders");
  auto found = by_id.find(*named.begin());
  if (found == by_id.end()) return fail("the leader the members name did not answer");
  return found->second;
}

std::string EtcdCluster::log_tail(std::size_t i, std::size_t lines) const {
  std::ifstream in(log_path(i));
  std::deque<std::string> tail;
  for (std::string line; std::getline(in, line);) {
    tail.push_back(std::move(line));
    if (tail.size() > lines) tail.pop_front();
  }
  std::string out;
  for (const std::string& line : tail) out += line + "\n";
  return out;
}

}  // namespace meridian::etcd::test
