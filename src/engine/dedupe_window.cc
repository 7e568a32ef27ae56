#include "engine/dedupe_window.h"

#include <algorithm>

#include "common/stable_hash.h"
#include "common/status_macros.h"

namespace omnijourney::internal {

DedupeKey DedupeWindow::KeyOf(const Event& event) { return KeyOf(event.tenant(), event.source(), event.event_id()); }

DedupeKey DedupeWindow::KeyOf(std::string_view tenant, std::string_view source, std::string_view event_id) {
  return StableHash128(0x6f6d6e696a6f75ULL, tenant, source, event_id);
}

void DedupeWindow::Save(SerialWriter& w) const {
  Unseal();
  w.Varint(order_.size());
  for (const DedupeKey& k : order_) {
    w.U64(k.first);
    w.U64(k.second);
  }
  w.I64(forgotten_);
}

absl::Status DedupeWindow::Restore(SerialReader& r, std::shared_ptr<const void> mapping) {
  const size_t n = r.Count(16);
  sealed_keys_ = r.Take(16 * n);
  forgotten_ = r.I64();
  RETURN_IF_ERROR(r.status("dedupe window"));
  if (mapping != nullptr) {
    mapping_ = std::move(mapping);
  } else {
    Unseal();  // The bytes are not ours to keep.
  }
  return absl::OkStatus();
}

void DedupeWindow::Add(const DedupeKey& key) const {
  if (capacity_ == 0) return;
  if (order_.size() >= capacity_) {
    seen_.erase(order_.front());
    order_.pop_front();
  }
  if (seen_.insert(key).second) order_.push_back(key);
}

void DedupeWindow::Build() const {
  const size_t n = sealed_keys_.size() / 16;
  seen_.reserve(std::min(n, capacity_));
  SerialReader r(sealed_keys_);
  for (size_t i = 0; i < n; ++i) {
    const uint64_t a = r.U64();
    Add({a, r.U64()});  // A smaller window than the snapshot's keeps the newest.
  }
  sealed_keys_ = {};
  mapping_.reset();
}

void DedupeWindow::Remember(const DedupeKey& key) {
  if (capacity_ == 0) return;
  Unseal();
  if (order_.size() >= capacity_) ++forgotten_;
  Add(key);
}

}  // namespace omnijourney::internal
