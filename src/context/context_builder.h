// Builds a CustomerContext from a profile's timeline and identity.
#ifndef OMNIJOURNEY_SRC_CONTEXT_CONTEXT_BUILDER_H_
#define OMNIJOURNEY_SRC_CONTEXT_CONTEXT_BUILDER_H_

#include <vector>

#include "omnijourney/context.h"
#include "omnijourney/engine_options.h"
#include "timeline/timeline.h"

namespace omnijourney::internal {

// `identifiers`: the profile's identifiers, highest priority first. Cost: O(retained entries).
CustomerContext BuildContext(ProfileId profile, const ProfileTimeline& timeline,
                             const std::vector<IdentifierValue>& identifiers, const EngineOptions& options,
                             absl::Time now);

// The counters of CustomerContext as of `now` (events after it do not count), shared by the context
// and by journey guards. `order_times`: when each distinct order was first seen (an ORDER event without
// order_id is an order of its own); `contact_starts`: when each inbound contact started.
ContactCounters CountContacts(std::vector<absl::Time> order_times, std::vector<absl::Time> contact_starts,
                              absl::Time now);

// True when the entry closes its conversation or ticket (name word or status property).
bool IsClosing(const TimelineEntry& entry, const TimelineOptions& options);
bool IsClosing(std::string_view name, std::string_view status, const TimelineOptions& options);
// Inbound MESSAGE, CALL, TICKET, VISIT or CONVERSATION event: the customer reached out.
bool IsInboundContact(const TimelineEntry& entry);
bool IsInboundContact(v1::Direction direction, v1::EventKind kind);

}  // namespace omnijourney::internal

#endif  // OMNIJOURNEY_SRC_CONTEXT_CONTEXT_BUILDER_H_
