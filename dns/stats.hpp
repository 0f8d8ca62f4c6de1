#pragma once
// Query counters. Each DNS worker owns one QueryStats and is its only
// writer; readers (metrics, admin) sum all workers' counters at any time.
// Relaxed atomics: a plain load and store per increment, no lock prefix.

#include <array>
#include <atomic>
#include <cstdint>

namespace meridian::dns {

struct QueryStats {
  using Counter = std::atomic<std::uint64_t>;

  Counter queries{0};          ///< every packet handed to the answerer
  Counter dropped{0};          ///< no reply: too short, or a response
  Counter truncated{0};        ///< answered with TC set
  Counter client_subnet{0};    ///< queries carrying a valid ECS option
  Counter service_answers{0};  ///< answers chosen by steering
  Counter fail_open{0};        ///< service answers given with nothing healthy
  std::array<Counter, 17> by_rcode{};  ///< index = RCODE (0..16; 16 = BADVERS)

  static void bump(Counter& counter) noexcept {
    counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
};

}  // namespace meridian::dns
