#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

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

TEST_CASE("certs: keys are created 0600 under any umask, never through a symlink", "[cluster]") {
  TempDir dir;
  auto ca = create_ca({"meridian-test-ca", {}, {}, std::chrono::hours(24)});
  REQUIRE(ca.ok());
  const mode_t saved = ::umask(0);  // 0600 must come from open(), not the umask
  auto written = write_certificate(dir.path + "/fresh", "ca", *ca);
  ::umask(saved);
  REQUIRE(written.ok());
  struct stat info {};
  REQUIRE(::stat((dir.path + "/fresh/ca.key").c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0600);
  REQUIRE(::stat((dir.path + "/fresh").c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0700);  // a directory made for keys is private too

  // A symlink planted where the key goes: refused, the target untouched.
  const std::string target = dir.path + "/target";
  REQUIRE(::symlink(target.c_str(), (dir.path + "/ca.key").c_str()) == 0);
  auto planted = write_certificate(dir.path, "ca", *ca);
  REQUIRE_FALSE(planted.ok());
  CHECK_THAT(planted.error().message, Catch::Contains(dir.path + "/ca.key"));
  CHECK_FALSE(std::filesystem::exists(target));
  CHECK_FALSE(std::filesystem::exists(dir.path + "/ca.pem"));  // no certificate without its key
}

TEST_CASE("certs: a CA key readable by group or others is refused with the chmod fix",
          "[cluster]") {
  TempDir dir;
  auto ca = create_ca({"meridian-test-ca", {}, {}, std::chrono::hours(24)});
  REQUIRE(ca.ok());
  REQUIRE(write_certificate(dir.path, "ca", *ca).ok());
  REQUIRE(::chmod((dir.path + "/ca.key").c_str(), 0640) == 0);
  auto read = read_certificate(dir.path, "ca");
  REQUIRE_FALSE(read.ok());
  CHECK_THAT(read.error().message, Catch::Contains("chmod 600 " + dir.path + "/ca.key"));
}

TEST_CASE("certs: certificate_names lists the issued nodes, not the CA", "[cluster]") {
  TempDir dir;
  auto ca = create_ca({"meridian-test-ca", {}, {}, std::chrono::hours(24)});
  REQUIRE(ca.ok());
  REQUIRE(write_certificate(dir.path, "ca", *ca).ok());
  REQUIRE(write_certificate_only(dir.path, "sin-1", "CERT B").ok());
  REQUIRE(write_certificate_only(dir.path, "fra-1", "CERT A").ok());
  CHECK(write_certificate_only(dir.path, "fra-1", "CERT A").ok());  // the same again
  CHECK_FALSE(write_certificate_only(dir.path, "fra-1", "CERT C").ok());
  auto names = certificate_names(dir.path);
  REQUIRE(names.ok());
  CHECK(*names == std::vector<std::string>{"fra-1", "sin-1"});
}

TEST_CASE("certs: output directories are checked before anything is written", "[cluster]") {
  TempDir dir;
  CHECK(validate_output_directory("--dir", dir.path).ok());
  CHECK(validate_output_directory("--dir", dir.path + "/not-yet").ok());
  CHECK_FALSE(validate_output_directory("--dir", "").ok());
  CHECK_FALSE(validate_output_directory("--out", "certs\nx").ok());
  { std::ofstream(dir.path + "/file") << "x"; }
  auto file = validate_output_directory("--out", dir.path + "/file");
  REQUIRE_FALSE(file.ok());
  CHECK_THAT(file.error().message, Catch::Contains("--out") && Catch::Contains("not a directory"));
}
