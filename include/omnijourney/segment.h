// Reading Segment-spec JSON (identify, track, page, screen, group, alias) as interaction events.
//
// Mapping (see docs/events.md for the full table):
//   messageId -> event_id; type -> kind; event (track) / name (page, screen) -> name;
//   userId -> identifier user_id; anonymousId -> anonymous_id; traits.email and context.traits.email
//   -> email; traits.phone / context.traits.phone -> phone; context.device.id -> device_id;
//   context.device.token -> push_token; previousId (alias) -> previous_id;
//   properties -> properties; traits + context.traits -> traits; revenue/total/value + currency -> value;
//   timestamp, else receivedAt - (sentAt - originalTimestamp), else originalTimestamp, else
//   receivedAt, else sentAt -> occurred_at. Times are ISO-8601 strings or epoch milliseconds.
//
// Example:
//   omnijourney::SegmentOptions options;
//   options.source = "segment:web";
//   auto parsed = omnijourney::ParseSegmentJsonLines(file_contents, options);
//   for (const auto& err : parsed.errors) std::cerr << err.status << "\n";
//   for (const auto& event : parsed.events) engine->Ingest(event);
#ifndef OMNIJOURNEY_SEGMENT_H_
#define OMNIJOURNEY_SEGMENT_H_

#include <string_view>

#include "absl/status/statusor.h"
#include "omnijourney/event.h"
#include "omnijourney/event_options.h"
#include "omnijourney/parsed_events.h"

namespace omnijourney {

// Converts one JSON document: a single Segment message, a batch envelope {"batch": [...]} (whose
// `sentAt` and `context` apply to messages that lack their own), or a JSON array of messages.
//
// Returns InvalidArgument with line and column when the document is not well-formed JSON (nothing is
// converted then); otherwise the converted events and one RecordError per message that does not follow
// the spec. Thread-safe.
absl::StatusOr<ParsedEvents> ParseSegmentJson(std::string_view json, const SegmentOptions& options);

// Converts JSON Lines: one Segment message (or batch envelope) per line; blank lines are skipped. A
// malformed line gives a RecordError with its line number and the other lines are still converted.
// Thread-safe.
ParsedEvents ParseSegmentJsonLines(std::string_view text, const SegmentOptions& options);

}  // namespace omnijourney

#endif  // OMNIJOURNEY_SEGMENT_H_
