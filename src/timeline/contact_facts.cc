#include "timeline/contact_facts.h"

#include <algorithm>

#include "absl/strings/ascii.h"

namespace omnijourney::internal {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return absl::ascii_tolower(static_cast<unsigned char>(x)) == absl::ascii_tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

bool IsContactKind(v1::EventKind kind) {
  return kind == v1::EVENT_KIND_MESSAGE || kind == v1::EVENT_KIND_CALL || kind == v1::EVENT_KIND_TICKET ||
         kind == v1::EVENT_KIND_VISIT || kind == v1::EVENT_KIND_CONVERSATION;
}

bool IsClosing(std::string_view name, std::string_view status, const TimelineOptions& options) {
  for (const std::string& word : options.closing_words) {
    if (word.empty()) continue;
    if (EqualsIgnoreCase(status, word)) return true;
    // Whole words only, any case: "Ticket Closed" closes, "Enclosed photo" does not.
    for (size_t at = 0; at + word.size() <= name.size(); ++at) {
      if (!EqualsIgnoreCase(name.substr(at, word.size()), word)) continue;
      const bool start = at == 0 || !absl::ascii_isalnum(static_cast<unsigned char>(name[at - 1]));
      const size_t end = at + word.size();
      const bool stop = end == name.size() || !absl::ascii_isalnum(static_cast<unsigned char>(name[end]));
      if (start && stop) return true;
    }
  }
  return false;
}

ContactCounters CountContacts(std::vector<absl::Time> order_times, std::vector<absl::Time> contact_starts,
                              absl::Time now) {
  ContactCounters k;
  const absl::Duration day = absl::Hours(24);
  for (absl::Time t : order_times) {
    if (t > now) continue;  // After the as-of time (a replay's future): not yet.
    ++k.orders;
    if (now - t <= 30 * day) ++k.orders_30d;
  }
  std::sort(contact_starts.begin(), contact_starts.end());
  for (size_t i = 0; i < contact_starts.size(); ++i) {
    const absl::Time t = contact_starts[i];
    if (t > now) break;
    const bool repeat = i > 0 && t - contact_starts[i - 1] <= day;
    if (now - t <= 7 * day) ++k.contacts_7d;
    if (now - t <= 30 * day) {
      ++k.contacts_30d;
      if (repeat) ++k.repeat_contacts_24h_30d;
    }
    k.last_contact_is_repeat_24h = repeat;
  }
  return k;
}

bool IsInboundContact(const TimelineEntry& entry) { return IsInboundContact(entry.direction, entry.kind); }

bool IsInboundContact(v1::Direction direction, v1::EventKind kind) {
  return direction == v1::DIRECTION_INBOUND && IsContactKind(kind);
}

}  // namespace omnijourney::internal
