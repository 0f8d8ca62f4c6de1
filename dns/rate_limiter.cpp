#include "dns/rate_limiter.hpp"

#include <algorithm>
#include <bit>

namespace meridian::dns {
namespace {

// FNV-1a over the key's parts, then a final mix (the table index takes the
// low bits).
struct KeyHash {
  std::uint64_t value = 0xcbf29ce484222325ULL;
  void add(std::span<const std::uint8_t> bytes) noexcept {
    for (std::uint8_t b : bytes) {
      value ^= b;
      value *= 0x100000001b3ULL;
    }
  }
  void add(std::uint64_t number) noexcept {
    std::uint8_t bytes[8];
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<std::uint8_t>(number >> (8 * i));
    add(bytes);
  }
  std::uint64_t finish() const noexcept {
    std::uint64_t x = value;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x | 1;  // never 0, the empty slot's key
  }
};

class SlotLock {
 public:
  explicit SlotLock(std::atomic<bool>& flag) noexcept : flag_(flag) {
    while (flag_.exchange(true, std::memory_order_acquire)) {
      while (flag_.load(std::memory_order_relaxed)) {}
    }
  }
  ~SlotLock() { flag_.store(false, std::memory_order_release); }
  SlotLock(const SlotLock&) = delete;
  SlotLock& operator=(const SlotLock&) = delete;

 private:
  std::atomic<bool>& flag_;
};

constexpr std::int64_t kCost = 1000;  // one response, in thousandths

}  // namespace

ResponseRateLimiter::ResponseRateLimiter(RateLimitSettings settings)
    : settings_(std::move(settings)) {
  const std::uint64_t size = std::bit_ceil(std::max<std::uint64_t>(settings_.table_size, 16));
  buckets_ = std::make_unique<Bucket[]>(size);
  mask_ = size - 1;
}

bool ResponseRateLimiter::exempt(const IpAddress& source) const noexcept {
  if (settings_.responses_per_second == 0) return true;
  const IpAddress address = source.unmapped();
  return std::any_of(settings_.exempt.begin(), settings_.exempt.end(),
                     [&](const IpNetwork& network) { return network.contains(address); });
}

RateDecision ResponseRateLimiter::account(const IpAddress& source, ResponseKind kind,
                                          std::span<const std::uint8_t> name, std::uint16_t qtype,
                                          std::uint64_t now_ms) noexcept {
  const IpAddress address = source.unmapped();
  const IpAddress network =
      address.masked(address.family == IpAddress::Family::v4 ? settings_.ipv4_prefix_len
                                                             : settings_.ipv6_prefix_len);
  KeyHash hash;
  hash.add(std::span<const std::uint8_t>(network.bytes.data(), network.byte_length()));
  hash.add(static_cast<std::uint64_t>(kind) << 16 | qtype);
  hash.add(name);
  const std::uint64_t key = hash.finish();

  const std::int64_t rate = settings_.responses_per_second;
  const std::int64_t capacity = rate * kCost;  // one second's worth
  Bucket& bucket = buckets_[key & mask_];
  SlotLock lock(bucket.locked);
  if (bucket.key != key && (bucket.key == 0 || now_ms >= bucket.last_ms + 1000)) {
    // A new flow, or another flow's bucket that has refilled anyway: start
    // full. A busy bucket of another key is shared instead, so that keys
    // made to collide cannot reset each other's accounts.
    bucket.key = key;
    bucket.last_ms = now_ms;
    bucket.tokens = capacity;
    bucket.limited = 0;
  }
  if (now_ms > bucket.last_ms) {
    const auto elapsed =
        static_cast<std::int64_t>(std::min<std::uint64_t>(now_ms - bucket.last_ms, 60'000));
    bucket.tokens = std::min(capacity, bucket.tokens + elapsed * rate);
    bucket.last_ms = now_ms;
  }
  if (bucket.tokens >= kCost) {
    bucket.tokens -= kCost;
    bucket.limited = 0;
    return RateDecision::send;
  }
  ++bucket.limited;
  if (settings_.slip != 0 && bucket.limited % settings_.slip == 0) return RateDecision::slip;
  return RateDecision::drop;
}

}  // namespace meridian::dns
