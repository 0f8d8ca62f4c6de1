// Config version records in the replicated state (gslb/config_versions.hpp).

#include "gslb/config_versions.hpp"

#include <catch2/catch.hpp>

using namespace meridian::gslb;

namespace {

ConfigVersion sample() {
  ConfigVersion version;
  version.number = 42;
  version.time_ms = 1'700'000'000'123;
  version.fingerprint = "0123456789abcdef";
  version.previous = 40;
  version.author = "alice@ops";
  version.comment = "new endpoint in eu-west";
  version.text = "sites:\n  a: { lat: 1, lon: 2 }\n\trecords: [\"x\tIN TXT y\"]\n";
  return version;
}

}  // namespace

TEST_CASE("config version: keys sort by number and parse back", "[cluster][config_version]") {
  CHECK(config_version_key(42) == "_config/version/0000000000000042");
  CHECK(config_version_key(9) < config_version_key(10));
  CHECK(config_version_key(99) < config_version_key(100));
  CHECK(parse_config_version_key(config_version_key(42)) == 42u);
  CHECK(parse_config_version_key(config_version_key(18'446'744'073'709'551'615ull)) ==
        std::nullopt);  // 20 digits
  CHECK(parse_config_version_key(config_version_key(9'999'999'999'999'999ull)) ==
        9'999'999'999'999'999ull);
  CHECK_FALSE(parse_config_version_key("_config/version/42"));
  CHECK_FALSE(parse_config_version_key("_config/version/0000000000000000"));
  CHECK_FALSE(parse_config_version_key("_config/version/00000000000000x2"));
  CHECK_FALSE(parse_config_version_key("_config/current"));
}

TEST_CASE("config version: the current number", "[cluster][config_version]") {
  CHECK(encode_config_number(7) == "7");
  CHECK(decode_config_number("7") == 7u);
  CHECK(decode_config_number(encode_config_number(123456789)) == 123456789u);
  CHECK_FALSE(decode_config_number(""));
  CHECK_FALSE(decode_config_number("0"));
  CHECK_FALSE(decode_config_number("7 "));
  CHECK_FALSE(decode_config_number("-1"));
  CHECK_FALSE(decode_config_number("99999999999999999999999"));
}

TEST_CASE("config version: a record round-trips, text untouched", "[cluster][config_version]") {
  const ConfigVersion version = sample();
  const std::string encoded = encode_config_version(version);
  CHECK(encoded.starts_with(
      "v1\t42\t1700000000123\t0123456789abcdef\t40\t0\talice@ops\tnew endpoint in eu-west\n"));
  CHECK(encoded.ends_with(version.text));
  auto decoded = decode_config_version(encoded);
  REQUIRE(decoded.ok());
  CHECK(*decoded == version);

  ConfigVersion rollback = version;
  rollback.rollback_of = 3;
  rollback.author = "";
  rollback.comment = "";
  rollback.text = "";
  auto again = decode_config_version(encode_config_version(rollback));
  REQUIRE(again.ok());
  CHECK(*again == rollback);
}

TEST_CASE("config version: what a client may not set", "[cluster][config_version]") {
  CHECK(validate_config_version(sample()).ok());
  ConfigVersion version = sample();
  version.author = "tab\there";
  CHECK_THAT(validate_config_version(version).error().message, Catch::Contains("author"));
  version = sample();
  version.comment = "two\nlines";
  CHECK_THAT(validate_config_version(version).error().message, Catch::Contains("comment"));
  version = sample();
  version.comment = std::string(257, 'c');
  CHECK_FALSE(validate_config_version(version).ok());
  version = sample();
  version.fingerprint = "0123456789ABCDEF";
  CHECK_FALSE(validate_config_version(version).ok());
  version = sample();
  version.number = 0;
  version.previous = 0;
  CHECK_FALSE(validate_config_version(version).ok());
  version = sample();
  version.previous = 42;  // must precede it: the history is a chain backwards
  CHECK_THAT(validate_config_version(version).error().message, Catch::Contains("follow"));
  // The text limit, at its edge.
  version = sample();
  version.text = std::string(kMaxConfigTextBytes, 'x');
  CHECK(validate_config_version(version).ok());
  version.text += 'x';
  CHECK_THAT(validate_config_version(version).error().message,
             Catch::Contains("more than the limit"));
}

TEST_CASE("config version: damaged records are refused", "[cluster][config_version]") {
  const std::string good = encode_config_version(sample());
  CHECK_THAT(decode_config_version("no header line").error().message, Catch::Contains("no header"));
  CHECK_THAT(decode_config_version("v2" + good.substr(2)).error().message,
             Catch::Contains("unknown format 'v2'"));
  CHECK(decode_config_version("v1\t42\t1\t0123456789abcdef\t0\t0\ta\tc\n").ok());
  CHECK_THAT(decode_config_version("v1\t42\t1\t0123456789abcdef\t0\talice\n").error().message,
             Catch::Contains("malformed header"));
  CHECK_THAT(decode_config_version("v1\tx\t1\t0123456789abcdef\t0\t0\ta\tc\n").error().message,
             Catch::Contains("malformed header"));
  CHECK_THAT(decode_config_version("v1\t42\t1\t0123456789abcdef\t-1\t0\ta\tc\n").error().message,
             Catch::Contains("malformed header"));
  CHECK_THAT(decode_config_version("v1\t42\t1\tnothex\t0\t0\ta\tc\n").error().message,
             Catch::Contains("fingerprint"));
  CHECK_THAT(decode_config_version("v1\t0\t1\t0123456789abcdef\t0\t0\ta\tc\n").error().message,
             Catch::Contains("numbered from 1"));
  CHECK_THAT(decode_config_version("v1\t42\t1\t0123456789abcdef\t0\t0\ta\tc\x01\n").error().message,
             Catch::Contains("comment"));
}

TEST_CASE("config version: the history is the chain back from the current version",
          "[cluster][config_version]") {
  std::map<std::uint64_t, ConfigVersion> versions;
  auto add = [&](std::uint64_t number, std::uint64_t previous) {
    ConfigVersion version = sample();
    version.number = number;
    version.previous = previous;
    versions[number] = version;
  };
  add(1, 0);
  add(2, 1);
  add(3, 1);  // a stray: an apply that read 1, claimed 3 and lost the race to 2
  add(4, 2);
  add(6, 4);  // 5 was a stray, deleted
  add(7, 6);  // in flight: not current yet
  auto numbers = [](const std::vector<const ConfigVersion*>& chain) {
    std::vector<std::uint64_t> out;
    for (const ConfigVersion* version : chain) out.push_back(version->number);
    return out;
  };
  CHECK(numbers(config_history(versions, 6, 100)) == std::vector<std::uint64_t>{6, 4, 2, 1});
  CHECK(numbers(config_history(versions, 6, 2)) == std::vector<std::uint64_t>{6, 4});
  CHECK(numbers(config_history(versions, 3, 100)) == std::vector<std::uint64_t>{3, 1});
  CHECK(config_history(versions, 0, 100).empty());
  CHECK(config_history(versions, 5, 100).empty());  // the current record is missing
  versions.erase(2);                                // trimmed: the chain ends there
  CHECK(numbers(config_history(versions, 6, 100)) == std::vector<std::uint64_t>{6, 4});
}

TEST_CASE("config version: as the API shows it, secrets redacted, the record's header kept",
          "[cluster][config_version]") {
  ConfigVersion version = sample();
  version.text =
      "checks:\n"
      "  api: { type: http, headers: { Authorization: 'Bearer s3cret', X-Probe: m } }\n";
  const std::string redacted =
      "checks:\n"
      "  api: { type: http, headers: { Authorization: '<redacted>', X-Probe: m } }\n";

  const ConfigVersion shown = shown_config_version(version);
  CHECK(shown.text == redacted);
  ConfigVersion rest = shown;
  rest.text = version.text;
  CHECK(rest == version);  // nothing else changes: number, fingerprint, author, ...

  // A raw read of the record: the same header line, the redacted text.
  const std::string stored = encode_config_version(version);
  const std::string raw = shown_store_value(config_version_key(42), stored);
  CHECK(raw.find("s3cret") == std::string::npos);
  CHECK(raw == stored.substr(0, stored.find('\n') + 1) + redacted);
  // Under the prefix, a value that is no record may hold anything: withheld.
  CHECK(shown_store_value("_config/version/junk", "Authorization: Bearer s3cret") == "<redacted>");
  CHECK(shown_store_value(config_version_key(7), "v9\tfuture format\nsecret") == "<redacted>");
  // Every other key as it is, the current version's number included.
  CHECK(shown_store_value("_config/current", "42") == "42");
  CHECK(shown_store_value("note", "Authorization: Bearer x") == "Authorization: Bearer x");
  // A record without secrets comes back byte for byte.
  ConfigVersion no_secrets = sample();
  no_secrets.text = "sites:\n  a: { lat: 1, lon: 2 }  # comment\n";
  const std::string plain = encode_config_version(no_secrets);
  CHECK(shown_store_value(config_version_key(42), plain) == plain);
  // A text that is not YAML (sample()'s has a tab for indentation) cannot
  // be searched for secrets: withheld.
  CHECK(shown_config_version(sample()).text == "<redacted>");
}
