#pragma once
// Private to the config loader: walking a yaml-cpp tree with key paths and
// positions, and collecting errors instead of stopping at the first. Every
// reader reports what it expected and what it found, at the node's mark, and
// returns nothing on error so the caller simply skips the value.

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace meridian::config_internal {

/// The errors of one load, each a full line "FILE:LINE:COLUMN: PATH: text".
/// Keeps the first kMaxErrors lines and counts the rest.
class Diagnostics {
 public:
  explicit Diagnostics(std::string file) : file_(std::move(file)) {}

  const std::string& file() const noexcept { return file_; }
  /// Adds "`at`: `message`".
  void error(const SourceLocation& at, std::string_view message);
  /// Adds lines that already say where they come from (zone files, the zone
  /// builder); a multi-line text adds one error per line.
  void located(std::string_view lines);
  std::size_t count() const noexcept { return count_; }
  /// All kept lines joined with '\n', plus "... and N more errors".
  std::string message() const;

 private:
  std::string file_;
  std::vector<std::string> lines_;
  std::size_t count_ = 0;
};

/// A node with its key path and the position errors about it point at.
struct Field {
  YAML::Node node;
  std::string path;  ///< "zones[0].services.www"; empty for the document
  YAML::Mark mark;   ///< the node's, or its key's when the value is empty

  /// The value `node` of `key` in this map; `key_mark` is used when `node`
  /// is empty (yaml-cpp marks an empty value at the next token).
  Field member(std::string_view key, const YAML::Node& value, const YAML::Mark& key_mark) const;
  /// Element `index` of this list.
  Field element(std::size_t index, const YAML::Node& value) const;
};

/// "expected ..., found ..." helpers. describe(): `"text"` (quoted,
/// truncated), "a map", "a list" or "nothing".
std::string describe(const YAML::Node& node);
/// The location of `field` in `diag`'s file.
SourceLocation location_of(const Diagnostics& diag, const Field& field);
/// Reports "`field`: expected `what`, found <describe(field.node)>".
void report_expected(Diagnostics& diag, const Field& field, std::string_view what);

/// One key of a map with user-chosen keys (sites, services).
struct MapEntry {
  std::string key;
  Field value;
  YAML::Mark key_mark;
};

/// The entries of the map at `field`, in file order. Reports a non-map
/// (returns nullopt), non-string keys and repeated keys (both skipped).
std::optional<std::vector<MapEntry>> map_entries(Diagnostics& diag, const Field& field);

/// A map with a fixed set of keys (a schema section). Construction reports a
/// non-map and every key outside `allowed` (with a "did you mean" hint).
class MapReader {
 public:
  MapReader(Diagnostics& diag, const Field& field, std::initializer_list<std::string_view> allowed)
      : MapReader(diag, field, std::vector<std::string_view>(allowed)) {}
  /// The same with a key set built at run time (check fields plus extras).
  MapReader(Diagnostics& diag, const Field& field, std::vector<std::string_view> allowed);

  /// False when the field is not a map; then every lookup is empty.
  bool ok() const noexcept { return ok_; }
  /// The value of `key`, or nullopt. `key` must be one of `allowed`.
  std::optional<Field> optional(std::string_view key) const;
  /// Like optional(), but reports a missing key at the map.
  std::optional<Field> required(std::string_view key) const;

 private:
  Diagnostics& diag_;
  Field field_;
  std::vector<std::string_view> allowed_;
  std::vector<MapEntry> entries_;
  bool ok_ = false;
};

/// The elements of the list at `field`. Reports a non-list and a length
/// outside [min_count, max_count]; `what` names the elements ("addresses").
std::optional<std::vector<Field>> read_list(Diagnostics& diag, const Field& field,
                                            std::string_view what, std::size_t min_count,
                                            std::size_t max_count);

/// A scalar as text. `what` describes the expected value ("a site name").
std::optional<std::string> read_string(Diagnostics& diag, const Field& field,
                                       std::string_view what);
/// A decimal integer in [min, max].
std::optional<std::int64_t> read_integer(Diagnostics& diag, const Field& field, std::int64_t min,
                                         std::int64_t max);
/// A decimal number in [min, max] (no NaN or infinity).
std::optional<double> read_number(Diagnostics& diag, const Field& field, double min, double max);
/// A duration (config/duration.hpp) in [min, max].
std::optional<std::chrono::milliseconds> read_duration(Diagnostics& diag, const Field& field,
                                                       std::chrono::milliseconds min,
                                                       std::chrono::milliseconds max);
/// Seconds in [min_s, max_s]: an integer or a duration of whole seconds.
std::optional<std::uint32_t> read_seconds(Diagnostics& diag, const Field& field,
                                          std::uint32_t min_s, std::uint32_t max_s);
/// The index of the scalar in `choices`; reports "expected one of (...)".
std::optional<std::size_t> read_choice(Diagnostics& diag, const Field& field,
                                       std::initializer_list<std::string_view> choices);

/// Where a second document starts, if `text` has one (nullopt: one
/// document, or none). Throws YAML::Exception on a syntax error in the
/// first two documents. Safe where YAML::LoadAll is not (it loops forever
/// on a stray ',' in yaml-cpp 0.7).
std::optional<YAML::Mark> second_document(const std::string& text);

/// "a, b, c" (at most `limit` items, then ", ...").
std::string join(const std::vector<std::string_view>& items, std::size_t limit = 12);
/// `text` in double quotes with control characters and quotes escaped,
/// truncated to 60 characters.
std::string quote(std::string_view text);

}  // namespace meridian::config_internal
