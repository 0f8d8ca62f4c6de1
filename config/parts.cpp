// The node-local and shared parts of a config text (config/config.hpp): which
// sections a text has, and the fingerprint of its shared ones. Merged
// parsing lives with the rest of the loader in config/load.cpp.

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace meridian {
namespace {

constexpr int kMaxDepth = 64;
constexpr std::uint64_t kMaxCanonicalBytes = 64ull << 20;

// FNV-1a 64 over a canonical encoding, streamed: the encoding itself is
// never built. Every value is tagged and every length is written, so two
// different trees cannot encode alike.
class CanonicalHash {
 public:
  bool add(const YAML::Node& node, int depth) {
    if (depth > kMaxDepth)
      return fail("nested deeper than " + std::to_string(kMaxDepth) + " levels");
    switch (node.Type()) {
      case YAML::NodeType::Scalar:
        // The tag is not hashed: "30" and 30 read alike (the loader reads
        // scalars as text).
        return text('S', node.Scalar());
      case YAML::NodeType::Sequence:
        if (!count('L', node.size())) return false;
        for (const YAML::Node& item : node) {
          if (!add(item, depth + 1)) return false;
        }
        return true;
      case YAML::NodeType::Map:
        if (!count('M', node.size())) return false;
        for (const auto& entry : node) {
          if (!add(entry.first, depth + 1) || !add(entry.second, depth + 1)) return false;
        }
        return true;
      default:  // Null, Undefined
        return bytes("N");
    }
  }

  bool text(char tag, const std::string& value) { return count(tag, value.size()) && bytes(value); }

  std::string hex() const {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out(16, '0');
    for (int i = 0; i < 16; ++i)
      out[static_cast<std::size_t>(i)] = kDigits[(hash_ >> (60 - 4 * i)) & 0xf];
    return out;
  }

  const std::string& error() const { return error_; }

 private:
  bool count(char tag, std::size_t n) {
    return bytes(std::string(1, tag) + std::to_string(n) + ':');
  }

  bool bytes(std::string_view data) {
    total_ += data.size();
    if (total_ > kMaxCanonicalBytes) {
      return fail("larger than " + std::to_string(kMaxCanonicalBytes) +
                  " bytes once aliases are expanded");
    }
    for (const char c : data) {
      hash_ ^= static_cast<unsigned char>(c);
      hash_ *= 1099511628211ull;
    }
    return true;
  }

  bool fail(std::string why) {
    if (error_.empty()) error_ = std::move(why);
    return false;
  }

  std::uint64_t hash_ = 14695981039346656037ull;
  std::uint64_t total_ = 0;
  std::string error_;
};

}  // namespace

Result<std::string> shared_fingerprint(std::string_view yaml_text) {
  YAML::Node loaded;
  try {
    loaded = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& error) {
    return fail("YAML syntax error at line ", std::to_string(error.mark.line + 1), ": ", error.msg);
  }
  const YAML::Node& root = loaded;  // const: lookups never insert
  if (!root.IsMap()) return fail("the config is not a map of sections");
  CanonicalHash hash;
  // Sections in a fixed order: where a section stands in the file does not
  // matter to the loader.
  try {
    for (const std::string_view section : kSharedSections) {
      const YAML::Node value = root[std::string(section)];
      if (!value) continue;
      if (!hash.text('K', std::string(section)) || !hash.add(value, 1))
        return fail("the config is ", hash.error());
    }
  } catch (const YAML::Exception& error) {
    return fail("the config cannot be read: ", error.msg);
  }
  return hash.hex();
}

std::vector<std::string> node_sections_in(std::string_view yaml_text) {
  std::vector<std::string> found;
  try {
    const YAML::Node root = YAML::Load(std::string(yaml_text));  // const: lookups never insert
    if (!root.IsMap()) return found;
    for (const std::string_view section : kNodeSections) {
      if (root[std::string(section)]) found.emplace_back(section);
    }
  } catch (const YAML::Exception&) {
    found.clear();
  }
  return found;
}

}  // namespace meridian
