#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "cluster/node_id.hpp"

using namespace meridian;
using namespace meridian::cluster;

namespace {

// node_id_of cut to 8 bits: collisions among a few hundred names are certain,
// so the check can be shown to catch one (the real 64-bit hash makes them
// too rare to find by search in a test).
NodeId tiny_id(std::string_view name) noexcept {
  return node_id_of(name) & 0xff;
}

}  // namespace

TEST_CASE("node id: two names with one id are refused, naming both", "[cluster]") {
  // Brute-force a pair of names that collide under the 8-bit id.
  std::string first, second;
  std::vector<std::string> seen;
  for (int i = 0; i < 1000 && second.empty(); ++i) {
    const std::string name = "node-" + std::to_string(i);
    for (const std::string& earlier : seen) {
      if (tiny_id(earlier) == tiny_id(name)) {
        first = earlier;
        second = name;
        break;
      }
    }
    seen.push_back(name);
  }
  REQUIRE_FALSE(second.empty());
  REQUIRE(first != second);

  auto refused = check_id_unique(second, {"other", first}, tiny_id);
  REQUIRE_FALSE(refused.ok());
  CHECK_THAT(refused.error().message, Catch::Contains("'" + first + "'") &&
                                          Catch::Contains("'" + second + "'") &&
                                          Catch::Contains("same id"));
}

TEST_CASE("node id: a name is unique among names with other ids, and against itself", "[cluster]") {
  CHECK(check_id_unique("fra-1", {"iad-1", "sin-1"}).ok());
  CHECK(check_id_unique("fra-1", {"fra-1", "iad-1"}).ok());  // the same node again
  CHECK(check_id_unique("fra-1", {}).ok());
  // The real hash keeps a cluster's worth of similar names apart.
  std::vector<std::string> names;
  for (int i = 0; i < 2000; ++i) {
    const std::string name = "n-" + std::to_string(i);
    REQUIRE(check_id_unique(name, names).ok());
    names.push_back(name);
  }
}

TEST_CASE("node id: node_id_of is the stable FNV-1a hash stored in logs", "[cluster]") {
  // Pinned values: a change here would strand every existing cluster's state.
  CHECK(node_id_of("") == 0xcbf29ce484222325ULL);
  CHECK(node_id_of("a") == 0xaf63dc4c8601ec8cULL);
  CHECK(node_id_of("fra-1") != node_id_of("fra-2"));
}
