// The loader's errors about health: `health:`, `checks:`, the check keys of
// services and endpoints, and `overrides:`. Each case mutates one line of the
// valid kHealthConfig (config_test_support.hpp); the line and column asserted
// are those of the mutated text.

#include <catch2/catch.hpp>

#include "config/config.hpp"
#include "tests/config/test_support.hpp"

using namespace meridian;
using meridian::test::errors_of;
using meridian::test::kHealthConfig;
using meridian::test::with;

namespace {

struct Case {
  std::string what;
  std::string from;      // text of kHealthConfig to replace
  std::string to;        // its replacement
  std::string expected;  // a substring of the error message
};

const std::string kWeb = "web: { type: http, path: /healthz }";
const std::string kDb = "db: { type: tcp, port: 5432 }";
const std::string kResolver = "resolver: { type: dns, query: { name: example.test. } }";
const std::string kSecure = "secure: { type: https, tls: { verify: false } }";
const std::string kMapEndpoint = "check: { use: web, port: 8080 }";

// clang-format off
const Case kCases[] = {
  // timing
  {"timeout not below the interval", kWeb, "web: { type: http, interval: 5s, timeout: 5s }",
   "test.yaml:23:45: checks.web.timeout: expected a timeout less than the interval (5s), found \"5s\""},
  {"timeout above the default interval", kWeb, "web: { type: http, timeout: 6s }",
   "checks.web.timeout: expected a timeout less than the interval (5s), found \"6s\""},
  {"interval too short", kWeb, "web: { type: http, interval: 50ms }",
   "checks.web.interval: expected a duration from 100ms to 1h (like 500ms, 10s, 5m, or plain seconds), found "
   "\"50ms\""},
  {"timeout too short", kWeb, "web: { type: http, timeout: 5ms }",
   "checks.web.timeout: expected a duration from 10ms to 1h"},
  {"rise of zero", kWeb, "web: { type: http, rise: 0 }",
   "test.yaml:23:28: checks.web.rise: expected an integer from 1 to 100, found \"0\""},
  {"fall of zero", kWeb, "web: { type: http, fall: 0 }",
   "checks.web.fall: expected an integer from 1 to 100, found \"0\""},
  {"fall over the limit", kWeb, "web: { type: http, fall: 101 }",
   "checks.web.fall: expected an integer from 1 to 100, found \"101\""},
  // type and port
  {"unknown type", kWeb, "web: { type: icmp }",
   "test.yaml:23:16: checks.web.type: expected one of (tcp, http, https, dns), found \"icmp\""},
  {"missing type", kWeb, "web: { path: /healthz }",
   "test.yaml:23:8: checks.web: missing required key \"type\""},
  {"port zero", kDb, "db: { type: tcp, port: 0 }",
   "test.yaml:24:26: checks.db.port: expected an integer from 1 to 65535, found \"0\""},
  {"port over 65535", kDb, "db: { type: tcp, port: 65536 }",
   "checks.db.port: expected an integer from 1 to 65535, found \"65536\""},
  {"tcp check without a port", kDb, "db: { type: tcp }",
   "test.yaml:24:7: checks.db: missing required key \"port\" (a tcp check has no default port)"},
  // fields of another kind of check
  {"http field on a tcp check", kDb, "db: { type: tcp, port: 5432, path: /x }",
   "test.yaml:24:38: checks.db.path: expected no path in a tcp check (only http and https checks take it), found "
   "\"/x\""},
  {"tls on an http check", kWeb, "web: { type: http, tls: { verify: false } }",
   "checks.web.tls: expected no tls in an http check (only https checks take it), found a map"},
  {"query on an https check", kSecure, "secure: { type: https, query: { name: x. } }",
   "checks.secure.query: expected no query in an https check (only dns checks take it)"},
  {"expect on a dns check", kResolver, "resolver: { type: dns, expect: [200] }",
   "checks.resolver.expect: expected no expect in a dns check (only http and https checks take it)"},
  // http fields
  {"path without a slash", kWeb, "web: { type: http, path: healthz }",
   "test.yaml:23:28: checks.web.path: expected a request path starting with '/', without spaces or control "
   "characters, found \"healthz\""},
  {"path with a space", kWeb, "web: { type: http, path: \"/a b\" }",
   "checks.web.path: expected a request path starting with '/', without spaces or control characters, found \"/a b\""},
  {"path with a line break", kWeb, "web: { type: http, path: \"/a\\r\\nX: y\" }",
   "found \"/a\\x0d\\x0aX: y\""},
  {"status code out of range", kWeb, "web: { type: http, expect: [200, 600] }",
   "test.yaml:23:36: checks.web.expect[1]: expected a status code from 100 to 599 or a range like \"200-299\" "
   "(first <= last), found \"600\""},
  {"status range backwards", kWeb, "web: { type: http, expect: [\"300-200\"] }",
   "checks.web.expect[0]: expected a status code from 100 to 599 or a range like \"200-299\" (first <= last), found "
   "\"300-200\""},
  {"status class pattern", kWeb, "web: { type: http, expect: 2xx }",
   "checks.web.expect: expected a status code from 100 to 599 or a range like \"200-299\""},
  {"empty expect list", kWeb, "web: { type: http, expect: [] }",
   "checks.web.expect: expected a list of status codes (1 to 32), found an empty list"},
  {"unknown method", kWeb, "web: { type: http, method: FETCH }",
   "checks.web.method: expected one of (GET, HEAD, POST, PUT, OPTIONS), found \"FETCH\""},
  {"host with a line break", kWeb, "web: { type: http, host: \"a\\nb\" }",
   "checks.web.host: expected a Host header value (1 to 255 bytes, no spaces or control characters)"},
  {"header name not a token", kWeb, "web: { type: http, headers: { \"X Probe\": a } }",
   "test.yaml:23:33: checks.web.headers[\"X Probe\"]: expected a header name (letters, digits and "
   "!#$%&'*+-.^_`|~), found \"X Probe\""},
  {"header value with a line break", kWeb, "web: { type: http, headers: { X-Probe: \"a\\r\\nb\" } }",
   "checks.web.headers.X-Probe: expected a header value without line breaks or control characters"},
  {"secret header value with a line break", kWeb,
   "web: { type: http, headers: { Authorization: \"Bearer x\\r\\ny\" } }",
   "test.yaml:23:48: checks.web.headers.Authorization: expected a header value without line breaks "
   "or control characters, found a value not shown here (Authorization's value is a secret)"},
  {"headers not a map", kWeb, "web: { type: http, headers: [a] }",
   "checks.web.headers: expected a map, found a list"},
  {"body limit zero", kWeb, "web: { type: http, body_limit: 0 }",
   "checks.web.body_limit: expected an integer from 1 to 1048576, found \"0\""},
  {"body longer than the limit", kWeb, "web: { type: http, body: hello, body_limit: 4 }",
   "checks.web.body: expected a body substring no longer than body_limit (4 bytes), found \"hello\""},
  // tls and query
  {"tls verify not a boolean", kSecure, "secure: { type: https, tls: { verify: maybe } }",
   "checks.secure.tls.verify: expected one of (true, false), found \"maybe\""},
  {"tls server name with a final dot", kSecure, "secure: { type: https, tls: { server_name: a.example. } }",
   "checks.secure.tls.server_name: expected a host name without the final dot (like api.example.com)"},
  {"unknown query type", kResolver, "resolver: { type: dns, query: { type: AXFR } }",
   "checks.resolver.query.type: expected one of (A, AAAA, NS, SOA, MX, TXT, CNAME, SRV, PTR, CAA), found \"AXFR\""},
  {"unknown rcode", kResolver, "resolver: { type: dns, query: { rcode: OK } }",
   "checks.resolver.query.rcode: expected one of (NOERROR, FORMERR, SERVFAIL, NXDOMAIN, NOTIMP, REFUSED, "},
  {"bad query name", kResolver, "resolver: { type: dns, query: { name: \"a..b\" } }",
   "checks.resolver.query.name: expected a domain name, found \"a..b\""},
  {"IPv6 answer to an A query", kResolver, "resolver: { type: dns, query: { type: A, answer: [\"2001:db8::1\"] } }",
   "checks.resolver.query.answer[0]: expected an IPv4 address, found \"2001:db8::1\""},
  // unknown keys at every level
  {"unknown key in a check", kWeb, "web: { type: http, pathh: /x }",
   "test.yaml:23:22: checks.web.pathh: unknown key \"pathh\" (did you mean \"path\"?), expected one of: type, port, "
   "interval, timeout, rise, fall, method, path, host, headers, expect, body, tls, body_limit, query"},
  {"unknown key in tls", kSecure, "secure: { type: https, tls: { verfy: false } }",
   "checks.secure.tls.verfy: unknown key \"verfy\" (did you mean \"verify\"?), expected one of: verify, ca_file, "
   "server_name"},
  {"unknown key in query", kResolver, "resolver: { type: dns, query: { typ: A } }",
   "checks.resolver.query.typ: unknown key \"typ\" (did you mean \"type\"?), expected one of: name, type, rcode, "
   "answer"},
  {"unknown key in an endpoint's check", kMapEndpoint, "check: { use: web, prot: 8080 }",
   "zones[0].services.www.endpoints[2].check.prot: unknown key \"prot\" (did you mean \"port\"?), expected one of: "
   "use, target, type,"},
  {"unknown key in health", "health: { unknown: up }", "health: { unkown: up }",
   "test.yaml:5:11: health.unkown: unknown key \"unkown\" (did you mean \"unknown\"?)"},
  // check names and references
  {"check named none", kSecure, kSecure + "\n  none: { type: http }",
   "test.yaml:27:3: checks.none: expected a check name (1 to 63 letters, digits, '.', '_' or '-'; not \"none\"), "
   "found \"none\""},
  {"unknown check in a service", "        check: web", "        check: wbe",
   "test.yaml:17:16: zones[0].services.www.check: expected \"none\" or one of the checks (web, db, resolver, "
   "secure), found \"wbe\""},
  {"unknown check in an endpoint", "check: none }", "check: dbb }",
   "test.yaml:20:76: zones[0].services.www.endpoints[1].check: expected \"none\" or one of the checks (web, db, "
   "resolver, secure), found \"dbb\""},
  {"unknown check in use", kMapEndpoint, "check: { use: wbe }",
   "zones[0].services.www.endpoints[2].check.use: expected one of the checks (web, db, resolver, secure), found "
   "\"wbe\""},
  {"use none", kMapEndpoint, "check: { use: none }",
   "zones[0].services.www.endpoints[2].check.use: expected one of the checks (web, db, resolver, secure), found "
   "\"none\""},
  {"endpoint check a list", "check: none }", "check: [web] }",
   "zones[0].services.www.endpoints[1].check: expected a check name, \"none\" or a map of check settings, found a "
   "list"},
  {"bad probe target", kMapEndpoint, "check: { use: web, target: localhost }",
   "test.yaml:21:78: zones[0].services.www.endpoints[2].check.target: expected an IPv4 or IPv6 address to probe, "
   "found \"localhost\""},
  {"endpoint override with a field of another type", kMapEndpoint, "check: { use: db, path: /x }",
   "zones[0].services.www.endpoints[2].check.path: expected no path in a tcp check"},
  {"endpoint override to tcp without a port", kMapEndpoint, "check: { use: web, type: tcp }",
   "test.yaml:21:58: zones[0].services.www.endpoints[2].check: missing required key \"port\" (a tcp check has no "
   "default port)"},
  {"endpoint override checked like a check", kMapEndpoint, "check: { use: web, rise: 0 }",
   "zones[0].services.www.endpoints[2].check.rise: expected an integer from 1 to 100, found \"0\""},
  // service TTLs
  {"min_ttl above the ttl", "        ttl: 30", "        ttl: 30\n        min_ttl: 31",
   "test.yaml:17:18: zones[0].services.www.min_ttl: expected seconds from 0 to the service ttl (30), found \"31\""},
  {"degraded_ttl above the ttl", "        ttl: 30", "        ttl: 30\n        degraded_ttl: 1m",
   "zones[0].services.www.degraded_ttl: expected seconds from 0 to the service ttl (30), found \"1m\""},
  // health and overrides
  {"bad unknown policy", "unknown: up", "unknown: maybe",
   "test.yaml:5:20: health.unknown: expected one of (up, down), found \"maybe\""},
  {"local_fallback_after too short", "unknown: up", "unknown: up, local_fallback_after: 500ms",
   "health.local_fallback_after: expected a duration from 1s to 1d"},
  {"observer_lease too short", "unknown: up", "unknown: up, observer_lease: 1s",
   "health.observer_lease: expected a duration from 2s to 10m"},
  // cluster settings of a check
  {"bad quorum", kWeb, "web: { type: http, quorum: most }",
   "checks.web.quorum: expected one of (majority, any, all), found \"most\""},
  {"probe_from an unknown site", kWeb, "web: { type: http, probe_from: [eu-west, mars] }",
   "checks.web.probe_from[1]: expected one of the sites (us-west, eu-west), found \"mars\""},
  {"probe_from a site twice", kWeb, "web: { type: http, probe_from: [eu-west, eu-west] }",
   "checks.web.probe_from[1]: expected each site once"},
  {"probe_from nobody", kWeb, "web: { type: http, probe_from: [] }", "checks.web.probe_from: expected"},
  {"probe_from nearest 0", kWeb, "web: { type: http, probe_from: { nearest: 0 } }",
   "checks.web.probe_from.nearest: expected an integer from 1 to 4096, found \"0\""},
  {"probe_from something else", kWeb, "web: { type: http, probe_from: some }",
   "checks.web.probe_from: expected all, a list of sites, or { nearest: N }, found \"some\""},
  {"override of an unknown site", "site: us-west, state: drain", "site: mars, state: drain",
   "test.yaml:7:13: overrides[0].site: expected one of the sites (us-west, eu-west), found \"mars\""},
  {"override of an address no service has", "endpoint: 192.0.2.20", "endpoint: 192.0.2.99",
   "test.yaml:8:17: overrides[1].endpoint: expected the address of an endpoint of some service, found "
   "\"192.0.2.99\""},
  {"override of a bad address", "endpoint: 192.0.2.20", "endpoint: 192.0.2",
   "overrides[1].endpoint: expected an IPv4 or IPv6 address, found \"192.0.2\""},
  {"bad override state", "state: drain", "state: sideways",
   "test.yaml:7:29: overrides[0].state: expected one of (drain, down, up), found \"sideways\""},
  {"override without a state", ", state: drain }", " }",
   "test.yaml:7:5: overrides[0]: missing required key \"state\""},
  {"override of both a site and an endpoint", "site: us-west, state: drain",
   "site: us-west, endpoint: 192.0.2.10, state: drain",
   "overrides[0].endpoint: expected either site or endpoint in one override, not both, found \"192.0.2.10\""},
  {"override of nothing", "{ site: us-west, state: drain }", "{ state: drain }",
   "test.yaml:7:5: overrides[0]: missing required key \"site\" or \"endpoint\""},
  {"two overrides of one site", "endpoint: 192.0.2.20, state: up", "site: us-west, state: up",
   "test.yaml:8:5: overrides[1]: duplicate override for site \"us-west\" (also at overrides[0])"},
  {"overrides not a list", "overrides:\n", "overrides: { site: us-west }\nold:\n",
   "test.yaml:6:12: overrides: expected a list of overrides (0 to 4096), found a map"},
};
// clang-format on

}  // namespace

TEST_CASE("config health: each error names file, line, column, path, expected and found",
          "[main]") {
  for (const Case& c : kCases) {
    SECTION(c.what) {
      const std::string text = with(c.from, c.to, kHealthConfig);
      INFO(text);
      const std::string message = errors_of(text);
      INFO(message);
      CHECK(message.find(c.expected) != std::string::npos);
    }
  }
}

TEST_CASE("config health: an endpoint's interval must exceed the timeout it inherits", "[main]") {
  std::string text = with(kWeb, "web: { type: http, timeout: 2s }", kHealthConfig);
  text = with(kMapEndpoint, "check: { use: web, interval: 2s }", text);
  CHECK(errors_of(text) ==
        "test.yaml:21:80: zones[0].services.www.endpoints[2].check.interval: expected an interval "
        "greater than the timeout (2s, from check \"web\"), found \"2s\"");
  // A default timeout follows the new interval instead.
  text = with(kWeb, "web: { type: http }", kHealthConfig);
  text = with(kMapEndpoint, "check: { use: web, interval: 2s }", text);
  CHECK(meridian::test::parse(text).ok());
}

TEST_CASE("config health: an endpoint's check map needs a base", "[main]") {
  std::string text = with("        check: web\n", "", kHealthConfig);
  text = with(kMapEndpoint, "check: { port: 8080 }", text);
  CHECK(errors_of(text) ==
        "test.yaml:20:58: zones[0].services.www.endpoints[2].check: missing required key \"use\" "
        "(the service has no check for these settings to change)");
  // `check: none` on the service is no base either.
  text = with("        check: web", "        check: none", kHealthConfig);
  text = with(kMapEndpoint, "check: { port: 8080 }", text);
  CHECK(errors_of(text).find("check: missing required key \"use\"") != std::string::npos);
}

TEST_CASE("config health: a broken check is reported once, not at every reference", "[main]") {
  // Both the service and an endpoint's `use` name `web`; only its own error shows.
  CHECK(errors_of(with(kWeb, "web: { type: http, rise: 0 }", kHealthConfig)) ==
        "test.yaml:23:28: checks.web.rise: expected an integer from 1 to 100, found \"0\"");
  // A `checks:` that is no map leaves references unchecked.
  const std::string checks =
      "checks:\n  " + kWeb + "\n  " + kDb + "\n  " + kResolver + "\n  " + kSecure + "\n";
  CHECK(errors_of(with(checks, "checks: [web]\n", kHealthConfig)) ==
        "test.yaml:22:9: checks: expected a map, found a list");
}

TEST_CASE("config health: endpoint overrides are not looked up when a zone has errors", "[main]") {
  // The endpoint with 192.0.2.20 fails on its weight, so the override is not
  // blamed for it.
  const std::string message = errors_of(with(
      "site: eu-west, check: none }", "site: eu-west, check: none, weight: 0 }", kHealthConfig));
  CHECK(message ==
        "test.yaml:20:90: zones[0].services.www.endpoints[1].weight: expected an integer from 1 to "
        "65535, "
        "found \"0\"");
}

TEST_CASE("config health: limits on lists and text hold at their edges", "[main]") {
  using meridian::test::parse;
  auto headers = [](int count) {
    std::string text = "web: { type: http, headers: {";
    for (int i = 0; i < count; ++i) text += (i > 0 ? ", X-" : " X-") + std::to_string(i) + ": v";
    return text + " } }";
  };
  CHECK(parse(with(kWeb, headers(32), kHealthConfig)).ok());
  CHECK(errors_of(with(kWeb, headers(33), kHealthConfig))
            .find("checks.web.headers: expected a map of at most 32 "
                  "headers, found a map") != std::string::npos);

  auto statuses = [](int count) {
    std::string text = "web: { type: http, expect: [";
    for (int i = 0; i < count; ++i) text += (i > 0 ? ", " : "") + std::to_string(200 + i);
    return text + "] }";
  };
  CHECK(parse(with(kWeb, statuses(32), kHealthConfig)).ok());
  CHECK(
      errors_of(with(kWeb, statuses(33), kHealthConfig))
          .find("checks.web.expect: expected a list of status codes (1 to 32), found 33 entries") !=
      std::string::npos);

  auto answers = [](int count) {
    std::string text = "resolver: { type: dns, query: { type: A, answer: [";
    for (int i = 0; i < count; ++i) text += (i > 0 ? ", 192.0.2." : "192.0.2.") + std::to_string(i);
    return text + "] } }";
  };
  CHECK(parse(with(kResolver, answers(16), kHealthConfig)).ok());
  CHECK(errors_of(with(kResolver, answers(17), kHealthConfig))
            .find("checks.resolver.query.answer: expected a list of expected answers (1 to 16), "
                  "found 17 entries") != std::string::npos);

  const std::string path = "/" + std::string(2047, 'p');
  CHECK(parse(with(kWeb, "web: { type: http, path: " + path + " }", kHealthConfig)).ok());
  CHECK(errors_of(with(kWeb, "web: { type: http, path: " + path + "p }", kHealthConfig))
            .find("checks.web.path: expected a request path") != std::string::npos);
  CHECK(errors_of(with(kWeb, "web: { type: http, body_limit: 1048577 }", kHealthConfig))
            .find("checks.web.body_limit: expected an integer from 1 to 1048576") !=
        std::string::npos);

  std::string checks = "checks:\n";
  for (int i = 0; i < 1025; ++i) checks += "  c" + std::to_string(i) + ": { type: http }\n";
  CHECK(errors_of(with("checks:\n", checks, kHealthConfig))
            .starts_with(
                "test.yaml:23:3: checks: expected a map of at most 1024 checks, found a map"));

  std::string overrides = "overrides:\n";
  for (int i = 0; i < 4095; ++i)
    overrides += "  - { site: us-west, state: drain }\n";  // + the 2 there
  CHECK(errors_of(with("overrides:\n", overrides, kHealthConfig)) ==
        "test.yaml:7:3: overrides: expected a list of overrides (0 to 4096), found 4097 entries");
}

TEST_CASE("config health: no error quotes a secret header's value", "[main]") {
  // Errors reach the node's log and the admin API ("error" of a committed
  // version that does not load on a node).
  for (const std::string& check :
       {std::string("web: { type: http, headers: { X-Api-Key: \"k3y-v4lue\\u0001\" } }"),
        std::string("web: { type: http, headers: { Cookie: \"k3y-v4lue\\n\" } }")}) {
    INFO(check);
    const std::string message = errors_of(with(kWeb, check, kHealthConfig));
    CHECK(message.find("k3y-v4lue") == std::string::npos);
    CHECK(message.find("a value not shown here") != std::string::npos);
  }
  // Other headers are quoted, as every other value is.
  CHECK(errors_of(
            with(kWeb, "web: { type: http, headers: { X-Probe: \"pr0be\\n\" } }", kHealthConfig))
            .find("pr0be") != std::string::npos);
}
