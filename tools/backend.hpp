#pragma once
// `meridian backend`: a tiny HTTP server standing in for a real service in
// the demo, the tests and the health benchmark. It answers every request
// with a fixed status and "NAME ok" (or, with --hang, accepts and never
// answers, as a stuck server does). Not for production traffic.

#include <cstdint>
#include <string>
#include <vector>

#include "base/ip_address.hpp"

namespace meridian {

struct BackendOptions {
  std::vector<SocketAddress> listen;  ///< one or more addresses (port 0 not allowed)
  std::string name = "backend";
  unsigned status = 200;
  bool hang = false;
};

/// Serves until SIGINT/SIGTERM; returns the exit code.
int run_backend(const BackendOptions& options);

}  // namespace meridian
