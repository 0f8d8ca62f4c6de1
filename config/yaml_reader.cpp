#include "config/yaml_reader.hpp"

#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <sstream>

#include "config/duration.hpp"

namespace meridian::config_internal {
namespace {

constexpr std::size_t kMaxQuoted = 60;

// Parses documents without building them, remembering where the latest
// began. Used instead of YAML::LoadAll, which in yaml-cpp 0.7 loops without
// end, allocating, on a stray ',' (jbeder/yaml-cpp#1040).
class DocumentStarts final : public YAML::EventHandler {
 public:
  YAML::Mark start;

  void OnDocumentStart(const YAML::Mark& mark) override { start = mark; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

bool is_plain_key(std::string_view key) {
  return !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

// Edit distance, for "did you mean" on mistyped keys; keys are short.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string did_you_mean(std::string_view key, const std::vector<std::string_view>& allowed) {
  std::string_view best;
  std::size_t best_distance = std::max<std::size_t>(2, key.size() / 3) + 1;
  for (std::string_view candidate : allowed) {
    const std::size_t distance = edit_distance(key, candidate);
    if (distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best.empty() ? std::string() : " (did you mean " + quote(best) + "?)";
}

// Scalars only: yaml-cpp parses "~", "null" and an empty value as Null.
const std::string* scalar_text(const Field& field) {
  return field.node.IsScalar() ? &field.node.Scalar() : nullptr;
}

std::string range_text(std::int64_t min, std::int64_t max) {
  return "from " + std::to_string(min) + " to " + std::to_string(max);
}

std::string number_text(double value) {
  char buffer[32];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return ec == std::errc() ? std::string(buffer, end) : "?";
}

}  // namespace

// --- Diagnostics -------------------------------------------------------------

void Diagnostics::error(const SourceLocation& at, std::string_view message) {
  ++count_;
  if (lines_.size() >= config_limits::kMaxErrors) return;
  // One error, one line: a message that carries a path or a name from the
  // config as written (a nets file "a\nb") must not break in two.
  std::string line = at.to_string() + ": ";
  for (const char c : message) {
    if (c == '\n' || c == '\r') {
      line += c == '\n' ? "\\n" : "\\r";
    } else {
      line += c;
    }
  }
  lines_.push_back(std::move(line));
}

void Diagnostics::located(std::string_view lines) {
  while (!lines.empty()) {
    const std::size_t end = std::min(lines.find('\n'), lines.size());
    if (end > 0) {
      ++count_;
      if (lines_.size() < config_limits::kMaxErrors) lines_.emplace_back(lines.substr(0, end));
    }
    lines.remove_prefix(std::min(end + 1, lines.size()));
  }
}

std::string Diagnostics::message() const {
  std::string text;
  for (const std::string& line : lines_) {
    if (!text.empty()) text += '\n';
    text += line;
  }
  if (count_ > lines_.size())
    text += "\n... and " + std::to_string(count_ - lines_.size()) + " more errors";
  return text;
}

// --- Fields ------------------------------------------------------------------

Field Field::member(std::string_view key, const YAML::Node& value,
                    const YAML::Mark& key_mark) const {
  std::string child = path;
  if (is_plain_key(key)) {
    if (!child.empty()) child += '.';
    child += key;
  } else {
    child += '[' + quote(key) + ']';
  }
  return Field{value, std::move(child), value.IsNull() ? key_mark : value.Mark()};
}

Field Field::element(std::size_t index, const YAML::Node& value) const {
  return Field{value, path + '[' + std::to_string(index) + ']',
               value.IsNull() ? mark : value.Mark()};
}

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar: return quote(node.Scalar());
    case YAML::NodeType::Sequence: return node.size() == 0 ? "an empty list" : "a list";
    case YAML::NodeType::Map: return node.size() == 0 ? "an empty map" : "a map";
    default: return "nothing";
  }
}

SourceLocation location_of(const Diagnostics& diag, const Field& field) {
  // The empty document has no mark; point at its start.
  const bool known = field.mark.line >= 0;
  return SourceLocation{diag.file(), known ? field.mark.line + 1 : 1,
                        known ? field.mark.column + 1 : 1, field.path};
}

void report_expected(Diagnostics& diag, const Field& field, std::string_view what) {
  diag.error(location_of(diag, field),
             "expected " + std::string(what) + ", found " + describe(field.node));
}

// --- Maps --------------------------------------------------------------------

std::optional<std::vector<MapEntry>> map_entries(Diagnostics& diag, const Field& field) {
  if (!field.node.IsMap()) {
    report_expected(diag, field, "a map");
    return std::nullopt;
  }
  std::vector<MapEntry> entries;
  for (auto it = field.node.begin(); it != field.node.end(); ++it) {
    // it-> yields a temporary pair: copy the nodes (they are handles).
    const YAML::Node key = it->first;
    const YAML::Node value = it->second;
    if (!key.IsScalar()) {
      report_expected(diag, Field{key, field.path, key.Mark()}, "a string as key");
      continue;
    }
    MapEntry entry{key.Scalar(), field.member(key.Scalar(), value, key.Mark()), key.Mark()};
    const auto first = std::find_if(entries.begin(), entries.end(),
                                    [&](const MapEntry& other) { return other.key == entry.key; });
    if (first != entries.end()) {
      diag.error(location_of(diag, Field{key, entry.value.path, key.Mark()}),
                 "duplicate key " + quote(entry.key) + " (first at line " +
                     std::to_string(first->key_mark.line + 1) + ")");
      continue;
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

MapReader::MapReader(Diagnostics& diag, const Field& field, std::vector<std::string_view> allowed)
    : diag_(diag), field_(field), allowed_(std::move(allowed)) {
  auto entries = map_entries(diag, field);
  if (!entries) return;
  ok_ = true;
  for (MapEntry& entry : *entries) {
    if (std::find(allowed_.begin(), allowed_.end(), entry.key) == allowed_.end()) {
      diag.error(location_of(diag, Field{entry.value.node, entry.value.path, entry.key_mark}),
                 "unknown key " + quote(entry.key) + did_you_mean(entry.key, allowed_) +
                     ", expected one of: " + join(allowed_, allowed_.size()));
      continue;
    }
    entries_.push_back(std::move(entry));
  }
}

std::optional<Field> MapReader::optional(std::string_view key) const {
  MERIDIAN_ASSERT(std::find(allowed_.begin(), allowed_.end(), key) != allowed_.end(),
                  "key not in the schema");
  for (const MapEntry& entry : entries_) {
    if (entry.key == key) return entry.value;
  }
  return std::nullopt;
}

std::optional<Field> MapReader::required(std::string_view key) const {
  auto value = optional(key);
  // A map that is not a map was already reported; no second error for it.
  if (!value && ok_) diag_.error(location_of(diag_, field_), "missing required key " + quote(key));
  return value;
}

// --- Lists and scalars ---------------------------------------------------------

std::optional<std::vector<Field>> read_list(Diagnostics& diag, const Field& field,
                                            std::string_view what, std::size_t min_count,
                                            std::size_t max_count) {
  if (!field.node.IsSequence() || field.node.size() < min_count || field.node.size() > max_count) {
    std::string expected = "a list of " + std::string(what);
    if (max_count == SIZE_MAX) {
      if (min_count > 0) expected += " (at least " + std::to_string(min_count) + ")";
    } else {
      expected += " (" + std::to_string(min_count) + " to " + std::to_string(max_count) + ")";
    }
    if (field.node.IsSequence() && field.node.size() > 0) {
      expected += ", found " + std::to_string(field.node.size()) + " entries";
      diag.error(location_of(diag, field), "expected " + expected);
    } else {
      report_expected(diag, field, expected);
    }
    return std::nullopt;
  }
  std::vector<Field> elements;
  elements.reserve(field.node.size());
  for (std::size_t i = 0; i < field.node.size(); ++i)
    elements.push_back(field.element(i, field.node[i]));
  return elements;
}

std::optional<std::string> read_string(Diagnostics& diag, const Field& field,
                                       std::string_view what) {
  const std::string* text = scalar_text(field);
  if (text == nullptr) {
    report_expected(diag, field, what);
    return std::nullopt;
  }
  return *text;
}

std::optional<std::int64_t> read_integer(Diagnostics& diag, const Field& field, std::int64_t min,
                                         std::int64_t max) {
  const std::string* text = scalar_text(field);
  std::int64_t value = 0;
  if (text != nullptr) {
    const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
    if (ec == std::errc() && end == text->data() + text->size() && value >= min && value <= max)
      return value;
  }
  report_expected(diag, field, "an integer " + range_text(min, max));
  return std::nullopt;
}

std::optional<double> read_number(Diagnostics& diag, const Field& field, double min, double max) {
  const std::string* text = scalar_text(field);
  double value = 0;
  if (text != nullptr) {
    const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
    if (ec == std::errc() && end == text->data() + text->size() && std::isfinite(value) &&
        value >= min && value <= max) {
      return value;
    }
  }
  report_expected(diag, field, "a number from " + number_text(min) + " to " + number_text(max));
  return std::nullopt;
}

std::optional<std::chrono::milliseconds> read_duration(Diagnostics& diag, const Field& field,
                                                       std::chrono::milliseconds min,
                                                       std::chrono::milliseconds max) {
  const std::string* text = scalar_text(field);
  std::chrono::milliseconds value{};
  if (text != nullptr && parse_duration(*text, value) && value >= min && value <= max) return value;
  report_expected(diag, field,
                  "a duration from " + format_duration(min) + " to " + format_duration(max) +
                      " (like 500ms, 10s, 5m, or plain seconds)");
  return std::nullopt;
}

std::optional<std::uint32_t> read_seconds(Diagnostics& diag, const Field& field,
                                          std::uint32_t min_s, std::uint32_t max_s) {
  const std::string* text = scalar_text(field);
  std::chrono::milliseconds value{};
  if (text != nullptr && parse_duration(*text, value) && value.count() % 1000 == 0) {
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(value).count();
    if (seconds >= min_s && seconds <= max_s) return static_cast<std::uint32_t>(seconds);
  }
  report_expected(diag, field,
                  "seconds " + range_text(min_s, max_s) + " (an integer or a duration like 1h)");
  return std::nullopt;
}

std::optional<std::size_t> read_choice(Diagnostics& diag, const Field& field,
                                       std::initializer_list<std::string_view> choices) {
  if (const std::string* text = scalar_text(field)) {
    const auto it = std::find(choices.begin(), choices.end(), *text);
    if (it != choices.end()) return static_cast<std::size_t>(it - choices.begin());
  }
  report_expected(diag, field,
                  "one of (" + join(std::vector<std::string_view>(choices), choices.size()) + ")");
  return std::nullopt;
}

std::string join(const std::vector<std::string_view>& items, std::size_t limit) {
  std::string text;
  for (std::size_t i = 0; i < items.size() && i < limit; ++i) {
    if (i > 0) text += ", ";
    text += items[i];
  }
  if (items.size() > limit) text += ", ...";
  return text;
}

std::string quote(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string quoted = "\"";
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (i == kMaxQuoted) {
      quoted += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      quoted += '\\';
      quoted += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      quoted += "\\x";
      quoted += kHex[c >> 4];
      quoted += kHex[c & 0xf];
    } else {
      quoted += static_cast<char>(c);
    }
  }
  return quoted + '"';
}

// --- Documents -----------------------------------------------------------------

std::optional<YAML::Mark> second_document(const std::string& text) {
  std::istringstream stream(text);
  YAML::Parser parser(stream);
  DocumentStarts starts;
  // At most two calls: the bug above makes the parser report documents
  // forever once it stops consuming input.
  if (!parser.HandleNextDocument(starts) || !parser.HandleNextDocument(starts)) return std::nullopt;
  return starts.start;
}

}  // namespace meridian::config_internal
