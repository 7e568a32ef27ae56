// Validation of interaction events. Engine ingest calls it on every event; hosts may call it earlier
// (at their API edge) to reject bad input with the same message.
#ifndef OMNIJOURNEY_VALIDATE_H_
#define OMNIJOURNEY_VALIDATE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "omnijourney/event.h"
#include "omnijourney/event_options.h"

namespace omnijourney {

// Checks `event` against the schema's requirements and `options`' limits. `now` bounds timestamps
// from above (now + options.max_future_skew).
//
// Returns OK or InvalidArgument whose message starts with the path of the offending field, e.g.
// "identifiers[2].value: blank", "occurred_at: 2099-01-01T00:00:00Z is more than 24h after now",
// "properties.cart.items[3]: nested deeper than 16 levels", "event: 40122 bytes exceeds the limit of
// 32768". The first problem found is reported.
//
// Cost: linear in the size of the event. Thread-safe.
absl::Status ValidateEvent(const Event& event, const ValidationOptions& options, absl::Time now);

// The option whose resource limit `status` reports, or "" when it reports something else. Set on
// ValidateEvent's size errors ("validation.max_event_bytes", "validation.max_identifiers",
// "validation.max_identifier_bytes", "validation.max_id_bytes", "validation.max_string_bytes",
// "validation.max_struct_depth") and on Engine's refusals by "max_profiles_per_tenant", so a host
// can tell "raise a limit or shed load" from "fix the event" without parsing messages.
std::string ExceededLimit(const absl::Status& status);

}  // namespace omnijourney

#endif  // OMNIJOURNEY_VALIDATE_H_
