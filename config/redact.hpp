#pragma once
// The secrets of a config text, and the text as the admin API shows it
// (docs/security.md "Secrets in the config"). A committed config version
// is stored with its secrets, since every node needs them to run its
// checks; what the API returns of it (its text, a raw read of its record)
// has each secret replaced by kRedacted. gslb/config_versions.hpp applies
// this to the records; nothing else of Meridian shows a config's values.
//
// The secrets: the values of HTTP check headers (a `headers:` map, in
// `checks:` or in an endpoint's check map) whose name is a credential's:
// Authorization, Proxy-Authorization, Cookie, X-Api-Key, and any name that
// contains "auth", "token", "secret", "key", "pass", "cookie", "session"
// or "credential", in any case. Nothing else of the schema holds a secret
// (TLS keys and the admin token are files, named by path); a secret put
// elsewhere, in a check's path or in a comment, is shown as written.
//
// Thread rule: pure functions; any thread.

#include <cstddef>
#include <string>
#include <string_view>

namespace meridian {

/// What a secret's value is shown as; a config whose header holds exactly
/// this is refused by the loader (a redacted text applied again).
inline constexpr std::string_view kRedacted = "<redacted>";

/// Limits of redact_config_text; a text beyond them is withheld whole.
namespace redact_limits {
inline constexpr std::size_t kMaxDepth = 64;         ///< nesting of maps and lists
inline constexpr std::size_t kMaxNodes = 1'000'000;  ///< nodes visited, aliases each time
inline constexpr std::size_t kMaxTextBytes = std::size_t{16}
                                             << 20;  ///< as config_limits::kMaxFileBytes
}  // namespace redact_limits

/// True when the value of an HTTP header named `name` is a secret (the
/// rule above).
bool is_secret_header(std::string_view name);

/// `yaml_text` with the value of every secret header replaced by
/// kRedacted, in place: comments, layout, quoting and everything else stay
/// as written. The result is checked by parsing it: it must hold the same
/// document with only the secrets changed. Where an in-place replacement
/// cannot be made so (a value layout the replacement does not handle), the
/// document is written out again by the YAML emitter with the secrets
/// replaced, after a comment saying so; comments and layout are then lost.
/// A text that is not one YAML document, or is beyond the limits above, is
/// withheld whole: the result is kRedacted alone. A text without secrets
/// comes back unchanged.
std::string redact_config_text(std::string_view yaml_text);

}  // namespace meridian
