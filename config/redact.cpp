// Secrets out of config texts (config/redact.hpp). yaml-cpp finds the
// secret values and where each begins; where each ends is read from the
// text here, by the scalar's style. The result is parsed again and compared
// with the document whose secrets were replaced in the tree, so a scalar
// this file measured wrongly can only make it fall back to the emitter,
// never leave part of a secret behind.

#include "config/redact.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <vector>

#include "config/yaml_reader.hpp"

namespace meridian {
namespace {

namespace limits = redact_limits;

constexpr std::string_view kSecretNames[] = {"auth", "token",  "secret",  "key",
                                             "pass", "cookie", "session", "credential"};
constexpr std::string_view kRewritten =
    "# Written out again by Meridian to hide its secrets: comments and layout are not kept.\n";

/// A secret value found in the tree.
struct Secret {
  YAML::Node value;
  int key_column = 0;  ///< of the header's name: a block value's lines are indented further
  bool flow = false;   ///< in a flow map ({ ... }): other rules end a plain scalar
};

/// A stretch of the text to replace.
struct Cut {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::string replacement;
};

/// Walks the document, collecting the values of secret headers. False when
/// the document is beyond the limits.
class SecretFinder {
 public:
  bool walk(const YAML::Node& node, std::size_t depth) {
    if (++visited_ > limits::kMaxNodes || depth > limits::kMaxDepth) return false;
    if (node.IsSequence()) {
      for (const YAML::Node& element : node) {
        if (!walk(element, depth + 1)) return false;
      }
    } else if (node.IsMap()) {
      for (const auto& entry : node) {
        if (entry.first.IsScalar() && entry.first.Scalar() == "headers" && entry.second.IsMap())
          note_headers(entry.second);
        if (!walk(entry.second, depth + 1)) return false;
      }
    }
    return true;
  }

  std::vector<Secret>& secrets() { return secrets_; }

 private:
  // Any `headers:` map: only checks have one, wherever the schema puts
  // checks now or later.
  void note_headers(const YAML::Node& headers) {
    const bool flow = headers.Style() == YAML::EmitterStyle::Flow;
    for (const auto& header : headers) {
      if (!header.first.IsScalar() || !is_secret_header(header.first.Scalar())) continue;
      if (header.second.IsNull()) continue;  // nothing to hide
      secrets_.push_back(Secret{header.second, header.first.Mark().column, flow});
    }
  }

  std::size_t visited_ = 0;
  std::vector<Secret> secrets_;
};

bool blank(char c) {
  return c == ' ' || c == '\t' || c == '\r';
}

std::size_t line_end(std::string_view text, std::size_t at) {
  const std::size_t end = text.find('\n', at);
  return end == std::string_view::npos ? text.size() : end;
}

/// Spaces before the first other character of the line at `begin`; npos
/// for a line of blanks only.
std::size_t indentation(std::string_view text, std::size_t begin) {
  std::size_t at = begin;
  while (at < text.size() && text[at] == ' ') ++at;
  const std::size_t end = line_end(text, begin);
  for (std::size_t i = at; i < end; ++i) {
    if (!blank(text[i])) return at - begin;
  }
  return std::string_view::npos;
}

/// The end of a double- or single-quoted scalar opening at `at`.
std::optional<std::size_t> quoted_end(std::string_view text, std::size_t at) {
  const char quote = text[at];
  for (std::size_t i = at + 1; i < text.size(); ++i) {
    if (quote == '"' && text[i] == '\\') {
      ++i;  // the escaped character, a quote included
    } else if (text[i] == quote) {
      if (quote == '\'' && i + 1 < text.size() && text[i + 1] == '\'') {
        ++i;  // '' is a quote inside single quotes
        continue;
      }
      return i + 1;
    }
  }
  return std::nullopt;
}

/// The end of the last line, after the one at `from`, that is indented
/// more than `column` (blank lines between them included, trailing ones
/// not); `from`'s own line end when there is none. `comments_end` stops at
/// a line whose first character is '#' (a plain scalar ends there; a block
/// scalar's content may start with '#').
std::size_t continued_end(std::string_view text, std::size_t from, int column, bool comments_end) {
  std::size_t end = line_end(text, from);
  for (std::size_t line = end + 1; line < text.size(); line = line_end(text, line) + 1) {
    const std::size_t indent = indentation(text, line);
    if (indent == std::string_view::npos) continue;
    if (indent <= static_cast<std::size_t>(column)) break;
    if (comments_end && text[line + indent] == '#') break;
    end = line_end(text, line);
  }
  return end;
}

/// The end of a plain scalar starting at `at` on its first line: before a
/// comment, or in a flow map before ',', '}', ']' or ": ".
std::size_t plain_line_end(std::string_view text, std::size_t at, bool flow) {
  const std::size_t end = line_end(text, at);
  for (std::size_t i = at; i < end; ++i) {
    const char c = text[i];
    if (c == '#' && i > at && blank(text[i - 1])) return i;
    if (flow && (c == ',' || c == '}' || c == ']' || c == '{' || c == '[')) return i;
    if (flow && c == ':' && (i + 1 == end || blank(text[i + 1]))) return i;
  }
  return end;
}

/// Where the secret's text is, and what replaces it; nullopt when its
/// layout is one this does not measure.
std::optional<Cut> cut_of(std::string_view text, const Secret& secret) {
  const YAML::Mark mark = secret.value.Mark();
  if (!secret.value.IsScalar() || mark.is_null() || mark.pos < 0 ||
      static_cast<std::size_t>(mark.pos) >= text.size()) {
    return std::nullopt;
  }
  std::size_t at = static_cast<std::size_t>(mark.pos);
  // The node's mark is at its properties (an anchor, a tag), if any.
  while (at < text.size() && (text[at] == '&' || text[at] == '!')) {
    while (at < text.size() && !blank(text[at]) && text[at] != '\n') ++at;
    while (at < text.size() && (blank(text[at]) || text[at] == '\n')) ++at;
  }
  if (at >= text.size()) return std::nullopt;
  const char first = text[at];
  if (first == '"' || first == '\'') {
    const auto end = quoted_end(text, at);
    if (!end) return std::nullopt;
    return Cut{at, *end, std::string(1, first) + std::string(kRedacted) + std::string(1, first)};
  }
  std::size_t end = 0;
  if ((first == '|' || first == '>') && !secret.flow) {
    end = continued_end(text, at, secret.key_column, false);
  } else if (secret.flow) {
    // A flow scalar may go on over lines; rare enough to leave to the
    // check (a value that does not end on its line falls back).
    end = plain_line_end(text, at, true);
  } else {
    end = plain_line_end(text, at, false);
    const std::size_t more = continued_end(text, at, secret.key_column, true);
    if (more > line_end(text, at)) end = more;
  }
  while (end > at && blank(text[end - 1])) --end;
  if (end <= at) return std::nullopt;
  return Cut{at, end, std::string(kRedacted)};
}

/// The text with every secret cut out; nullopt when one cannot be.
std::optional<std::string> replaced_in_place(std::string_view text,
                                             const std::vector<Secret>& secrets) {
  std::vector<Cut> cuts;
  for (const Secret& secret : secrets) {
    auto cut = cut_of(text, secret);
    if (!cut) return std::nullopt;
    cuts.push_back(std::move(*cut));
  }
  std::sort(cuts.begin(), cuts.end(), [](const Cut& a, const Cut& b) { return a.begin < b.begin; });
  std::string out;
  out.reserve(text.size());
  std::size_t copied = 0;
  const Cut* previous = nullptr;
  for (const Cut& cut : cuts) {
    if (previous != nullptr && cut.begin == previous->begin && cut.end == previous->end)
      continue;  // one node reached twice (an anchor and its alias): cut once
    if (cut.begin < copied) return std::nullopt;  // overlapping: a measure went wrong
    previous = &cut;
    out.append(text.substr(copied, cut.begin - copied));
    out.append(cut.replacement);
    copied = cut.end;
  }
  out.append(text.substr(copied));
  return out;
}

/// The same document: same kinds, scalars, keys in order. Tags and styles
/// do not count (a quoted value and a plain one read alike to the loader).
class SameDocument {
 public:
  bool operator()(const YAML::Node& a, const YAML::Node& b) { return same(a, b, 0); }

 private:
  bool same(const YAML::Node& a, const YAML::Node& b, std::size_t depth) {
    if (++visited_ > limits::kMaxNodes || depth > limits::kMaxDepth) return false;
    if (a.Type() != b.Type()) return false;
    if (a.IsScalar()) return a.Scalar() == b.Scalar();
    if (!a.IsSequence() && !a.IsMap()) return true;  // null, undefined
    if (a.size() != b.size()) return false;
    auto left = a.begin();
    auto right = b.begin();
    for (; left != a.end() && right != b.end(); ++left, ++right) {
      if (a.IsSequence()) {
        if (!same(*left, *right, depth + 1)) return false;
      } else if (!same(left->first, right->first, depth + 1) ||
                 !same(left->second, right->second, depth + 1)) {
        return false;
      }
    }
    return true;
  }

  std::size_t visited_ = 0;
};

/// The document of `text`, or nullopt when it is not exactly one.
std::optional<YAML::Node> one_document(const std::string& text) {
  try {
    if (config_internal::second_document(text)) return std::nullopt;
    return YAML::Load(text);
  } catch (const YAML::Exception&) {
    return std::nullopt;
  }
}

}  // namespace

bool is_secret_header(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return std::any_of(std::begin(kSecretNames), std::end(kSecretNames),
                     [&](std::string_view part) { return lower.find(part) != std::string::npos; });
}

std::string redact_config_text(std::string_view yaml_text) {
  const auto withheld = [] { return std::string(kRedacted); };
  if (yaml_text.size() > limits::kMaxTextBytes) return withheld();
  std::string text(yaml_text);
  auto root = one_document(text);
  if (!root) return withheld();
  SecretFinder finder;
  if (!finder.walk(*root, 0)) return withheld();
  if (finder.secrets().empty()) return text;

  auto in_place = replaced_in_place(text, finder.secrets());
  // The expected document: the secrets replaced in the tree (an alias and
  // its anchor are one node, replaced once for both).
  try {
    for (Secret& secret : finder.secrets()) secret.value = std::string(kRedacted);
  } catch (const YAML::Exception&) {
    return withheld();
  }
  if (in_place) {
    const auto reread = one_document(*in_place);
    if (reread && SameDocument()(*root, *reread)) return std::move(*in_place);
  }
  try {
    return std::string(kRewritten) + YAML::Dump(*root) + "\n";
  } catch (const YAML::Exception&) {
    return withheld();
  }
}

}  // namespace meridian
