#include "admin/json_fields.hpp"

#include <boost/json/parse.hpp>
#include <charconv>

namespace meridian::admin {

namespace json = boost::json;

Result<json::object> object_body(const HttpRequest& request) {
  boost::system::error_code error;
  json::value value = json::parse(request.body, error);
  if (error) return fail("the body is not JSON: ", error.message());
  if (!value.is_object()) return fail("the body must be a JSON object");
  return value.as_object();
}

Result<std::string> required_string(const json::object& body, std::string_view name) {
  const json::value* value = body.if_contains(name);
  if (value == nullptr || !value->is_string()) {
    return fail("expected \"", std::string(name), "\" as a string");
  }
  return std::string(value->as_string());
}

Result<std::optional<std::string>> nullable_string(const json::object& body,
                                                   std::string_view name) {
  const json::value* value = body.if_contains(name);
  if (value == nullptr) return fail("expected \"", std::string(name), "\" (a string, or null)");
  if (value->is_null()) return std::optional<std::string>();
  if (!value->is_string()) return fail("expected \"", std::string(name), "\" as a string or null");
  return std::optional<std::string>(std::string(value->as_string()));
}

Result<std::string> optional_string(const json::object& body, std::string_view name) {
  const json::value* value = body.if_contains(name);
  if (value == nullptr || value->is_null()) return std::string();
  if (!value->is_string()) return fail("\"", std::string(name), "\" must be a string");
  return std::string(value->as_string());
}

std::string string_or_empty(const json::object& body, std::string_view name) {
  const json::value* value = body.if_contains(name);
  return value != nullptr && value->is_string() ? std::string(value->as_string()) : std::string();
}

std::optional<std::uint64_t> parse_positive(std::string_view text) {
  std::uint64_t number = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec != std::errc() || end != text.data() + text.size() || number == 0) return std::nullopt;
  return number;
}

Result<std::size_t> limit_parameter(const HttpRequest& request, std::size_t fallback,
                                    std::size_t max) {
  auto it = request.query.find("limit");
  if (it == request.query.end()) return fallback;
  const auto limit = parse_positive(it->second);
  if (!limit || *limit > max) return fail("limit must be 1 to ", std::to_string(max));
  return static_cast<std::size_t>(*limit);
}

Result<store::ReadMode> read_mode(const HttpRequest& request) {
  auto it = request.query.find("consistency");
  if (it == request.query.end() || it->second == "linearizable") {
    return store::ReadMode::linearizable;
  }
  if (it->second == "local") return store::ReadMode::local;
  return fail("consistency must be linearizable or local");
}

json::value optional_json(const std::optional<std::string>& value) {
  return value ? json::value(*value) : json::value(nullptr);
}

json::value optional_json(const std::optional<std::uint64_t>& value) {
  return value ? json::value(*value) : json::value(nullptr);
}

json::value optional_json(const std::optional<double>& value) {
  return value ? json::value(*value) : json::value(nullptr);
}

json::value zero_as_null(std::uint64_t value) {
  return value == 0 ? json::value(nullptr) : json::value(value);
}

json::value override_json(const std::optional<gslb::OperatorOverride>& value) {
  if (!value) return nullptr;
  return json::object{{"state", gslb::to_string(value->state)},
                      {"author", value->author},
                      {"reason", value->reason},
                      {"set_ms", value->set_ms},
                      {"expires_ms", zero_as_null(value->expires_ms)}};
}

json::object override_json(const std::string& key, const gslb::OperatorOverride& value) {
  const bool site = key.starts_with(gslb::kSiteOverridePrefix);
  const std::string name =
      key.substr(site ? gslb::kSiteOverridePrefix.size() : gslb::kEndpointOverridePrefix.size());
  return json::object{
      {site ? "site" : "endpoint", name}, {"state", gslb::to_string(value.state)},
      {"set_ms", value.set_ms},           {"author", value.author},
      {"reason", value.reason},           {"expires_ms", zero_as_null(value.expires_ms)}};
}

}  // namespace meridian::admin
