#include "dns/tcp_connection_table.hpp"

#include "base/assert.hpp"

namespace meridian::dns {

TcpConnectionTable::TcpConnectionTable(TcpConnectionLimits limits) : limits_(limits) {
  MERIDIAN_ASSERT(limits.max_connections >= 1 && limits.max_per_client >= 1,
                  "TCP connection limits must be at least 1");
}

IpAddress TcpConnectionTable::network_of(const IpAddress& client) noexcept {
  const IpAddress plain = client.unmapped();
  return plain.masked(plain.family == IpAddress::Family::v4 ? kClientPrefixV4 : kClientPrefixV6);
}

TcpConnectionTable::NetworkKey TcpConnectionTable::key_of(const IpAddress& client) noexcept {
  // /24 is 3 bytes and /56 is 7: with the family in the top byte, any
  // network fits one 64-bit key, and the two families never collide.
  const IpAddress network = network_of(client);
  const unsigned bytes =
      network.family == IpAddress::Family::v4 ? kClientPrefixV4 / 8 : kClientPrefixV6 / 8;
  NetworkKey key = static_cast<NetworkKey>(network.family);
  for (unsigned i = 0; i < bytes; ++i) key = (key << 8) | network.bytes[i];
  return key << (8 * (7 - bytes));
}

std::uint32_t TcpConnectionTable::held_by(const IpAddress& client) const {
  const auto it = networks_.find(key_of(client));
  return it == networks_.end() ? 0 : it->second.count;
}

std::optional<TcpConnectionTable::Id> TcpConnectionTable::victim() const {
  // From the largest holder down: the first with an idle connection gives
  // its oldest. Usually the largest has one; only when all of its
  // connections are writing at once does the walk go further.
  for (auto it = by_count_.rbegin(); it != by_count_.rend(); ++it) {
    const Network& network = networks_.at(it->second);
    if (!network.idle.empty()) return network.idle.begin()->second;
  }
  return std::nullopt;
}

void TcpConnectionTable::set_count(NetworkKey key, Network& network, std::uint32_t count) {
  if (network.count > 0) by_count_.erase({network.count, key});
  network.count = count;
  if (count > 0) by_count_.insert({count, key});
}

TcpConnectionTable::Admission TcpConnectionTable::admit(const IpAddress& client) {
  const NetworkKey key = key_of(client);
  Admission admission;
  if (const auto it = networks_.find(key);
      it != networks_.end() && it->second.count >= limits_.max_per_client) {
    ++counters_.refused_client_limit;
    admission.verdict = Verdict::refused_client_limit;
    return admission;
  }
  if (connections_.size() >= limits_.max_connections) {
    admission.evicted = victim();
    if (!admission.evicted) {
      ++counters_.refused_server_limit;
      admission.verdict = Verdict::refused_server_limit;
      return admission;
    }
    remove(*admission.evicted);
    ++counters_.evicted;
  }
  MERIDIAN_ASSERT(connections_.size() < limits_.max_connections, "admitting past max_connections");
  const Id id = next_id_++;
  const std::uint64_t since = ++sequence_;
  connections_.emplace(id, Connection{key, since});
  Network& network = networks_[key];
  set_count(key, network, network.count + 1);
  network.idle.insert({since, id});
  MERIDIAN_ASSERT(network.count <= limits_.max_per_client, "admitting past max_per_client");
  ++counters_.accepted;
  admission.id = id;
  return admission;
}

void TcpConnectionTable::writing(Id id) {
  const auto it = connections_.find(id);
  if (it == connections_.end() || it->second.idle_since == 0) return;
  networks_.at(it->second.network).idle.erase({it->second.idle_since, id});
  it->second.idle_since = 0;
}

void TcpConnectionTable::idle(Id id) {
  const auto it = connections_.find(id);
  if (it == connections_.end()) return;
  Network& network = networks_.at(it->second.network);
  if (it->second.idle_since != 0) network.idle.erase({it->second.idle_since, id});
  it->second.idle_since = ++sequence_;
  network.idle.insert({it->second.idle_since, id});
}

void TcpConnectionTable::release(Id id) {
  remove(id);
}

void TcpConnectionTable::remove(Id id) {
  const auto it = connections_.find(id);
  if (it == connections_.end()) return;
  const NetworkKey key = it->second.network;
  const auto network_it = networks_.find(key);
  MERIDIAN_ASSERT(network_it != networks_.end() && network_it->second.count > 0,
                  "a connection of a network the table does not count");
  Network& network = network_it->second;
  if (it->second.idle_since != 0) network.idle.erase({it->second.idle_since, id});
  connections_.erase(it);
  set_count(key, network, network.count - 1);
  if (network.count == 0) {
    MERIDIAN_ASSERT(network.idle.empty(), "an empty network with idle connections");
    networks_.erase(network_it);
  }
}

}  // namespace meridian::dns
