#include "admin/prometheus.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

using namespace meridian::admin;

TEST_CASE("prometheus: families, samples and escaped labels in the text format", "[admin]") {
  PrometheusWriter out;
  out.family("meridian_dns_queries_total", MetricType::counter,
             "DNS queries\nreceived, by \\ type.");
  out.sample("meridian_dns_queries_total", {{"qtype", "A"}, {"zone", "example.com."}}, 1234);
  out.sample("meridian_dns_queries_total", {{"qtype", "odd\"one\\\n"}}, 0.5);
  out.family("meridian_up", MetricType::gauge, "Always 1.");
  out.sample("meridian_up", {}, 1);
  CHECK(std::move(out).text() ==
        "# HELP meridian_dns_queries_total DNS queries\\nreceived, by \\\\ type.\n"
        "# TYPE meridian_dns_queries_total counter\n"
        "meridian_dns_queries_total{qtype=\"A\",zone=\"example.com.\"} 1234\n"
        "meridian_dns_queries_total{qtype=\"odd\\\"one\\\\\\n\"} 0.5\n"
        "# HELP meridian_up Always 1.\n"
        "# TYPE meridian_up gauge\n"
        "meridian_up 1\n");
}

TEST_CASE("prometheus: histograms are cumulative with +Inf, _sum and _count", "[admin]") {
  PrometheusWriter out;
  out.family("meridian_probe_seconds", MetricType::histogram, "Probe latency.");
  const double bounds[] = {0.005, 0.05, 0.5};
  const std::uint64_t counts[] = {3, 0, 2, 1};
  out.histogram("meridian_probe_seconds", {{"check", "web"}}, bounds, counts, 1.25);
  CHECK(std::move(out).text() ==
        "# HELP meridian_probe_seconds Probe latency.\n"
        "# TYPE meridian_probe_seconds histogram\n"
        "meridian_probe_seconds_bucket{check=\"web\",le=\"0.005\"} 3\n"
        "meridian_probe_seconds_bucket{check=\"web\",le=\"0.05\"} 3\n"
        "meridian_probe_seconds_bucket{check=\"web\",le=\"0.5\"} 5\n"
        "meridian_probe_seconds_bucket{check=\"web\",le=\"+Inf\"} 6\n"
        "meridian_probe_seconds_sum{check=\"web\"} 1.25\n"
        "meridian_probe_seconds_count{check=\"web\"} 6\n");
}

TEST_CASE("prometheus: values", "[admin]") {
  CHECK(format_metric_value(0) == "0");
  CHECK(format_metric_value(-3) == "-3");
  CHECK(format_metric_value(18446744073709.0) == "18446744073709");
  CHECK(format_metric_value(0.25) == "0.25");
  CHECK(format_metric_value(1e20) == "1e+20");
  CHECK(format_metric_value(std::numeric_limits<double>::infinity()) == "+Inf");
  CHECK(format_metric_value(-std::numeric_limits<double>::infinity()) == "-Inf");
  CHECK(format_metric_value(std::nan("")) == "NaN");
  CHECK(escape_label_value("plain") == "plain");
}
