#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "base/secret_file.hpp"

using namespace meridian;

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char pattern[] = "/tmp/meridian-secret-XXXXXX";
    REQUIRE(::mkdtemp(pattern) != nullptr);
    path = pattern;
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

// A plain file as a script or an editor would leave it, then chmod'ed.
void write_plain(const std::string& path, const std::string& content, mode_t mode) {
  std::ofstream(path, std::ios::binary) << content;
  REQUIRE(::chmod(path.c_str(), mode) == 0);
}

mode_t mode_of(const std::string& path) {
  struct stat info {};
  REQUIRE(::lstat(path.c_str(), &info) == 0);
  return info.st_mode & 07777;
}

// Sets a permissive umask for one test, so 0600 must come from open() itself.
struct OpenUmask {
  mode_t saved = ::umask(0);
  ~OpenUmask() { ::umask(saved); }
};

}  // namespace

TEST_CASE("secret file: written with mode 0600 even under umask 0, and read back", "[base]") {
  TempDir dir;
  OpenUmask umask_zero;
  const std::string path = dir.path + "/node.key";
  REQUIRE(write_secret_file(path, "-----BEGIN PRIVATE KEY-----\n").ok());
  CHECK(mode_of(path) == 0600);
  auto read = read_secret_file(path);
  REQUIRE(read.ok());
  CHECK(*read == "-----BEGIN PRIVATE KEY-----\n");
}

TEST_CASE("secret file: an existing file is never overwritten, and the error names it", "[base]") {
  TempDir dir;
  const std::string path = dir.path + "/ca.key";
  write_plain(path, "old key", 0600);
  auto again = write_secret_file(path, "new key");
  REQUIRE_FALSE(again.ok());
  CHECK_THAT(again.error().message, Catch::Contains(path) && Catch::Contains("not overwriting"));
  CHECK(*read_secret_file(path) == "old key");
}

TEST_CASE("secret file: a symlink at the path is not followed, dangling or not", "[base]") {
  TempDir dir;
  const std::string target = dir.path + "/elsewhere";
  const std::string link = dir.path + "/node.key";
  REQUIRE(::symlink(target.c_str(), link.c_str()) == 0);
  auto dangling = write_secret_file(link, "secret");
  REQUIRE_FALSE(dangling.ok());
  CHECK_THAT(dangling.error().message, Catch::Contains(link));
  CHECK_FALSE(std::filesystem::exists(target));  // nothing created through the link

  write_plain(target, "victim", 0644);
  CHECK_FALSE(write_secret_file(link, "secret").ok());
  std::ifstream in(target);
  std::string content;
  std::getline(in, content);
  CHECK(content == "victim");
}

TEST_CASE("secret file: a file open to group or others is refused with the chmod fix", "[base]") {
  TempDir dir;
  const std::string path = dir.path + "/admin.token";
  for (const mode_t mode : {0644, 0640, 0604, 0620, 0601, 0660}) {
    CAPTURE(mode);
    write_plain(path, "token\n", mode);
    auto read = read_secret_file(path);
    REQUIRE_FALSE(read.ok());
    CHECK_THAT(read.error().message, Catch::Contains(path) && Catch::Contains("chmod 600 " + path));
  }
  write_plain(path, "token\n", 0600);
  CHECK(read_secret_file(path).ok());
  write_plain(path, "token\n", 0400);
  CHECK(read_secret_file(path).ok());
}

TEST_CASE("secret file: the size cap is checked at its edge", "[base]") {
  TempDir dir;
  const std::string path = dir.path + "/big.key";
  write_plain(path, std::string(kMaxSecretFileBytes, 'k'), 0600);
  auto at_cap = read_secret_file(path);
  REQUIRE(at_cap.ok());
  CHECK(at_cap->size() == kMaxSecretFileBytes);

  write_plain(path, std::string(kMaxSecretFileBytes + 1, 'k'), 0600);
  auto over = read_secret_file(path);
  REQUIRE_FALSE(over.ok());
  CHECK_THAT(over.error().message, Catch::Contains(path) && Catch::Contains("larger than"));

  write_plain(path, "12345", 0600);
  CHECK(read_secret_file(path, 5).ok());
  CHECK_FALSE(read_secret_file(path, 4).ok());
}

TEST_CASE("secret file: a missing file or a directory is an error naming the path", "[base]") {
  TempDir dir;
  auto missing = read_secret_file(dir.path + "/none");
  REQUIRE_FALSE(missing.ok());
  CHECK_THAT(missing.error().message, Catch::Contains(dir.path + "/none"));
  REQUIRE(::chmod(dir.path.c_str(), 0700) == 0);
  auto directory = read_secret_file(dir.path);
  REQUIRE_FALSE(directory.ok());
  CHECK_THAT(directory.error().message, Catch::Contains("not a regular file"));
}
