#include "admin/store_support.hpp"

#include <boost/json/parse.hpp>
#include <chrono>

namespace meridian::admin {

namespace json = boost::json;
using store::StoreErrorKind;

HttpResponse store_error_response(const store::StoreError& error) {
  json::object body{{"error", error.message}};
  unsigned status = 409;
  switch (error.kind) {
    case StoreErrorKind::invalid: status = 400; break;
    case StoreErrorKind::conflict: status = 409; break;
    case StoreErrorKind::not_leader:
      status = 421;
      if (error.leader) body["leader"] = *error.leader;
      if (!error.leader_admin.empty()) body["leader_admin"] = error.leader_admin;
      break;
    case StoreErrorKind::unavailable: status = 503; break;
    case StoreErrorKind::timeout:
      status = 504;
      body["outcome"] = "unknown";
      break;
  }
  return json_response(status, body);
}

Result<json::object> object_body(const HttpRequest& request) {
  boost::system::error_code error;
  json::value value = json::parse(request.body, error);
  if (error) return fail("the body is not JSON: ", error.message());
  if (!value.is_object()) return fail("the body must be a JSON object");
  return value.as_object();
}

Result<store::ReadMode> read_mode(const HttpRequest& request) {
  auto it = request.query.find("consistency");
  if (it == request.query.end() || it->second == "linearizable") return store::ReadMode::linearizable;
  if (it->second == "local") return store::ReadMode::local;
  return fail("consistency must be linearizable or local");
}

std::uint64_t wall_ms() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

}  // namespace meridian::admin
