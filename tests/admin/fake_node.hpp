#pragma once
// Test support for the admin routes: a gslb::NodeApi whose every answer the
// test sets (identity, view, DNS totals, config status and validation,
// override targets, the store), so a route is checked without a node.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "base/clock.hpp"
#include "gslb/node_api.hpp"

namespace meridian::admin::test {

class FakeNode final : public gslb::NodeApi {
 public:
  /// A node named "c1" at site "here", version "0.0.0-test", started now
  /// by `clock` (which must outlive it), outside a cluster.
  explicit FakeNode(const Clock& clock) : clock_(clock) {
    identity_.name = "c1";
    identity_.site = "here";
    identity_.version = "0.0.0-test";
    identity_.started = clock.now();
    identity_.started_ms = 1'700'000'000'000;
  }

  // What the node answers; set them before the server starts.
  gslb::NodeIdentity identity_;
  std::shared_ptr<const gslb::NodeView> view_;
  gslb::QueryTotals totals_;
  std::uint32_t tcp_connections_ = 0;
  gslb::TcpLimitStats tcp_limits_;
  std::optional<gslb::ConfigNodeStatus> config_status_;
  std::function<Result<gslb::ValidatedConfig>(const std::string&, const std::string&)> validate_;
  std::function<Result<void>(bool, const std::string&)> target_known_ =
      [](bool, const std::string&) { return Result<void>(); };
  std::function<std::variant<gslb::CurrentExplanation, gslb::ExplainError>(
      const gslb::ExplainQuery&)>
      explain_;
  store::ReplicatedStore* store_ = nullptr;

  const gslb::NodeIdentity& identity() const override { return identity_; }
  const Clock& clock() const override { return clock_; }
  std::shared_ptr<const gslb::NodeView> current_view() const override { return view_; }
  void fresh_view(std::function<void(std::shared_ptr<const gslb::NodeView>)> done) override {
    done(view_);
  }
  gslb::QueryTotals query_totals() const override { return totals_; }
  std::uint32_t tcp_connections() const override { return tcp_connections_; }
  gslb::TcpLimitStats tcp_limits() const override { return tcp_limits_; }
  std::variant<gslb::CurrentExplanation, gslb::ExplainError> explain(
      const gslb::ExplainQuery& query) const override {
    if (!explain_) {
      return gslb::ExplainError{gslb::ExplainErrorKind::starting, "the node is starting"};
    }
    return explain_(query);
  }
  std::optional<gslb::ConfigNodeStatus> config_status() const override { return config_status_; }
  Result<gslb::ValidatedConfig> validate_config(const std::string& text,
                                                const std::string& name) const override {
    if (!validate_) return fail("not in a cluster");
    return validate_(text, name);
  }
  Result<void> override_target_known(bool site, const std::string& name) const override {
    return target_known_(site, name);
  }
  store::ReplicatedStore* store() const override { return store_; }

 private:
  const Clock& clock_;
};

}  // namespace meridian::admin::test
