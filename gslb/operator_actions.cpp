#include "gslb/operator_actions.hpp"

#include <charconv>
#include <memory>

#include "base/assert.hpp"

namespace meridian::gslb {

namespace {

OverrideError invalid(std::string message) {
  return OverrideError{OverrideErrorKind::invalid, std::move(message), std::nullopt};
}

}  // namespace

Result<void> override_target_known(const Config& config, bool site, const std::string& name) {
  if (site) {
    for (const geo::Site& known : config.sites) {
      if (known.name == name) return {};
    }
    return fail("no site '", name, "' in the config");
  }
  IpAddress address;
  if (!IpAddress::parse(name, address)) return fail("'", name, "' is not an IP address");
  for (const ZoneConfig& zone : config.zones) {
    for (const ServiceConfig& service : zone.services) {
      for (const EndpointConfig& endpoint : service.endpoints) {
        if (endpoint.probe_address == address) return {};
      }
      for (const geo::Endpoint& endpoint : service.spec.endpoints) {
        if (endpoint.address == address) return {};
      }
    }
  }
  return fail("no endpoint answers or is probed at ", name);
}

std::optional<std::chrono::milliseconds> parse_override_duration(std::string_view text) {
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
  const auto max_ms = static_cast<std::uint64_t>(kMaxOverrideDuration.count());
  if (count > max_ms / unit) return std::nullopt;
  return std::chrono::milliseconds(count * unit);
}

OperatorActions::OperatorActions(store::ReplicatedStore& store, const Clock& clock,
                                 const std::string& node)
    : store_(store), clock_(clock), writer_(node + "-api") {}

void OperatorActions::set_override(const OverrideRequest& request, OverrideDone done) {
  MERIDIAN_ASSERT(done, "an override change needs someone to tell");
  const auto state = parse_forced_state(request.state);
  if (!state && request.state != "none") {
    return done({}, invalid("\"state\" must be drain, down, up or none"));
  }
  OperatorOverride value;
  value.author = request.author.empty() ? std::string(kDefaultActionAuthor) : request.author;
  value.reason = request.reason;
  for (const auto& [text, what] :
       {std::pair{&value.author, "author"}, std::pair{&value.reason, "reason"}}) {
    if (auto valid = validate_action_text(*text, what); !valid) {
      return done({}, invalid(valid.error().message));
    }
  }
  value.set_ms = wall_ms(clock_);
  if (!request.duration.empty()) {
    const auto duration = parse_override_duration(request.duration);
    if (!duration) {
      return done({}, invalid("\"for\" must be like 90s, 30m, 2h or 7d (at most a year)"));
    }
    value.expires_ms = value.set_ms + static_cast<std::uint64_t>(duration->count());
  }
  const std::string key =
      std::string(request.site ? kSiteOverridePrefix : kEndpointOverridePrefix) + request.name;
  const std::string subject = (request.site ? "site " : "endpoint ") + request.name;
  Event event{value.set_ms, state ? "override" : "override-removed", subject,
              state ? std::string(to_string(*state)) +
                          (value.expires_ms ? " for " + request.duration : "") +
                          (value.reason.empty() ? "" : ": " + value.reason)
                    : value.reason,
              value.author};
  std::optional<OperatorOverride> in_force;
  if (state) {
    value.state = *state;
    in_force = value;
  }
  auto logged = [&store = store_, writer = writer_, sequence = sequence_, event = std::move(event),
                 written = OverrideWritten{key, in_force}, done = std::move(done)](
                    const store::KvResult&, std::optional<store::StoreError> error) {
    if (error) return done({}, OverrideError{OverrideErrorKind::store, error->message, *error});
    // The action is in force; it is answered once its log entry is written
    // too, so that an entry lost to a store failing in between is an error
    // the operator sees (and retries: the override is written again, the
    // entry then logged), never a silent gap in the event log.
    store.write_system(
        store::KvPut{event_key(event.time_ms, writer, ++*sequence), encode_event(event)},
        [written, done](const store::KvResult&, std::optional<store::StoreError> error) {
          if (!error) return done(written, std::nullopt);
          error->message = "the override is in force, but its event log entry was not written (" +
                           error->message + "): send it again";
          done({}, OverrideError{OverrideErrorKind::store, error->message, *error});
        });
  };
  if (in_force) {
    store_.write_system(store::KvPut{key, encode_override(*in_force)}, std::move(logged));
  } else {
    store_.write_system(store::KvDelete{key}, std::move(logged));
  }
}

}  // namespace meridian::gslb
