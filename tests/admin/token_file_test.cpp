// The admin token as its file holds it (admin/token_file.hpp).

#include "admin/token_file.hpp"

#include <catch2/catch.hpp>

using namespace meridian::admin;

TEST_CASE("token file: the line end an editor leaves is not part of the token",
          "[admin][token_file]") {
  CHECK(trim_token("s3cret\n") == "s3cret");
  CHECK(trim_token("s3cret\r\n") == "s3cret");
  CHECK(trim_token("s3cret \n\n") == "s3cret");
  CHECK(trim_token(" s3cret") == " s3cret");  // only the end is trimmed
  CHECK(trim_token("\n").empty());
  CHECK(token_from_file_text("s3cret\n", "/etc/meridian/admin.token").value() == "s3cret");
  auto empty = token_from_file_text(" \r\n", "/etc/meridian/admin.token");
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.error().message ==
        "/etc/meridian/admin.token is empty (it should hold the admin token)");
}
