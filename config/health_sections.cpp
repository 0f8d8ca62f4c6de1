// `health:`, `checks:`, the check references of services and endpoints, and
// `overrides:`. The check fields themselves are read in check_fields.cpp.

#include <algorithm>

#include "config/sections.hpp"

namespace meridian::config_internal {
namespace {

namespace limits = config_limits;

constexpr std::string_view kNone = "none";

// The check named by the scalar at `field`; "none" only when `allow_none`.
CheckRef find_check(const Context& context, const Field& field, bool allow_none,
                    std::string_view what) {
  auto name = read_string(context.diag, field, what);
  if (!name) return CheckRef{nullptr, true};
  if (allow_none && *name == kNone) return CheckRef{};
  // Unchecked when `checks:` itself is broken (reported already).
  if (context.checks == nullptr) return CheckRef{nullptr, true};
  std::vector<std::string_view> names;
  for (const CheckDefinition& definition : *context.checks) {
    // A check with errors still resolves: the reference is not the problem.
    if (definition.name == *name)
      return CheckRef{definition.spec ? &definition : nullptr, !definition.spec};
    if (definition.name != kNone) names.push_back(definition.name);
  }
  std::string expected = allow_none ? "\"none\" or " : "";
  expected += names.empty() ? "the name of a check (checks: defines none)"
                            : "one of the checks (" + join(names) + ")";
  report_expected(context.diag, field, expected);
  return CheckRef{nullptr, true};
}

bool answers(const std::vector<ZoneConfig>& zones, const IpAddress& address) {
  for (const ZoneConfig& zone : zones) {
    for (const ServiceConfig& service : zone.services) {
      for (const geo::Endpoint& endpoint : service.spec.endpoints) {
        if (!endpoint.is_cname() && endpoint.address == address) return true;
      }
      // Overrides act on probe targets: a checked endpoint's target counts
      // (the only address a cname endpoint has).
      for (const EndpointConfig& endpoint : service.endpoints) {
        if (endpoint.check && endpoint.probe_address == address) return true;
      }
    }
  }
  return false;
}

// One entry of `overrides:`; nullopt after an error.
std::optional<OverrideConfig> read_override(const Context& context, const Field& field,
                                            const std::vector<ZoneConfig>* zones) {
  Diagnostics& diag = context.diag;
  MapReader reader(diag, field, {"site", "endpoint", "state"});
  if (!reader.ok()) return std::nullopt;
  const std::size_t errors_before = diag.count();
  OverrideConfig entry;
  entry.source = location_of(diag, field);
  const auto site = reader.optional("site");
  const auto endpoint = reader.optional("endpoint");
  if (site && endpoint) {
    report_expected(diag, *endpoint, "either site or endpoint in one override, not both");
  } else if (site) {
    entry.scope = OverrideConfig::Scope::site;
    if (auto index = context.site(*site)) entry.site = *index;
  } else if (endpoint) {
    entry.scope = OverrideConfig::Scope::endpoint;
    if (!endpoint->node.IsScalar() || !IpAddress::parse(endpoint->node.Scalar(), entry.address)) {
      report_expected(diag, *endpoint, "an IPv4 or IPv6 address");
    } else if (zones != nullptr && !answers(*zones, entry.address)) {
      // An override that matches nothing is most likely a typo.
      report_expected(diag, *endpoint, "the address of an endpoint of some service");
    }
  } else {
    diag.error(entry.source, "missing required key \"site\" or \"endpoint\"");
  }
  if (auto state = reader.required("state")) {
    static constexpr health::Override kStates[] = {
        health::Override::force_down, health::Override::force_down, health::Override::force_up};
    if (auto index = read_choice(diag, *state, {"drain", "down", "up"}))
      entry.value = kStates[*index];
  }
  if (diag.count() != errors_before) return std::nullopt;
  return entry;
}

std::string override_target(const Context& context, const OverrideConfig& entry) {
  if (entry.scope == OverrideConfig::Scope::endpoint)
    return "endpoint " + entry.address.to_string();
  return "site " +
         quote(context.sites != nullptr ? (*context.sites)[entry.site].name : std::string());
}

}  // namespace

void read_health(const Context& context, const Field& field, HealthSettings& health) {
  MapReader reader(context.diag, field, {"unknown", "local_fallback_after", "observer_lease"});
  if (auto unknown = reader.optional("unknown")) {
    static constexpr health::UnknownPolicy kPolicies[] = {health::UnknownPolicy::up,
                                                          health::UnknownPolicy::down};
    if (auto index = read_choice(context.diag, *unknown, {"up", "down"}))
      health.unknown = kPolicies[*index];
  }
  // Leases are renewed every second: a shorter lease would flap.
  if (auto lease = reader.optional("observer_lease")) {
    if (auto value = read_duration(context.diag, *lease, std::chrono::seconds(2),
                                   std::chrono::minutes(10))) {
      health.observer_lease = *value;
    }
  }
  if (auto fallback = reader.optional("local_fallback_after")) {
    if (auto value = read_duration(context.diag, *fallback, std::chrono::seconds(1),
                                   std::chrono::hours(24))) {
      health.local_fallback_after = *value;
    }
  }
}

std::optional<std::vector<CheckDefinition>> read_checks(const Context& context,
                                                        const Field& field) {
  Diagnostics& diag = context.diag;
  auto entries = map_entries(diag, field);
  if (!entries) return std::nullopt;
  if (entries->size() > limits::kMaxChecks) {
    report_expected(diag, field,
                    "a map of at most " + std::to_string(limits::kMaxChecks) + " checks");
  }
  std::vector<CheckDefinition> checks;
  for (const MapEntry& entry : *entries) {
    // Kept even when broken, so references to it add no misleading error.
    CheckDefinition& definition =
        checks.emplace_back(CheckDefinition{entry.key, std::nullopt, false, false});
    bool valid = true;
    if (!is_identifier(entry.key) || entry.key == kNone) {
      report_expected(diag, Field{YAML::Node(entry.key), entry.value.path, entry.key_mark},
                      "a check name (1 to 63 letters, digits, '.', '_' or '-'; not \"none\")");
      valid = false;
    }
    MapReader reader(diag, entry.value, check_keys());
    if (!reader.ok()) continue;
    auto read = read_check_fields(context, entry.value, reader, nullptr, entry.key);
    if (read && valid) definition = std::move(*read);
  }
  return checks;
}

CheckRef read_check_name(const Context& context, const Field& field) {
  return find_check(context, field, true, "a check name or \"none\"");
}

bool read_endpoint_check(const Context& context, const Field& field, const CheckRef& service_check,
                         EndpointConfig& endpoint) {
  Diagnostics& diag = context.diag;
  if (!field.node.IsMap()) {
    const CheckRef named =
        find_check(context, field, true, "a check name, \"none\" or a map of check settings");
    if (named.failed) return false;
    endpoint.check = named.definition != nullptr ? named.definition->spec : std::nullopt;
    return true;
  }
  const std::size_t errors_before = diag.count();
  std::vector<std::string_view> keys = check_keys();
  keys.insert(keys.begin(), {"use", "target"});
  MapReader reader(diag, field, std::move(keys));
  CheckRef base = service_check;
  if (auto use = reader.optional("use")) {
    base = find_check(context, *use, false, "the name of a check");
  } else if (base.definition == nullptr && !base.failed) {
    diag.error(
        location_of(diag, field),
        "missing required key \"use\" (the service has no check for these settings to change)");
  }
  std::optional<IpAddress> target;
  if (auto target_field = reader.optional("target")) {
    IpAddress address;
    if (target_field->node.IsScalar() && IpAddress::parse(target_field->node.Scalar(), address)) {
      target = address;
    } else {
      report_expected(diag, *target_field, "an IPv4 or IPv6 address to probe");
    }
  }
  if (base.definition == nullptr) return false;
  // Changed settings keep the base's name: state and logs follow the check.
  auto definition =
      read_check_fields(context, field, reader, base.definition, base.definition->name);
  if (!definition || diag.count() != errors_before) return false;
  endpoint.check = std::move(definition->spec);
  if (target) endpoint.probe_address = *target;
  return true;
}

void read_overrides(const Context& context, const Field& field,
                    const std::vector<ZoneConfig>* zones, std::vector<OverrideConfig>& overrides) {
  auto elements = read_list(context.diag, field, "overrides", 0, limits::kMaxOverrides);
  if (!elements) return;
  std::vector<std::string> paths;  // parallel to overrides
  for (const Field& element : *elements) {
    auto entry = read_override(context, element, zones);
    if (!entry) continue;
    // Two overrides of one thing would leave the winner to file order.
    const auto same =
        std::find_if(overrides.begin(), overrides.end(), [&](const OverrideConfig& other) {
          return other.scope == entry->scope &&
                 (entry->scope == OverrideConfig::Scope::site ? other.site == entry->site
                                                              : other.address == entry->address);
        });
    if (same != overrides.end()) {
      context.diag.error(entry->source,
                         "duplicate override for " + override_target(context, *entry) +
                             " (also at " +
                             paths[static_cast<std::size_t>(same - overrides.begin())] + ")");
      continue;
    }
    paths.push_back(element.path);
    overrides.push_back(std::move(*entry));
  }
}

}  // namespace meridian::config_internal
