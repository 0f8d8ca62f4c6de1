#pragma once
// Percent-encoding (RFC 3986 section 2.1) and query strings, for the admin
// HTTP server (decoding request targets) and its client (building them).
// Pure functions on strings: no I/O, no allocation beyond the results.

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace meridian::admin {

/// Decodes every "%XX" (hex digits, either case) in `text`. With
/// `plus_as_space` (query strings, as HTML forms write them) '+' becomes a
/// space; elsewhere '+' stays '+'. Returns nullopt for a malformed escape
/// ("%", "%4", "%zz") and for an escape that decodes to NUL, which no path,
/// key or value of the admin API may contain.
std::optional<std::string> percent_decode(std::string_view text, bool plus_as_space = false);

/// Escapes every byte outside RFC 3986's unreserved set (ALPHA DIGIT - . _ ~)
/// as "%XX" (upper-case hex), so the result is safe as one path segment or
/// one query key or value: "a/b c" -> "a%2Fb%20c".
std::string percent_encode(std::string_view text);

/// Parses a query string (the part after '?', without it): "a=1&b=x%20y".
/// Keys and values are percent-decoded with '+' as space; "flag" alone gives
/// the value ""; empty pieces ("a=1&&b=2") are skipped; a repeated key keeps
/// its last value. Returns nullopt when any piece fails to decode.
std::optional<std::map<std::string, std::string>> parse_query(std::string_view query);

}  // namespace meridian::admin
