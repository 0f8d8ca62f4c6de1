#pragma once
// Shared by the main/ tests: a small valid config to mutate, and helpers to
// load text and to write scratch files.

#include <unistd.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "config/config.hpp"

namespace meridian::test {

// Line numbers matter: error tests assert exact positions in this text.
inline const std::string kBaseConfig = R"(node: { id: n1, site: eu-west }
sites:
  us-west: { lat: 47.61, lon: -122.33 }
  eu-west: { lat: 51.51, lon: -0.13 }
zones:
  - origin: example.test.
    soa: { mname: ns1, rname: hostmaster }
    ns: [ns1]
    records:
      - "ns1 IN A 192.0.2.1"
      - "mail IN A 192.0.2.2"
    services:
      www:
        endpoints:
          - { address: 192.0.2.10, site: us-west }
          - { address: [192.0.2.20, "2001:db8::20"], site: eu-west }
)";

// kBaseConfig's shape with health checks: checks after the zones that name
// them, every kind of endpoint check, and overrides. Line numbers matter too.
inline const std::string kHealthConfig = R"(node: { id: n1, site: eu-west }
sites:
  us-west: { lat: 47.61, lon: -122.33 }
  eu-west: { lat: 51.51, lon: -0.13 }
health: { unknown: up }
overrides:
  - { site: us-west, state: drain }
  - { endpoint: 192.0.2.20, state: up }
zones:
  - origin: example.test.
    soa: { mname: ns1, rname: hostmaster }
    ns: [ns1]
    records: ["ns1 IN A 192.0.2.1"]
    services:
      www:
        ttl: 30
        check: web
        endpoints:
          - { address: 192.0.2.10, site: us-west }
          - { address: [192.0.2.20, "2001:db8::20"], site: eu-west, check: none }
          - { address: 192.0.2.30, site: eu-west, check: { use: web, port: 8080 } }
checks:
  web: { type: http, path: /healthz }
  db: { type: tcp, port: 5432 }
  resolver: { type: dns, query: { name: example.test. } }
  secure: { type: https, tls: { verify: false } }
)";

/// kBaseConfig with the first `from` replaced by `to` (which must exist).
inline std::string with(const std::string& from, const std::string& to,
                        std::string text = kBaseConfig) {
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

/// kBaseConfig with a node of a three-member cluster (its `cluster:` and
/// `admin:` sections), then `from` replaced by `to` when given.
inline std::string cluster_config(const std::string& from = "", const std::string& to = "") {
  const std::string node = R"(node: { id: n1, site: eu-west, data_dir: /var/lib/meridian }
admin: { listen: "127.0.0.1:8401" }
cluster:
  listen: "127.0.0.1:7401"
  peers:
    - { id: n1, address: "127.0.0.1:7401" }
    - { id: n2, address: "127.0.0.1:7402" }
    - { id: n3, address: "[::1]:7403" }
  tls: { ca: certs/ca.pem, cert: certs/n1.pem, key: certs/n1.key }
  election_timeout: 1500ms)";
  std::string text = with("node: { id: n1, site: eu-west }", node);
  if (!from.empty()) text = with(from, to, text);
  return text;
}

inline Result<Config> parse(const std::string& text, const std::string& base_dir = "") {
  return parse_config(text, "test.yaml", base_dir);
}

/// The error message of a load that must fail.
inline std::string errors_of(const std::string& text, const std::string& base_dir = "") {
  auto config = parse(text, base_dir);
  REQUIRE_FALSE(config.ok());
  return config.error().message;
}

/// A fresh directory under the system temp dir, removed on destruction.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& name)
      : path_(std::filesystem::temp_directory_path() /
              ("meridian-" + name + "-" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string path() const { return path_.string(); }
  std::string write(const std::string& name, const std::string& content) const {
    const auto file = path_ / name;
    std::ofstream(file) << content;
    return file.string();
  }

 private:
  std::filesystem::path path_;
};

}  // namespace meridian::test
