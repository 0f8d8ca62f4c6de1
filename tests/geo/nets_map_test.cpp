#include <catch2/catch.hpp>

#include <fstream>

#include "base/rng.hpp"
#include "geo/nets_map.hpp"
#include "test_support.hpp"

namespace meridian::geo {
namespace {

IpNetwork net(const char* text) {
  IpNetwork network;
  REQUIRE(IpNetwork::parse(text, network));
  return network;
}

IpAddress ip(const char* text) {
  IpAddress address;
  REQUIRE(IpAddress::parse(text, address));
  return address;
}

NetsMap table_of(std::vector<std::pair<const char*, std::uint32_t>> rows, std::size_t lists = 4) {
  std::vector<NetsMap::Row> table_rows;
  std::uint32_t origin = 1;
  for (const auto& [network, list] : rows) table_rows.push_back({net(network), list, origin++});
  std::vector<SiteList> site_lists;
  for (std::uint32_t i = 0; i < lists; ++i) site_lists.push_back({i});
  auto table = NetsMap::build(site_lists, table_rows,
                              [](std::uint32_t o) { return "row " + std::to_string(o); });
  REQUIRE(table.ok());
  return std::move(*table);
}

TEST_CASE("nets_map: longest prefix wins, with the scope of the uniform range around the client",
          "[geo]") {
  const NetsMap table = table_of({{"10.0.0.0/8", 0},
                                  {"10.1.0.0/16", 1},
                                  {"10.1.2.0/24", 2},
                                  {"2001:db8::/32", 3},
                                  {"2001:db8:1::/48", 0}});
  struct Case {
    const char* address;
    std::uint32_t list;
    unsigned scope;
  };
  const Case cases[] = {
      {"10.1.2.3", 2, 24},    // the most specific row
      {"10.1.3.1", 1, 24},    // 10.1.2.0/24 is carved out of the /16: 10.1.2.0/23 is not uniform
      {"10.1.128.1", 1, 17},  // the upper half of the /16 has no hole
      {"10.200.0.1", 0, 9},   // 10.128.0.0/9 lies wholly in the /8 outside 10.1/16
      {"11.0.0.1", NetsMap::kNoList, 8},   // 11.0.0.0/8 is empty
      {"192.0.2.1", NetsMap::kNoList, 1},  // 128.0.0.0/1 holds no row
      {"2001:db8:1::5", 0, 48},
      {"2001:db8:2::5", 3, 47},
      {"2001:db9::1", NetsMap::kNoList, 32},
  };
  for (const Case& c : cases) {
    CAPTURE(c.address);
    const NetsMap::Match match = table.lookup(ip(c.address));
    CHECK(match.list == c.list);
    CHECK(match.scope_prefix_len == c.scope);
  }
}

TEST_CASE("nets_map: neighbouring networks with the same list merge into one scope", "[geo]") {
  const NetsMap table =
      table_of({{"198.51.100.0/25", 1}, {"198.51.100.128/25", 1}, {"198.51.101.0/24", 2}});
  CHECK(table.lookup(ip("198.51.100.7")).scope_prefix_len == 24);
  CHECK(table.lookup(ip("198.51.100.200")).list == 1);
  CHECK(table.lookup(ip("198.51.101.9")).scope_prefix_len == 24);
  CHECK(table.row_count() == 3);
}

TEST_CASE("nets_map: a duplicate network names both rows", "[geo]") {
  std::vector<NetsMap::Row> rows = {{net("10.0.0.0/8"), 0, 7}, {net("10.0.0.0/8"), 0, 3}};
  auto table =
      NetsMap::build({{0}}, rows, [](std::uint32_t o) { return "line " + std::to_string(o); });
  REQUIRE_FALSE(table.ok());
  CHECK(table.error().message == "duplicate network 10.0.0.0/8 (line 3 and line 7)");
}

TEST_CASE("nets_map: an empty table misses everything with scope 0", "[geo]") {
  const NetsMap table;
  CHECK(table.lookup(ip("192.0.2.1")).list == NetsMap::kNoList);
  CHECK(table.lookup(ip("192.0.2.1")).scope_prefix_len == 0);
  const NetsMap everything = table_of({{"0.0.0.0/0", 1}});
  CHECK(everything.lookup(ip("203.0.113.1")).list == 1);
  CHECK(everything.lookup(ip("203.0.113.1")).scope_prefix_len == 0);
  CHECK(everything.lookup(ip("2001:db8::1")).list == NetsMap::kNoList);
}

// Property: the compiled ranges agree with a naive longest-prefix match, and
// every address inside the reported scope gets the same list.
TEST_CASE("nets_map: agrees with a naive longest-prefix match on random tables", "[geo]") {
  for (std::uint64_t seed = 1; seed <= 30; ++seed) {
    CAPTURE(seed);
    Rng rng(seed);
    std::vector<NetsMap::Row> rows;
    for (int i = 0; i < 60; ++i) {
      IpAddress address = IpAddress::v4(10, static_cast<std::uint8_t>(rng.below(4)),
                                        static_cast<std::uint8_t>(rng.below(256)),
                                        static_cast<std::uint8_t>(rng.below(256)));
      const auto prefix_len = static_cast<std::uint8_t>(8 + rng.below(25));
      const IpNetwork network{address.masked(prefix_len), prefix_len};
      if (std::any_of(rows.begin(), rows.end(),
                      [&](const NetsMap::Row& r) { return r.network == network; })) {
        continue;
      }
      rows.push_back(
          {network, static_cast<std::uint32_t>(rng.below(3)), static_cast<std::uint32_t>(i)});
    }
    auto table = NetsMap::build({{0}, {1}, {2}}, rows, [](std::uint32_t) { return std::string(); });
    REQUIRE(table.ok());
    const auto naive = [&](const IpAddress& address) {
      std::uint32_t list = NetsMap::kNoList;
      int best = -1;
      for (const auto& row : rows) {
        if (row.network.contains(address) && row.network.prefix_len > best) {
          best = row.network.prefix_len;
          list = row.list;
        }
      }
      return list;
    };
    for (int i = 0; i < 300; ++i) {
      const IpAddress address = IpAddress::v4(10, static_cast<std::uint8_t>(rng.below(5)),
                                              static_cast<std::uint8_t>(rng.below(256)),
                                              static_cast<std::uint8_t>(rng.below(256)));
      const NetsMap::Match match = table->lookup(address);
      REQUIRE(match.list == naive(address));
      // Another address in the scope answers the same; one bit wider would not always.
      IpAddress other = address.masked(match.scope_prefix_len);
      for (unsigned bit = match.scope_prefix_len; bit < 32; ++bit) {
        if (rng.below(2)) other.bytes[bit / 8] |= static_cast<std::uint8_t>(0x80 >> (bit % 8));
      }
      REQUIRE(naive(other) == match.list);
    }
  }
}

TEST_CASE("nets_map: reads a nets file, sharing identical lists", "[geo]") {
  test::TempDir dir;
  const auto path = dir.file("nets.txt");
  std::ofstream(path) << "# prefix sites\n"
                         "10.0.0.0/8 a,b\n"
                         "\n"
                         "2001:db8::/32\tb\n"
                         "  192.0.2.0/24   a, b  \n";
  const auto site = [](std::string_view name, std::uint32_t& index) {
    if (name != "a" && name != "b") return false;
    index = name == "a" ? 0 : 1;
    return true;
  };
  NetRows rows;
  REQUIRE(read_nets_file(path, site, 100, 8, rows).ok());
  REQUIRE(rows.rows.size() == 3);
  CHECK(rows.lists.size() == 2);
  CHECK(rows.rows[0].list == rows.rows[2].list);
  CHECK(rows.lists[rows.rows[0].list] == SiteList{0, 1});
  CHECK(rows.rows[1].origin == 4);

  struct Bad {
    const char* line;
    const char* expected;
  };
  const Bad bad[] = {
      {"10.0.0.1/8 a", ":1: bad prefix '10.0.0.1/8'"},
      {"10.0.0.0/8 c", ":1: unknown site 'c'"},
      {"10.0.0.0/8 a,a", ":1: site 'a' is listed twice"},
      {"10.0.0.0/8", ":1: expected PREFIX SITE[,SITE...]"},
  };
  for (const Bad& b : bad) {
    CAPTURE(b.line);
    std::ofstream(path) << b.line << "\n";
    NetRows none;
    const auto read = read_nets_file(path, site, 100, 8, none);
    REQUIRE_FALSE(read.ok());
    CHECK_THAT(read.error().message, Catch::StartsWith(path) && Catch::Contains(b.expected));
  }
  std::ofstream(path) << "10.0.0.0/8 a\n10.0.0.0/9 a\n";
  NetRows capped;
  CHECK_THAT(read_nets_file(path, site, 1, 8, capped).error().message,
             Catch::Contains(":2: more than 1 nets"));
}

}  // namespace
}  // namespace meridian::geo
