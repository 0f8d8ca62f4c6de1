#pragma once
// Cluster-wide config versions (docs/configuration.md), the pure part: how a
// committed version is stored in the replicated key-value state. No IO:
// gslb/config_commit.hpp commits versions (admin/config_routes.hpp serves
// them), gslb/config_follower.hpp makes every node serve the current one.
//
// Keys (reserved, written through write_system):
//   _config/current                 the number of the version in force, in
//                                   decimal; absent until the first apply
//   _config/version/<16 digits>     one version (ConfigVersion), zero-padded
//                                   so that keys sort by number
//
// A version record is written before `_config/current` moves to it (there
// is no multi-key transaction): a record whose number is above the current
// one is an apply in flight, or one that lost a race or crashed, and is
// never served. Each record names the version it replaced, so the history
// is the chain from the current version backwards, and a stray record
// (never current) is not part of it. Numbers only grow; a rollback commits
// an old text as a new number. The applier keeps the newest
// kMaxConfigVersions of the chain and deletes every other record at or
// below the version it committed.
//
// A record is readable with `meridian kv get`: one header line of
// tab-separated fields, then the YAML text as committed:
//   v1 <TAB> number <TAB> time_ms <TAB> fingerprint <TAB> previous <TAB> rollback_of <TAB> author
//   <TAB> comment <LF> text
//
// The text is stored with its secrets (header values of checks: every
// node needs them to probe); the admin API shows every record, whether as a
// version or as a raw key, through shown_config_version and
// shown_store_value, which replace them (config/redact.hpp).

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.hpp"

namespace meridian::gslb {

inline constexpr std::string_view kConfigCurrentKey = "_config/current";
inline constexpr std::string_view kConfigVersionPrefix = "_config/version/";
/// Versions kept; the applier of a new one deletes older ones.
inline constexpr std::size_t kMaxConfigVersions = 100;
/// Longest committed config text: a record (with its header) must fit in
/// one Raft entry (1 MiB) and its JSON in one admin request (1 MiB).
inline constexpr std::size_t kMaxConfigTextBytes = std::size_t{768} * 1024;
/// Keys a scan of the records reads: the kept versions plus stray records.
inline constexpr std::size_t kMaxScannedConfigVersions = 4 * kMaxConfigVersions;

/// One committed version of the shared config.
struct ConfigVersion {
  std::uint64_t number = 0;   ///< 1, 2, ...
  std::uint64_t time_ms = 0;  ///< wall clock (Unix ms) of the apply
  /// config/config.hpp shared_fingerprint of `text` (16 hex digits).
  std::string fingerprint;
  /// The version that was current when this one was committed (0: none).
  std::uint64_t previous = 0;
  /// The version whose text a rollback re-committed; 0 for an apply.
  std::uint64_t rollback_of = 0;
  std::string author;   ///< validate_action_text rules (no tab or newline, at most 256 bytes)
  std::string comment;  ///< likewise
  /// The YAML as applied (its node-local sections, if any, are ignored by
  /// every node). At most kMaxConfigTextBytes.
  std::string text;

  friend bool operator==(const ConfigVersion&, const ConfigVersion&) = default;
};

/// "_config/version/0000000000000042".
std::string config_version_key(std::uint64_t number);
/// The number in a config_version_key, or nullopt for any other key.
std::optional<std::uint64_t> parse_config_version_key(std::string_view key);

/// The value of kConfigCurrentKey, and back (decimal; nullopt when malformed
/// or zero).
std::string encode_config_number(std::uint64_t number);
std::optional<std::uint64_t> decode_config_number(std::string_view text);

/// Checks what a client may set: author and comment (validate_action_text),
/// the text's size, and that the fingerprint is 16 hex digits.
Result<void> validate_config_version(const ConfigVersion& version);
/// The record as stored (layout above). Precondition: validate_config_version
/// holds (an assertion).
std::string encode_config_version(const ConfigVersion& version);
/// A stored record; errors on a wrong format version, a malformed header
/// or what validate_config_version refuses (damage or a newer release: the
/// reader skips the record).
Result<ConfigVersion> decode_config_version(std::string_view data);

/// `version` as the admin API shows it: its text with every secret
/// replaced (config/redact.hpp redact_config_text); the rest unchanged.
ConfigVersion shown_config_version(ConfigVersion version);
/// A value of the store as the admin API shows it in a raw read (GET
/// /api/v1/kv): under kConfigVersionPrefix a record with its text as
/// shown_config_version shows it (a value that is no record is withheld
/// whole, as config/redact.hpp kRedacted); any other key's value as it is.
std::string shown_store_value(std::string_view key, std::string value);

/// The decodable version records among `pairs` (keys and values of a scan),
/// by number; a record whose key and number disagree is left out.
std::map<std::uint64_t, ConfigVersion> decode_config_versions(
    const std::vector<std::pair<std::string, std::string>>& pairs);

/// The history: from `current` back along `previous` through `versions`
/// (by number), newest first, at most `limit`; it ends at a version that
/// is missing (deleted, or never there) or does not precede the one before.
std::vector<const ConfigVersion*> config_history(
    const std::map<std::uint64_t, ConfigVersion>& versions, std::uint64_t current,
    std::size_t limit);

}  // namespace meridian::gslb
