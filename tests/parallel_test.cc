#include "common/parallel.h"

#include <atomic>
#include <vector>

#include "gtest/gtest.h"

namespace omnijourney::internal {
namespace {

TEST(ParallelForTest, EveryIndexOnceWhateverTheSplit) {
  for (const size_t n : {size_t{0}, size_t{1}, size_t{7}, size_t{4095}, size_t{4096}, size_t{8193}, size_t{100000}}) {
    for (const size_t min_per_thread : {size_t{1}, size_t{4096}}) {
      std::vector<std::atomic<int>> seen(n);
      std::atomic<int> calls{0};
      ParallelFor(n, min_per_thread, 4, [&](size_t begin, size_t end) {
        ++calls;
        ASSERT_LE(begin, end);
        ASSERT_LE(end, n);
        for (size_t i = begin; i < end; ++i) ++seen[i];
      });
      for (size_t i = 0; i < n; ++i) ASSERT_EQ(seen[i].load(), 1) << n << " " << i;
      EXPECT_LE(calls.load(), 4);
      if (n < 2 * min_per_thread) EXPECT_EQ(calls.load(), 1) << n;  // Too little to share.
    }
  }
}

}  // namespace
}  // namespace omnijourney::internal
