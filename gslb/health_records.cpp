#include "gslb/health_records.hpp"

#include <charconv>
#include <cstdio>

namespace meridian::gslb {

std::string encode_observations(const Observations& observations) {
  std::string text;
  for (const auto& [target, up] : observations) {
    text += target;
    text += '\t';
    text += !up ? '?' : *up ? 'u' : 'd';
    text += '\n';
  }
  return text;
}

Result<Observations> decode_observations(std::string_view text) {
  Observations observations;
  while (!text.empty()) {
    const auto end = text.find('\n');
    if (end == std::string_view::npos) return fail("observations: the last line is not terminated");
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(end + 1);
    const auto tab = line.find('\t');
    if (tab == std::string_view::npos || tab == 0 || tab + 2 != line.size()) {
      return fail("observations: malformed line '", std::string(line), "'");
    }
    const char state = line[tab + 1];
    std::optional<bool> up;
    if (state == 'u') {
      up = true;
    } else if (state == 'd') {
      up = false;
    } else if (state != '?') {
      return fail("observations: unknown state in '", std::string(line), "'");
    }
    observations[std::string(line.substr(0, tab))] = up;
  }
  return observations;
}

std::string encode_verdict(const Verdict& verdict) {
  return std::string(verdict.up ? "up " : "down ") + std::to_string(verdict.observers_up) + "/" +
         std::to_string(verdict.observers) + (verdict.stale ? " stale" : "");
}

Result<Verdict> decode_verdict(std::string_view text) {
  Verdict verdict;
  if (text.ends_with(" stale")) {
    verdict.stale = true;
    text.remove_suffix(6);
  }
  std::string_view counts;
  if (text.starts_with("up ")) {
    verdict.up = true;
    counts = text.substr(3);
  } else if (text.starts_with("down ")) {
    verdict.up = false;
    counts = text.substr(5);
  } else {
    return fail("verdict: expected 'up' or 'down' in '", std::string(text), "'");
  }
  const auto slash = counts.find('/');
  if (slash == std::string_view::npos)
    return fail("verdict: expected UP/SEEN counts in '", std::string(text), "'");
  const auto parse = [](std::string_view digits, std::uint32_t& out) {
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), out);
    return ec == std::errc() && end == digits.data() + digits.size() && !digits.empty();
  };
  if (!parse(counts.substr(0, slash), verdict.observers_up) ||
      !parse(counts.substr(slash + 1), verdict.observers) ||
      verdict.observers_up > verdict.observers) {
    return fail("verdict: bad counts in '", std::string(text), "'");
  }
  return verdict;
}

const char* to_string(ForcedState state) noexcept {
  switch (state) {
    case ForcedState::drain: return "drain";
    case ForcedState::down: return "down";
    case ForcedState::up: return "up";
  }
  return "?";
}

std::optional<ForcedState> parse_forced_state(std::string_view text) noexcept {
  if (text == "drain") return ForcedState::drain;
  if (text == "down") return ForcedState::down;
  if (text == "up") return ForcedState::up;
  return std::nullopt;
}

namespace {

std::vector<std::string_view> split_tabs(std::string_view text) {
  std::vector<std::string_view> fields;
  while (true) {
    const auto tab = text.find('\t');
    fields.push_back(text.substr(0, tab));
    if (tab == std::string_view::npos) break;
    text.remove_prefix(tab + 1);
  }
  return fields;
}

bool parse_u64(std::string_view digits, std::uint64_t& out) {
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), out);
  return ec == std::errc() && end == digits.data() + digits.size() && !digits.empty();
}

std::string flatten(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  }
  return out;
}

}  // namespace

Result<void> validate_action_text(std::string_view text, std::string_view what) {
  if (text.size() > kMaxActionText) {
    return fail(std::string(what), " is longer than ", std::to_string(kMaxActionText), " bytes");
  }
  for (const char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return fail(std::string(what), " must not contain tabs, newlines or control characters");
    }
  }
  return {};
}

std::string encode_override(const OperatorOverride& value) {
  return std::string(to_string(value.state)) + "\t" + std::to_string(value.set_ms) + "\t" +
         std::to_string(value.expires_ms) + "\t" + flatten(value.author) + "\t" +
         flatten(value.reason);
}

Result<OperatorOverride> decode_override(std::string_view text) {
  const auto fields = split_tabs(text);
  if (fields.size() != 5) return fail("override: expected 5 fields");
  OperatorOverride value;
  const auto state = parse_forced_state(fields[0]);
  if (!state || !parse_u64(fields[1], value.set_ms) || !parse_u64(fields[2], value.expires_ms)) {
    return fail("override: malformed '", std::string(text), "'");
  }
  value.state = *state;
  value.author = std::string(fields[3]);
  value.reason = std::string(fields[4]);
  return value;
}

std::string encode_event(const Event& event) {
  return std::to_string(event.time_ms) + "\t" + flatten(event.kind) + "\t" +
         flatten(event.subject) + "\t" + flatten(event.detail) + "\t" + flatten(event.author);
}

Result<Event> decode_event(std::string_view text) {
  const auto fields = split_tabs(text);
  Event event;
  if (fields.size() != 5 || !parse_u64(fields[0], event.time_ms) || fields[1].empty()) {
    return fail("event: malformed '", std::string(text.substr(0, 80)), "'");
  }
  event.kind = std::string(fields[1]);
  event.subject = std::string(fields[2]);
  event.detail = std::string(fields[3]);
  event.author = std::string(fields[4]);
  return event;
}

std::string event_key(std::uint64_t time_ms, std::string_view node, std::uint64_t sequence) {
  char time[32];
  std::snprintf(time, sizeof time, "%016llu", static_cast<unsigned long long>(time_ms));
  return std::string(kEventPrefix) + time + "-" + std::string(node) + "-" +
         std::to_string(sequence);
}

std::optional<Verdict> decide(Quorum quorum, const std::vector<std::optional<bool>>& views) {
  Verdict verdict;
  for (const auto& view : views) {
    if (!view) continue;
    ++verdict.observers;
    if (*view) ++verdict.observers_up;
  }
  if (verdict.observers == 0) return std::nullopt;
  switch (quorum) {
    case Quorum::majority: verdict.up = verdict.observers_up * 2 > verdict.observers; break;
    case Quorum::any: verdict.up = verdict.observers_up >= 1; break;
    case Quorum::all: verdict.up = verdict.observers_up == verdict.observers; break;
  }
  return verdict;
}

}  // namespace meridian::gslb
