#include "engine/dedupe_window.h"

#include "common/stable_hash.h"

namespace omnijourney::internal {

DedupeKey DedupeWindow::KeyOf(const Event& event) {
  return StableHash128(0x6f6d6e696a6f75ULL, event.tenant(), event.source(), event.event_id());
}

void DedupeWindow::Save(SerialWriter& w) const {
  w.Varint(order_.size());
  for (const DedupeKey& k : order_) {
    w.U64(k.first);
    w.U64(k.second);
  }
  w.I64(forgotten_);
}

absl::Status DedupeWindow::Restore(SerialReader& r) {
  const size_t n = r.Count(16);
  seen_.reserve(n);
  for (size_t i = 0; i < n && r.ok(); ++i) {
    const uint64_t a = r.U64();
    const DedupeKey k{a, r.U64()};
    if (capacity_ > 0 && order_.size() >= capacity_) {  // A smaller window than the snapshot's.
      seen_.erase(order_.front());
      order_.pop_front();
    }
    if (capacity_ > 0 && seen_.insert(k).second) order_.push_back(k);
  }
  forgotten_ = r.I64();
  return r.status("dedupe window");
}

void DedupeWindow::Remember(const DedupeKey& key) {
  if (capacity_ == 0) return;
  if (order_.size() >= capacity_) {
    seen_.erase(order_.front());
    order_.pop_front();
    ++forgotten_;
  }
  seen_.insert(key);
  order_.push_back(key);
}

}  // namespace omnijourney::internal
