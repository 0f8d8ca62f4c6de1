#pragma once
// The etcd v3 JSON gateway (etcd's gRPC API as JSON over HTTP/1.1, at
// /v3/...), spoken with Boost.Beast: no new library, since the JSON gateway
// is part of every etcd server and Beast, Boost.JSON and OpenSSL are what
// the admin API already uses. Mutual TLS when the settings have a CA.
//
// - call(): one POST, one JSON answer. It goes to the endpoint that
//   answered last; an endpoint that cannot be reached (connect, TLS,
//   timeout, a malformed answer) is left for the next one, each endpoint
//   tried once per call. Every call has a deadline.
// - watch(): a long POST whose answer is a stream of JSON messages, one per
//   line, handed over as they arrive until the stream ends (the server
//   ended it, the connection broke, or stop()).
//
// Thread rule: every method runs on the io_context's one thread, where
// every callback runs too.

#include <boost/asio/io_context.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/ip_address.hpp"
#include "base/log.hpp"
#include "base/result.hpp"

namespace meridian::etcd {

struct GatewaySettings {
  /// The members' client addresses (IP literals), tried in this order first.
  std::vector<SocketAddress> endpoints;
  /// PEM text; empty CA: plain HTTP (etcd without TLS, e.g. on loopback).
  std::string ca_pem;
  std::string cert_pem;
  std::string key_pem;
  std::chrono::milliseconds request_timeout{3000};
  /// Largest answer accepted (a range over the whole prefix).
  std::size_t max_answer_bytes = std::size_t{64} << 20;
  /// Longest line of a watch stream (one message).
  std::size_t max_line_bytes = std::size_t{16} << 20;
};

/// How the endpoints fare, for the status.
struct EndpointHealth {
  SocketAddress address;
  bool reachable = true;       ///< its last call went through
  std::uint64_t failures = 0;  ///< calls it failed since start
};

class Gateway {
 public:
  using Answer = std::function<void(Result<boost::json::object>)>;
  using Line = std::function<void(std::string_view line)>;
  using Ended = std::function<void(const Error& why)>;

  /// Errors: unreadable TLS material.
  static Result<std::shared_ptr<Gateway>> create(boost::asio::io_context& io,
                                                 GatewaySettings settings, Logger& logger);

  /// POSTs `body` to `path` ("/v3/kv/range"); `done` gets the JSON answer,
  /// or the error of the last endpoint tried. An answer may itself be a
  /// gateway error ({"error": ...}): see codec.hpp gateway_error.
  void call(std::string path, boost::json::object body, Answer done);

  /// POSTs to endpoint `endpoint` (an index into the settings' endpoints)
  /// only, with no failover: a health check of that one member. Its health
  /// is updated; calls keep going to the endpoint they went to.
  void call_at(std::size_t endpoint, std::string path, boost::json::object body, Answer done);

  /// A stream that watch() started; stop() ends it (its `ended` runs).
  class Stream {
   public:
    virtual ~Stream() = default;
    virtual void stop() = 0;
    /// The endpoint the stream is connected to; nullopt until one accepted it.
    virtual std::optional<SocketAddress> endpoint() const = 0;
  };
  /// POSTs `body` to `path` and hands every line of the answer to `line`
  /// until the stream ends, then calls `ended` once. Tries the endpoints as
  /// call() does until one accepts the request.
  std::shared_ptr<Stream> watch(std::string path, boost::json::object body, Line line, Ended ended);

  /// Each endpoint's health.
  std::vector<EndpointHealth> health() const;
  /// The endpoint calls go to first.
  SocketAddress current() const;

  struct Impl;
  explicit Gateway(std::shared_ptr<Impl> impl);

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace meridian::etcd
