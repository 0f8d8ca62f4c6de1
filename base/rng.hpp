#pragma once
// A small, fast, seeded pseudo-random generator (xoshiro256**), so every
// random choice is reproducible from a seed. Not for cryptography.
// Not thread-safe: each thread or core owns its own Rng.

#include <cstdint>

namespace meridian {

class Rng {
 public:
  using result_type = std::uint64_t;

  explicit Rng(std::uint64_t seed) noexcept;

  /// The next 64 random bits.
  std::uint64_t next() noexcept;
  /// A uniform integer in [0, bound). `bound` must be > 0.
  std::uint64_t below(std::uint64_t bound) noexcept;

  // UniformRandomBitGenerator, for <random> and std::shuffle.
  static constexpr result_type min() noexcept { return 0; }
  static constexpr result_type max() noexcept { return ~result_type{0}; }
  result_type operator()() noexcept { return next(); }

 private:
  std::uint64_t state_[4];
};

}  // namespace meridian
