// The explain engine (gslb/explain.hpp): the trace of one answer against a
// small config with a table locator (London and Seattle networks), offline
// with the config's overrides, and as a running node sees it.

#include "gslb/explain.hpp"

#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <variant>

#include "tests/config/test_support.hpp"
#include "tests/geo/fake_locator.hpp"

using namespace meridian;
using namespace meridian::gslb;
using meridian::geo::test::TableLocator;
using meridian::test::kBaseConfig;
using meridian::test::parse;
using meridian::test::with;

namespace {

std::shared_ptr<const Config> load(const std::string& text = kBaseConfig) {
  auto config = parse(text);
  INFO((config ? std::string() : config.error().message));
  REQUIRE(config.ok());
  return std::make_shared<const Config>(std::move(config).value());
}

/// London (81.2.69.0/24) and Seattle (198.51.100.0/24).
std::shared_ptr<const geo::Locator> locator() {
  auto table = std::make_shared<TableLocator>();
  table->add("81.2.69.0/24", 51.5, -0.12, "GB", "EU");
  table->add("198.51.100.0/24", 47.6, -122.3, "US", "NA", "WA");
  return table;
}

std::shared_ptr<const dns::RoutingTable> table_of(const Config& config) {
  auto table = offline_routing_table(config, locator());
  INFO((table ? std::string() : table.error().message));
  REQUIRE(table.ok());
  return *table;
}

ExplainQuery query(const char* name, const char* source) {
  ExplainQuery out;
  out.name = name;
  REQUIRE(IpAddress::parse(source, out.source));
  return out;
}

/// The explanation of a result that must have one.
Explanation explained(ExplainResult result) {
  if (const auto* error = std::get_if<ExplainError>(&result)) FAIL(error->message);
  return std::get<Explanation>(std::move(result));
}

/// The error of a result that must have one.
ExplainError refused(ExplainResult result) {
  REQUIRE(std::holds_alternative<ExplainError>(result));
  return std::get<ExplainError>(std::move(result));
}

}  // namespace

TEST_CASE("explain: a located client gets the closest site, and the trace says why",
          "[gslb][explain]") {
  const auto config = load();
  const auto table = table_of(*config);
  const Explanation e =
      explained(explain_query(*config, *table, query("www.example.test", "198.51.100.7")));
  CHECK(e.service == "www.example.test.");
  CHECK(e.offline);
  CHECK(e.client.to_string() == "198.51.100.7/32");
  CHECK(e.client_source == "source address (no ECS)");
  CHECK(e.choice.stage == geo::Stage::closest);
  REQUIRE(e.answer.size() == 1);
  CHECK(e.answer[0].to_string() == "192.0.2.10");
  CHECK(e.ecs_scope == 0);
  REQUIRE(e.trace.candidates.size() == 2);
  CHECK(config->sites[e.trace.candidates[0].site].name == "us-west");
  CHECK(e.trace.candidates[0].picked);
  CHECK(config->sites[e.trace.candidates[1].site].name == "eu-west");
  CHECK(e.trace.candidates[1].available);
  CHECK_FALSE(e.trace.candidates[1].picked);
}

TEST_CASE("explain: the text of a trace, line by line", "[gslb][explain]") {
  const auto config = load();
  const auto table = table_of(*config);
  ExplainQuery q = query("www.example.test.", "192.0.2.99");
  IpNetwork ecs;
  REQUIRE(IpNetwork::parse("81.2.69.0/24", ecs));
  q.ecs = ecs;
  const Explanation e = explained(explain_query(*config, *table, q));
  CHECK(e.client_source == "ECS 81.2.69.0/24");
  CHECK(e.answer.at(0).to_string() == "192.0.2.20");
  CHECK(e.ecs_scope == e.choice.scope_prefix_len);
  CHECK(format_explanation(*config, e) ==
        "service: www.example.test. (policy closest, answer_count 1, sites_per_answer 1, "
        "min_healthy 1)\n"
        "client: 81.2.69.0/24 from ECS 81.2.69.0/24\n"
        "location: GeoIP network /24: 51.5000, -0.1200, country GB, continent EU, subdivision -\n"
        "location source: GeoIP coordinates\n"
        "health: min_healthy 1 (offline: config overrides only)\n"
        "candidates, in policy order:\n"
        "  SITE                DISTANCE    BIAS    BIASED      HEALTHY  STATE\n"
        "  eu-west             1 km        +0%     1 km        1/1      picked\n"
        "  us-west             7700 km     +0%     7700 km     1/1      available\n"
        "decided by: closest\n"
        "answer: 192.0.2.20\n"
        "ttl: 30\n"
        "geo scope: /24 (the GeoIP network)\n"
        "ecs scope: /24\n");
}

TEST_CASE("explain: offline, the config's overrides decide health", "[gslb][explain]") {
  const auto config =
      load(with("zones:\n", "overrides:\n  - { site: us-west, state: drain }\nzones:\n"));
  const auto table = table_of(*config);
  const Explanation e =
      explained(explain_query(*config, *table, query("www.example.test", "198.51.100.7")));
  // Seattle's closest site is drained: London answers.
  REQUIRE(e.answer.size() == 1);
  CHECK(e.answer[0].to_string() == "192.0.2.20");
  REQUIRE(e.trace.candidates.size() == 2);
  CHECK(config->sites[e.trace.candidates[0].site].name == "us-west");
  CHECK_FALSE(e.trace.candidates[0].available);
  CHECK(e.trace.candidates[0].healthy == 0);
  CHECK(e.trace.candidates[0].total == 1);
  CHECK(e.trace.candidates[1].picked);
  const std::string text = format_explanation(*config, e);
  CHECK_THAT(text, Catch::Contains("\n  us-west "));
  CHECK_THAT(text, Catch::Contains("0/1      unavailable\n"));
  CHECK_THAT(text, Catch::Contains("(offline: config overrides only)"));
}

TEST_CASE("explain: AAAA picks the site's IPv6 address", "[gslb][explain]") {
  const auto config = load();
  const auto table = table_of(*config);
  ExplainQuery q = query("www.example.test", "81.2.69.1");
  q.family = IpAddress::Family::v6;
  const Explanation e = explained(explain_query(*config, *table, q));
  REQUIRE(e.answer.size() == 1);
  CHECK(e.answer[0].to_string() == "2001:db8::20");
  CHECK_THAT(format_explanation(*config, e), Catch::Contains("\nanswer: 2001:db8::20\n"));
}

TEST_CASE("explain: names that are no service, and a table behind its config", "[gslb][explain]") {
  const auto config = load();
  const auto table = table_of(*config);
  const ExplainError static_name =
      refused(explain_query(*config, *table, query("mail.example.test", "192.0.2.1")));
  CHECK(static_name.kind == ExplainErrorKind::bad_query);
  CHECK(static_name.message == "mail.example.test. is not a service of this config");
  const ExplainError bad = refused(explain_query(*config, *table, query("a..b", "192.0.2.1")));
  CHECK(bad.kind == ExplainErrorKind::bad_query);
  CHECK(bad.message == "bad name 'a..b'");

  // A reload added a service before www: the old table's first service is
  // not the new config's www.
  const auto reloaded = load(with("      www:\n",
                                  "      api:\n"
                                  "        endpoints:\n"
                                  "          - { address: 192.0.2.11, site: us-west }\n"
                                  "      www:\n"));
  const ExplainError behind =
      refused(explain_query(*reloaded, *table, query("www.example.test", "192.0.2.1")));
  CHECK(behind.kind == ExplainErrorKind::reloading);
  CHECK(behind.message == "the config is being reloaded; ask again");
}

TEST_CASE("explain: a running node's explanation is not offline, and needs a table",
          "[gslb][explain]") {
  const auto config = load();
  const auto table = table_of(*config);
  auto current = explain_current(config, table, query("www.example.test", "81.2.69.1"));
  REQUIRE(std::holds_alternative<CurrentExplanation>(current));
  const CurrentExplanation& live = std::get<CurrentExplanation>(current);
  CHECK(live.config == config);
  CHECK_FALSE(live.explanation.offline);
  CHECK(live.explanation.answer.at(0).to_string() == "192.0.2.20");
  const std::string text = format_explanation(*live.config, live.explanation);
  CHECK_THAT(text, Catch::Contains("\nhealth: min_healthy 1\n"));
  CHECK_THAT(text, !Catch::Contains("offline"));

  for (const auto& [with_config, with_table] :
       {std::pair{config, std::shared_ptr<const dns::RoutingTable>()},
        std::pair{std::shared_ptr<const Config>(), table}}) {
    auto starting =
        explain_current(with_config, with_table, query("www.example.test", "81.2.69.1"));
    REQUIRE(std::holds_alternative<ExplainError>(starting));
    CHECK(std::get<ExplainError>(starting).kind == ExplainErrorKind::starting);
    CHECK(std::get<ExplainError>(starting).message == "the node is starting");
  }
  auto not_a_service = explain_current(config, table, query("nope.example.test", "81.2.69.1"));
  REQUIRE(std::holds_alternative<ExplainError>(not_a_service));
  CHECK(std::get<ExplainError>(not_a_service).kind == ExplainErrorKind::bad_query);
}
