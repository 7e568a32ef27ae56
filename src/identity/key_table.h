// A compact open-addressing index from a 64-bit key hash to a 32-bit id. The keys themselves live
// elsewhere (the graph's nodes, the raw-spelling cache): lookups pass a predicate that checks the
// candidate id's real key, so hash collisions never confuse two keys. A slot is 16 bytes (a
// std::string-keyed map slot is 40 plus the key's own heap block), probing compares full hashes
// before touching any key, and nothing is allocated per entry.
#ifndef OMNIJOURNEY_SRC_IDENTITY_KEY_TABLE_H_
#define OMNIJOURNEY_SRC_IDENTITY_KEY_TABLE_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/huge_pages.h"

namespace omnijourney::internal {

class KeyTable {
 public:
  static constexpr uint32_t kEmpty = UINT32_MAX;

  size_t size() const { return size_; }
  size_t capacity() const { return slots_.size(); }

  // The id whose key hashes to `hash` and satisfies `matches(id)`, or kEmpty.
  template <typename Pred>
  uint32_t Find(uint64_t hash, Pred&& matches) const {
    if (slots_.empty()) return kEmpty;
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.id == kEmpty) return kEmpty;
      if (s.hash == hash && matches(s.id)) return s.id;
    }
  }

  // Starts loading the slot where a probe for `hash` begins.
  void Prefetch(uint64_t hash) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[hash & mask_]);
  }

  // The first id stored under `hash` (unverified: only for prefetching what it points to), or kEmpty.
  uint32_t Peek(uint64_t hash) const {
    if (slots_.empty()) return kEmpty;
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.id == kEmpty || s.hash == hash) return s.id;
    }
  }

  // REQUIRES: no entry with an equal key (callers Find first).
  void Insert(uint64_t hash, uint32_t id) {
    if ((size_ + 1) * 10 > slots_.size() * 7) Grow();  // Load factor <= 0.7.
    Place(hash, id);
    ++size_;
  }

  // Removes the entry (hash, id) if present (backward-shift deletion keeps probe chains intact).
  void Erase(uint64_t hash, uint32_t id) {
    if (slots_.empty()) return;
    size_t i = hash & mask_;
    for (;; i = (i + 1) & mask_) {
      if (slots_[i].id == kEmpty) return;
      if (slots_[i].hash == hash && slots_[i].id == id) break;
    }
    --size_;
    for (size_t j = (i + 1) & mask_;; j = (j + 1) & mask_) {
      if (slots_[j].id == kEmpty) break;
      const size_t home = slots_[j].hash & mask_;
      // Move j back into the hole at i unless its home lies cyclically in (i, j].
      const bool stays = (i <= j) ? (i < home && home <= j) : (i < home || home <= j);
      if (stays) continue;
      slots_[i] = slots_[j];
      i = j;
    }
    slots_[i] = Slot{};
  }

  // Makes room for `n` entries in all (no growth until then).
  void Reserve(size_t n) {
    size_t want = 16;
    while ((n + 1) * 10 > want * 7) want *= 2;
    if (want <= slots_.size()) return;
    std::vector<Slot, HugePageAllocator<Slot>> old;
    old.swap(slots_);
    slots_.assign(want, Slot{});
    mask_ = slots_.size() - 1;
    for (const Slot& s : old) {
      if (s.id != kEmpty) Place(s.hash, s.id);
    }
  }

  void Clear() {
    std::vector<Slot, HugePageAllocator<Slot>>().swap(slots_);
    size_ = 0;
    mask_ = 0;
  }

  // Calls f(id) for every entry.
  template <typename F>
  void ForEach(F&& f) const {
    for (const Slot& s : slots_) {
      if (s.id != kEmpty) f(s.id);
    }
  }

 private:
  struct Slot {
    uint64_t hash = 0;
    uint32_t id = kEmpty;
  };

  void Place(uint64_t hash, uint32_t id) {
    size_t i = hash & mask_;
    while (slots_[i].id != kEmpty) i = (i + 1) & mask_;
    slots_[i] = Slot{hash, id};
  }

  void Grow() {
    std::vector<Slot, HugePageAllocator<Slot>> old;
    old.swap(slots_);
    slots_.assign(old.empty() ? 16 : old.size() * 2, Slot{});
    mask_ = slots_.size() - 1;
    for (const Slot& s : old) {
      if (s.id != kEmpty) Place(s.hash, s.id);
    }
  }

  std::vector<Slot, HugePageAllocator<Slot>> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace omnijourney::internal

#endif  // OMNIJOURNEY_SRC_IDENTITY_KEY_TABLE_H_
