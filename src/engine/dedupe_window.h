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
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "common/serial.h"
#include "omnijourney/event.h"

namespace omnijourney::internal {

using DedupeKey = std::pair<uint64_t, uint64_t>;

// The keys of one ingest step, to find an event sent twice within it: an open-addressing table of
// indices into the caller's keys, sized for the step and cleared with it (the keys are hashes
// already; no hashing, no allocation after the first steps).
class StepKeys {
 public:
  // Forgets the keys; room for `n` of them.
  void Reset(size_t n) {
    size_t slots = 16;
    while (slots < 2 * n) slots *= 2;
    slots_.assign(slots, kEmpty);
  }
  // Whether keys[i] was added.
  bool Contains(const std::vector<DedupeKey>& keys, size_t i) const { return slots_[Slot(keys, i)] != kEmpty; }
  // Adds keys[i]. REQUIRES: !Contains(keys, i); at most Reset's `n` added.
  void Add(const std::vector<DedupeKey>& keys, size_t i) { slots_[Slot(keys, i)] = static_cast<uint32_t>(i); }

 private:
  // Where keys[i] is, or the empty slot where it would go.
  size_t Slot(const std::vector<DedupeKey>& keys, size_t i) const {
    const size_t mask = slots_.size() - 1;
    size_t s = keys[i].first & mask;
    while (slots_[s] != kEmpty && keys[slots_[s]] != keys[i]) s = (s + 1) & mask;
    return s;
  }

  static constexpr uint32_t kEmpty = UINT32_MAX;
  std::vector<uint32_t> slots_;
};

class DedupeWindow {
 public:
  // `capacity`: most keys remembered (0: none, every event is new).
  explicit DedupeWindow(size_t capacity) : capacity_(capacity) {}

  static DedupeKey KeyOf(const Event& event);
  static DedupeKey KeyOf(std::string_view tenant, std::string_view source, std::string_view event_id);

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
