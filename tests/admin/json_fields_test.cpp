// The request readers and answer values every route shares
// (admin/json_fields.hpp): each refusal's wording, and the two override
// documents' field orders.

#include "admin/json_fields.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

using namespace meridian;
using namespace meridian::admin;
namespace json = boost::json;

namespace {

json::object object_of(const char* text) {
  return json::parse(text).as_object();
}

HttpRequest with_query(std::map<std::string, std::string> query) {
  HttpRequest request;
  request.query = std::move(query);
  return request;
}

}  // namespace

TEST_CASE("json fields: request bodies", "[admin][json_fields]") {
  HttpRequest request;
  request.body = "{\"a\": 1}";
  CHECK(object_body(request).ok());
  request.body = "[1]";
  CHECK(object_body(request).error().message == "the body must be a JSON object");
  request.body = "{";
  CHECK_THAT(object_body(request).error().message, Catch::StartsWith("the body is not JSON: "));

  const json::object body = object_of(R"({"s": "x", "n": null, "i": 5})");
  CHECK(required_string(body, "s").value() == "x");
  CHECK(required_string(body, "i").error().message == "expected \"i\" as a string");
  CHECK(required_string(body, "missing").error().message == "expected \"missing\" as a string");

  CHECK(nullable_string(body, "s").value() == std::optional<std::string>("x"));
  CHECK(nullable_string(body, "n").value() == std::nullopt);
  CHECK(nullable_string(body, "missing").error().message ==
        "expected \"missing\" (a string, or null)");
  CHECK(nullable_string(body, "i").error().message == "expected \"i\" as a string or null");

  CHECK(optional_string(body, "s").value() == "x");
  CHECK(optional_string(body, "n").value().empty());
  CHECK(optional_string(body, "missing").value().empty());
  CHECK(optional_string(body, "i").error().message == "\"i\" must be a string");

  CHECK(string_or_empty(body, "s") == "x");
  CHECK(string_or_empty(body, "i").empty());
  CHECK(string_or_empty(body, "missing").empty());
}

TEST_CASE("json fields: query parameters", "[admin][json_fields]") {
  CHECK(parse_positive("42") == 42u);
  for (const char* bad : {"", "0", "-1", "+1", "1x", " 1", "99999999999999999999999"}) {
    INFO(bad);
    CHECK_FALSE(parse_positive(bad));
  }
  CHECK(limit_parameter(with_query({}), 100, 1000).value() == 100);
  CHECK(limit_parameter(with_query({{"limit", "1000"}}), 100, 1000).value() == 1000);
  for (const char* bad : {"0", "1001", "ten", ""}) {
    INFO(bad);
    CHECK(limit_parameter(with_query({{"limit", bad}}), 100, 1000).error().message ==
          "limit must be 1 to 1000");
  }
  CHECK(read_mode(with_query({})).value() == store::ReadMode::linearizable);
  CHECK(read_mode(with_query({{"consistency", "linearizable"}})).value() ==
        store::ReadMode::linearizable);
  CHECK(read_mode(with_query({{"consistency", "local"}})).value() == store::ReadMode::local);
  CHECK(read_mode(with_query({{"consistency", "eventual"}})).error().message ==
        "consistency must be linearizable or local");
}

TEST_CASE("json fields: answer values", "[admin][json_fields]") {
  CHECK(optional_json(std::optional<std::string>()).is_null());
  CHECK(optional_json(std::optional<std::string>("x")) == "x");
  CHECK(optional_json(std::optional<std::uint64_t>(7)) == 7u);
  CHECK(optional_json(std::optional<double>(1.5)) == 1.5);
  CHECK(optional_json(std::optional<double>()).is_null());
  CHECK(zero_as_null(0).is_null());
  CHECK(zero_as_null(3) == 3u);

  gslb::OperatorOverride value;
  value.state = gslb::ForcedState::down;
  value.author = "alice";
  value.reason = "broken";
  value.set_ms = 10;
  CHECK(override_json(std::optional<gslb::OperatorOverride>()).is_null());
  CHECK(json::serialize(override_json(std::optional<gslb::OperatorOverride>(value))) ==
        R"({"state":"down","author":"alice","reason":"broken","set_ms":10,"expires_ms":null})");
  value.expires_ms = 20;
  CHECK(json::serialize(override_json("_ops/override/site/eu-west", value)) ==
        R"({"site":"eu-west","state":"down","set_ms":10,"author":"alice","reason":"broken",)"
        R"("expires_ms":20})");
  CHECK(json::serialize(override_json("_ops/override/endpoint/192.0.2.1", value)) ==
        R"({"endpoint":"192.0.2.1","state":"down","set_ms":10,"author":"alice","reason":"broken",)"
        R"("expires_ms":20})");
}
