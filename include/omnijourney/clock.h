// Injectable time: the engine reads "now" through a Clock so tests and replays are deterministic.
#ifndef OMNIJOURNEY_CLOCK_H_
#define OMNIJOURNEY_CLOCK_H_

#include <atomic>
#include <cstdint>

#include "absl/time/time.h"

namespace omnijourney {

// Thread-safe: Now() may be called from any thread.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

// The system clock. The returned object lives for the whole program.
const Clock* RealClock();

// A clock that moves only when told to (tests, replays). Thread-safe.
class SimulatedClock final : public Clock {
 public:
  explicit SimulatedClock(absl::Time start) : micros_(absl::ToUnixMicros(start)) {}
  absl::Time Now() const override { return absl::FromUnixMicros(micros_.load(std::memory_order_relaxed)); }
  void Set(absl::Time t) { micros_.store(absl::ToUnixMicros(t), std::memory_order_relaxed); }
  void Advance(absl::Duration d) { micros_.fetch_add(absl::ToInt64Microseconds(d), std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> micros_;
};

}  // namespace omnijourney

#endif  // OMNIJOURNEY_CLOCK_H_
