#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "cluster/certs.hpp"

using namespace meridian;
using namespace meridian::cluster;

namespace {

std::string run(const std::string& command) {
  std::string output;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buffer[512];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
  ::pclose(pipe);
  return output;
}

struct TempDir {
  std::string path;
  TempDir() {
    char pattern[] = "/tmp/meridian-certs-XXXXXX";
    REQUIRE(::mkdtemp(pattern) != nullptr);
    path = pattern;
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

}  // namespace

TEST_CASE("certs: a node certificate verifies against its CA and carries its names", "[cluster]") {
  TempDir dir;
  auto ca = create_ca({"meridian-test-ca", {}, {}, std::chrono::hours(24)});
  REQUIRE(ca.ok());
  REQUIRE(write_certificate(dir.path, "ca", *ca).ok());
  CertificateRequest node{"fra-1",
                          {"fra-1", "fra-1.cluster.test"},
                          {IpAddress::v4(127, 0, 0, 1)},
                          std::chrono::hours(24)};
  auto issued = issue_node_certificate(*ca, node);
  REQUIRE(issued.ok());
  REQUIRE(write_certificate(dir.path, "fra-1", *issued).ok());

  const std::string verify =
      run("openssl verify -CAfile " + dir.path + "/ca.pem " + dir.path + "/fra-1.pem");
  CHECK_THAT(verify, Catch::Contains("fra-1.pem: OK"));
  const std::string text = run("openssl x509 -noout -text -in " + dir.path + "/fra-1.pem");
  CHECK_THAT(text, Catch::Contains("DNS:fra-1.cluster.test"));
  CHECK_THAT(text, Catch::Contains("IP Address:127.0.0.1"));
  CHECK_THAT(text, Catch::Contains("TLS Web Server Authentication, TLS Web Client Authentication"));
  CHECK_THAT(text, Catch::Contains("CA:FALSE"));

  struct stat info {};
  REQUIRE(::stat((dir.path + "/fra-1.key").c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0600);

  auto read = read_certificate(dir.path, "fra-1");
  REQUIRE(read.ok());
  CHECK(read->certificate_pem == issued->certificate_pem);
}

TEST_CASE("certs: another CA's certificate does not verify, keys are never overwritten",
          "[cluster]") {
  TempDir dir;
  auto ca = create_ca({"one", {}, {}, std::chrono::hours(24)});
  auto other = create_ca({"two", {}, {}, std::chrono::hours(24)});
  REQUIRE(ca.ok());
  REQUIRE(other.ok());
  auto issued = issue_node_certificate(*other, {"x", {"x"}, {}, std::chrono::hours(24)});
  REQUIRE(issued.ok());
  REQUIRE(write_certificate(dir.path, "ca", *ca).ok());
  REQUIRE(write_certificate(dir.path, "x", *issued).ok());
  CHECK_THAT(run("openssl verify -CAfile " + dir.path + "/ca.pem " + dir.path + "/x.pem"),
             !Catch::Contains("x.pem: OK"));
  auto again = write_certificate(dir.path, "x", *issued);
  REQUIRE_FALSE(again.ok());
  CHECK_THAT(again.error().message, Catch::Contains("not overwriting"));
  IssuedCertificate mismatched{ca->certificate_pem, other->key_pem};
  CHECK_FALSE(issue_node_certificate(mismatched, {"y", {}, {}, std::chrono::hours(1)}).ok());
}
