// meridian-rogue-peer: a test tool that plays a node holding a certificate
// of the cluster CA that it should not be heard with (a removed member's, or
// one issued for a name never added), and does its best to disturb the
// cluster for a while: vote requests that claim a leadership transfer,
// timeout-now, appends and heartbeats of ever higher terms, forwarded
// writes of reserved keys, and snapshots whose state does not decode.
// Used by tests/integration/removed_member_test.sh; never part of a node.
//
//   meridian-rogue-peer --name NAME --ca FILE --cert FILE --key FILE
//                       --peer NAME=IP:PORT... --seconds N
//
// Prints what it sent and what its transport counted, and exits 0 when it
// ran its time (whether or not anyone listened: that is the test's check).
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <exception>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "base/log.hpp"
#include "cluster/node_id.hpp"
#include "cluster/transport.hpp"

namespace {

using namespace meridian;
using namespace meridian::cluster;
namespace asio = boost::asio;

struct Options {
  std::string name, ca, cert, key;
  std::vector<std::pair<std::string, SocketAddress>> peers;
  int seconds = 60;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in) {
    std::cerr << "meridian-rogue-peer: cannot read " << path << "\n";
    std::exit(2);
  }
  return text.str();
}

Options parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--name") {
      options.name = value;
    } else if (flag == "--ca") {
      options.ca = read_file(value);
    } else if (flag == "--cert") {
      options.cert = read_file(value);
    } else if (flag == "--key") {
      options.key = read_file(value);
    } else if (flag == "--seconds") {
      options.seconds = std::stoi(value);
    } else if (flag == "--peer") {
      const auto equals = value.find('=');
      SocketAddress address;
      if (equals == std::string::npos || !SocketAddress::parse(value.substr(equals + 1), address)) {
        std::cerr << "meridian-rogue-peer: bad --peer " << value << "\n";
        std::exit(2);
      }
      options.peers.emplace_back(value.substr(0, equals), address);
    } else {
      std::cerr << "meridian-rogue-peer: unknown option " << flag << "\n";
      std::exit(2);
    }
  }
  if (options.name.empty() || options.ca.empty() || options.peers.empty()) {
    std::cerr << "usage: meridian-rogue-peer --name NAME --ca FILE --cert FILE --key FILE "
                 "--peer NAME=IP:PORT... --seconds N\n";
    std::exit(2);
  }
  return options;
}

/// One round of everything, to `to`, at `term`.
void attack(Transport& transport, NodeId self, NodeId to, std::uint64_t term, std::uint64_t round,
            std::uint64_t& sent) {
  auto base = [&](MessageType type) {
    Message message;
    message.type = type;
    message.from = self;
    message.to = to;
    message.term = term;
    return message;
  };
  Message vote = base(MessageType::vote_request);
  vote.index = 1'000'000'000;
  vote.log_term = term;
  vote.transfer = true;  // skips the leader-lease check of a plain vote
  transport.send(vote);
  Message pre_vote = base(MessageType::pre_vote_request);
  pre_vote.term = term + 1;
  pre_vote.index = 1'000'000'000;
  pre_vote.log_term = term;
  transport.send(pre_vote);
  transport.send(base(MessageType::timeout_now));
  Message append = base(MessageType::append);
  append.entries.push_back(store::Entry{1, term, store::EntryType::normal, "rogue"});
  transport.send(append);
  Message heartbeat = base(MessageType::heartbeat);
  heartbeat.commit = 1'000'000'000;
  transport.send(heartbeat);
  // A forwarded system write of a member address: the address book.
  std::string body;
  body.push_back(1);  // version
  body.push_back(1);  // system
  transport.send_forward(ForwardFrame{self, to, round, false, body + "rogue"});
  sent += 6;
  if (round % 10 == 0) {
    Message snapshot = base(MessageType::snapshot);
    store::Snapshot bogus;
    bogus.index = 1'000'000;
    bogus.term = term;
    bogus.membership.voters = {self};
    bogus.data = "this state does not decode";
    snapshot.snapshot = bogus;
    transport.send(snapshot);
    ++sent;
  }
}

}  // namespace

namespace {

int run(int argc, char** argv) {
  const Options options = parse(argc, argv);
  Logger logger(LogLevel::warn);
  asio::io_context io;
  TransportSettings settings;
  settings.self_name = options.name;
  settings.listen = {IpAddress::v4(127, 0, 0, 1), 0};
  settings.ca_pem = options.ca;
  settings.cert_pem = options.cert;
  settings.key_pem = options.key;
  settings.backoff_min = std::chrono::milliseconds(50);
  settings.backoff_max = std::chrono::milliseconds(200);
  Transport transport(
      io, settings, logger, [](const Message&) {}, [](const NodeReport&) {});
  if (auto started = transport.start(); !started) {
    std::cerr << "meridian-rogue-peer: " << started.error().message << "\n";
    return 2;
  }
  for (const auto& [name, address] : options.peers)
    transport.add_peer(node_id_of(name), name, address);

  const NodeId self = node_id_of(options.name);
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(options.seconds);
  std::uint64_t round = 0;
  std::uint64_t sent = 0;
  asio::steady_timer timer(io);
  std::function<void()> next = [&] {
    if (std::chrono::steady_clock::now() >= end) {
      transport.stop();
      return;
    }
    ++round;
    for (const auto& [name, address] : options.peers)
      attack(transport, self, node_id_of(name), 1'000 + round, round, sent);
    timer.expires_after(std::chrono::milliseconds(50));
    timer.async_wait([&](const boost::system::error_code& error) {
      if (!error) next();
    });
  };
  next();
  io.run();
  const TransportCounters& counters = transport.counters();
  std::cout << "rogue " << options.name << ": " << round << " rounds, " << sent
            << " messages queued, " << counters.sent << " written, " << counters.dropped
            << " dropped\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& error) {
    std::cerr << "meridian-rogue-peer: " << error.what() << "\n";
    return 2;
  }
}
