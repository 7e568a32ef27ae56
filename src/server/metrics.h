// Latency histograms and the Prometheus text exposition (version 0.0.4) of the server's and the
// engine's figures, for GET /metrics.
#ifndef OMNIJOURNEY_SERVER_METRICS_H_
#define OMNIJOURNEY_SERVER_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace omnijourney::server {

// Durations in seconds in fixed buckets (Prometheus' cumulative `le` buckets), lock-free.
class Histogram {
 public:
  static constexpr std::array<double, 14> kBounds = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5};
  void Observe(double seconds);
  // Appends the histogram's lines (its _bucket, _sum and _count series) with `labels` ("a=\"b\"").
  void Write(const std::string& name, const std::string& labels, std::string* out) const;

 private:
  std::array<std::atomic<int64_t>, kBounds.size() + 1> counts_{};  // The last: above every bound.
  std::atomic<int64_t> sum_micros_{0};
};

// The label value escaped as the exposition format asks (backslash, quote, newline).
std::string LabelValue(const std::string& value);

}  // namespace omnijourney::server

#endif  // OMNIJOURNEY_SERVER_METRICS_H_
