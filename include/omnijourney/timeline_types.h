// What timelines, context and journeys share: one event as an operator reads it, a reconciled
// trait, and the contact counters (orders, contacts, repeat contacts).
#ifndef OMNIJOURNEY_TIMELINE_TYPES_H_
#define OMNIJOURNEY_TIMELINE_TYPES_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "omnijourney/v1/event.pb.h"

namespace omnijourney {

// One event of a profile's timeline, reduced to what an operator reads.
struct TimelineEntry {
  absl::Time time;  // occurred_at.
  std::string source;
  std::string event_id;
  v1::EventKind kind = v1::EVENT_KIND_UNSPECIFIED;
  std::string name;
  v1::Channel channel = v1::CHANNEL_UNSPECIFIED;
  v1::Direction direction = v1::DIRECTION_UNSPECIFIED;
  std::string provider;
  std::string agent_id;
  std::string conversation_id;
  std::string text;  // Message, transcript or note; cut to TimelineOptions::max_text_bytes.
  std::string value;  // "1299.50 CZK" for events with a monetary value, else empty.
  // The event's key properties (TimelineOptions::key_properties), as display strings.
  std::vector<std::pair<std::string, std::string>> properties;

  // The property's value, or "" when absent.
  std::string_view Property(std::string_view key) const;
};

// A trait after reconciliation: the most recent value from the highest-priority source.
struct TraitValue {
  // The JSON type the trait was sent with.
  enum class Kind { kString, kNumber, kBoolean, kObject, kArray };
  std::string value;  // Strings as is; numbers, booleans, objects and arrays as compact JSON.
  std::string source;
  absl::Time time;
  Kind kind = Kind::kString;
};

struct ContactCounters {
  int orders = 0;          // ORDER events in the retained timeline (distinct order_id when given).
  int orders_30d = 0;
  int contacts_7d = 0;     // Inbound contacts (a conversation counts once) started in the last 7 days.
  int contacts_30d = 0;
  // Contacts in the last 30 days that started within 24 hours after the previous contact.
  int repeat_contacts_24h_30d = 0;
  bool last_contact_is_repeat_24h = false;
};

}  // namespace omnijourney

#endif  // OMNIJOURNEY_TIMELINE_TYPES_H_
