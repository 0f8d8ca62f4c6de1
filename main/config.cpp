// The loader's entry points: reading the file, parsing YAML, running the
// section readers in dependency order, then building every zone.

#include "main/config.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

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
  MapReader top(context.diag, root, {"node", "dns", "log", "geoip", "sites", "zones"});
  if (!top.ok()) return;
  // Sites first: node.site and every service refer to them.
  if (auto sites = top.required("sites")) {
    if (read_sites(context, *sites, config.sites)) context.sites = &config.sites;
  }
  if (auto node = top.required("node")) read_node(context, *node, config.node);
  if (auto dns = top.optional("dns")) read_dns(context, *dns, config.dns);
  if (auto log = top.optional("log")) read_log(context, *log, config.log_level);
  if (auto geoip = top.optional("geoip")) read_geoip(context, *geoip, config.geoip);
  auto zones = top.required("zones");
  if (!zones) return;
  const std::vector<bool> clean = read_zones(context, *zones, config.zones);
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

}  // namespace

Result<Config> parse_config(std::string_view yaml_text, const std::string& file_name_for_errors,
                            const std::string& base_dir) {
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(std::string(yaml_text));
  } catch (const YAML::Exception& error) {
    return Error{syntax_error(file_name_for_errors, error)};
  }
  Diagnostics diag(file_name_for_errors);
  Context context{diag, base_dir};
  Config config;
  if (documents.size() > 1) {
    report_expected(diag, Field{documents[1], "", documents[1].Mark()},
                    "a single YAML document (remove the second ---)");
  }
  const YAML::Node root = documents.empty() ? YAML::Node() : documents.front();
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
