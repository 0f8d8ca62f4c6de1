#include "gslb/cookie_secret_keeper.hpp"

#include <charconv>
#include <sstream>

namespace meridian::gslb {
namespace {

std::string hex(const dns::CookieSecret& secret) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (std::uint8_t b : secret) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

std::optional<dns::CookieSecret> from_hex(std::string_view text) {
  dns::CookieSecret secret{};
  if (text.size() != 2 * secret.size()) return std::nullopt;
  for (std::size_t i = 0; i < secret.size(); ++i) {
    const auto [end, error] =
        std::from_chars(text.data() + 2 * i, text.data() + 2 * i + 2, secret[i], 16);
    if (error != std::errc{} || end != text.data() + 2 * i + 2) return std::nullopt;
  }
  return secret;
}

}  // namespace

std::string encode_cookie_record(const CookieSecretRecord& record) {
  std::string out = "v1 " + std::to_string(record.made_ms) + " " + hex(record.secrets.current);
  if (record.secrets.previous) out += " " + hex(*record.secrets.previous);
  return out;
}

std::optional<CookieSecretRecord> decode_cookie_record(std::string_view text) {
  std::istringstream in{std::string(text)};
  std::string version, made, current, previous, extra;
  if (!(in >> version >> made >> current) || version != "v1") return std::nullopt;
  CookieSecretRecord record;
  const auto [end, error] = std::from_chars(made.data(), made.data() + made.size(), record.made_ms);
  if (error != std::errc{} || end != made.data() + made.size()) return std::nullopt;
  auto secret = from_hex(current);
  if (!secret) return std::nullopt;
  record.secrets.current = *secret;
  if (in >> previous) {
    auto old = from_hex(previous);
    if (!old) return std::nullopt;
    record.secrets.previous = *old;
  }
  if (in >> extra) return std::nullopt;
  return record;
}

Result<dns::CookieSecrets> parse_cookie_secret_file(std::string_view text) {
  std::vector<dns::CookieSecret> secrets;
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos) continue;
    const auto last = line.find_last_not_of(" \t\r");
    auto secret = from_hex(std::string_view(line).substr(first, last - first + 1));
    if (!secret) {
      return fail("line ", std::to_string(secrets.size() + 1),
                  " is not a secret: expected 32 hexadecimal digits (16 bytes)");
    }
    secrets.push_back(*secret);
  }
  if (secrets.empty() || secrets.size() > 2) {
    return fail("expected one line (the secret) or two (the secret, then the previous one), found ",
                std::to_string(secrets.size()));
  }
  dns::CookieSecrets out;
  out.current = secrets[0];
  if (secrets.size() == 2) out.previous = secrets[1];
  return out;
}

struct CookieSecretKeeper::Alive {
  CookieSecretKeeper* keeper;
};

CookieSecretKeeper::CookieSecretKeeper(store::ReplicatedStore* store, Scheduler& scheduler,
                                       const Clock& clock, Logger& logger,
                                       Clock::Duration rotate_every, SecretSource source,
                                       dns::CookieSecretSlot& slot)
    : store_(store),
      scheduler_(scheduler),
      clock_(clock),
      logger_(logger),
      rotate_every_(rotate_every),
      source_(std::move(source)),
      slot_(slot),
      alive_(std::make_shared<Alive>(Alive{this})) {}

CookieSecretKeeper::~CookieSecretKeeper() {
  stop();
}

void CookieSecretKeeper::start(Clock::Duration check_every) {
  check_every_ = check_every;
  record_.made_ms = wall_ms(clock_);
  record_.secrets.current = source_();
  publish();
  if (store_ != nullptr) {
    std::weak_ptr<Alive> alive = alive_;
    Scheduler& scheduler = scheduler_;
    auto handed_over = [&scheduler, alive](const std::optional<std::string>& value) {
      scheduler.post([alive, value] {
        if (auto self = alive.lock()) self->keeper->apply(value);
      });
    };
    auto watching =
        store_->watch(std::string(kCookieSecretKey),
                      [handed_over](const std::string& key, const std::optional<std::string>& value,
                                    std::uint64_t) {
                        if (key == kCookieSecretKey) handed_over(value);
                      });
    if (watching) {
      watch_ = *watching;
    } else {
      logger_.warn("dns.cookies", "cannot follow the cluster's cookie secret: " +
                                      watching.error().message + "; this node keeps its own");
    }
    store_->read(std::string(kCookieSecretKey), store::ReadMode::local,
                 [handed_over](const std::optional<std::string>& value,
                               const std::optional<store::StoreError>& error) {
                   if (!error) handed_over(value);
                 });
  }
  std::weak_ptr<Alive> alive = alive_;
  scheduler_.after(check_every_, [alive] {
    if (auto self = alive.lock()) self->keeper->tick();
  });
}

void CookieSecretKeeper::stop() {
  if (watch_ && store_ != nullptr) store_->unwatch(*watch_);
  watch_.reset();
  alive_.reset();
}

void CookieSecretKeeper::apply(const std::optional<std::string>& value) {
  stored_ = value;
  if (!value) return;  // deleted or never written: the decider writes one
  auto record = decode_cookie_record(*value);
  if (!record) {
    logger_.warn("dns.cookies",
                 "the cluster's cookie secret record does not decode; the decider "
                 "replaces it");
    return;
  }
  const bool changed = !shared_ || record->secrets.current != record_.secrets.current;
  record_ = *record;
  shared_ = true;
  publish();
  if (changed) logger_.info("dns.cookies", "using the cluster's cookie secret");
}

void CookieSecretKeeper::publish() {
  slot_.publish(std::make_shared<const dns::CookieSecrets>(record_.secrets));
}

void CookieSecretKeeper::tick() {
  if (!alive_) return;
  std::weak_ptr<Alive> alive = alive_;
  scheduler_.after(check_every_, [alive] {
    if (auto self = alive.lock()) self->keeper->tick();
  });
  const std::uint64_t now_ms = wall_ms(clock_);
  const auto age =
      std::chrono::milliseconds(now_ms > record_.made_ms ? now_ms - record_.made_ms : 0);
  if (store_ == nullptr) {
    if (age < rotate_every_) return;
    record_.secrets.previous = record_.secrets.current;
    record_.secrets.current = source_();
    record_.made_ms = now_ms;
    ++rotations_;
    publish();
    logger_.info("dns.cookies", "rotated the cookie secret");
    return;
  }
  if (writing_ || !store_->is_decider()) return;
  const std::optional<CookieSecretRecord> stored =
      stored_ ? decode_cookie_record(*stored_) : std::nullopt;
  if (stored && age < rotate_every_) return;
  CookieSecretRecord next;
  next.made_ms = now_ms;
  next.secrets.current = source_();
  if (stored) next.secrets.previous = stored->secrets.current;
  writing_ = true;
  // Compare-and-set against the value this node saw: two deciders in
  // quick succession cannot both rotate (the second finds a newer record).
  store_->write_as_decider(
      store::KvCompareAndSet{std::string(kCookieSecretKey), stored_, encode_cookie_record(next)},
      [&scheduler = scheduler_, alive, first = !stored](
          const store::KvResult& result, const std::optional<store::StoreError>& error) {
        const bool ok = !error && result.ok;
        scheduler.post([alive, ok, first] {
          auto self = alive.lock();
          if (!self) return;
          self->keeper->writing_ = false;
          if (!ok) return;  // the watch brings whatever is there now
          ++self->keeper->rotations_;
          self->keeper->logger_.info("dns.cookies", first ? "made the cluster's cookie secret"
                                                          : "rotated the cluster's cookie secret");
        });
      });
}

}  // namespace meridian::gslb
