// The result of reading a file or stream of events: the events that could be read and an error for
// each record that could not.
#ifndef OMNIJOURNEY_PARSED_EVENTS_H_
#define OMNIJOURNEY_PARSED_EVENTS_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>
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
  // The record is over SegmentOptions::max_message_bytes (Segment refuses the whole request then).
  bool too_large = false;
};

// A field of a record that was converted without it (dropped or replaced), as Segment keeps such a
// message and drops the field.
struct RecordWarning {
  int line = 0;   // As RecordError::line.
  int index = 0;  // As RecordError::index.
  // Names the line and the field, e.g. "line 7: traits.email: expected a string, got a boolean;
  // not used as an identifier".
  std::string message;
  // What happened: "dropped_field" (a field of the wrong type), "identifier_not_a_string",
  // "amount_not_used" (a non-numeric amount or unknown currency: the amount stays a property),
  // "string_cut", "message_id_made", "time_without_zone".
  std::string kind;
};

// A request to erase a person (Segment's and RudderStack's `delete` call): the host erases each
// identifier (Engine::EraseIdentifier), which also refuses the person's events delivered again.
struct ErasureRequest {
  int line = 0;   // As RecordError::line.
  int index = 0;  // As RecordError::index.
  std::string tenant;
  std::vector<std::pair<std::string, std::string>> identifiers;  // (type, value): user_id, anonymous_id.
};

// Events in input order, the records that failed, the fields dropped from converted records and the
// erasure requests. One bad record never hides the others.
struct ParsedEvents {
  std::vector<Event> events;
  std::vector<RecordError> errors;
  std::vector<RecordWarning> warnings;
  std::map<std::string, int64_t> warning_counts;  // By RecordWarning::kind.
  std::vector<ErasureRequest> erasures;
  // The `writeKey` member of the document (a single message or a batch envelope) when it has one as
  // a string: analytics.js sends its write key there instead of in an Authorization header.
  // ParseSegmentJson only.
  std::string write_key;
};

}  // namespace omnijourney

#endif  // OMNIJOURNEY_PARSED_EVENTS_H_
