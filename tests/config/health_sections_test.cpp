// The loader on valid health settings: check defaults, every check field,
// how endpoints resolve their checks (named, none, or a named check with
// some fields changed), service TTLs for health, and overrides. Errors are in
// config_health_errors_test.cpp.

#include <catch2/catch.hpp>

#include <algorithm>

#include "config/config.hpp"
#include "dns/wire/types.hpp"
#include "tests/config/test_support.hpp"

using namespace meridian;
using namespace std::chrono_literals;
using health::CheckType;
using meridian::test::kBaseConfig;
using meridian::test::kHealthConfig;
using meridian::test::parse;
using meridian::test::with;

namespace {

IpAddress ip(const char* text) {
  IpAddress address;
  REQUIRE(IpAddress::parse(text, address));
  return address;
}

Config load(const std::string& text, const std::string& base_dir = "") {
  auto loaded = parse(text, base_dir);
  INFO((loaded ? std::string() : loaded.error().message));
  REQUIRE(loaded.ok());
  return std::move(*loaded);
}

const health::CheckSpec& check_named(const Config& config, const std::string& name) {
  const auto it = std::find_if(config.checks.begin(), config.checks.end(),
                               [&](const health::CheckSpec& check) { return check.name == name; });
  INFO("check " << name);
  REQUIRE(it != config.checks.end());
  return *it;
}

}  // namespace

TEST_CASE("config health: without health settings nothing is checked", "[main]") {
  const Config config = load(kBaseConfig);
  CHECK(config.health.unknown == health::UnknownPolicy::up);
  CHECK(config.checks.empty());
  CHECK(config.overrides.empty());
  const ServiceConfig& www = config.zones[0].services[0];
  REQUIRE(www.endpoints.size() == 2);
  CHECK_FALSE(www.endpoints[0].check.has_value());
  CHECK_FALSE(www.endpoints[1].check.has_value());
  CHECK(www.endpoints[1].site == 1);
  CHECK(www.endpoints[1].source.to_string() ==
        "test.yaml:16:13: zones[0].services.www.endpoints[1]");
  // ttl 30: half of it while in transition, and for fail-open answers.
  CHECK(www.min_ttl_s == 15);
  CHECK(www.degraded_ttl_s == 15);
}

TEST_CASE("config health: checks take their type's defaults", "[main]") {
  const Config config = load(kHealthConfig);
  // File order, after the zones that name them.
  REQUIRE(config.checks.size() == 4);
  CHECK(config.checks[0].name == "web");
  CHECK(config.checks[3].name == "secure");

  const health::CheckSpec& web = check_named(config, "web");
  CHECK(web.type == CheckType::http);
  CHECK(web.port == 80);
  CHECK(web.interval == 5s);
  CHECK(web.timeout == 2s);
  CHECK(web.rise == 2);
  CHECK(web.fall == 3);
  CHECK(web.http.method == "GET");
  CHECK(web.http.path == "/healthz");
  CHECK(web.http.host.empty());
  CHECK(web.http.headers.empty());
  REQUIRE(web.http.expect.size() == 1);
  CHECK(web.http.expect[0].first == 200);
  CHECK(web.http.expect[0].last == 399);
  CHECK(web.http.body_contains.empty());
  CHECK(web.http.body_limit_bytes == 65536);

  const health::CheckSpec& db = check_named(config, "db");
  CHECK(db.type == CheckType::tcp);
  CHECK(db.port == 5432);

  const health::CheckSpec& resolver = check_named(config, "resolver");
  CHECK(resolver.type == CheckType::dns);
  CHECK(resolver.port == 53);
  CHECK(resolver.dns.qname == "example.test.");
  CHECK(resolver.dns.qtype == dns::rrtype::SOA);
  CHECK(resolver.dns.expect_rcode == 0);
  CHECK(resolver.dns.expect_answer.empty());

  const health::CheckSpec& secure = check_named(config, "secure");
  CHECK(secure.type == CheckType::https);
  CHECK(secure.port == 443);
  CHECK_FALSE(secure.tls.verify);
  CHECK(secure.tls.ca_file.empty());
  CHECK(secure.tls.server_name.empty());
}

TEST_CASE("config health: the default timeout is half a short interval, at most 2s", "[main]") {
  const std::string web = "web: { type: http, path: /healthz }";
  CHECK(check_named(load(with(web, "web: { type: http, interval: 1s }", kHealthConfig)), "web")
            .timeout == 500ms);
  CHECK(check_named(load(with(web, "web: { type: http, interval: 100ms }", kHealthConfig)), "web")
            .timeout == 50ms);
  CHECK(check_named(load(with(web, "web: { type: http, interval: 1h }", kHealthConfig)), "web")
            .timeout == 2s);
  // The edges: 10ms and just under the interval.
  const Config edges =
      load(with(web, "web: { type: http, interval: 100ms, timeout: 99ms, rise: 100, fall: 1 }",
                kHealthConfig));
  CHECK(check_named(edges, "web").timeout == 99ms);
  CHECK(check_named(edges, "web").rise == 100);
  CHECK(check_named(edges, "web").fall == 1);
  CHECK(check_named(load(with(web, "web: { type: http, timeout: 10ms }", kHealthConfig)), "web")
            .timeout == 10ms);
}

TEST_CASE("config health: every check field is read", "[main]") {
  std::string text = with("web: { type: http, path: /healthz }", R"(web:
    type: https
    port: 8443
    interval: 10s
    timeout: 3s
    rise: 1
    fall: 5
    method: HEAD
    path: /ready?full=1
    host: www.example.com
    headers: { X-Probe: meridian, Accept: "text/plain;	q=1" }
    expect: [200, "300-399", 204]
    body: "ok"
    body_limit: 1048576
    tls: { verify: true, ca_file: certs/ca.pem, server_name: api.example.com })",
                          kHealthConfig);
  text = with("resolver: { type: dns, query: { name: example.test. } }",
              "resolver: { type: dns, port: 5353, query: { name: www.example.test, type: aaaa, "
              "rcode: nxdomain, "
              "answer: [\"2001:db8::1\", \"2001:db8::2\"] } }",
              text);
  const Config config = load(text, "/etc/meridian");
  const health::CheckSpec& web = check_named(config, "web");
  CHECK(web.type == CheckType::https);
  CHECK(web.port == 8443);
  CHECK(web.interval == 10s);
  CHECK(web.timeout == 3s);
  CHECK(web.rise == 1);
  CHECK(web.fall == 5);
  CHECK(web.http.method == "HEAD");
  CHECK(web.http.path == "/ready?full=1");
  CHECK(web.http.host == "www.example.com");
  REQUIRE(web.http.headers.size() == 2);
  CHECK(web.http.headers[0] == std::pair<std::string, std::string>("X-Probe", "meridian"));
  CHECK(web.http.headers[1].second == "text/plain;\tq=1");
  REQUIRE(web.http.expect.size() == 3);
  CHECK((web.http.expect[0].first == 200 && web.http.expect[0].last == 200));
  CHECK((web.http.expect[1].first == 300 && web.http.expect[1].last == 399));
  CHECK((web.http.expect[2].first == 204 && web.http.expect[2].last == 204));
  CHECK(web.http.body_contains == "ok");
  CHECK(web.http.body_limit_bytes == 1048576);
  CHECK(web.tls.verify);
  // Resolved against the config's directory; not opened by the loader.
  CHECK(web.tls.ca_file == "/etc/meridian/certs/ca.pem");
  CHECK(web.tls.server_name == "api.example.com");

  const health::CheckSpec& resolver = check_named(config, "resolver");
  CHECK(resolver.port == 5353);
  CHECK(resolver.dns.qname == "www.example.test.");
  CHECK(resolver.dns.qtype == dns::rrtype::AAAA);
  CHECK(resolver.dns.expect_rcode == 3);
  CHECK(resolver.dns.expect_answer == std::vector<std::string>{"2001:db8::1", "2001:db8::2"});
}

TEST_CASE("config health: one status code or answer needs no list", "[main]") {
  std::string text = with("web: { type: http, path: /healthz }", "web: { type: http, expect: 204 }",
                          kHealthConfig);
  text = with("query: { name: example.test. }", "query: { type: A, answer: 192.0.2.1 }", text);
  const Config config = load(text);
  REQUIRE(check_named(config, "web").http.expect.size() == 1);
  CHECK(check_named(config, "web").http.expect[0].first == 204);
  CHECK(check_named(config, "resolver").dns.expect_answer == std::vector<std::string>{"192.0.2.1"});
  CHECK(check_named(config, "resolver").dns.qname == ".");
}

TEST_CASE("config health: endpoints resolve their checks", "[main]") {
  const Config config = load(kHealthConfig);
  CHECK(config.health.unknown == health::UnknownPolicy::up);
  const ServiceConfig& www = config.zones[0].services[0];
  REQUIRE(www.endpoints.size() == 3);
  // One verdict per configured endpoint: both addresses of the second share it.
  REQUIRE(www.spec.endpoints.size() == 4);
  CHECK(www.endpoint_of_address == std::vector<std::uint32_t>{0, 1, 1, 2});
  CHECK(www.spec.endpoints[2].address == ip("2001:db8::20"));

  // No check key: the service's.
  const EndpointConfig& plain = www.endpoints[0];
  REQUIRE(plain.check.has_value());
  CHECK(plain.check->name == "web");
  CHECK(plain.check->port == 80);
  CHECK(plain.probe_address == ip("192.0.2.10"));
  CHECK(plain.site == 0);
  CHECK(plain.source.to_string() == "test.yaml:19:13: zones[0].services.www.endpoints[0]");

  // check: none; probes (if any) would go to the first address.
  const EndpointConfig& unchecked = www.endpoints[1];
  CHECK_FALSE(unchecked.check.has_value());
  CHECK(unchecked.probe_address == ip("192.0.2.20"));
  CHECK(unchecked.site == 1);

  // A field changed, the rest inherited, the base's name kept.
  const EndpointConfig& changed = www.endpoints[2];
  REQUIRE(changed.check.has_value());
  CHECK(changed.check->name == "web");
  CHECK(changed.check->type == CheckType::http);
  CHECK(changed.check->port == 8080);
  CHECK(changed.check->http.path == "/healthz");
  CHECK(changed.check->interval == 5s);
  CHECK(changed.probe_address == ip("192.0.2.30"));
  // The named check itself is unchanged.
  CHECK(check_named(config, "web").port == 80);
}

TEST_CASE("config health: an endpoint may name another check, or change one and probe elsewhere",
          "[main]") {
  std::string text = with("check: none }", "check: db }", kHealthConfig);
  text = with("check: { use: web, port: 8080 }",
              "check: { use: secure, path: /ready, interval: 1s, target: \"::1\" }", text);
  text =
      with("          - { address: 192.0.2.10, site: us-west }",
           "          - { address: [192.0.2.10, 192.0.2.11], site: us-west, check: { timeout: 1s, "
           "target: 127.0.0.1 } }",
           text);
  const Config config = load(text);
  const ServiceConfig& www = config.zones[0].services[0];
  REQUIRE(www.endpoints.size() == 3);
  CHECK(www.endpoint_of_address == std::vector<std::uint32_t>{0, 0, 1, 1, 2});

  // Without `use`: the service's check, changed.
  const EndpointConfig& first = www.endpoints[0];
  REQUIRE(first.check.has_value());
  CHECK(first.check->name == "web");
  CHECK(first.check->timeout == 1s);
  CHECK(first.check->http.path == "/healthz");
  CHECK(first.probe_address == ip("127.0.0.1"));

  const EndpointConfig& named = www.endpoints[1];
  REQUIRE(named.check.has_value());
  CHECK(named.check->name == "db");
  CHECK(named.check->type == CheckType::tcp);
  CHECK(named.check->port == 5432);

  // A default timeout follows the new interval; tls is inherited.
  const EndpointConfig& secure = www.endpoints[2];
  REQUIRE(secure.check.has_value());
  CHECK(secure.check->name == "secure");
  CHECK(secure.check->type == CheckType::https);
  CHECK(secure.check->port == 443);
  CHECK(secure.check->http.path == "/ready");
  CHECK(secure.check->interval == 1s);
  CHECK(secure.check->timeout == 500ms);
  CHECK_FALSE(secure.check->tls.verify);
  CHECK(secure.probe_address == ip("::1"));
}

TEST_CASE("config health: changing an endpoint's check type starts from that type's defaults",
          "[main]") {
  const Config config = load(
      with("check: { use: web, port: 8080 }", "check: { use: web, type: https }", kHealthConfig));
  const EndpointConfig& endpoint = config.zones[0].services[0].endpoints[2];
  REQUIRE(endpoint.check.has_value());
  CHECK(endpoint.check->type == CheckType::https);
  CHECK(endpoint.check->port == 443);
  // http and https share their HTTP settings.
  CHECK(endpoint.check->http.path == "/healthz");

  const Config to_dns = load(
      with("check: { use: web, port: 8080 }", "check: { use: web, type: dns }", kHealthConfig));
  const health::CheckSpec& dns_check = *to_dns.zones[0].services[0].endpoints[2].check;
  CHECK(dns_check.port == 53);
  CHECK(dns_check.http.path == "/");
}

TEST_CASE("config health: service TTLs for transitions and fail-open answers", "[main]") {
  auto service = [](const std::string& ttls) {
    return load(with("        ttl: 30", ttls, kHealthConfig)).zones[0].services[0];
  };
  const ServiceConfig set =
      service("        ttl: 60\n        min_ttl: 20\n        degraded_ttl: 5");
  CHECK(set.ttl_s == 60);
  CHECK(set.min_ttl_s == 20);
  CHECK(set.degraded_ttl_s == 5);
  // degraded_ttl defaults to min_ttl, which defaults to half the ttl.
  CHECK(service("        ttl: 60\n        min_ttl: 20").degraded_ttl_s == 20);
  CHECK(service("        ttl: 1").min_ttl_s == 1);
  CHECK(service("        ttl: 0").min_ttl_s == 0);
  CHECK(service("        ttl: 0").degraded_ttl_s == 0);
  // The edge: equal to the ttl.
  CHECK(service("        ttl: 30\n        min_ttl: 30\n        degraded_ttl: 30s").degraded_ttl_s ==
        30);
}

TEST_CASE("config health: overrides and the unknown policy", "[main]") {
  std::string text = with("health: { unknown: up }", "health: { unknown: down }", kHealthConfig);
  text = with(
      "  - { endpoint: 192.0.2.20, state: up }",
      "  - { endpoint: 192.0.2.20, state: up }\n  - { endpoint: \"2001:db8::20\", state: down }\n"
      "  - { site: eu-west, state: up }",
      text);
  const Config config = load(text);
  CHECK(config.health.unknown == health::UnknownPolicy::down);
  REQUIRE(config.overrides.size() == 4);
  CHECK(config.overrides[0].scope == OverrideConfig::Scope::site);
  CHECK(config.overrides[0].site == 0);
  CHECK(config.overrides[0].value == health::Override::force_down);
  CHECK(config.overrides[0].source.to_string() == "test.yaml:7:5: overrides[0]");
  CHECK(config.overrides[1].scope == OverrideConfig::Scope::endpoint);
  CHECK(config.overrides[1].address == ip("192.0.2.20"));
  CHECK(config.overrides[1].value == health::Override::force_up);
  CHECK(config.overrides[2].address == ip("2001:db8::20"));
  CHECK(config.overrides[2].value == health::Override::force_down);
  CHECK(config.overrides[3].site == 1);
  CHECK(config.overrides[3].value == health::Override::force_up);
  // An empty list is no override.
  CHECK(load(with("overrides:\n  - { site: us-west, state: drain }\n  - { endpoint: 192.0.2.20, "
                  "state: up }\n",
                  "overrides: []\n", kHealthConfig))
            .overrides.empty());
}

TEST_CASE("config health: quorum and probe_from of a check, fallback and lease of the node",
          "[main]") {
  std::string text = with("web: { type: http, path: /healthz }",
                          "web: { type: http, path: /healthz, quorum: any, probe_from: [eu-west] }",
                          kHealthConfig);
  text = with("db: { type: tcp, port: 5432 }",
              "db: { type: tcp, port: 5432, probe_from: { nearest: 2 } }", text);
  text = with("health: { unknown: up }",
              "health: { unknown: up, local_fallback_after: 10s, observer_lease: 3s }", text);
  const Config config = load(text);
  const health::CheckSpec& web = check_named(config, "web");
  CHECK(web.quorum == health::ObserverQuorum::any);
  CHECK(web.probe_from.kind == health::ProbeFrom::Kind::sites);
  CHECK(web.probe_from.sites == std::vector<std::uint32_t>{1});
  const health::CheckSpec& db = check_named(config, "db");
  CHECK(db.quorum == health::ObserverQuorum::majority);
  CHECK(db.probe_from.kind == health::ProbeFrom::Kind::nearest);
  CHECK(db.probe_from.nearest == 2);
  CHECK(check_named(config, "resolver").probe_from.kind == health::ProbeFrom::Kind::all);
  CHECK(config.health.local_fallback_after == 10s);
  CHECK(config.health.observer_lease == 3s);
  // An endpoint inherits them, and may change them.
  const ServiceConfig& www = config.zones[0].services[0];
  CHECK(www.endpoints[0].check->quorum == health::ObserverQuorum::any);
  const Config changed =
      load(with("check: { use: web, port: 8080 }",
                "check: { use: web, port: 8080, quorum: all, probe_from: all }", text));
  const health::CheckSpec& third = *changed.zones[0].services[0].endpoints[2].check;
  CHECK(third.quorum == health::ObserverQuorum::all);
  CHECK(third.probe_from.kind == health::ProbeFrom::Kind::all);
  // Defaults.
  const Config plain = load(kHealthConfig);
  CHECK(plain.health.local_fallback_after == 30s);
  CHECK(plain.health.observer_lease == 5s);
}
