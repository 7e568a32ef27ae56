// Runs a loop's parts on several threads, for bulk work that would otherwise keep one core busy
// while others idle (spilling a recovery's profiles out of the cache).
#ifndef OMNIJOURNEY_COMMON_PARALLEL_H_
#define OMNIJOURNEY_COMMON_PARALLEL_H_

#include <algorithm>
#include <cstddef>
#include <thread>
#include <vector>

namespace omnijourney::internal {

// Calls fn(begin, end) for disjoint ranges covering [0, n), each on its own thread (the calling
// thread takes the first), one range per core up to `max_threads`; below `min_per_thread` items a
// range, fewer threads (one: fn(0, n) on the calling thread). Returns when every call has returned.
// `fn` must be safe to run concurrently on disjoint ranges.
template <typename Fn>
void ParallelFor(size_t n, size_t min_per_thread, size_t max_threads, Fn&& fn) {
  const size_t cores = std::max<size_t>(1, std::thread::hardware_concurrency());
  const size_t threads = std::max<size_t>(1, std::min({cores, max_threads, n / std::max<size_t>(1, min_per_thread)}));
  if (threads <= 1) {
    fn(size_t{0}, n);
    return;
  }
  const size_t step = (n + threads - 1) / threads;
  std::vector<std::thread> others;
  others.reserve(threads - 1);
  for (size_t t = 1; t < threads; ++t) {
    const size_t begin = std::min(n, t * step), end = std::min(n, begin + step);
    others.emplace_back([&fn, begin, end] { fn(begin, end); });
  }
  fn(size_t{0}, std::min(n, step));
  for (std::thread& t : others) t.join();
}

}  // namespace omnijourney::internal

#endif  // OMNIJOURNEY_COMMON_PARALLEL_H_
