// Scoped locks on absl::Mutex that ThreadSanitizer can see.
//
// Debian's Abseil is a prebuilt library, not compiled with -fsanitize=thread, so TSan does not see
// absl::Mutex::Lock and Unlock as synchronisation. It would report every access the mutex guards as
// a race. Under TSan these locks state the happens-before edges themselves:
// - an unlock releases, and the next lock acquires;
// - readers release on a second address, which only writers acquire. So the edges go
//   writer -> reader and reader -> writer, never reader -> reader: a race between two readers
//   still shows.
// Without TSan they are exactly absl::MutexLock and absl::ReaderMutexLock.
#ifndef OMNIJOURNEY_SRC_COMMON_MUTEX_H_
#define OMNIJOURNEY_SRC_COMMON_MUTEX_H_

#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

#if defined(__SANITIZE_THREAD__)
#define OMNIJOURNEY_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define OMNIJOURNEY_TSAN 1
#endif
#endif

#ifdef OMNIJOURNEY_TSAN
extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);
#endif

namespace omnijourney::internal {

namespace tsan {
inline void WriterAcquired([[maybe_unused]] absl::Mutex* mu) {
#ifdef OMNIJOURNEY_TSAN
  __tsan_acquire(mu);
  __tsan_acquire(reinterpret_cast<char*>(mu) + 1);
#endif
}
inline void WriterReleasing([[maybe_unused]] absl::Mutex* mu) {
#ifdef OMNIJOURNEY_TSAN
  __tsan_release(mu);
#endif
}
inline void ReaderAcquired([[maybe_unused]] absl::Mutex* mu) {
#ifdef OMNIJOURNEY_TSAN
  __tsan_acquire(mu);
#endif
}
inline void ReaderReleasing([[maybe_unused]] absl::Mutex* mu) {
#ifdef OMNIJOURNEY_TSAN
  __tsan_release(reinterpret_cast<char*>(mu) + 1);
#endif
}
}  // namespace tsan

// Tries `try_lock` (no system call) until it succeeds or `spin` has passed; returns whether it did.
// A lock that is held for a few microseconds at a time is handed over this way without the
// sleep and wake-up of a blocking lock (tens of microseconds each on a loaded machine).
template <typename TryLock>
bool SpinFor(absl::Duration spin, TryLock&& try_lock) {
  if (try_lock()) return true;
  const absl::Time until = absl::Now() + spin;
  for (uint32_t round = 1;; ++round) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
    if (try_lock()) return true;
    if (round % 64 == 0 && absl::Now() >= until) return false;
  }
}

class ABSL_SCOPED_LOCKABLE WriterLock {
 public:
  explicit WriterLock(absl::Mutex* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) {
    mu_->Lock();
    tsan::WriterAcquired(mu_);
  }
  // Spins for up to `spin` before it blocks.
  WriterLock(absl::Mutex* mu, absl::Duration spin) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) {
    if (!SpinFor(spin, [mu]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return mu->TryLock(); })) mu_->Lock();
    tsan::WriterAcquired(mu_);
  }
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;
  ~WriterLock() ABSL_UNLOCK_FUNCTION() {
    tsan::WriterReleasing(mu_);
    mu_->Unlock();
  }

 private:
  absl::Mutex* const mu_;
};

class ABSL_SCOPED_LOCKABLE ReaderLock {
 public:
  explicit ReaderLock(absl::Mutex* mu) ABSL_SHARED_LOCK_FUNCTION(mu) : mu_(mu) {
    mu_->ReaderLock();
    tsan::ReaderAcquired(mu_);
  }
  // Spins for up to `spin` before it blocks.
  ReaderLock(absl::Mutex* mu, absl::Duration spin) ABSL_SHARED_LOCK_FUNCTION(mu) : mu_(mu) {
    if (!SpinFor(spin, [mu]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return mu->ReaderTryLock(); })) {
      mu_->ReaderLock();
    }
    tsan::ReaderAcquired(mu_);
  }
  ReaderLock(const ReaderLock&) = delete;
  ReaderLock& operator=(const ReaderLock&) = delete;
  ~ReaderLock() ABSL_UNLOCK_FUNCTION() {
    tsan::ReaderReleasing(mu_);
    mu_->ReaderUnlock();
  }

 private:
  absl::Mutex* const mu_;
};

}  // namespace omnijourney::internal

#endif  // OMNIJOURNEY_SRC_COMMON_MUTEX_H_
