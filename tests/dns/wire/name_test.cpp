#include <catch2/catch.hpp>

#include "dns/wire/name.hpp"

using meridian::dns::Name;

namespace {
Name name(const char* text) {
  Name n;
  REQUIRE(Name::from_text(text, n));
  return n;
}
}  // namespace

TEST_CASE("name: text round trip keeps case and escapes", "[dns_wire]") {
  CHECK(name("www.Example.COM.").to_text() == "www.Example.COM.");
  CHECK(name(".").to_text() == ".");
  CHECK(name("a\\.b.example.").label_count() == 2);
  CHECK(name("a\\.b.example.").to_text() == "a\\.b.example.");
  CHECK(name("\\065bc.").to_text() == "Abc.");
  CHECK(name("x\\032y.").to_text() == "x\\032y.");
}

TEST_CASE("name: relative names complete with the origin", "[dns_wire]") {
  const Name origin = name("example.com.");
  Name n;
  REQUIRE(Name::from_text("www", n, &origin));
  CHECK(n.to_text() == "www.example.com.");
  REQUIRE(Name::from_text("@", n, &origin));
  CHECK(n.equals(origin));
  CHECK_FALSE(Name::from_text("www", n));  // relative without origin
}

TEST_CASE("name: length limits are enforced", "[dns_wire]") {
  Name n;
  CHECK(Name::from_text(std::string(63, 'a') + ".", n));
  CHECK_FALSE(Name::from_text(std::string(64, 'a') + ".", n));
  CHECK_FALSE(Name::from_text("a..b.", n));
  CHECK_FALSE(Name::from_text("", n));
  // 4 labels of 63 = 4*64 + 1 = 257 bytes: too long; 3 labels of 63 + one of 61 = 255: fits.
  const std::string l63(63, 'x');
  CHECK_FALSE(Name::from_text(l63 + "." + l63 + "." + l63 + "." + l63 + ".", n));
  CHECK(Name::from_text(l63 + "." + l63 + "." + l63 + "." + std::string(61, 'y') + ".", n));
  CHECK(n.wire_length() == 255);
  CHECK_FALSE(Name::from_text(l63 + "." + l63 + "." + l63 + "." + std::string(62, 'y') + ".", n));
}

TEST_CASE("name: comparisons are case-insensitive and label-aligned", "[dns_wire]") {
  CHECK(name("WWW.example.com.").equals(name("www.EXAMPLE.com.")));
  CHECK_FALSE(name("www.example.com.").equals(name("ww.example.com.")));
  CHECK(name("a.b.Example.com.").is_subdomain_of(name("example.COM.")));
  CHECK(name("example.com.").is_subdomain_of(name("example.com.")));
  CHECK_FALSE(name("badexample.com.").is_subdomain_of(name("example.com.")));
  CHECK(name("x.").is_subdomain_of(name(".")));
}

TEST_CASE("name: parent, suffix, prepend and wildcard", "[dns_wire]") {
  const Name n = name("a.b.c.");
  CHECK(n.parent().to_text() == "b.c.");
  CHECK(n.suffix(1).to_text() == "c.");
  CHECK(n.suffix(0).is_root());
  Name w;
  REQUIRE(n.prepend("*", w));
  CHECK(w.to_text() == "*.a.b.c.");
  CHECK(w.is_wildcard());
  CHECK_FALSE(n.is_wildcard());
  CHECK(name("A.b.").lowercase_key() == std::string("\1a\1b\0", 5));
}

TEST_CASE("name: from_wire accepts only one exact uncompressed name", "[dns_wire]") {
  Name n;
  const std::uint8_t good[] = {3, 'w', 'w', 'w', 0};
  CHECK(Name::from_wire(good, n));
  CHECK(n.to_text() == "www.");
  const std::uint8_t trailing[] = {1, 'a', 0, 0};
  CHECK_FALSE(Name::from_wire(trailing, n));
  const std::uint8_t pointer[] = {0xC0, 0x0C};
  CHECK_FALSE(Name::from_wire(pointer, n));
  const std::uint8_t short_label[] = {5, 'a', 0};
  CHECK_FALSE(Name::from_wire(short_label, n));
}
