#pragma once
// The config a node serves now, for readers on other threads (explain, the
// overrides' target check): published by whoever switches the node to a
// config (start, SIGHUP, a committed version), like the routing table
// (dns::RoutingTableSlot) and the status view (NodeViewSlot). Lock-free:
// readers never wait for a switch.

#include <atomic>
#include <memory>

#include "config/config.hpp"

namespace meridian::gslb {

class ConfigSlot {
 public:
  explicit ConfigSlot(std::shared_ptr<const Config> config) : current_(std::move(config)) {}

  void publish(std::shared_ptr<const Config> config) noexcept { current_.store(std::move(config)); }
  /// The latest published config (null only if null was published). Any thread.
  std::shared_ptr<const Config> load() const noexcept { return current_.load(); }

 private:
  std::atomic<std::shared_ptr<const Config>> current_;
};

}  // namespace meridian::gslb
