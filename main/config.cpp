// The loader's entry points: reading the file, parsing YAML, running the
// section readers in dependency order, then building every zone.

#include "main/config.hpp"

#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "main/config_schema.hpp"
#include "main/config_yaml.hpp"
#include "main/routing_builder.hpp"

namespace meridian {

using namespace config_internal;

std::string SourceLocation::to_string() const {
  std::string text = file;
  if (line > 0) text += ':' + std::to_string(line);
  if (line > 0 && column > 0) text += ':' + std::to_string(column);
  if (!key_path.empty()) text += ": " + key_path;
  return text;
}

namespace {

void read_document(Context& context, const Field& root, Config& config) {
  MapReader top(context.diag, root,
                {"node", "dns", "log", "geoip", "health", "sites", "checks", "zones", "overrides", "cluster", "admin"});
  if (!top.ok()) return;
  // Sites first: node.site and every service refer to them.
  if (auto sites = top.required("sites")) {
    if (read_sites(context, *sites, config.sites)) context.sites = &config.sites;
  }
  if (auto node = top.required("node")) read_node(context, *node, config.node);
  if (auto dns = top.optional("dns")) read_dns(context, *dns, config.dns);
  if (auto log = top.optional("log")) read_log(context, *log, config.log_level);
  if (auto geoip = top.optional("geoip")) read_geoip(context, *geoip, config.geoip);
  if (auto health = top.optional("health")) read_health(context, *health, config.health);
  if (auto admin = top.optional("admin")) read_admin(context, *admin, config.admin.emplace());
  if (auto cluster = top.optional("cluster")) read_cluster(context, *cluster, config.node, config.cluster.emplace());
  // Checks before the zones, whose services and endpoints name them (the
  // file may list them in any order).
  std::vector<CheckDefinition> checks;
  if (auto checks_field = top.optional("checks")) {
    auto read = read_checks(context, *checks_field);
    if (read) checks = std::move(*read);
    context.checks = read ? &checks : nullptr;
  } else {
    context.checks = &checks;
  }
  for (const CheckDefinition& check : checks) {
    if (check.spec) config.checks.push_back(*check.spec);
  }
  std::vector<bool> clean;
  if (auto zones = top.required("zones")) clean = read_zones(context, *zones, config.zones);
  // Endpoint overrides must name an endpoint's address, which a zone with
  // errors may have lost: then they are not looked up.
  const bool zones_clean = !clean.empty() && std::find(clean.begin(), clean.end(), false) == clean.end();
  if (auto overrides = top.optional("overrides")) {
    read_overrides(context, *overrides, zones_clean ? &config.zones : nullptr, config.overrides);
  }
  // The zone builder checks how records fit together, exactly as
  // build_routing_table will. A zone with errors lacks the values that
  // failed, so building it could report errors that are mere follow-ons
  // (missing glue, no SOA); it is checked once it parses.
  std::uint32_t first_service = 0;
  for (std::size_t i = 0; i < config.zones.size(); ++i) {
    if (clean[i]) {
      build_zone(config.zones[i], first_service, [&](const SourceLocation& where, std::string_view message) {
        context.diag.error(where, message);
      });
    }
    first_service += static_cast<std::uint32_t>(config.zones[i].services.size());
  }
}

std::string syntax_error(const std::string& file, const YAML::Exception& error) {
  const SourceLocation where{file, error.mark.line >= 0 ? error.mark.line + 1 : 0,
                             error.mark.column >= 0 ? error.mark.column + 1 : 0, ""};
  return where.to_string() + ": YAML syntax error: " + error.msg;
}

// Parses documents without building them, remembering where the latest
// began. Used instead of YAML::LoadAll, which in yaml-cpp 0.7 loops without
// end, allocating, on a stray ',' (jbeder/yaml-cpp#1040).
class DocumentStarts final : public YAML::EventHandler {
 public:
  YAML::Mark start;

  void OnDocumentStart(const YAML::Mark& mark) override { start = mark; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// Where a second document starts, if the text has one. Throws
// YAML::Exception on a syntax error in the first two documents.
std::optional<YAML::Mark> second_document(const std::string& text) {
  std::istringstream stream(text);
  YAML::Parser parser(stream);
  DocumentStarts starts;
  // At most two calls: the bug above makes the parser report documents
  // forever once it stops consuming input.
  if (!parser.HandleNextDocument(starts) || !parser.HandleNextDocument(starts)) return std::nullopt;
  return starts.start;
}

}  // namespace

Result<Config> parse_config(std::string_view yaml_text, const std::string& file_name_for_errors,
                            const std::string& base_dir) {
  const std::string text(yaml_text);
  std::optional<YAML::Mark> second;
  YAML::Node root;
  try {
    second = second_document(text);
    root = YAML::Load(text);
  } catch (const YAML::Exception& error) {
    return Error{syntax_error(file_name_for_errors, error)};
  }
  Diagnostics diag(file_name_for_errors);
  Context context{diag, base_dir};
  Config config;
  if (second) {
    diag.error(SourceLocation{file_name_for_errors, second->line + 1, second->column + 1, ""},
               "expected a single YAML document, found more (a second --- or a stray character)");
    // A stray ',' before any content leaves an empty first document;
    // "found nothing" about it would only mislead.
    if (root.IsNull()) return Error{diag.message()};
  }
  try {
    read_document(context, Field{root, "", root.Mark()}, config);
  } catch (const YAML::Exception& error) {
    // The readers check types before converting; this is a safety net.
    diag.located(syntax_error(file_name_for_errors, error));
  }
  if (diag.count() > 0) return Error{diag.message()};
  return config;
}

Result<Config> load_config(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return fail(path, ": cannot open: ", std::strerror(errno));
  std::string text;
  char buffer[64 * 1024];
  while (file.read(buffer, sizeof buffer) || file.gcount() > 0) {
    text.append(buffer, static_cast<std::size_t>(file.gcount()));
    if (text.size() > config_limits::kMaxFileBytes) {
      return fail(path, ": larger than ", std::to_string(config_limits::kMaxFileBytes), " bytes");
    }
  }
  if (file.bad()) return fail(path, ": cannot read: ", std::strerror(errno));
  return parse_config(text, path, std::filesystem::path(path).parent_path().string());
}

}  // namespace meridian
