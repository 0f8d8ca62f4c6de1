#include "admin/config_api.hpp"

#include <boost/asio/post.hpp>
#include <boost/json/parse.hpp>
#include <algorithm>
#include <charconv>
#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <tuple>

#include "admin/store_support.hpp"
#include "gslb/config_versions.hpp"
#include "gslb/health_records.hpp"

namespace meridian::admin {

namespace json = boost::json;
using gslb::ConfigVersion;
using store::ReadMode;
using store::StoreError;

namespace {

/// Version numbers tried past records left by lost or crashed applies.
constexpr int kMaxClaims = 8;
/// Keys a history scan reads: the kept versions plus stray records.
constexpr std::size_t kMaxScannedVersions = 4 * gslb::kMaxConfigVersions;
constexpr std::size_t kMaxNameBytes = 256;
constexpr std::string_view kDefaultName = "<applied config>";

/// An optional string member ("" when absent); an error when not a string.
Result<std::string> text_member(const json::object& body, std::string_view name) {
  const json::value* value = body.if_contains(name);
  if (value == nullptr || value->is_null()) return std::string();
  if (!value->is_string()) return fail("\"", std::string(name), "\" must be a string");
  return std::string(value->as_string());
}

std::optional<std::uint64_t> parse_number(std::string_view text) {
  std::uint64_t number = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec != std::errc() || end != text.data() + text.size() || number == 0) return std::nullopt;
  return number;
}

json::value number_or_null(std::optional<std::uint64_t> number) {
  return number ? json::value(*number) : json::value(nullptr);
}

json::object version_json(const ConfigVersion& version, std::optional<std::uint64_t> current) {
  return json::object{{"version", version.number},
                      {"time_ms", version.time_ms},
                      {"author", version.author},
                      {"comment", version.comment},
                      {"fingerprint", version.fingerprint},
                      {"previous", version.previous == 0 ? json::value(nullptr) : json::value(version.previous)},
                      {"rollback_of",
                       version.rollback_of == 0 ? json::value(nullptr) : json::value(version.rollback_of)},
                      {"current", current && *current == version.number}};
}

/// The invalid-config answer: every problem, one per line.
HttpResponse invalid_config(const std::string& intro, const std::string& lines) {
  json::array errors;
  std::string_view rest = lines;
  while (!rest.empty()) {
    const auto end = std::min(rest.find('\n'), rest.size());
    if (end > 0) errors.emplace_back(rest.substr(0, end));
    rest.remove_prefix(std::min(end + 1, rest.size()));
  }
  return json_response(400, json::object{{"error", intro + "\n" + lines}, {"errors", std::move(errors)}});
}

/// Author and comment of a request; the author defaults to `fallback`.
Result<std::pair<std::string, std::string>> action_texts(const json::object& body, const std::string& fallback) {
  auto author = text_member(body, "author");
  if (!author) return author.error();
  auto comment = text_member(body, "comment");
  if (!comment) return comment.error();
  if (author->empty()) *author = fallback;
  if (auto valid = gslb::validate_action_text(*author, "author"); !valid) return valid.error();
  if (auto valid = gslb::validate_action_text(*comment, "comment"); !valid) return valid.error();
  return std::pair{std::move(*author), std::move(*comment)};
}

/// The decodable version records among `pairs` (keys and values of a scan).
std::map<std::uint64_t, ConfigVersion> decode_versions(const std::vector<std::pair<std::string, std::string>>& pairs) {
  std::map<std::uint64_t, ConfigVersion> versions;
  for (const auto& [key, value] : pairs) {
    const auto number = gslb::parse_config_version_key(key);
    if (!number) continue;
    auto version = gslb::decode_config_version(value);
    if (version && version->number == *number) versions.emplace(*number, std::move(*version));
  }
  return versions;
}

/// GET /api/v1/config/history's answer from a scan of _config/: the chain
/// from the current version back (strays of lost applies are not part of
/// it), at most `limit`.
HttpResponse history_response(const std::vector<std::pair<std::string, std::string>>& pairs, std::size_t limit) {
  std::optional<std::uint64_t> current;
  for (const auto& [key, value] : pairs) {
    if (key == gslb::kConfigCurrentKey) current = gslb::decode_config_number(value);
  }
  json::array versions;
  const auto records = decode_versions(pairs);
  for (const ConfigVersion* version : gslb::config_history(records, current.value_or(0), limit)) {
    versions.push_back(version_json(*version, current));
  }
  return json_response(200, json::object{{"current", number_or_null(current)}, {"versions", std::move(versions)}});
}

// One commit: read the current number, claim the next free version number
// with the record (compare-and-set on an absent key), then move
// _config/current from the number read to it. Store callbacks run on the
// store thread; the Responder may answer from there.
class Commit : public std::enable_shared_from_this<Commit> {
 public:
  Commit(store::ReplicatedStore& store, ConfigVersion record, json::object extra, Responder respond)
      : store_(store), record_(std::move(record)), extra_(std::move(extra)), respond_(std::move(respond)) {}

  void start() {
    auto self = shared_from_this();
    store_.read(std::string(gslb::kConfigCurrentKey), ReadMode::linearizable,
                [self](std::optional<std::string> value, std::optional<StoreError> error) {
                  if (error) return self->respond_(store_error_response(*error));
                  if (value) {
                    self->previous_ = gslb::decode_config_number(*value);
                    if (!self->previous_) {
                      return self->respond_(error_response(500, "the stored current config version is damaged: '" +
                                                                    value->substr(0, 40) + "'"));
                    }
                  }
                  self->record_.previous = self->previous_.value_or(0);
                  self->claim(self->previous_.value_or(0) + 1, 0);
                });
  }

 private:
  void claim(std::uint64_t number, int attempt) {
    record_.number = number;
    auto self = shared_from_this();
    store_.write_system(store::KvCompareAndSet{gslb::config_version_key(number), std::nullopt,
                                               gslb::encode_config_version(record_)},
                        [self, number, attempt](store::KvResult result, std::optional<StoreError> error) {
                          if (error) return self->respond_(store_error_response(*error));
                          if (result.ok) return self->point();
                          // A record of a lost or crashed apply holds this
                          // number: it was never current, take the next.
                          if (attempt + 1 < kMaxClaims) return self->claim(number + 1, attempt + 1);
                          self->respond_(error_response(409, "versions " + std::to_string(number + 1 - kMaxClaims) +
                                                                 " to " + std::to_string(number) +
                                                                 " are taken by other applies; try again"));
                        });
  }

  void point() {
    auto self = shared_from_this();
    std::optional<std::string> expected;
    if (previous_) expected = gslb::encode_config_number(*previous_);
    store_.write_system(
        store::KvCompareAndSet{std::string(gslb::kConfigCurrentKey), expected,
                               gslb::encode_config_number(record_.number)},
        [self](store::KvResult result, std::optional<StoreError> error) {
          if (error) return self->respond_(store_error_response(*error));
          if (!result.ok) return self->lost(result.current);
          json::object answer = self->extra_;
          answer["version"] = self->record_.number;
          answer["previous"] = number_or_null(self->previous_);
          answer["fingerprint"] = self->record_.fingerprint;
          answer["rollback_of"] =
              self->record_.rollback_of == 0 ? json::value(nullptr) : json::value(self->record_.rollback_of);
          self->respond_(json_response(200, answer));
          self->trim();
        });
  }

  // Another apply moved _config/current first: this record never becomes
  // current; remove it (if it is still ours) and say so.
  void lost(const std::optional<std::string>& current) {
    store_.write_system(store::KvCompareAndSet{gslb::config_version_key(record_.number),
                                               gslb::encode_config_version(record_), std::nullopt},
                        [](store::KvResult, std::optional<StoreError>) {});
    respond_(error_response(409, "another apply committed version " + current.value_or("?") +
                                     " meanwhile; nothing was changed: check the history and apply again"));
  }

  // Keeps the newest kMaxConfigVersions of the history and deletes every
  // other record at or below the version just committed: older versions,
  // and strays of lost or crashed applies (which can never become current,
  // since _config/current only grows). A record above it may be an apply
  // in flight.
  void trim() {
    auto self = shared_from_this();
    store_.scan(std::string(gslb::kConfigVersionPrefix), kMaxScannedVersions, ReadMode::local,
                [self](std::vector<std::pair<std::string, std::string>> pairs, std::optional<StoreError> error) {
                  if (error) return;
                  const auto versions = decode_versions(pairs);
                  std::set<std::uint64_t> kept;
                  for (const ConfigVersion* version :
                       gslb::config_history(versions, self->record_.number, gslb::kMaxConfigVersions)) {
                    kept.insert(version->number);
                  }
                  for (const auto& [key, value] : pairs) {
                    const auto number = gslb::parse_config_version_key(key);
                    if (!number || *number > self->record_.number || kept.count(*number)) continue;
                    self->store_.write_system(store::KvDelete{key}, [](store::KvResult, std::optional<StoreError>) {});
                  }
                });
  }

  store::ReplicatedStore& store_;
  ConfigVersion record_;
  json::object extra_;
  Responder respond_;
  std::optional<std::uint64_t> previous_;
};

}  // namespace

json::object config_status_json(const std::string& node_name, const ConfigNodeStatus& status) {
  json::value matches = nullptr;
  if (status.committed) matches = status.file_fingerprint == status.committed_fingerprint;
  return json::object{
      {"node", node_name},
      {"file", status.file},
      {"committed", number_or_null(status.committed)},
      {"committed_fingerprint", status.committed ? json::value(status.committed_fingerprint) : json::value(nullptr)},
      {"serving", number_or_null(status.serving)},
      {"fingerprint", status.fingerprint},
      {"file_fingerprint", status.file_fingerprint},
      {"file_matches_committed", matches},
      {"error", status.error.empty() ? json::value(nullptr) : json::value(status.error)}};
}

void add_config_routes(HttpServer& server, boost::asio::io_context& work, store::ReplicatedStore& store,
                       std::string node_name, ConfigHooks hooks) {
  auto shared_hooks = std::make_shared<const ConfigHooks>(std::move(hooks));
  const std::string api_author = node_name + " admin API";

  server.route(http::verb::get, "/api/v1/config", Access::read,
               [shared_hooks, node_name](HttpRequest, Responder respond) {
                 respond(json_response(200, config_status_json(node_name, shared_hooks->status())));
               });

  server.route(http::verb::post, "/api/v1/config", Access::mutate,
               [&store, &work, shared_hooks, api_author](HttpRequest request, Responder respond) {
                 auto body = object_body(request);
                 if (!body) return respond(error_response(400, body.error().message));
                 const json::value* yaml = body->if_contains("yaml");
                 if (yaml == nullptr || !yaml->is_string()) {
                   return respond(error_response(400, "expected \"yaml\": the config text"));
                 }
                 ConfigVersion record;
                 record.text = std::string(yaml->as_string());
                 if (record.text.size() > gslb::kMaxConfigTextBytes) {
                   return respond(error_response(400, "the config is " + std::to_string(record.text.size()) +
                                                          " bytes, more than the limit of " +
                                                          std::to_string(gslb::kMaxConfigTextBytes)));
                 }
                 auto texts = action_texts(*body, api_author);
                 if (!texts) return respond(error_response(400, texts.error().message));
                 auto name = text_member(*body, "name");
                 if (!name || name->empty() || name->size() > kMaxNameBytes ||
                     !gslb::validate_action_text(*name, "name").ok()) {
                   name = std::string(kDefaultName);
                 }
                 std::tie(record.author, record.comment) = std::move(*texts);
                 boost::asio::post(work, [&store, shared_hooks, respond, name = std::move(*name),
                                          record = std::move(record)]() mutable {
                   auto validated = shared_hooks->validate(record.text, name);
                   if (!validated) {
                     return respond(invalid_config("the config has errors; nothing was changed:",
                                                   validated.error().message));
                   }
                   record.time_ms = wall_ms();
                   record.fingerprint = validated->fingerprint;
                   json::array ignored;
                   for (const std::string& section : validated->ignored) ignored.emplace_back(section);
                   std::make_shared<Commit>(store, std::move(record), json::object{{"ignored", std::move(ignored)}},
                                            respond)
                       ->start();
                 });
               });

  server.route(
      http::verb::post, "/api/v1/config/rollback", Access::mutate,
      [&store, &work, shared_hooks, api_author](HttpRequest request, Responder respond) {
        auto body = object_body(request);
        if (!body) return respond(error_response(400, body.error().message));
        const json::value* version = body->if_contains("version");
        std::optional<std::uint64_t> number;
        if (version != nullptr && version->is_uint64()) number = version->as_uint64();
        if (version != nullptr && version->is_int64() && version->as_int64() > 0) {
          number = static_cast<std::uint64_t>(version->as_int64());
        }
        if (version != nullptr && version->is_string()) number = parse_number(version->as_string());
        if (!number || *number == 0) return respond(error_response(400, "expected \"version\": a version number"));
        auto texts = action_texts(*body, api_author);
        if (!texts) return respond(error_response(400, texts.error().message));
        if (texts->second.empty()) texts->second = "rollback to version " + std::to_string(*number);
        store.read(
            gslb::config_version_key(*number), ReadMode::linearizable,
            [&store, &work, shared_hooks, respond, number = *number, texts = std::move(*texts)](
                std::optional<std::string> value, std::optional<StoreError> error) {
              if (error) return respond(store_error_response(*error));
              if (!value) return respond(error_response(404, "no config version " + std::to_string(number)));
              auto old = gslb::decode_config_version(*value);
              if (!old) return respond(error_response(409, old.error().message));
              // Validation parses YAML and zone files: not on the store thread.
              boost::asio::post(work, [&store, shared_hooks, respond, number, texts, old = std::move(*old)]() mutable {
                auto validated = shared_hooks->validate(old.text, "<version " + std::to_string(number) + ">");
                if (!validated) {
                  return respond(invalid_config("version " + std::to_string(number) +
                                                    " does not load on this node; nothing was changed:",
                                                validated.error().message));
                }
                ConfigVersion record;
                record.time_ms = wall_ms();
                record.fingerprint = validated->fingerprint;
                record.rollback_of = number;
                std::tie(record.author, record.comment) = texts;
                record.text = std::move(old.text);
                std::make_shared<Commit>(store, std::move(record), json::object{}, respond)->start();
              });
            });
      });

  server.route(http::verb::get, "/api/v1/config/history", Access::read,
               [&store](HttpRequest request, Responder respond) {
                 auto mode = read_mode(request);
                 if (!mode) return respond(error_response(400, mode.error().message));
                 std::size_t limit = gslb::kMaxConfigVersions;
                 if (auto it = request.query.find("limit"); it != request.query.end()) {
                   const auto parsed = parse_number(it->second);
                   if (!parsed || *parsed > gslb::kMaxConfigVersions) {
                     return respond(
                         error_response(400, "limit must be 1 to " + std::to_string(gslb::kMaxConfigVersions)));
                   }
                   limit = static_cast<std::size_t>(*parsed);
                 }
                 // One scan of _config/ reads the pointer and the records together.
                 store.scan("_config/", kMaxScannedVersions + 1, *mode,
                            [respond, limit](std::vector<std::pair<std::string, std::string>> pairs,
                                             std::optional<StoreError> error) {
                              if (error) return respond(store_error_response(*error));
                              respond(history_response(pairs, limit));
                            });
               });

  server.route(http::verb::get, "/api/v1/config/versions/*", Access::read,
               [&store](HttpRequest request, Responder respond) {
                 auto mode = read_mode(request);
                 if (!mode) return respond(error_response(400, mode.error().message));
                 const auto number = parse_number(request.rest);
                 if (!number) return respond(error_response(400, "expected /api/v1/config/versions/NUMBER"));
                 store.read(gslb::config_version_key(*number), *mode,
                            [respond, number = *number](std::optional<std::string> value,
                                                        std::optional<StoreError> error) {
                              if (error) return respond(store_error_response(*error));
                              if (!value) {
                                return respond(error_response(404, "no config version " + std::to_string(number)));
                              }
                              auto version = gslb::decode_config_version(*value);
                              if (!version) return respond(error_response(409, version.error().message));
                              json::object out = version_json(*version, std::nullopt);
                              out.erase("current");
                              out["text"] = version->text;
                              respond(json_response(200, out));
                            });
               });
}

}  // namespace meridian::admin
