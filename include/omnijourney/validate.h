// Validation of interaction events. Engine ingest calls it on every event; hosts may call it earlier
// (at their API edge) to reject bad input with the same message.
#ifndef OMNIJOURNEY_VALIDATE_H_
#define OMNIJOURNEY_VALIDATE_H_

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

}  // namespace omnijourney

#endif  // OMNIJOURNEY_VALIDATE_H_
