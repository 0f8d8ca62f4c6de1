#include "admin/health_routes.hpp"

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <memory>

#include "admin/json_fields.hpp"
#include "admin/store_support.hpp"
#include "base/assert.hpp"
#include "gslb/health_records.hpp"
#include "gslb/operator_actions.hpp"

namespace meridian::admin {

namespace json = boost::json;
using store::StoreError;

namespace {

constexpr std::size_t kDefaultEvents = 100;

/// The answer to an override change that was not applied.
HttpResponse override_error_response(const gslb::OverrideError& error) {
  if (error.kind == gslb::OverrideErrorKind::store && error.store) {
    return store_error_response(*error.store);
  }
  return error_response(400, error.message);
}

}  // namespace

void add_health_routes(HttpServer& server, gslb::NodeApi& node) {
  MERIDIAN_ASSERT(node.store() != nullptr, "the health routes need a node in a cluster");
  store::ReplicatedStore& store = *node.store();

  server.route(
      http::verb::get, "/api/v1/verdicts", Access::read,
      [&store](const HttpRequest&, const Responder& respond) {
        store.scan(
            std::string(gslb::kVerdictPrefix), 100'000, store::ReadMode::local,
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

  server.route(http::verb::get, "/api/v1/overrides", Access::read,
               [&store](const HttpRequest&, const Responder& respond) {
                 store.scan(
                     "_ops/override/", 100'000, store::ReadMode::local,
                     [respond](auto pairs, std::optional<StoreError> error) {
                       if (error) return respond(store_error_response(*error));
                       json::array items;
                       for (const auto& [key, value] : pairs) {
                         if (auto decoded = gslb::decode_override(value)) {
                           items.push_back(override_json(key, *decoded));
                         }
                       }
                       respond(json_response(200, json::object{{"overrides", std::move(items)}}));
                     });
               });

  // One writer for the route: its event keys count on across requests.
  auto actions = std::make_shared<gslb::OperatorActions>(store, node.clock(), node.identity().name);
  server.route(
      http::verb::post, "/api/v1/overrides", Access::mutate,
      [&node, actions](const HttpRequest& request, const Responder& respond) {
        boost::system::error_code parse_error;
        json::value parsed = json::parse(request.body, parse_error);
        if (parse_error || !parsed.is_object()) {
          return respond(error_response(400, "the body must be a JSON object"));
        }
        const json::object& body = parsed.as_object();
        gslb::OverrideRequest change;
        const std::string endpoint = string_or_empty(body, "endpoint");
        const std::string site = string_or_empty(body, "site");
        if (endpoint.empty() == site.empty()) {
          return respond(error_response(400, "name exactly one of \"endpoint\" or \"site\""));
        }
        change.site = !site.empty();
        change.name = change.site ? site : endpoint;
        if (auto known = node.override_target_known(change.site, change.name); !known) {
          return respond(error_response(400, known.error().message));
        }
        change.state = string_or_empty(body, "state");
        change.author = string_or_empty(body, "author");
        change.reason = string_or_empty(body, "reason");
        change.duration = string_or_empty(body, "for");
        actions->set_override(change, [respond](gslb::OverrideWritten written,
                                                std::optional<gslb::OverrideError> error) {
          if (error) return respond(override_error_response(*error));
          if (!written.value) {
            return respond(
                json_response(200, json::object{{"ok", true}, {"removed", written.key}}));
          }
          respond(json_response(200, override_json(written.key, *written.value)));
        });
      });

  server.route(
      http::verb::get, "/api/v1/events", Access::read,
      [&store](const HttpRequest& request, const Responder& respond) {
        auto limit = limit_parameter(request, kDefaultEvents, gslb::kMaxEvents);
        if (!limit) return respond(error_response(400, limit.error().message));
        // Paging: "before" is the id of the oldest event of the previous page.
        std::string before;
        if (auto it = request.query.find("before"); it != request.query.end()) {
          before = it->second;
          if (!before.starts_with(gslb::kEventPrefix)) {
            return respond(error_response(
                400, "before must be the id of an event (\"next\" of the previous page)"));
          }
        }
        store.scan(
            std::string(gslb::kEventPrefix), gslb::kMaxEvents * 2, store::ReadMode::local,
            [respond, limit = *limit, before](auto pairs, std::optional<StoreError> error) {
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
              respond(json_response(
                  200, json::object{{"events", std::move(items)},
                                    {"next", more ? json::value(last) : json::value(nullptr)}}));
            });
      });
}

}  // namespace meridian::admin
