#include "admin/health_api.hpp"

#include <boost/json/parse.hpp>
#include <atomic>
#include <charconv>
#include <memory>
#include <chrono>

#include "admin/store_support.hpp"
#include "gslb/health_records.hpp"

namespace meridian::admin {

namespace json = boost::json;
using store::StoreError;

namespace {

constexpr std::size_t kDefaultEvents = 100;
/// Longest scheduled override: a year.
constexpr std::uint64_t kMaxOverrideMs = 365ull * 24 * 3600 * 1000;

/// "90s", "30m", "2h", "7d": a whole number and one unit.
std::optional<std::uint64_t> parse_span_ms(std::string_view text) {
  if (text.size() < 2) return std::nullopt;
  std::uint64_t count = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size() - 1, count);
  if (ec != std::errc() || end != text.data() + text.size() - 1 || count == 0) return std::nullopt;
  std::uint64_t unit = 0;
  switch (text.back()) {
    case 's': unit = 1000; break;
    case 'm': unit = 60'000; break;
    case 'h': unit = 3'600'000; break;
    case 'd': unit = 86'400'000; break;
    default: return std::nullopt;
  }
  if (count > kMaxOverrideMs / unit) return std::nullopt;
  return count * unit;
}

std::string text_member(const json::object& body, std::string_view name) {
  const json::value* value = body.if_contains(name);
  return value != nullptr && value->is_string() ? std::string(value->as_string()) : std::string();
}

json::object override_json(const std::string& key, const gslb::OperatorOverride& value) {
  const bool site = key.starts_with(gslb::kSiteOverridePrefix);
  const std::string name =
      key.substr(site ? gslb::kSiteOverridePrefix.size() : gslb::kEndpointOverridePrefix.size());
  json::object out{{site ? "site" : "endpoint", name},
                   {"state", gslb::to_string(value.state)},
                   {"set_ms", value.set_ms},
                   {"author", value.author},
                   {"reason", value.reason}};
  out["expires_ms"] = value.expires_ms == 0 ? json::value(nullptr) : json::value(value.expires_ms);
  return out;
}

}  // namespace

void add_health_routes(HttpServer& server, store::ReplicatedStore& store, std::string node_name,
                       OverrideTargetCheck check) {
  server.route(http::verb::get, "/api/v1/verdicts", Access::read, [&store](HttpRequest, Responder respond) {
    store.scan(std::string(gslb::kVerdictPrefix), 100'000, store::ReadMode::local,
               [respond](auto pairs, std::optional<StoreError> error) {
                 if (error) return respond(store_error_response(*error));
                 json::array items;
                 for (const auto& [key, value] : pairs) {
                   auto verdict = gslb::decode_verdict(value);
                   if (!verdict) continue;
                   items.push_back(json::object{{"target", key.substr(gslb::kVerdictPrefix.size())},
                                                {"up", verdict->up},
                                                {"observers_up", verdict->observers_up},
                                                {"observers", verdict->observers},
                                                {"stale", verdict->stale}});
                 }
                 respond(json_response(200, json::object{{"verdicts", std::move(items)}}));
               });
  });

  server.route(http::verb::get, "/api/v1/overrides", Access::read, [&store](HttpRequest, Responder respond) {
    store.scan("_ops/override/", 100'000, store::ReadMode::local,
               [respond](auto pairs, std::optional<StoreError> error) {
                 if (error) return respond(store_error_response(*error));
                 json::array items;
                 for (const auto& [key, value] : pairs) {
                   if (auto decoded = gslb::decode_override(value)) items.push_back(override_json(key, *decoded));
                 }
                 respond(json_response(200, json::object{{"overrides", std::move(items)}}));
               });
  });

  // Event keys are "<time>-<writer>-<n>": the API writes as "<node>-api" so
  // its keys never meet those the node's health loop writes.
  auto sequence = std::make_shared<std::atomic<std::uint64_t>>(0);
  server.route(http::verb::post, "/api/v1/overrides", Access::mutate,
               [&store, writer = node_name + "-api", check, sequence](HttpRequest request, Responder respond) {
                 boost::system::error_code parse_error;
                 json::value parsed = json::parse(request.body, parse_error);
                 if (parse_error || !parsed.is_object()) {
                   return respond(error_response(400, "the body must be a JSON object"));
                 }
                 const json::object& body = parsed.as_object();
                 const std::string endpoint = text_member(body, "endpoint");
                 const std::string site = text_member(body, "site");
                 if (endpoint.empty() == site.empty()) {
                   return respond(error_response(400, "name exactly one of \"endpoint\" or \"site\""));
                 }
                 const bool is_site = !site.empty();
                 const std::string& name = is_site ? site : endpoint;
                 if (auto known = check(is_site, name); !known) return respond(error_response(400, known.error().message));
                 const std::string state_text = text_member(body, "state");
                 const auto state = gslb::parse_forced_state(state_text);
                 if (!state && state_text != "none") {
                   return respond(error_response(400, "\"state\" must be drain, down, up or none"));
                 }
                 gslb::OperatorOverride value;
                 value.author = text_member(body, "author");
                 value.reason = text_member(body, "reason");
                 if (value.author.empty()) value.author = "admin API";
                 for (const auto& [text, what] : {std::pair{&value.author, "author"}, std::pair{&value.reason, "reason"}}) {
                   if (auto valid = gslb::validate_action_text(*text, what); !valid) {
                     return respond(error_response(400, valid.error().message));
                   }
                 }
                 value.set_ms = wall_ms();
                 if (const std::string span = text_member(body, "for"); !span.empty()) {
                   const auto ms = parse_span_ms(span);
                   if (!ms) return respond(error_response(400, "\"for\" must be like 90s, 30m, 2h or 7d (at most a year)"));
                   value.expires_ms = value.set_ms + *ms;
                 }
                 const std::string key =
                     std::string(is_site ? gslb::kSiteOverridePrefix : gslb::kEndpointOverridePrefix) + name;
                 const std::string subject = (is_site ? "site " : "endpoint ") + name;
                 gslb::Event event{value.set_ms, state ? "override" : "override-removed", subject,
                                      state ? std::string(gslb::to_string(*state)) +
                                                  (value.expires_ms ? " for " + text_member(body, "for") : "") +
                                                  (value.reason.empty() ? "" : ": " + value.reason)
                                            : value.reason,
                                      value.author};
                 auto logged = [&store, writer, sequence, event, respond, key, value, state](
                                     store::KvResult, std::optional<StoreError> error) {
                   if (error) return respond(store_error_response(*error));
                   // The action is in force; its log entry follows.
                   store.write_system(store::KvPut{gslb::event_key(event.time_ms, writer, ++*sequence),
                                                   gslb::encode_event(event)},
                                      [](store::KvResult, std::optional<StoreError>) {});
                   if (!state) return respond(json_response(200, json::object{{"ok", true}, {"removed", key}}));
                   respond(json_response(200, override_json(key, value)));
                 };
                 if (state) {
                   value.state = *state;
                   store.write_system(store::KvPut{key, gslb::encode_override(value)}, std::move(logged));
                 } else {
                   store.write_system(store::KvDelete{key}, std::move(logged));
                 }
               });

  server.route(http::verb::get, "/api/v1/events", Access::read, [&store](HttpRequest request, Responder respond) {
    std::size_t limit = kDefaultEvents;
    if (auto it = request.query.find("limit"); it != request.query.end()) {
      const auto [end, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), limit);
      if (ec != std::errc() || end != it->second.data() + it->second.size() || limit == 0 ||
          limit > gslb::kMaxEvents) {
        return respond(error_response(400, "limit must be 1 to " + std::to_string(gslb::kMaxEvents)));
      }
    }
    // Paging: "before" is the id of the oldest event of the previous page.
    std::string before;
    if (auto it = request.query.find("before"); it != request.query.end()) {
      before = it->second;
      if (!before.starts_with(gslb::kEventPrefix)) {
        return respond(error_response(400, "before must be the id of an event (\"next\" of the previous page)"));
      }
    }
    store.scan(std::string(gslb::kEventPrefix), gslb::kMaxEvents * 2, store::ReadMode::local,
               [respond, limit, before](auto pairs, std::optional<StoreError> error) {
                 if (error) return respond(store_error_response(*error));
                 json::array items;
                 std::string last;
                 bool more = false;
                 for (auto it = pairs.rbegin(); it != pairs.rend(); ++it) {
                   if (!before.empty() && it->first >= before) continue;
                   if (items.size() == limit) {
                     more = true;
                     break;
                   }
                   auto event = gslb::decode_event(it->second);
                   if (!event) continue;
                   last = it->first;
                   items.push_back(json::object{{"id", it->first},
                                                {"time_ms", event->time_ms},
                                                {"kind", event->kind},
                                                {"subject", event->subject},
                                                {"detail", event->detail},
                                                {"author", event->author}});
                 }
                 respond(json_response(200, json::object{{"events", std::move(items)},
                                                         {"next", more ? json::value(last) : json::value(nullptr)}}));
               });
  });
}

}  // namespace meridian::admin
