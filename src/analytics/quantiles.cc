// DurationQuantiles: see include/omnijourney/analytics.h.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "omnijourney/analytics.h"

namespace omnijourney::analytics {
namespace {

constexpr int32_t kLinear = 256;  // Values below this many microseconds have a bucket each.
constexpr int kMantissaBits = 7;  // 128 buckets per power of two above.

int32_t BucketOf(int64_t micros) {
  if (micros < kLinear) return static_cast<int32_t>(micros);
  const int e = 63 - __builtin_clzll(static_cast<uint64_t>(micros));  // >= 8.
  const int64_t mantissa = (micros >> (e - kMantissaBits)) & ((1 << kMantissaBits) - 1);
  return kLinear + (e - 8) * (1 << kMantissaBits) + static_cast<int32_t>(mantissa);
}

// The middle of the bucket's range.
int64_t ValueOf(int32_t bucket) {
  if (bucket < kLinear) return bucket;
  const int e = (bucket - kLinear) / (1 << kMantissaBits) + 8;
  const int64_t mantissa = (bucket - kLinear) % (1 << kMantissaBits);
  const int64_t low = ((int64_t{1} << kMantissaBits) + mantissa) << (e - kMantissaBits);
  const int64_t width = int64_t{1} << (e - kMantissaBits);
  return low + width / 2;
}

int64_t Micros(absl::Duration d) {
  if (d <= absl::ZeroDuration()) return 0;
  if (d >= absl::Hours(24 * 365 * 1000)) return absl::ToInt64Microseconds(absl::Hours(24 * 365 * 1000));
  return absl::ToInt64Microseconds(d);
}

}  // namespace

void DurationQuantiles::AddToBucket(int32_t bucket, int64_t n) {
  // Buckets are few (a few hundred for durations from seconds to days) and soon all seen: a binary
  // search finds the bucket, and a new one is inserted in place.
  auto it = std::lower_bound(buckets_.begin(), buckets_.end(), bucket,
                             [](const std::pair<int32_t, int64_t>& b, int32_t key) { return b.first < key; });
  if (it != buckets_.end() && it->first == bucket) {
    it->second += n;
  } else {
    buckets_.insert(it, {bucket, n});
  }
}

void DurationQuantiles::Spill() {
  for (int64_t v : exact_) AddToBucket(BucketOf(v), 1);
  exact_.clear();
  exact_.shrink_to_fit();
}

void DurationQuantiles::Add(absl::Duration d) {
  const int64_t v = Micros(d);
  ++count_;
  if (buckets_.empty() && count_ <= static_cast<int64_t>(kExact)) {
    exact_.push_back(v);
    return;
  }
  if (!exact_.empty()) Spill();
  AddToBucket(BucketOf(v), 1);
}

void DurationQuantiles::Merge(const DurationQuantiles& other) {
  if (other.count_ == 0) return;
  if (buckets_.empty() && other.buckets_.empty() && count_ + other.count_ <= static_cast<int64_t>(kExact)) {
    exact_.insert(exact_.end(), other.exact_.begin(), other.exact_.end());
    count_ += other.count_;
    return;
  }
  Spill();
  for (int64_t v : other.exact_) AddToBucket(BucketOf(v), 1);
  for (const auto& [b, n] : other.buckets_) AddToBucket(b, n);
  count_ += other.count_;
}

absl::Duration DurationQuantiles::Quantile(double q) const {
  if (count_ == 0) return absl::ZeroDuration();
  const int64_t rank = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(q * static_cast<double>(count_))));
  if (buckets_.empty()) {
    std::vector<int64_t> sorted = exact_;
    std::nth_element(sorted.begin(), sorted.begin() + (rank - 1), sorted.end());
    return absl::Microseconds(sorted[static_cast<size_t>(rank - 1)]);
  }
  int64_t seen = 0;
  for (const auto& [b, n] : buckets_) {
    seen += n;
    if (seen >= rank) return absl::Microseconds(ValueOf(b));
  }
  return absl::Microseconds(ValueOf(buckets_.back().first));
}

}  // namespace omnijourney::analytics
