// omnijourney's own JSON form of events: the protobuf JSON mapping of omnijourney.v1.Event, one event
// per line in files (JSON Lines). Field names may be snake_case or lowerCamelCase; enums are their full
// names ("CHANNEL_CHAT") or numbers; timestamps RFC 3339 strings.
//
// Example line:
//   {"event_id":"c-1","source":"livechat","kind":"EVENT_KIND_MESSAGE","channel":"CHANNEL_CHAT",
//    "occurred_at":"2026-11-20T18:02:11Z","identifiers":[{"type":"email","value":"eva@example.com"}],
//    "direction":"DIRECTION_INBOUND","text":"Where is my parcel?"}
#ifndef OMNIJOURNEY_EVENT_JSON_H_
#define OMNIJOURNEY_EVENT_JSON_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "omnijourney/event.h"
#include "omnijourney/parsed_events.h"

namespace omnijourney {

// Parses one event. Malformed JSON gives InvalidArgument with line and column; a well-formed document
// that does not fit the schema (unknown field, wrong type) gives InvalidArgument naming the problem.
// The event is not validated: call ValidateEvent(). Thread-safe.
absl::StatusOr<Event> EventFromJson(std::string_view json);

// Serialises `event` as one line of JSON with snake_case field names. Thread-safe.
std::string EventToJson(const Event& event);

// Parses JSON Lines of events; blank lines are skipped; each bad line gives a RecordError with its line
// number. Thread-safe.
ParsedEvents ParseEventJsonLines(std::string_view text);

}  // namespace omnijourney

#endif  // OMNIJOURNEY_EVENT_JSON_H_
