#include "dns/udp_server.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "dns/query_time.hpp"
#include "dns/socket_address.hpp"

namespace meridian::dns {
namespace {

constexpr std::size_t kReceiveBuffer = 4096;  // larger datagrams are not queries
constexpr std::size_t kControlBuffer = 64;    // one IP_PKTINFO or IPV6_PKTINFO

std::string errno_text() {
  return std::strerror(errno);
}

Result<int> open_socket(const SocketAddress& address, bool reuse_port) {
  const int family = address.address.family == IpAddress::Family::v4 ? AF_INET : AF_INET6;
  const int fd = ::socket(family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return fail("socket: ", errno_text());
  const int on = 1;
  if (reuse_port) ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on);
  if (family == AF_INET6) {
    // "[::]:53" and "0.0.0.0:53" are separate listeners, as configured.
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof on);
  } else {
    ::setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof on);
  }
  sockaddr_storage storage;
  const socklen_t length = to_sockaddr(address, storage);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&storage), length) != 0) {
    const std::string reason = errno_text();
    ::close(fd);
    return fail("bind udp ", address.to_string(), ": ", reason);
  }
  return fd;
}

SocketAddress local_address(int fd) {
  sockaddr_storage storage{};
  socklen_t length = sizeof storage;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &length);
  SocketAddress result;
  result.address = ip_of(storage);
  result.port =
      ntohs(storage.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&storage)->sin_port
                                         : reinterpret_cast<sockaddr_in6*>(&storage)->sin6_port);
  if (storage.ss_family == AF_INET6) result.address.family = IpAddress::Family::v6;
  return result;
}

// Turns a received packet-info control message into the one for the reply,
// so the reply leaves from the address the query came to (wildcard binds).
void reply_control(msghdr& header) noexcept {
  for (cmsghdr* c = CMSG_FIRSTHDR(&header); c != nullptr; c = CMSG_NXTHDR(&header, c)) {
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      auto* info = reinterpret_cast<in_pktinfo*>(CMSG_DATA(c));
      info->ipi_spec_dst = info->ipi_addr;
      info->ipi_ifindex = 0;
      return;
    }
    if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) return;  // reusable as is
  }
  header.msg_controllen = 0;
}

}  // namespace

struct UdpServer::Worker {
  std::vector<int> fds;
  QueryStats* stats = nullptr;
  // Batch buffers, allocated once per worker.
  std::vector<std::uint8_t> receive = std::vector<std::uint8_t>(kBatch * kReceiveBuffer);
  std::vector<std::uint8_t> send = std::vector<std::uint8_t>(std::size_t{kBatch} * kMaxUdpPayload);
  std::vector<std::uint8_t> control = std::vector<std::uint8_t>(kBatch * kControlBuffer);
  mmsghdr in[kBatch];
  mmsghdr out[kBatch];
  iovec in_iov[kBatch];
  iovec out_iov[kBatch];
  sockaddr_storage peers[kBatch];
};

UdpServer::UdpServer(const Answerer& answerer, const RoutingTableSlot& slot, Logger& logger)
    : answerer_(answerer), slot_(slot), logger_(logger) {}

UdpServer::~UdpServer() {
  stop();
  for (auto& worker : workers_) {
    for (int fd : worker->fds) ::close(fd);
  }
  if (stop_fd_ >= 0) ::close(stop_fd_);
}

Result<void> UdpServer::bind(const std::vector<SocketAddress>& addresses, unsigned threads) {
  threads = std::max(1u, threads);
  stop_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop_fd_ < 0) return fail("eventfd: ", errno_text());
  for (unsigned t = 0; t < threads; ++t) {
    workers_.push_back(std::make_unique<Worker>());
    stats_.push_back(std::make_unique<QueryStats>());
    workers_.back()->stats = stats_.back().get();
  }
  for (const SocketAddress& configured : addresses) {
    SocketAddress address = configured;
    for (unsigned t = 0; t < threads; ++t) {
      auto fd = open_socket(address, threads > 1);
      if (!fd) return fd.error();
      workers_[t]->fds.push_back(*fd);
      // Port 0 (tests): every worker must share the port the first one got.
      if (t == 0) address = local_address(*fd);
    }
    bound_.push_back(address);
  }
  return {};
}

void UdpServer::start(std::uint64_t seed) {
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    threads_.emplace_back([this, i, seed] { run(*workers_[i], seed + i); });
  }
}

void UdpServer::stop() {
  if (threads_.empty()) return;
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto written = ::write(stop_fd_, &one, sizeof one);
  for (auto& thread : threads_) thread.join();
  threads_.clear();
}

void UdpServer::run(Worker& worker, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<pollfd> polls;
  for (int fd : worker.fds) polls.push_back(pollfd{fd, POLLIN, 0});
  polls.push_back(pollfd{stop_fd_, POLLIN, 0});

  for (;;) {
    const int ready = ::poll(polls.data(), polls.size(), -1);
    if (ready < 0) {
      if (errno == EINTR) continue;
      logger_.error("dns.udp", "poll: " + errno_text());
      return;
    }
    if (polls.back().revents != 0) return;  // stop requested
    for (std::size_t s = 0; s + 1 < polls.size(); ++s) {
      if ((polls[s].revents & POLLIN) == 0) continue;
      const int fd = polls[s].fd;
      // Drain the socket in batches until it would block.
      for (;;) {
        for (unsigned i = 0; i < kBatch; ++i) {
          worker.in_iov[i] = iovec{worker.receive.data() + i * kReceiveBuffer, kReceiveBuffer};
          msghdr& h = worker.in[i].msg_hdr;
          h = msghdr{};
          h.msg_name = &worker.peers[i];
          h.msg_namelen = sizeof(sockaddr_storage);
          h.msg_iov = &worker.in_iov[i];
          h.msg_iovlen = 1;
          h.msg_control = worker.control.data() + i * kControlBuffer;
          h.msg_controllen = kControlBuffer;
        }
        const int received = ::recvmmsg(fd, worker.in, kBatch, MSG_DONTWAIT, nullptr);
        if (received <= 0) break;

        const std::shared_ptr<const RoutingTable> table = slot_.load();
        const std::shared_ptr<const CookieSecrets> cookies =
            defences_.cookies != nullptr ? defences_.cookies->load() : nullptr;
        const QueryTime now = query_time_now();
        unsigned replies = 0;
        for (int i = 0; i < received; ++i) {
          msghdr& h = worker.in[i].msg_hdr;
          if ((h.msg_flags & MSG_TRUNC) != 0 || !table) {
            QueryStats::bump(worker.stats->queries);
            QueryStats::bump(worker.stats->dropped);
            continue;
          }
          const QueryContext context{
              ip_of(worker.peers[i]), Transport::udp,        &rng, now.unix_s, now.monotonic_ms,
              cookies.get(),          defences_.rate_limiter};
          std::uint8_t* response = worker.send.data() + std::size_t{replies} * kMaxUdpPayload;
          const std::size_t length = answerer_.answer(
              *table, context,
              std::span<const std::uint8_t>(worker.receive.data() + i * kReceiveBuffer,
                                            worker.in[i].msg_len),
              std::span<std::uint8_t>(response, kMaxUdpPayload), *worker.stats);
          if (length == 0) continue;
          worker.out_iov[replies] = iovec{response, length};
          msghdr& o = worker.out[replies].msg_hdr;
          o = msghdr{};
          o.msg_name = h.msg_name;
          o.msg_namelen = h.msg_namelen;
          o.msg_iov = &worker.out_iov[replies];
          o.msg_iovlen = 1;
          o.msg_control = h.msg_control;
          o.msg_controllen = h.msg_controllen;
          reply_control(o);
          ++replies;
        }
        for (unsigned sent = 0; sent < replies;) {
          const int n = ::sendmmsg(fd, worker.out + sent, replies - sent, 0);
          if (n <= 0) {
            if (n < 0 && errno == EINTR) continue;
            // A reply that cannot go (peer unreachable, buffer full) is
            // lost like any UDP datagram; skip it and send the rest.
            ++sent;
            continue;
          }
          sent += static_cast<unsigned>(n);
        }
        if (received < static_cast<int>(kBatch)) break;
      }
    }
  }
}

}  // namespace meridian::dns
