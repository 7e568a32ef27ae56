// The result of reading a file or stream of events: the events that could be read and an error for
// each record that could not.
#ifndef OMNIJOURNEY_PARSED_EVENTS_H_
#define OMNIJOURNEY_PARSED_EVENTS_H_

#include <string>
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

// A field of a record that was converted without it (dropped or replaced), as Segment keeps such a
// message and drops the field.
struct RecordWarning {
  int line = 0;   // As RecordError::line.
  int index = 0;  // As RecordError::index.
  // Names the line and the field, e.g. "line 7: traits.email: expected a string, got a boolean;
  // dropped".
  std::string message;
};

// Events in input order, the records that failed, and the fields dropped from converted records.
// One bad record never hides the others.
struct ParsedEvents {
  std::vector<Event> events;
  std::vector<RecordError> errors;
  std::vector<RecordWarning> warnings;
};

}  // namespace omnijourney

#endif  // OMNIJOURNEY_PARSED_EVENTS_H_
