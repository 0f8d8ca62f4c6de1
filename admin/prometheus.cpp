#include "admin/prometheus.hpp"

#include <cmath>
#include <cstdio>

#include "base/assert.hpp"

namespace meridian::admin {

namespace {

bool valid_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

const char* type_name(MetricType type) {
  switch (type) {
    case MetricType::counter: return "counter";
    case MetricType::gauge: return "gauge";
    case MetricType::histogram: return "histogram";
  }
  return "untyped";
}

}  // namespace

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string format_metric_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[40];
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    std::snprintf(buffer, sizeof buffer, "%.0f", value);
  } else {
    std::snprintf(buffer, sizeof buffer, "%.9g", value);
  }
  return buffer;
}

void PrometheusWriter::family(std::string_view name, MetricType type, std::string_view help) {
  MERIDIAN_ASSERT(valid_name(name), "a metric name");
  std::string escaped;
  for (const char c : help) {
    if (c == '\\') {
      escaped += "\\\\";
    } else if (c == '\n') {
      escaped += "\\n";
    } else {
      escaped += c;
    }
  }
  out_ += "# HELP " + std::string(name) + " " + escaped + "\n";
  out_ += "# TYPE " + std::string(name) + " " + type_name(type) + "\n";
}

void PrometheusWriter::labels(const MetricLabels& labels, std::string_view extra_name,
                              std::string_view extra_value) {
  if (labels.empty() && extra_name.empty()) return;
  out_ += '{';
  bool first = true;
  const auto one = [&](std::string_view name, std::string_view value) {
    MERIDIAN_ASSERT(valid_name(name), "a label name");
    if (!first) out_ += ',';
    first = false;
    out_ += name;
    out_ += "=\"";
    out_ += escape_label_value(value);
    out_ += '"';
  };
  for (const auto& [name, value] : labels) one(name, value);
  if (!extra_name.empty()) one(extra_name, extra_value);
  out_ += '}';
}

void PrometheusWriter::sample(std::string_view name, const MetricLabels& labels_of_sample,
                              double value) {
  MERIDIAN_ASSERT(valid_name(name), "a metric name");
  out_ += name;
  labels(labels_of_sample);
  out_ += ' ';
  out_ += format_metric_value(value);
  out_ += '\n';
}

void PrometheusWriter::histogram(std::string_view name, const MetricLabels& labels_of_sample,
                                 std::span<const double> bounds,
                                 std::span<const std::uint64_t> counts, double sum) {
  MERIDIAN_ASSERT(counts.size() == bounds.size() + 1,
                  "one count per bucket and one above the last bound");
  const std::string bucket = std::string(name) + "_bucket";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i <= bounds.size(); ++i) {
    cumulative += counts[i];
    out_ += bucket;
    labels(labels_of_sample, "le", i < bounds.size() ? format_metric_value(bounds[i]) : "+Inf");
    out_ += ' ' + format_metric_value(static_cast<double>(cumulative)) + '\n';
  }
  sample(std::string(name) + "_sum", labels_of_sample, sum);
  sample(std::string(name) + "_count", labels_of_sample, static_cast<double>(cumulative));
}

}  // namespace meridian::admin
