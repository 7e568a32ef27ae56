// Facts about contacts and orders shared by the context and by journey conditions, so the two never
// disagree: which events are contacts, which close a conversation or ticket, and the counters.
#ifndef OMNIJOURNEY_SRC_TIMELINE_CONTACT_FACTS_H_
#define OMNIJOURNEY_SRC_TIMELINE_CONTACT_FACTS_H_

#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "omnijourney/timeline_options.h"
#include "omnijourney/timeline_types.h"

namespace omnijourney::internal {

// MESSAGE, CALL, TICKET, VISIT and CONVERSATION events: contacts (in either direction).
bool IsContactKind(v1::EventKind kind);
// True when an entry with this name and "status" property closes its conversation or ticket.
bool IsClosing(std::string_view name, std::string_view status, const TimelineOptions& options);
// Inbound MESSAGE, CALL, TICKET, VISIT or CONVERSATION event: the customer reached out.
bool IsInboundContact(const TimelineEntry& entry);
bool IsInboundContact(v1::Direction direction, v1::EventKind kind);
// The counters of CustomerContext as of `now` (events after it do not count), shared by the context
// and by journey guards. `order_times`: when each distinct order was first seen (an ORDER event without
// order_id is an order of its own); `contact_starts`: when each inbound contact started.
ContactCounters CountContacts(std::vector<absl::Time> order_times, std::vector<absl::Time> contact_starts,
                              absl::Time now);

}  // namespace omnijourney::internal

#endif  // OMNIJOURNEY_SRC_TIMELINE_CONTACT_FACTS_H_
