// The loader's entry points: reading the file, parsing YAML, running the
// section readers in dependency order, then building every zone.

#include "config/config.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>

#include "config/sections.hpp"
#include "config/yaml_reader.hpp"
#include "config/zone_build.hpp"

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

// The top-level keys; which text each section is read from is up to the
// caller (one file, or a node's file plus a committed version).
std::vector<std::string_view> top_level_keys() {
  return {"node",   "dns",   "log",       "geoip",   "health", "sites",
          "checks", "zones", "overrides", "cluster", "admin",  "store"};
}

// One text's part of a config: where its errors go and its top-level map.
struct Part {
  Context& context;
  const MapReader& top;
};

// Reads the node-local sections from `local` and the shared ones from
// `shared` (the same part for a single file).
void read_document(const Part& local, const Part& shared, Config& config) {
  if (!local.top.ok() || !shared.top.ok()) return;
  Context& context = shared.context;
  // Sites first: node.site and every service refer to them.
  if (auto sites = shared.top.required("sites")) {
    if (read_sites(context, *sites, config.sites)) {
      context.sites = &config.sites;
      local.context.sites = &config.sites;
    }
  }
  if (auto node = local.top.required("node")) read_node(local.context, *node, config.node);
  if (auto dns = local.top.optional("dns")) read_dns(local.context, *dns, config.dns);
  if (auto log = local.top.optional("log")) read_log(local.context, *log, config.log_level);
  if (auto geoip = local.top.optional("geoip")) read_geoip(local.context, *geoip, config.geoip);
  if (auto health = shared.top.optional("health")) read_health(context, *health, config.health);
  if (auto admin = local.top.optional("admin"))
    read_admin(local.context, *admin, config.admin.emplace());
  if (auto cluster = local.top.optional("cluster")) {
    read_cluster(local.context, *cluster, config.node, config.cluster.emplace());
  }
  if (auto store = local.top.optional("store")) {
    read_store(local.context, *store, config.node, config.etcd_store.emplace());
    if (config.cluster) {
      report_expected(local.context.diag, *store,
                      "either cluster: (the built-in store) or store: (etcd), not both");
    }
  }
  // Checks before the zones, whose services and endpoints name them (the
  // file may list them in any order).
  std::vector<CheckDefinition> checks;
  if (auto checks_field = shared.top.optional("checks")) {
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
  if (auto zones = shared.top.required("zones")) clean = read_zones(context, *zones, config.zones);
  // Endpoint overrides must name an endpoint's address, which a zone with
  // errors may have lost: then they are not looked up.
  const bool zones_clean =
      !clean.empty() && std::find(clean.begin(), clean.end(), false) == clean.end();
  if (auto overrides = shared.top.optional("overrides")) {
    read_overrides(context, *overrides, zones_clean ? &config.zones : nullptr, config.overrides);
  }
  // The zone builder checks how records fit together, exactly as
  // build_routing_table will. A zone with errors lacks the values that
  // failed, so building it could report errors that are mere follow-ons
  // (missing glue, no SOA); it is checked once it parses.
  std::uint32_t first_service = 0;
  for (std::size_t i = 0; i < config.zones.size(); ++i) {
    if (clean[i]) {
      build_zone(config.zones[i], first_service,
                 [&](const SourceLocation& where, std::string_view message) {
                   context.diag.error(where, message);
                 });
    }
    first_service += static_cast<std::uint32_t>(config.zones[i].services.size());
  }
  context.checks = nullptr;  // `checks` ends here
}

std::string syntax_error(const std::string& file, const YAML::Exception& error) {
  const SourceLocation where{file, error.mark.line >= 0 ? error.mark.line + 1 : 0,
                             error.mark.column >= 0 ? error.mark.column + 1 : 0, ""};
  return where.to_string() + ": YAML syntax error: " + error.msg;
}

}  // namespace

namespace {

// The one document of `text`, or nullopt when there is none worth reading
// (a syntax error, or a stray second document before any content): the
// reason is in `diag` either way.
std::optional<YAML::Node> load_document(const std::string& text, Diagnostics& diag) {
  std::optional<YAML::Mark> second;
  YAML::Node root;
  try {
    second = second_document(text);
    root = YAML::Load(text);
  } catch (const YAML::Exception& error) {
    diag.located(syntax_error(diag.file(), error));
    return std::nullopt;
  }
  if (second) {
    diag.error(SourceLocation{diag.file(), second->line + 1, second->column + 1, ""},
               "expected a single YAML document, found more (a second --- or a stray character)");
    // A stray ',' before any content leaves an empty first document;
    // "found nothing" about it would only mislead.
    if (root.IsNull()) return std::nullopt;
  }
  return root;
}

// Runs read_document, with the safety net for conversions that throw.
void read_guarded(const Part& local, const Part& shared, Config& config) {
  try {
    read_document(local, shared, config);
  } catch (const YAML::Exception& error) {
    // The readers check types before converting; this is a safety net.
    shared.context.diag.located(syntax_error(shared.context.diag.file(), error));
  }
}

}  // namespace

Result<Config> parse_config(std::string_view yaml_text, const std::string& file_name_for_errors,
                            const std::string& base_dir) {
  Diagnostics diag(file_name_for_errors);
  const auto root = load_document(std::string(yaml_text), diag);
  if (!root) return Error{diag.message()};
  Context context{diag, base_dir};
  Config config;
  const MapReader top(diag, Field{*root, "", root->Mark()}, top_level_keys());
  const Part part{context, top};
  read_guarded(part, part, config);
  if (diag.count() > 0) return Error{diag.message()};
  return config;
}

Result<Config> parse_config_parts(const ConfigText& node_file, const ConfigText& shared,
                                  const std::string& base_dir) {
  Diagnostics local_diag(node_file.name);
  Diagnostics shared_diag(shared.name);
  const auto local_root = load_document(std::string(node_file.text), local_diag);
  const auto shared_root = load_document(std::string(shared.text), shared_diag);
  auto errors = [&] {
    std::string text = local_diag.message();
    if (!text.empty() && shared_diag.count() > 0) text += '\n';
    return Error{text + shared_diag.message()};
  };
  if (!local_root || !shared_root) return errors();
  Context local_context{local_diag, base_dir};
  Context shared_context{shared_diag, base_dir};
  Config config;
  const MapReader local_top(local_diag, Field{*local_root, "", local_root->Mark()},
                            top_level_keys());
  const MapReader shared_top(shared_diag, Field{*shared_root, "", shared_root->Mark()},
                             top_level_keys());
  read_guarded(Part{local_context, local_top}, Part{shared_context, shared_top}, config);
  if (local_diag.count() + shared_diag.count() > 0) return errors();
  return config;
}

Result<std::string> read_config_file(const std::string& path) {
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
  return text;
}

Result<Config> load_config(const std::string& path) {
  auto text = read_config_file(path);
  if (!text) return text.error();
  return parse_config(*text, path, std::filesystem::path(path).parent_path().string());
}

}  // namespace meridian
