#pragma once
// Reading API requests and writing API answers: the helpers every route
// file of admin/ shares, so that the same field is read, refused and
// written the same way on every route.
//
// Thread rule: pure functions; any thread.

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "admin/http_server.hpp"
#include "base/result.hpp"
#include "gslb/health_records.hpp"
#include "store/replicated_store.hpp"

namespace meridian::admin {

// --- Request bodies ------------------------------------------------------

/// The JSON object of a request body, or an error naming what is wrong.
Result<boost::json::object> object_body(const HttpRequest& request);

/// A string member that must be there: an error "expected "NAME" as a
/// string" otherwise.
Result<std::string> required_string(const boost::json::object& body, std::string_view name);
/// A member that must be there as a string or null (nullopt).
Result<std::optional<std::string>> nullable_string(const boost::json::object& body,
                                                   std::string_view name);
/// An optional string member: "" when absent or null; an error when it is
/// another type.
Result<std::string> optional_string(const boost::json::object& body, std::string_view name);
/// A lenient string member: "" when absent or not a string.
std::string string_or_empty(const boost::json::object& body, std::string_view name);

// --- Query parameters ----------------------------------------------------

/// A whole decimal number above zero (all of `text`), or nullopt.
std::optional<std::uint64_t> parse_positive(std::string_view text);
/// `?limit=N`: `fallback` when absent; an error "limit must be 1 to MAX"
/// when not a number in 1..max.
Result<std::size_t> limit_parameter(const HttpRequest& request, std::size_t fallback,
                                    std::size_t max);
/// `?consistency=linearizable` (the default) or `local`.
Result<store::ReadMode> read_mode(const HttpRequest& request);

// --- Answer values -------------------------------------------------------

/// The value, or null.
boost::json::value optional_json(const std::optional<std::string>& value);
boost::json::value optional_json(const std::optional<std::uint64_t>& value);
boost::json::value optional_json(const std::optional<double>& value);
/// `value`, or null when it is 0 (the records' "none": no expiry, no
/// previous version, never changed).
boost::json::value zero_as_null(std::uint64_t value);

/// An operator override as the status views show it (sites, services):
/// {"state", "author", "reason", "set_ms", "expires_ms" (null: until
/// removed)}, or null without one.
boost::json::value override_json(const std::optional<gslb::OperatorOverride>& value);
/// An override as the overrides routes list it, its target first:
/// {"endpoint" or "site": the name in `key`, "state", "set_ms", "author",
/// "reason", "expires_ms"}. `key` starts with gslb::kSiteOverridePrefix or
/// gslb::kEndpointOverridePrefix. (Both keep the field order clients have
/// always seen.)
boost::json::object override_json(const std::string& key, const gslb::OperatorOverride& value);

}  // namespace meridian::admin
