// The result of reading a file or stream of events: the events that could be read and an error for
// each record that could not.
#ifndef OMNIJOURNEY_PARSED_EVENTS_H_
#define OMNIJOURNEY_PARSED_EVENTS_H_

#include <vector>

#include "absl/status/status.h"
#include "omnijourney/event.h"

namespace omnijourney {

// Why one record (a JSON line or one element of a batch) was not turned into an event.
struct RecordError {
  // 1-based line of the record in the input (JSON Lines), or 0 when the input was one document.
  int line = 0;
  // 0-based position of the record: its index among the non-blank lines, or in the batch array.
  int index = 0;
  // InvalidArgument; the message names the line and the field, e.g.
  // "line 7: context.traits.email: expected a string, got a number".
  absl::Status status;
};

// Events in input order, and the records that failed. One bad record never hides the others.
struct ParsedEvents {
  std::vector<Event> events;
  std::vector<RecordError> errors;
};

}  // namespace omnijourney

#endif  // OMNIJOURNEY_PARSED_EVENTS_H_
