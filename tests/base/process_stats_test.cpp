#include "base/process_stats.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <vector>

TEST_CASE("process stats: resident memory and open descriptors of this process", "[base]") {
  const auto before = meridian::read_process_stats();
  REQUIRE(before.has_value());
  CHECK(before->resident_bytes > 0);
  CHECK(before->virtual_bytes >= before->resident_bytes);
  CHECK(before->open_fds >= 3);  // stdin, stdout, stderr at least
  // Five more descriptors are counted as five more.
  std::vector<int> opened;
  for (int i = 0; i < 5; ++i) opened.push_back(::open("/dev/null", O_RDONLY));
  const auto after = meridian::read_process_stats();
  for (const int fd : opened) ::close(fd);
  REQUIRE(after.has_value());
  CHECK(after->open_fds == before->open_fds + 5);
}
