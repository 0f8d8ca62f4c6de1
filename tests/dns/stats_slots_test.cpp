#include "dns/stats_slots.hpp"

#include <catch2/catch.hpp>

using namespace meridian::dns;

TEST_CASE("stats slots: a name keeps its slot, new names take the next ones", "[dns]") {
  StatsSlots slots(8);
  CHECK(slots.slot_of("b.test.") == 0);
  CHECK(slots.slot_of("a.test.") == 1);
  CHECK(slots.slot_of("b.test.") == 0);  // a reload that reorders changes nothing
  CHECK(slots.slot_of("c.test.") == 2);
  CHECK(slots.names() == std::vector<std::string>{"b.test.", "a.test.", "c.test."});
}

TEST_CASE("stats slots: past capacity every new name shares the last slot", "[dns]") {
  StatsSlots slots(3);
  CHECK(slots.slot_of("one") == 0);
  CHECK(slots.slot_of("two") == 1);
  CHECK(slots.slot_of("three") == 2);
  CHECK(slots.slot_of("four") == 2);
  CHECK(slots.slot_of("one") == 0);
  CHECK(slots.names() ==
        std::vector<std::string>{"one", "two", std::string(StatsSlots::kOverflowName)});
}
