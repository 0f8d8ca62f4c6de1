#include "base/private_directory.hpp"

#include <sys/stat.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

using namespace meridian;

namespace {

std::string temp_dir() {
  std::string pattern = std::filesystem::temp_directory_path().string() + "/meridian-dir-XXXXXX";
  REQUIRE(::mkdtemp(pattern.data()) != nullptr);
  return pattern;
}

unsigned mode_of(const std::string& path) {
  struct stat status {};
  REQUIRE(::stat(path.c_str(), &status) == 0);
  return status.st_mode & 07777;
}

}  // namespace

TEST_CASE("private directories: missing parents are made 0700, existing ones left alone",
          "[base]") {
  const std::string root = temp_dir();
  ::chmod(root.c_str(), 0755);
  const std::string leaf = root + "/var/lib/meridian/data";
  REQUIRE(make_private_directories(leaf).ok());
  CHECK(std::filesystem::is_directory(leaf));
  CHECK(mode_of(root + "/var") == 0700);
  CHECK(mode_of(root + "/var/lib") == 0700);
  CHECK(mode_of(leaf) == 0700);
  CHECK(mode_of(root) == 0755);                // it was there: not the function's to change
  CHECK(make_private_directories(leaf).ok());  // again: nothing to do
  CHECK(make_private_directories(leaf + "/").ok());
  std::filesystem::remove_all(root);
}

TEST_CASE("private directories: errors name the path", "[base]") {
  const std::string root = temp_dir();
  std::ofstream(root + "/a-file") << "x";
  auto through_file = make_private_directories(root + "/a-file/sub");
  REQUIRE_FALSE(through_file.ok());
  CHECK_THAT(through_file.error().message, Catch::Contains(root + "/a-file"));
  auto is_file = make_private_directories(root + "/a-file");
  REQUIRE_FALSE(is_file.ok());
  CHECK_THAT(is_file.error().message, Catch::Contains("not a directory"));
  CHECK_FALSE(make_private_directories("").ok());
  std::filesystem::remove_all(root);
}
