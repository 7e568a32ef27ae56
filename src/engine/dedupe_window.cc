#include "engine/dedupe_window.h"

#include <tuple>

#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"

namespace omnijourney::internal {

DedupeKey DedupeWindow::KeyOf(const Event& event) {
  using Parts = std::tuple<absl::string_view, absl::string_view, absl::string_view, uint64_t>;
  const absl::Hash<Parts> hash;
  return {hash(Parts(event.tenant(), event.source(), event.event_id(), 0x6f6d6e69)),
          hash(Parts(event.tenant(), event.source(), event.event_id(), 0x6a6f75726e6579))};
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
