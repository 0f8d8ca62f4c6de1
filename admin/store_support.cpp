#include "admin/store_support.hpp"

#include <boost/json/object.hpp>

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
    case StoreErrorKind::over_budget: status = 507; break;  // Insufficient Storage
    case StoreErrorKind::timeout:
      status = 504;
      body["outcome"] = "unknown";
      break;
  }
  return json_response(status, body);
}

}  // namespace meridian::admin
