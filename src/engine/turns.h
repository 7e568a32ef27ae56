// How readers and the batch writer take turns on the engine's state lock (docs/architecture.md,
// "How readers and writers share the state").
//
// A batch is applied in slices: the writer holds the lock for up to EngineOptions::writer_slice of
// applying (at least one event), then, if readers announced themselves (TurnReaderLock), releases it and waits
// until those that had arrived have it (LetReadersIn). A reader that finds the writer waiting for
// its turn (TurnWriterLock) lets it go first. So a reader waits for at most about one slice and the
// readers before it, and the writer for the readers that came before it.
//
// Thread-safety: thread-safe (atomics); the locks are scoped locks on the caller's absl::Mutex.
#ifndef OMNIJOURNEY_SRC_ENGINE_TURNS_H_
#define OMNIJOURNEY_SRC_ENGINE_TURNS_H_

#include <atomic>
#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/mutex.h"

namespace omnijourney::internal {

// How long a reader or a writer spins for the lock before it blocks: the lock is held for a few
// microseconds at a time (one slice, one Context), and a blocking hand-over (sleep, wake-up) costs
// tens of microseconds each way on a loaded machine. Every acquisition spins first: a thread
// blocked in the mutex's queue would make the readers' TryLock fail until it is through.
inline constexpr absl::Duration kSpin = absl::Microseconds(200);

class Turns {
 public:
  // Whether a reader waits (the writer ends its slice then).
  bool readers_wait() const { return waiting_.load(std::memory_order_acquire) > 0; }
  // After the writer released the lock: until the readers that had arrived have it (or kSpin).
  void LetReadersIn() const {
    const uint64_t arrived = arrived_.load(std::memory_order_acquire);
    SpinFor(kSpin, [&] {
      return admitted_.load(std::memory_order_acquire) >= arrived || waiting_.load(std::memory_order_acquire) == 0;
    });
  }

 private:
  friend class TurnReaderLock;
  friend class TurnWriterLock;
  std::atomic<int> waiting_{0};        // Readers announced, not holding the lock yet.
  std::atomic<uint64_t> arrived_{0};   // Readers announced, ever.
  std::atomic<uint64_t> admitted_{0};  // Readers that got the lock, ever.
  std::atomic<bool> writer_waiting_{false};  // The batch writer waits for its next slice.
};

// A reader lock that announces itself while it waits and lets a waiting writer go first.
class ABSL_SCOPED_LOCKABLE TurnReaderLock {
 public:
  TurnReaderLock(absl::Mutex* mu, Turns* turns) ABSL_SHARED_LOCK_FUNCTION(mu)
      : lock_(Announce(mu, turns), kSpin) {
    turns->admitted_.fetch_add(1, std::memory_order_release);
    turns->waiting_.fetch_sub(1, std::memory_order_release);
  }
  ~TurnReaderLock() ABSL_UNLOCK_FUNCTION() = default;

 private:
  static absl::Mutex* Announce(absl::Mutex* mu, Turns* turns) {
    turns->waiting_.fetch_add(1, std::memory_order_acq_rel);
    turns->arrived_.fetch_add(1, std::memory_order_acq_rel);
    SpinFor(kSpin, [turns] { return !turns->writer_waiting_.load(std::memory_order_acquire); });
    return mu;
  }
  ReaderLock lock_;
};

// The batch writer's lock for one slice: says it waits, so that arriving readers let it go first.
class ABSL_SCOPED_LOCKABLE TurnWriterLock {
 public:
  TurnWriterLock(absl::Mutex* mu, Turns* turns) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu)
      : lock_(Announce(mu, turns), kSpin) {
    turns->writer_waiting_.store(false, std::memory_order_release);
  }
  ~TurnWriterLock() ABSL_UNLOCK_FUNCTION() = default;

 private:
  static absl::Mutex* Announce(absl::Mutex* mu, Turns* turns) {
    turns->writer_waiting_.store(true, std::memory_order_release);
    return mu;
  }
  WriterLock lock_;
};

}  // namespace omnijourney::internal

#endif  // OMNIJOURNEY_SRC_ENGINE_TURNS_H_
