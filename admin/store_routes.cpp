#include "admin/store_routes.hpp"

#include <boost/json/array.hpp>

#include "admin/json_fields.hpp"
#include "admin/store_support.hpp"
#include "base/assert.hpp"
#include "base/ip_address.hpp"
#include "gslb/config_versions.hpp"
#include "gslb/cookie_secret_keeper.hpp"

namespace meridian::admin {

namespace json = boost::json;
using store::ReadMode;
using store::StoreError;
using store::StoreErrorKind;

namespace {

constexpr std::size_t kDefaultScanLimit = 1000;
constexpr std::size_t kMaxScanLimit = 10000;

/// Answers a membership call: 200 {"ok": true, "name"} or the error.
store::StoreCallback<bool> answer_membership(const Responder& respond, std::string name) {
  return [respond, name = std::move(name)](bool, std::optional<StoreError> error) {
    if (error) return respond(store_error_response(*error));
    respond(json_response(200, json::object{{"ok", true}, {"name", name}}));
  };
}

/// The store's membership facet, or the answer that it has none (a store
/// whose members are managed outside Meridian).
Result<store::MembershipControl*> membership_of(store::ReplicatedStore& store) {
  store::MembershipControl* membership = store.membership();
  if (membership == nullptr) {
    const std::string backend = store.status().backend;
    if (backend == "etcd") {
      return fail(
          "this node keeps its state in etcd, whose members etcd manages itself (etcdctl member "
          "add, promote, remove, move-leader); add-learner, promote, remove and transfer-leader "
          "apply only to the built-in store");
    }
    return fail("this store's membership (" + backend + ") is managed outside Meridian");
  }
  return membership;
}

using MembershipCall =
    std::function<void(store::MembershipControl&, std::string, store::StoreCallback<bool>)>;

void add_membership_route(HttpServer& server, store::ReplicatedStore& store, std::string path,
                          MembershipCall call) {
  server.route(
      http::verb::post, std::move(path), Access::mutate,
      [&store, call = std::move(call)](const HttpRequest& request, const Responder& respond) {
        auto membership = membership_of(store);
        if (!membership) return respond(error_response(501, membership.error().message));
        auto body = object_body(request);
        if (!body) return respond(error_response(400, body.error().message));
        auto name = required_string(*body, "name");
        if (!name) return respond(error_response(400, name.error().message));
        call(**membership, *name, answer_membership(respond, *name));
      });
}

}  // namespace

boost::json::object cluster_status_json(const store::StoreStatus& status) {
  json::array members;
  for (const store::MemberStatus& member : status.members) {
    json::object entry{{"name", member.name},
                       {"id", std::to_string(member.id)},
                       {"voter", member.voter},
                       {"self", member.self},
                       {"address", member.address ? json::value(member.address->to_string())
                                                  : json::value(nullptr)},
                       {"reported", member.reported}};
    if (member.reported) {
      entry["role"] = store::to_string(member.role);
      entry["term"] = member.term;
      entry["commit"] = member.commit;
      entry["applied"] = member.applied;
      entry["last_index"] = member.last_index;
      entry["admin"] = member.admin_address;
      entry["report_age_ms"] = member.report_age.count();
    }
    if (member.match) entry["match"] = *member.match;
    if (member.lag) entry["lag"] = *member.lag;
    // The built-in store's leader knows which followers it hears from; an
    // etcd client knows which endpoints it reaches.
    if (member.match || status.backend == "etcd") entry["reachable"] = member.reachable;
    members.push_back(std::move(entry));
  }
  return json::object{
      {"name", status.name},
      {"backend", status.backend},
      {"revision", status.revision},
      {"role", store::to_string(status.role)},
      {"term", status.term},
      {"leader", status.leader.empty() ? json::value(nullptr) : json::value(status.leader)},
      {"commit", status.commit},
      {"applied", status.applied},
      {"first_index", status.first_index},
      {"last_index", status.last_index},
      {"snapshot_index", status.snapshot_index},
      {"members", std::move(members)},
      {"transport", json::object{{"sent", status.transport.sent},
                                 {"received", status.transport.received},
                                 {"dropped", status.transport.dropped},
                                 {"rejected_handshakes", status.transport.rejected_handshakes},
                                 {"bad_frames", status.transport.bad_frames}}}};
}

void add_store_routes(HttpServer& server, gslb::NodeApi& node) {
  MERIDIAN_ASSERT(node.store() != nullptr, "the store routes need a node in a cluster");
  store::ReplicatedStore& store = *node.store();
  server.route(http::verb::get, "/api/v1/cluster", Access::read,
               [&store](const HttpRequest&, const Responder& respond) {
                 respond(json_response(200, cluster_status_json(store.status())));
               });

  server.route(http::verb::post, "/api/v1/cluster/learners", Access::mutate,
               [&store](const HttpRequest& request, const Responder& respond) {
                 auto membership = membership_of(store);
                 if (!membership) return respond(error_response(501, membership.error().message));
                 auto body = object_body(request);
                 if (!body) return respond(error_response(400, body.error().message));
                 auto name = required_string(*body, "name");
                 auto address_text = required_string(*body, "address");
                 if (!name) return respond(error_response(400, name.error().message));
                 if (!address_text)
                   return respond(error_response(400, address_text.error().message));
                 SocketAddress address;
                 if (!SocketAddress::parse(*address_text, address)) {
                   return respond(error_response(
                       400, "address must be HOST:PORT, as in 10.0.0.4:7400 or [::1]:7400"));
                 }
                 (*membership)->add_learner(*name, address, answer_membership(respond, *name));
               });
  add_membership_route(
      server, store, "/api/v1/cluster/promote",
      [](store::MembershipControl& members, std::string name, store::StoreCallback<bool> done) {
        members.promote(std::move(name), std::move(done));
      });
  add_membership_route(
      server, store, "/api/v1/cluster/remove",
      [](store::MembershipControl& members, std::string name, store::StoreCallback<bool> done) {
        members.remove(std::move(name), std::move(done));
      });
  add_membership_route(
      server, store, "/api/v1/cluster/transfer-leader",
      [](store::MembershipControl& members, std::string name, store::StoreCallback<bool> done) {
        members.transfer_leadership(std::move(name), std::move(done));
      });

  server.route(
      http::verb::get, "/api/v1/kv", Access::read,
      [&store](const HttpRequest& request, const Responder& respond) {
        auto mode = read_mode(request);
        if (!mode) return respond(error_response(400, mode.error().message));
        auto limit = limit_parameter(request, kDefaultScanLimit, kMaxScanLimit);
        if (!limit) return respond(error_response(400, limit.error().message));
        const std::string prefix = request.query.count("prefix") ? request.query.at("prefix") : "";
        store.scan(prefix, *limit, *mode, [respond](auto pairs, std::optional<StoreError> error) {
          if (error) return respond(store_error_response(*error));
          json::array items;
          for (auto& [key, value] : pairs) {
            // Secrets (the cookie secret) never leave the node by the API.
            if (key.starts_with(gslb::kSecretKeyPrefix)) continue;
            items.push_back(json::object{
                {"key", key}, {"value", gslb::shown_store_value(key, std::move(value))}});
          }
          respond(json_response(200, json::object{{"items", std::move(items)}}));
        });
      });

  server.route(
      http::verb::get, "/api/v1/kv/*", Access::read,
      [&store](const HttpRequest& request, const Responder& respond) {
        auto mode = read_mode(request);
        if (!mode) return respond(error_response(400, mode.error().message));
        if (request.rest.empty())
          return respond(error_response(400, "missing key: /api/v1/kv/KEY"));
        if (request.rest.starts_with(gslb::kSecretKeyPrefix)) {
          return respond(error_response(403, "keys under " + std::string(gslb::kSecretKeyPrefix) +
                                                 " hold the cluster's secrets and are not shown"));
        }
        store.read(
            request.rest, *mode,
            [respond, key = request.rest](auto value, std::optional<StoreError> error) {
              if (error) return respond(store_error_response(*error));
              if (!value) return respond(error_response(404, "no key " + key));
              respond(json_response(
                  200, json::object{{"key", key},
                                    {"value", gslb::shown_store_value(key, std::move(*value))}}));
            });
      });

  auto answer_write = [](const Responder& respond, std::string key) {
    return [respond, key = std::move(key)](const store::KvResult& result,
                                           std::optional<StoreError> error) {
      if (error) return respond(store_error_response(*error));
      if (!result.ok) {
        return respond(
            json_response(409, json::object{{"error", "compare-and-set failed: the value differs"},
                                            {"key", key},
                                            {"current", optional_json(result.current)}}));
      }
      respond(json_response(
          200, json::object{{"ok", true}, {"key", key}, {"value", optional_json(result.current)}}));
    };
  };

  server.route(
      http::verb::put, "/api/v1/kv/*", Access::mutate,
      [&store, answer_write](const HttpRequest& request, const Responder& respond) {
        auto body = object_body(request);
        if (!body) return respond(error_response(400, body.error().message));
        auto value = required_string(*body, "value");
        if (!value) return respond(error_response(400, value.error().message));
        store.write(store::KvPut{request.rest, *value}, answer_write(respond, request.rest));
      });
  server.route(http::verb::delete_, "/api/v1/kv/*", Access::mutate,
               [&store, answer_write](const HttpRequest& request, const Responder& respond) {
                 store.write(store::KvDelete{request.rest}, answer_write(respond, request.rest));
               });
  server.route(http::verb::post, "/api/v1/kv/*", Access::mutate,
               [&store, answer_write](const HttpRequest& request, const Responder& respond) {
                 auto body = object_body(request);
                 if (!body) return respond(error_response(400, body.error().message));
                 auto expected = nullable_string(*body, "expected");
                 if (!expected) return respond(error_response(400, expected.error().message));
                 auto value = nullable_string(*body, "value");
                 if (!value) return respond(error_response(400, value.error().message));
                 store.write(store::KvCompareAndSet{request.rest, *expected, *value},
                             answer_write(respond, request.rest));
               });
}

}  // namespace meridian::admin
