// CNAME endpoints: an endpoint given as a name answers both families; when
// the first pick is one, the answer is that name alone (a CNAME is alone at
// its name), otherwise only addresses are drawn. Health fails over between
// names and addresses like between addresses.

#include <catch2/catch.hpp>

#include <map>
#include <set>
#include <string>

#include "fake_locator.hpp"
#include "geo/steering.hpp"

namespace meridian::geo {
namespace {

using test::address_of;
using test::network_of;
using test::TableLocator;

enum : std::uint32_t { kUsEast, kEuWest };
const std::vector<Site> kSites = {{"us-east", 39.04, -77.49}, {"eu-west", 51.51, -0.13}};

Endpoint cname_endpoint(std::uint32_t target, std::uint32_t site, std::uint32_t weight = 100) {
  Endpoint endpoint{IpAddress{}, site, weight};
  endpoint.cname = target;
  return endpoint;
}

// eu-west: the CDN name eu.cdn.example.net. and an address; us-east: two
// addresses of each family.
ServiceSpec mixed() {
  ServiceSpec spec;
  spec.cname_targets = {"eu.cdn.example.net.", "us.cdn.example.net."};
  spec.endpoints = {
      cname_endpoint(0, kEuWest),
      {address_of("192.0.2.20"), kEuWest},
      {address_of("192.0.2.10"), kUsEast},
      {address_of("192.0.2.11"), kUsEast},
      {address_of("2001:db8::10"), kUsEast},
  };
  return spec;
}

TableLocator world() {
  TableLocator locator;
  locator.add("81.2.69.0/24", 51.5142, -0.0931, "GB", "EU");  // London
  locator.add("65.0.0.0/16", 40.71, -74.0, "US", "NA");       // New York
  return locator;
}

struct Answer {
  Choice choice;
  std::vector<std::string> addresses;
  std::string cname;
};

Answer ask(const Steering& steering, const Locator* locator, const char* client,
           IpAddress::Family family, std::uint64_t seed = 1) {
  Rng rng(seed);
  const IpAddress* out[8] = {};
  Answer answer;
  answer.choice = steering.choose(locator, network_of(client), family, rng, out);
  for (std::uint32_t i = 0; i < answer.choice.count; ++i)
    answer.addresses.push_back(out[i]->to_string());
  if (answer.choice.cname != kNoCname)
    answer.cname = steering.spec().cname_targets[answer.choice.cname];
  return answer;
}

TEST_CASE("cname endpoints: a name drawn first is the whole answer, for A and AAAA", "[geo]") {
  const TableLocator locator = world();
  ServiceSpec spec = mixed();
  spec.endpoints[1].healthy = false;  // eu-west answers with its name only
  const Steering steering(kSites, {kUsEast}, spec);
  struct Case {
    const char* what;
    const char* client;
    IpAddress::Family family;
    const char* cname;
    std::size_t addresses;
  };
  const Case cases[] = {
      {"London, A: the eu-west name", "81.2.69.0/24", IpAddress::Family::v4, "eu.cdn.example.net.",
       0},
      {"London, AAAA: a name answers both families", "81.2.69.0/24", IpAddress::Family::v6,
       "eu.cdn.example.net.", 0},
      {"New York, A: us-east addresses", "65.0.1.0/24", IpAddress::Family::v4, "", 1},
      {"New York, AAAA", "65.0.1.0/24", IpAddress::Family::v6, "", 1},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    const Answer answer = ask(steering, &locator, c.client, c.family);
    CHECK(answer.cname == c.cname);
    CHECK(answer.choice.count == c.addresses);
    CHECK(answer.choice.stage == Stage::closest);
    // ECS scope as for addresses: the located network.
    CHECK(unsigned{answer.choice.scope_prefix_len} == (c.client[0] == '8' ? 24u : 16u));
  }
}

TEST_CASE("cname endpoints: with answer_count > 1 a name is never mixed with addresses", "[geo]") {
  ServiceSpec spec = mixed();
  spec.answer_count = 4;
  spec.policy = Policy::weighted;  // everything in one pool
  const Steering steering(kSites, {}, spec);
  std::map<std::string, int> first;
  for (std::uint64_t seed = 1; seed <= 2000; ++seed) {
    const Answer answer = ask(steering, nullptr, "81.2.69.0/24", IpAddress::Family::v4, seed);
    if (!answer.cname.empty()) {
      CHECK(answer.choice.count == 0);
      ++first["cname"];
    } else {
      // The three IPv4 addresses, never the name.
      CHECK(answer.choice.count == 3);
      std::set<std::string> distinct(answer.addresses.begin(), answer.addresses.end());
      CHECK(distinct.size() == 3);
      ++first["addresses"];
    }
  }
  // The name is drawn first by its weight: 100 of 400 for A.
  CHECK(first["cname"] == Approx(500).margin(80));
  CHECK(first["addresses"] == Approx(1500).margin(80));
}

TEST_CASE("cname endpoints: a down name fails over to an address endpoint and back", "[geo]") {
  const TableLocator locator = world();
  ServiceSpec spec;
  spec.cname_targets = {"eu.cdn.example.net."};
  spec.endpoints = {cname_endpoint(0, kEuWest), {address_of("192.0.2.10"), kUsEast}};
  struct Case {
    const char* what;
    bool name_up;
    bool address_up;
    const char* cname;
    const char* address;
    Stage stage;
  };
  const Case cases[] = {
      {"both up: London gets the name", true, true, "eu.cdn.example.net.", "", Stage::closest},
      // One site left: nothing to order (and ECS scope 0).
      {"the name down: the next site's address", false, true, "", "192.0.2.10",
       Stage::default_order},
      {"the address down: still the name", true, false, "eu.cdn.example.net.", "",
       Stage::default_order},
      {"both down: fail open to the nearest, the name", false, false, "eu.cdn.example.net.", "",
       Stage::fail_open},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    spec.endpoints[0].healthy = c.name_up;
    spec.endpoints[1].healthy = c.address_up;
    const Steering steering(kSites, {}, spec);
    const Answer answer = ask(steering, &locator, "81.2.69.0/24", IpAddress::Family::v4);
    CHECK(answer.cname == c.cname);
    CHECK((answer.addresses.empty() ? std::string() : answer.addresses.front()) == c.address);
    CHECK(answer.choice.stage == c.stage);
  }
  // The fallback addresses answer nothing for a name: fallback instead.
  spec.endpoints[0].healthy = spec.endpoints[1].healthy = false;
  spec.fallback = {address_of("198.51.100.9")};
  const Answer fallback =
      ask(Steering(kSites, {}, spec), &locator, "81.2.69.0/24", IpAddress::Family::v4);
  CHECK(fallback.choice.stage == Stage::fallback);
  CHECK(fallback.addresses == std::vector<std::string>{"198.51.100.9"});
}

TEST_CASE("cname endpoints: sticky clients keep their name, by the name's hash", "[geo]") {
  ServiceSpec spec;
  spec.sticky = true;
  spec.cname_targets = {"a.cdn.example.net.", "b.cdn.example.net.", "c.cdn.example.net."};
  for (std::uint32_t i = 0; i < 3; ++i) spec.endpoints.push_back(cname_endpoint(i, kEuWest));
  const Steering steering(kSites, {}, spec);
  std::map<std::string, int> seen;
  for (int i = 0; i < 250; ++i) {
    const std::string client = "81.2." + std::to_string(i) + ".0/24";
    const Answer first = ask(steering, nullptr, client.c_str(), IpAddress::Family::v4, 1);
    const Answer again = ask(steering, nullptr, client.c_str(), IpAddress::Family::v6, 99);
    CHECK(first.cname == again.cname);
    ++seen[first.cname];
  }
  CHECK(seen.size() == 3);
  // Reordering the endpoints moves nobody: the hash is the name's.
  ServiceSpec reordered = spec;
  std::swap(reordered.cname_targets[0], reordered.cname_targets[2]);
  const Steering other(kSites, {}, reordered);
  for (int i = 0; i < 50; ++i) {
    const std::string client = "81.2." + std::to_string(i) + ".0/24";
    CHECK(ask(steering, nullptr, client.c_str(), IpAddress::Family::v4).cname ==
          ask(other, nullptr, client.c_str(), IpAddress::Family::v4).cname);
  }
}

}  // namespace
}  // namespace meridian::geo
