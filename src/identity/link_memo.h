// The state behind omnijourney::LinkMemo (include/omnijourney/identity.h): what CheckUsable and
// Prefetch found out about a batch's events, for the identity graph's Link of each. Private to the
// identity module (identity_graph.cc reads and fills it).
//
// Thread-safety: not thread-safe (the memo's owner serialises its use).
#ifndef OMNIJOURNEY_SRC_IDENTITY_LINK_MEMO_H_
#define OMNIJOURNEY_SRC_IDENTITY_LINK_MEMO_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "identity/rules.h"
#include "omnijourney/event.h"
#include "omnijourney/identity.h"

namespace omnijourney {
namespace internal {

// A cheap mark of an event's identity for LinkMemo entries found by address: the size and the first
// and last 8 bytes of its event_id, the sizes of its source and identifier list. A storage reused
// for the next event (the usual way to misuse a memo) almost always gets another mark.
inline uint64_t EventMark(const Event& event) {
  const std::string_view id = event.event_id();
  uint64_t head = 0, tail = 0;
  if (id.size() >= 8) {
    std::memcpy(&head, id.data(), 8);
    std::memcpy(&tail, id.data() + id.size() - 8, 8);
  } else {
    for (char c : id) head = (head << 8) | static_cast<unsigned char>(c);
  }
  return (head * 0x9e3779b97f4a7c15ULL) ^ tail ^ (uint64_t{id.size()} << 56) ^ (uint64_t{event.source().size()} << 40) ^
         (static_cast<uint64_t>(event.identifiers_size()) << 32);
}

}  // namespace internal

struct LinkMemo::State {
  const void* graph = nullptr;  // The graph that filled it (its indices mean nothing to another).
  uint64_t generation = 0;      // That graph's generation of non-Link changes when it was filled.
  // Entries are found by the event's address, searched from a cursor (checks and links come in the
  // order of the prefetches) at most this far: an event never checked, or checked with another
  // memo, costs a bounded scan, and the work is then done without the memo.
  static constexpr size_t kMaxSkip = 64;
  // What CheckUsable found for each event it passed, in the order checked: where its first usable
  // identifier is (`found` false when the check could not say: a tenant or type new to the graph).
  struct Ticket {
    const Event* event = nullptr;
    uint64_t event_hash = 0;  // internal::EventMark: a storage reused for another event misses.
    bool found = false;
    int identifier = 0;  // Index in identifiers(); identifiers_size(): previous_id.
    uint32_t tenant = 0;
    internal::TypeIndex type = 0;
    uint32_t node = UINT32_MAX;  // UINT32_MAX: new (its match key is in `keys`).
    bool canonical = false;
    bool normalized = false;
    uint64_t raw_hash = 0;
  };
  std::vector<Ticket> tickets;
  size_t next = 0;  // Tickets before it were used or passed.
  // What Prefetch worked out for each identifier of the events it saw, in the order seen: the
  // type's index and the raw value's hash, which depend only on the values.
  struct Prepared {
    internal::TypeIndex type = 0;
    bool canonical = false;
    uint64_t raw_hash = 0;
  };
  struct PreparedEvent {
    const Event* event = nullptr;
    uint64_t event_hash = 0;    // As in Ticket.
    bool known_tenant = false;  // Else nothing was prepared.
    uint32_t tenant = 0;
    size_t first = 0;  // In `prepared`; identifiers of unknown types are marked by kUnknownType.
    size_t count = 0;  // Identifiers, previous_id included.
  };
  static constexpr internal::TypeIndex kUnknownType = UINT16_MAX;
  std::vector<Prepared> prepared;
  std::vector<PreparedEvent> prepared_events;
  size_t check_cursor = 0;  // Where CheckUsable looks next in prepared_events.
  size_t link_cursor = 0;   // Where Link looks next.
  // Match keys of new identifiers by the hash of their raw spelling.
  struct Key {
    uint32_t tenant = 0;
    internal::TypeIndex type = 0;
    std::string_view raw;  // In the checked event.
    std::string key;
  };
  absl::flat_hash_map<uint64_t, Key> keys;

  // Forgets what the checks found (stale after a non-Link change of the graph).
  void ForgetChecks() {
    tickets.clear();
    next = 0;
    keys.clear();
  }
  void Clear() {
    ForgetChecks();
    prepared.clear();
    prepared_events.clear();
    check_cursor = 0;
    link_cursor = 0;
  }
  // Made ready for `g` at `gen`: what another graph, or this one before a non-Link change, left is
  // dropped (prepared identifiers stay for the same graph: they depend only on the values).
  void Bind(const void* g, uint64_t gen) {
    if (graph != g) {
      Clear();
      graph = g;
    } else if (generation != gen) {
      ForgetChecks();
    }
    generation = gen;
  }
  // The event's ticket, skipping those of events checked before it and never linked.
  const Ticket* Take(const Event& event, uint64_t event_hash) {
    for (size_t i = next; i < tickets.size() && i < next + kMaxSkip; ++i) {
      if (tickets[i].event == &event && tickets[i].event_hash == event_hash) {
        next = i + 1;
        return tickets[i].found ? &tickets[i] : nullptr;
      }
    }
    return nullptr;
  }
  // The event's identifiers as Prefetch saw them (nullptr if it did not, or could not: a tenant
  // new to the graph, or an event that changed since), searched from `cursor`, which moves past it.
  const PreparedEvent* PreparedOf(const Event& event, uint64_t event_hash, size_t& cursor) const {
    for (size_t i = cursor; i < prepared_events.size() && i < cursor + kMaxSkip; ++i) {
      const PreparedEvent& p = prepared_events[i];
      if (p.event != &event || p.event_hash != event_hash) continue;
      cursor = i + 1;
      const size_t count = static_cast<size_t>(event.identifiers_size()) + (event.has_previous_id() ? 1 : 0);
      return p.known_tenant && p.count == count ? &p : nullptr;
    }
    return nullptr;
  }
  // What Prefetch noted for identifier `position` of `event` (from PreparedOf, may be null): null
  // when nothing, or its type was not known then.
  const Prepared* PreparedId(const PreparedEvent* event, int position) const {
    if (event == nullptr) return nullptr;
    const Prepared& p = prepared[event->first + static_cast<size_t>(position)];
    return p.type == kUnknownType ? nullptr : &p;
  }
};

}  // namespace omnijourney

#endif  // OMNIJOURNEY_SRC_IDENTITY_LINK_MEMO_H_
