// Memory for the large, randomly accessed tables (identity nodes, index slots, timelines).
//
// Lookups in a table of tens of megabytes touch a new 4 KiB page almost every time: each miss also
// misses the TLB, and growing the table takes a page fault per 4 KiB. Blocks of 1 MiB and more are
// therefore mapped 2 MiB-aligned and advised as transparent huge pages (MADV_HUGEPAGE, honoured
// when /sys/kernel/mm/transparent_hugepage/enabled is "always" or "madvise"; otherwise it is plain
// memory). Smaller blocks come from operator new. Measured on the identity stitching benchmark:
// see docs/identity.md.
#ifndef OMNIJOURNEY_SRC_COMMON_HUGE_PAGES_H_
#define OMNIJOURNEY_SRC_COMMON_HUGE_PAGES_H_

#include <cstddef>
#include <new>

namespace omnijourney::internal {

inline constexpr size_t kHugePageThreshold = size_t{1} << 20;

// Returns at least `bytes` bytes (never null: throws std::bad_alloc like operator new).
void* AllocateLarge(size_t bytes);
// REQUIRES: `p` and `bytes` from AllocateLarge.
void FreeLarge(void* p, size_t bytes);

template <typename T>
struct HugePageAllocator {
  using value_type = T;
  HugePageAllocator() = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U>&) {}  // NOLINT: allocator conversion.

  T* allocate(size_t n) {
    const size_t bytes = n * sizeof(T);
    if (bytes >= kHugePageThreshold) return static_cast<T*>(AllocateLarge(bytes));
    return static_cast<T*>(::operator new(bytes, std::align_val_t{alignof(T)}));
  }
  void deallocate(T* p, size_t n) {
    const size_t bytes = n * sizeof(T);
    if (bytes >= kHugePageThreshold) {
      FreeLarge(p, bytes);
    } else {
      ::operator delete(p, std::align_val_t{alignof(T)});
    }
  }
  template <typename U>
  bool operator==(const HugePageAllocator<U>&) const { return true; }
  template <typename U>
  bool operator!=(const HugePageAllocator<U>&) const { return false; }
};

}  // namespace omnijourney::internal

#endif  // OMNIJOURNEY_SRC_COMMON_HUGE_PAGES_H_
