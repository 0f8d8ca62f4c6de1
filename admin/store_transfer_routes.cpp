#include "admin/store_transfer_routes.hpp"

#include <boost/json/array.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <set>

#include "admin/json_fields.hpp"
#include "admin/store_support.hpp"
#include "base/assert.hpp"
#include "gslb/config_versions.hpp"
#include "gslb/health_records.hpp"

namespace meridian::admin {

namespace json = boost::json;
using store::KvCommand;
using store::KvResult;
using store::StoreError;

namespace {

constexpr std::string_view kFormat = "meridian-store";
constexpr std::int64_t kFormatVersion = 1;
/// Reserved prefixes whose keys move (see the header for why the rest stay).
constexpr std::string_view kMovingPrefixes[] = {"_config/", "_ops/", "_events/"};

bool transferable(std::string_view key) {
  if (key.empty()) return false;
  if (key.front() != store::kReservedKeyMark) return true;
  return std::any_of(std::begin(kMovingPrefixes), std::end(kMovingPrefixes),
                     [&](std::string_view prefix) { return key.starts_with(prefix); });
}

/// Export order: config versions, everything else, the current pointer.
int rank(std::string_view key) {
  if (key == gslb::kConfigCurrentKey) return 2;
  return key.starts_with(gslb::kConfigVersionPrefix) ? 0 : 1;
}

/// Writes `commands` one after the other (each waits for the previous one's
/// answer, so the store applies them in this order), then answers.
class SequentialWriter : public std::enable_shared_from_this<SequentialWriter> {
 public:
  SequentialWriter(store::ReplicatedStore& store, std::vector<KvCommand> commands,
                   std::size_t deletes, Responder respond)
      : store_(store),
        commands_(std::move(commands)),
        deletes_(deletes),
        respond_(std::move(respond)) {}

  void next() {
    if (at_ == commands_.size()) {
      respond_(json_response(
          200, json::object{{"written", commands_.size() - deletes_}, {"deleted", deletes_}}));
      return;
    }
    store_.write_system(
        commands_[at_],
        [self = shared_from_this()](const KvResult&, const std::optional<StoreError>& error) {
          if (error) {
            // What was written stays; the answer says how far it got.
            HttpResponse response = store_error_response(*error);
            return self->respond_(json_response(
                response.status,
                json::object{{"error", "import stopped at entry " + std::to_string(self->at_) +
                                           " (" + store::command_key(self->commands_[self->at_]) +
                                           "): " + error->message},
                             {"done", self->at_}}));
          }
          ++self->at_;
          self->next();
        });
  }

 private:
  store::ReplicatedStore& store_;
  std::vector<KvCommand> commands_;
  std::size_t deletes_;
  Responder respond_;
  std::size_t at_ = 0;
};

struct ImportRequest {
  std::vector<std::pair<std::string, std::string>> entries;
  bool begin = false;
  bool replace = false;
  std::set<std::string> keep;
};

Result<bool> optional_bool(const json::object& body, std::string_view name) {
  const json::value* value = body.if_contains(name);
  if (value == nullptr) return false;
  if (!value->is_bool()) return fail("\"", std::string(name), "\" must be true or false");
  return value->as_bool();
}

Result<ImportRequest> parse_import(const json::object& body) {
  const json::value* format = body.if_contains("format");
  if (format == nullptr || !format->is_string() || format->as_string() != kFormat) {
    return fail("not a Meridian store export: \"format\" must be \"", std::string(kFormat), "\"");
  }
  const json::value* version = body.if_contains("version");
  if (version == nullptr || !version->is_int64() || version->as_int64() != kFormatVersion) {
    return fail("unsupported export version: this node reads version ",
                std::to_string(kFormatVersion));
  }
  ImportRequest request;
  auto begin = optional_bool(body, "begin");
  if (!begin) return begin.error();
  auto replace = optional_bool(body, "replace");
  if (!replace) return replace.error();
  request.begin = *begin;
  request.replace = *replace;
  const json::value* entries = body.if_contains("entries");
  if (entries == nullptr || !entries->is_array()) return fail("\"entries\" must be a list");
  for (const json::value& entry : entries->as_array()) {
    const json::object* pair = entry.if_object();
    const json::value* key = pair ? pair->if_contains("key") : nullptr;
    const json::value* value = pair ? pair->if_contains("value") : nullptr;
    if (key == nullptr || !key->is_string() || value == nullptr || !value->is_string()) {
      return fail("each entry must be {\"key\": TEXT, \"value\": TEXT}");
    }
    const std::string name(key->as_string());
    if (!transferable(name)) {
      return fail("the key ", name,
                  " is not part of an export (health records and member records are remade "
                  "by the nodes)");
    }
    request.entries.emplace_back(name, std::string(value->as_string()));
  }
  if (const json::value* keep = body.if_contains("keep")) {
    if (!keep->is_array()) return fail("\"keep\" must be a list of keys");
    for (const json::value& key : keep->as_array()) {
      if (!key.is_string()) return fail("\"keep\" must be a list of keys");
      request.keep.emplace(key.as_string());
    }
  }
  for (const auto& [key, value] : request.entries) request.keep.insert(key);
  return request;
}

void import_entries(store::ReplicatedStore& store, ImportRequest request, Responder respond) {
  std::vector<KvCommand> puts;
  puts.reserve(request.entries.size());
  for (auto& [key, value] : request.entries) puts.emplace_back(store::KvPut{key, std::move(value)});
  if (!request.begin) {
    std::make_shared<SequentialWriter>(store, std::move(puts), 0, std::move(respond))->next();
    return;
  }
  // The first request: what the store holds decides whether to go on.
  store.scan(
      "", SIZE_MAX, store::ReadMode::linearizable,
      [&store, request = std::move(request), puts = std::move(puts), respond = std::move(respond)](
          const store::KeyValues& pairs, const std::optional<StoreError>& error) mutable {
        if (error) return respond(store_error_response(*error));
        std::vector<KvCommand> commands;
        std::size_t held = 0;
        for (const auto& [key, value] : pairs) {
          if (!transferable(key)) continue;
          ++held;
          if (!request.keep.contains(key)) commands.emplace_back(store::KvDelete{key});
        }
        if (held > 0 && !request.replace) {
          return respond(error_response(
              409, "this store already holds " + std::to_string(held) +
                       " key(s) of replicated state (config versions, overrides, events or "
                       "operator keys); import with replace to overwrite it"));
        }
        const std::size_t deletes = commands.size();
        for (KvCommand& put : puts) commands.push_back(std::move(put));
        std::make_shared<SequentialWriter>(store, std::move(commands), deletes, std::move(respond))
            ->next();
      });
}

}  // namespace

void add_store_transfer_routes(HttpServer& server, gslb::NodeApi& node) {
  MERIDIAN_ASSERT(node.store() != nullptr, "the store transfer routes need a replicated store");
  store::ReplicatedStore& store = *node.store();

  server.route(
      http::verb::get, "/api/v1/store/export", Access::secret,
      [&store, &node](const HttpRequest&, const Responder& respond) {
        const store::StoreStatus status = store.status();
        const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::system_clock::now().time_since_epoch());
        store.scan("", SIZE_MAX, store::ReadMode::linearizable,
                   [respond, backend = status.backend, name = node.identity().name, now](
                       store::KeyValues pairs, const std::optional<StoreError>& error) {
                     if (error) return respond(store_error_response(*error));
                     std::stable_sort(pairs.begin(), pairs.end(), [](const auto& a, const auto& b) {
                       return rank(a.first) < rank(b.first);
                     });
                     json::array entries;
                     for (auto& [key, value] : pairs) {
                       if (transferable(key)) {
                         entries.push_back(json::object{{"key", key}, {"value", std::move(value)}});
                       }
                     }
                     respond(json_response(200, json::object{{"format", kFormat},
                                                             {"version", kFormatVersion},
                                                             {"backend", backend},
                                                             {"node", name},
                                                             {"exported_ms", now.count()},
                                                             {"entries", std::move(entries)}}));
                   });
      });

  server.route(http::verb::post, "/api/v1/store/import", Access::mutate,
               [&store](const HttpRequest& request, const Responder& respond) {
                 auto body = object_body(request);
                 if (!body) return respond(error_response(400, body.error().message));
                 auto import = parse_import(*body);
                 if (!import) return respond(error_response(400, import.error().message));
                 import_entries(store, std::move(*import), respond);
               });
}

}  // namespace meridian::admin
