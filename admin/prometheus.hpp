#pragma once
// Writes the Prometheus text exposition format (version 0.0.4), the body
// of GET /metrics: families with # HELP and # TYPE, samples with escaped
// labels, and histograms with cumulative buckets, _sum and _count.
//
//   PrometheusWriter out;
//   out.family("meridian_dns_queries_total", MetricType::counter, "DNS queries received.");
//   out.sample("meridian_dns_queries_total", {{"qtype", "A"}}, 1234);
//   std::string body = std::move(out).text();
//
// Names and label names must match [a-zA-Z_:][a-zA-Z0-9_:]* (a bug to
// break: callers pass constants); label values may be any text.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace meridian::admin {

enum class MetricType { counter, gauge, histogram };

using MetricLabels = std::vector<std::pair<std::string_view, std::string>>;

/// The content type of the format.
inline constexpr std::string_view kPrometheusContentType =
    "text/plain; version=0.0.4; charset=utf-8";

class PrometheusWriter {
 public:
  /// Starts a family; its samples follow. Each name once per exposition.
  void family(std::string_view name, MetricType type, std::string_view help);
  /// One sample of the current family (a counter or gauge).
  void sample(std::string_view name, const MetricLabels& labels, double value);
  /// One histogram of the current family: `counts[i]` observations in
  /// (bounds[i-1], bounds[i]], the last count above the last bound
  /// (counts.size() == bounds.size() + 1); written cumulatively with
  /// le="+Inf", _sum and _count.
  void histogram(std::string_view name, const MetricLabels& labels, std::span<const double> bounds,
                 std::span<const std::uint64_t> counts, double sum);

  std::string text() && { return std::move(out_); }

 private:
  void labels(const MetricLabels& labels, std::string_view extra_name = {},
              std::string_view extra_value = {});
  std::string out_;
};

/// A label value escaped as the format requires (\\, \", \n).
std::string escape_label_value(std::string_view value);
/// A number as the format writes it: integers without a fraction, NaN, +Inf, -Inf.
std::string format_metric_value(double value);

}  // namespace meridian::admin
