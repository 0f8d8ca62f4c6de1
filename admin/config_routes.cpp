#include "admin/config_routes.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/json/array.hpp>
#include <chrono>
#include <memory>
#include <tuple>

#include "admin/json_fields.hpp"
#include "admin/store_support.hpp"
#include "base/assert.hpp"
#include "gslb/config_commit.hpp"
#include "gslb/config_versions.hpp"
#include "gslb/health_records.hpp"

namespace meridian::admin {

namespace json = boost::json;
using gslb::ConfigVersion;
using store::ReadMode;
using store::StoreError;

namespace {

constexpr std::size_t kMaxNameBytes = 256;
constexpr std::string_view kDefaultName = "<applied config>";

json::object version_json(const ConfigVersion& version, std::optional<std::uint64_t> current) {
  return json::object{{"version", version.number},
                      {"time_ms", version.time_ms},
                      {"author", version.author},
                      {"comment", version.comment},
                      {"fingerprint", version.fingerprint},
                      {"previous", zero_as_null(version.previous)},
                      {"rollback_of", zero_as_null(version.rollback_of)},
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
  return json_response(
      400, json::object{{"error", intro + "\n" + lines}, {"errors", std::move(errors)}});
}

/// Author and comment of a request; the author defaults to `fallback`.
Result<std::pair<std::string, std::string>> action_texts(const json::object& body,
                                                         const std::string& fallback) {
  auto author = optional_string(body, "author");
  if (!author) return author.error();
  auto comment = optional_string(body, "comment");
  if (!comment) return comment.error();
  if (author->empty()) *author = fallback;
  if (auto valid = gslb::validate_action_text(*author, "author"); !valid) return valid.error();
  if (auto valid = gslb::validate_action_text(*comment, "comment"); !valid) return valid.error();
  return std::pair{std::move(*author), std::move(*comment)};
}

/// GET /api/v1/config/history's answer from a scan of _config/: the chain
/// from the current version back (strays of lost applies are not part of
/// it), at most `limit`.
HttpResponse history_response(const store::KeyValues& pairs, std::size_t limit) {
  std::optional<std::uint64_t> current;
  for (const auto& [key, value] : pairs) {
    if (key == gslb::kConfigCurrentKey) current = gslb::decode_config_number(value);
  }
  json::array versions;
  const auto records = gslb::decode_config_versions(pairs);
  for (const ConfigVersion* version : gslb::config_history(records, current.value_or(0), limit)) {
    versions.push_back(version_json(*version, current));
  }
  return json_response(
      200, json::object{{"current", optional_json(current)}, {"versions", std::move(versions)}});
}

/// The answer to a commit that did not happen.
HttpResponse commit_error_response(const gslb::CommitError& error) {
  switch (error.kind) {
    case gslb::CommitErrorKind::store:
      MERIDIAN_ASSERT(error.store.has_value(), "a store failure without the store's error");
      return store_error_response(*error.store);
    case gslb::CommitErrorKind::damaged_current: return error_response(500, error.message);
    case gslb::CommitErrorKind::numbers_taken:
    case gslb::CommitErrorKind::lost_race: return error_response(409, error.message);
  }
  return error_response(500, error.message);
}

/// Commits `record` and answers: `extra` plus the version, the one it
/// replaced, its fingerprint and what it rolled back.
void commit(store::ReplicatedStore& store, ConfigVersion record, json::object extra,
            const Responder& respond) {
  auto answer = [extra = std::move(extra), respond](const ConfigVersion& committed,
                                                    std::optional<gslb::CommitError> error) {
    if (error) return respond(commit_error_response(*error));
    json::object out = extra;
    out["version"] = committed.number;
    out["previous"] = zero_as_null(committed.previous);
    out["fingerprint"] = committed.fingerprint;
    out["rollback_of"] = zero_as_null(committed.rollback_of);
    respond(json_response(200, out));
  };
  gslb::commit_config_version(store, std::move(record), std::move(answer));
}

}  // namespace

json::object config_status_json(const std::string& node_name,
                                const gslb::ConfigNodeStatus& status) {
  json::value matches = nullptr;
  if (status.committed) matches = status.file_fingerprint == status.committed_fingerprint;
  return json::object{
      {"node", node_name},
      {"file", status.file},
      {"committed", optional_json(status.committed)},
      {"committed_fingerprint",
       status.committed ? json::value(status.committed_fingerprint) : json::value(nullptr)},
      {"serving", optional_json(status.serving)},
      {"fingerprint", status.fingerprint},
      {"file_fingerprint", status.file_fingerprint},
      {"file_matches_committed", matches},
      {"error", status.error.empty() ? json::value(nullptr) : json::value(status.error)}};
}

void add_config_routes(HttpServer& server, boost::asio::io_context& work, gslb::NodeApi& node) {
  MERIDIAN_ASSERT(node.store() != nullptr, "the config routes need a node in a cluster");
  store::ReplicatedStore& store = *node.store();
  const std::string api_author = node.identity().name + " admin API";

  server.route(
      http::verb::get, "/api/v1/config", Access::read,
      [&node](const HttpRequest&, const Responder& respond) {
        // In a cluster the node follows the committed versions: it has a status.
        const auto status = node.config_status();
        respond(json_response(200, config_status_json(node.identity().name,
                                                      status.value_or(gslb::ConfigNodeStatus{}))));
      });

  server.route(
      http::verb::post, "/api/v1/config", Access::mutate,
      [&store, &work, &node, api_author](const HttpRequest& request, const Responder& respond) {
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
        auto name = optional_string(*body, "name");
        if (!name || name->empty() || name->size() > kMaxNameBytes ||
            !gslb::validate_action_text(*name, "name").ok()) {
          name = std::string(kDefaultName);
        }
        std::tie(record.author, record.comment) = std::move(*texts);
        boost::asio::post(work, [&store, &node, respond, name = std::move(*name),
                                 record = std::move(record)]() mutable {
          auto validated = node.validate_config(record.text, name);
          if (!validated) {
            return respond(invalid_config("the config has errors; nothing was changed:",
                                          validated.error().message));
          }
          record.time_ms = wall_ms(node.clock());
          record.fingerprint = validated->fingerprint;
          json::array ignored;
          for (const std::string& section : validated->ignored) ignored.emplace_back(section);
          commit(store, std::move(record), json::object{{"ignored", std::move(ignored)}}, respond);
        });
      });

  server.route(
      http::verb::post, "/api/v1/config/rollback", Access::mutate,
      [&store, &work, &node, api_author](const HttpRequest& request, const Responder& respond) {
        auto body = object_body(request);
        if (!body) return respond(error_response(400, body.error().message));
        const json::value* version = body->if_contains("version");
        std::optional<std::uint64_t> number;
        if (version != nullptr && version->is_uint64()) number = version->as_uint64();
        if (version != nullptr && version->is_int64() && version->as_int64() > 0) {
          number = static_cast<std::uint64_t>(version->as_int64());
        }
        if (version != nullptr && version->is_string()) {
          number = parse_positive(version->as_string());
        }
        if (!number || *number == 0) {
          return respond(error_response(400, "expected \"version\": a version number"));
        }
        auto texts = action_texts(*body, api_author);
        if (!texts) return respond(error_response(400, texts.error().message));
        if (texts->second.empty()) texts->second = "rollback to version " + std::to_string(*number);
        store.read(
            gslb::config_version_key(*number), ReadMode::linearizable,
            [&store, &work, &node, respond, number = *number, texts = std::move(*texts)](
                std::optional<std::string> value, std::optional<StoreError> error) {
              if (error) return respond(store_error_response(*error));
              if (!value) {
                return respond(error_response(404, "no config version " + std::to_string(number)));
              }
              auto old = gslb::decode_config_version(*value);
              if (!old) return respond(error_response(409, old.error().message));
              // Validation parses YAML and zone files: not on the store thread.
              boost::asio::post(
                  work, [&store, &node, respond, number, texts, old = std::move(*old)]() mutable {
                    auto validated =
                        node.validate_config(old.text, "<version " + std::to_string(number) + ">");
                    if (!validated) {
                      return respond(
                          invalid_config("version " + std::to_string(number) +
                                             " does not load on this node; nothing was changed:",
                                         validated.error().message));
                    }
                    ConfigVersion record;
                    record.time_ms = wall_ms(node.clock());
                    record.fingerprint = validated->fingerprint;
                    record.rollback_of = number;
                    std::tie(record.author, record.comment) = texts;
                    record.text = std::move(old.text);
                    commit(store, std::move(record), json::object{}, respond);
                  });
            });
      });

  server.route(http::verb::get, "/api/v1/config/history", Access::read,
               [&store](const HttpRequest& request, const Responder& respond) {
                 auto mode = read_mode(request);
                 if (!mode) return respond(error_response(400, mode.error().message));
                 auto limit =
                     limit_parameter(request, gslb::kMaxConfigVersions, gslb::kMaxConfigVersions);
                 if (!limit) return respond(error_response(400, limit.error().message));
                 // One scan of _config/ reads the pointer and the records together.
                 store.scan("_config/", gslb::kMaxScannedConfigVersions + 1, *mode,
                            [respond, limit = *limit](const store::KeyValues& pairs,
                                                      std::optional<StoreError> error) {
                              if (error) return respond(store_error_response(*error));
                              respond(history_response(pairs, limit));
                            });
               });

  server.route(
      http::verb::get, "/api/v1/config/versions/*", Access::read,
      [&store](const HttpRequest& request, const Responder& respond) {
        auto mode = read_mode(request);
        if (!mode) return respond(error_response(400, mode.error().message));
        const auto number = parse_positive(request.rest);
        if (!number) {
          return respond(error_response(400, "expected /api/v1/config/versions/NUMBER"));
        }
        store.read(
            gslb::config_version_key(*number), *mode,
            [respond, number = *number](std::optional<std::string> value,
                                        std::optional<StoreError> error) {
              if (error) return respond(store_error_response(*error));
              if (!value) {
                return respond(error_response(404, "no config version " + std::to_string(number)));
              }
              auto version = gslb::decode_config_version(*value);
              if (!version) {
                return respond(error_response(409, version.error().message));
              }
              // The stored text keeps its secrets; no answer does.
              const ConfigVersion shown = gslb::shown_config_version(std::move(*version));
              json::object out = version_json(shown, std::nullopt);
              out.erase("current");
              out["text"] = shown.text;
              respond(json_response(200, out));
            });
      });
}

}  // namespace meridian::admin
