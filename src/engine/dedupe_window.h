// The idempotence window: which (tenant, source, event_id) keys were ingested, up to a bound.
//
// Keys are 128-bit hashes (two stable 64-bit hashes with different salts, the same in every
// process, so snapshots keep them), which saves two allocations per event over strings; a false duplicate needs both halves to collide (odds ~ window * events /
// 2^128). The oldest keys are forgotten first: a re-delivery older than the window is new again.
//
// Thread-safety: not thread-safe (the engine's state lock guards it).
#ifndef OMNIJOURNEY_SRC_ENGINE_DEDUPE_WINDOW_H_
#define OMNIJOURNEY_SRC_ENGINE_DEDUPE_WINDOW_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string_view>
#include <mutex>
#include <memory>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "common/serial.h"
#include "omnijourney/event.h"

namespace omnijourney::internal {

using DedupeKey = std::pair<uint64_t, uint64_t>;

class DedupeWindow {
 public:
  // `capacity`: most keys remembered (0: none, every event is new).
  explicit DedupeWindow(size_t capacity) : capacity_(capacity) {}

  static DedupeKey KeyOf(const Event& event);

  bool Contains(const DedupeKey& key) const {
    Unseal();
    return seen_.contains(key);
  }
  // REQUIRES: !Contains(key).
  void Remember(const DedupeKey& key);
  // Keys forgotten because the window was full.
  int64_t forgotten() const { return forgotten_; }

  // Snapshots: the keys, oldest first. Restore with a `mapping` that the reader's bytes lie in
  // leaves the keys there until the first call that needs them (a store opened for lookups never
  // builds the window).
  void Save(SerialWriter& w) const;
  absl::Status Restore(SerialReader& r, std::shared_ptr<const void> mapping);
  // Builds the window from the keys left in the mapping, once, and lets the mapping go (every call
  // that needs the keys does it; safe from concurrent const calls).
  void Unseal() const { std::call_once(unsealed_, [this] { Build(); }); }

 private:
  void Build() const;
  void Add(const DedupeKey& key) const;

  const size_t capacity_;
  // Built by Unseal from sealed_keys_ (hence mutable), changed by Remember.
  mutable absl::flat_hash_set<DedupeKey> seen_;
  mutable std::deque<DedupeKey> order_;  // Oldest first.
  mutable std::once_flag unsealed_;
  mutable std::string_view sealed_keys_;  // 16 bytes per key, oldest first.
  mutable std::shared_ptr<const void> mapping_;
  int64_t forgotten_ = 0;
};

}  // namespace omnijourney::internal

#endif  // OMNIJOURNEY_SRC_ENGINE_DEDUPE_WINDOW_H_
