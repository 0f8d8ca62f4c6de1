// HttpResponse helpers and the Responder (see http_server.hpp).

#include <atomic>
#include <boost/beast/core/string.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <exception>

#include "admin/http_server.hpp"
#include "base/assert.hpp"

namespace meridian::admin {

namespace {

constexpr std::string_view kDropped = "the handler did not answer";

bool header_safe(std::string_view text) {
  return text.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

/// Aborts on a response the server could not send as asked: a handler bug.
void check_response(const HttpResponse& response) {
  MERIDIAN_ASSERT(response.status >= 200 && response.status <= 599,
                  "a response status is 200..599");
  MERIDIAN_ASSERT(!(response.status == 204 || response.status == 304) || response.body.empty(),
                  "a 204 or 304 response has no body");
  MERIDIAN_ASSERT(header_safe(response.content_type), "a content type without CR, LF or NUL");
  for (const auto& [name, value] : response.headers) {
    MERIDIAN_ASSERT(
        !name.empty() && name.find_first_of(" :\t") == std::string::npos && header_safe(name),
        "a header name is a token");
    MERIDIAN_ASSERT(header_safe(value), "a header value without CR, LF or NUL");
    using boost::beast::iequals;
    MERIDIAN_ASSERT(!iequals(name, "Content-Length") && !iequals(name, "Transfer-Encoding") &&
                        !iequals(name, "Connection"),
                    "Content-Length, Transfer-Encoding and Connection are the server's");
  }
}

}  // namespace

HttpResponse json_response(unsigned status, const boost::json::value& body) {
  HttpResponse response;
  response.status = status;
  response.body = boost::json::serialize(body);
  return response;
}

HttpResponse error_response(unsigned status, std::string_view reason) {
  boost::json::object body;
  body["error"] = reason;
  return json_response(status, body);
}

struct Responder::State {
  explicit State(Deliver d) : deliver(std::move(d)) {}
  State(const State&) = delete;
  State& operator=(const State&) = delete;

  ~State() {
    if (answered.exchange(true)) return;
    // The last copy is gone unanswered: the client must not wait for the
    // response timeout to learn that nothing is coming.
    try {
      deliver(error_response(500, kDropped));
    } catch (const std::exception&) {  // out of memory: the response timeout answers
    }
  }

  Deliver deliver;
  std::atomic<bool> answered{false};
};

Responder::Responder(Deliver deliver) : state_(std::make_shared<State>(std::move(deliver))) {
  MERIDIAN_ASSERT(state_->deliver != nullptr, "a Responder needs somewhere to deliver");
}

void Responder::operator()(HttpResponse response) const {
  MERIDIAN_ASSERT(state_ != nullptr, "a moved-from Responder was called");
  check_response(response);
  if (state_->answered.exchange(true)) return;
  state_->deliver(std::move(response));
}

bool Responder::answered() const noexcept {
  return state_ != nullptr && state_->answered.load();
}

}  // namespace meridian::admin
