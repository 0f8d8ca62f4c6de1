#include "cluster/health_verdict.hpp"

#include <charconv>

namespace meridian::cluster {

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
         std::to_string(verdict.observers);
}

Result<Verdict> decode_verdict(std::string_view text) {
  Verdict verdict;
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
  if (slash == std::string_view::npos) return fail("verdict: expected UP/SEEN counts in '", std::string(text), "'");
  const auto parse = [](std::string_view digits, std::uint32_t& out) {
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), out);
    return ec == std::errc() && end == digits.data() + digits.size() && !digits.empty();
  };
  if (!parse(counts.substr(0, slash), verdict.observers_up) || !parse(counts.substr(slash + 1), verdict.observers) ||
      verdict.observers_up > verdict.observers) {
    return fail("verdict: bad counts in '", std::string(text), "'");
  }
  return verdict;
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

}  // namespace meridian::cluster
