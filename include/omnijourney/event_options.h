// Options for validating events and for reading Segment-spec JSON.
#ifndef OMNIJOURNEY_EVENT_OPTIONS_H_
#define OMNIJOURNEY_EVENT_OPTIONS_H_

#include <cstddef>
#include <map>
#include <string>

#include "absl/time/time.h"
#include "omnijourney/v1/event.pb.h"

namespace omnijourney {

// Limits and rules applied by ValidateEvent() (and so by every ingest).
struct ValidationOptions {
  // Largest accepted event, measured as its serialized protobuf size.
  // Default: 32768 bytes (32 KB).
  size_t max_event_bytes = 32 * 1024;
  // Most identifiers one event may carry (previous_id not counted).
  // Default: 32.
  int max_identifiers = 32;
  // Longest identifier value before normalisation.
  // Default: 512 bytes.
  size_t max_identifier_bytes = 512;
  // Longest event_id and source.
  // Default: 128 bytes.
  size_t max_id_bytes = 128;
  // Longest name, session_id, conversation_id, agent_id, group_id, provider and context strings.
  // Default: 2048 bytes. (`text` and properties are bounded by max_event_bytes only.)
  size_t max_string_bytes = 2048;
  // Deepest nesting of properties/traits (a top-level key is depth 1).
  // Default: 16 levels.
  int max_struct_depth = 16;
  // Earliest accepted occurred_at/sent_at/received_at.
  // Default: 1990-01-01T00:00:00Z.
  absl::Time min_time = absl::FromUnixSeconds(631152000);
  // How far after `now` a timestamp may lie (device clocks run fast).
  // Default: 24 hours.
  absl::Duration max_future_skew = absl::Hours(24);
};

// How Segment-spec JSON (https://segment.com/docs/connections/spec/) becomes events.
struct SegmentOptions {
  // The `source` of every produced event: the Segment source (write key) the data came from.
  // Default: "segment".
  std::string source = "segment";
  // The tenant of every produced event. Default: "" (the default tenant).
  std::string tenant;
  // Identifier type given to an alias call's previousId. Segment allows an anonymousId or an
  // earlier userId there. Default: "anonymous_id".
  std::string alias_previous_id_type = "anonymous_id";
  // Trait keys (in `traits` and `context.traits`) whose string values become identifiers, mapped to
  // the identifier type. Default: email -> email, phone -> phone.
  std::map<std::string, std::string> trait_identifiers = {{"email", "email"}, {"phone", "phone"}};
  // Channel given to every event, overriding the one derived from Segment's `channel` field
  // ("browser" -> web, "mobile" -> app, "server" -> server; page -> web, screen -> app).
  // Default: CHANNEL_UNSPECIFIED (derive).
  v1::Channel channel = v1::CHANNEL_UNSPECIFIED;
  // `provider` of every produced event. Default: "segment".
  std::string provider = "segment";
  // Track events of the e-commerce spec about orders ("Order Completed", "Order Refunded",
  // "Order Cancelled", "Order Updated", and the v1 names "Completed Order", ...; compared without
  // case and separators: "order_completed" is one) become EVENT_KIND_ORDER instead of
  // EVENT_KIND_TRACK. Default: true.
  bool order_events_as_orders = true;
  // Track events of the live-chat and email specs and the e-commerce spec's "Product Reviewed"
  // become the events they describe (docs/events.md, "Semantic events"): "Live Chat Message Sent"
  // an inbound CHAT message with its conversation, agent and text, "Email Delivered" an outbound
  // EMAIL notification, "Product Reviewed" FEEDBACK with the review's text, ... Names compared
  // without case and separators. Default: true.
  bool semantic_events = true;
  // Currency of a total/revenue property when the event has no `currency` property (the Segment
  // spec's default). Default: "USD".
  std::string default_currency = "USD";
  // Phone identifiers of a message whose context.locale names a country ("en-US", "cs_CZ") carry
  // that country as their region (v1::Identifier::region, before the tenant's region). Off by
  // default: a browser's language is often not its user's country. Default: false.
  bool phone_region_from_locale = false;
  // A message without messageId gets one made from its content (a hash of the message: a
  // re-delivery of the same payload is the same event), with a warning, as Segment's HTTP API
  // makes one. false: such a message is an error. Default: true.
  bool generate_message_id = true;
  // A name over 256 bytes and context, session and group strings over this many bytes are cut (at a
  // UTF-8 boundary) with a warning instead of failing validation, as Segment keeps such a message.
  // Keep it at the engine's ValidationOptions::max_string_bytes. Default: 2048.
  size_t max_string_bytes = 2048;
  // When the host received the messages (its clock, e.g. the HTTP request's arrival), for messages
  // without receivedAt: their received_at, and with sentAt, the base of the clock-skew correction
  // receivedAt - (sentAt - timestamp). InfinitePast: unknown (a file of captured messages); the
  // device's time is kept. Default: InfinitePast.
  absl::Time received_at = absl::InfinitePast();
  // Correct a device's clock skew as Segment does (docs/events.md, "Times"). false: the device's
  // time as sent. Default: true.
  bool correct_clock_skew = true;
  // Largest message, measured as its compact JSON as Segment measures it (a batch's messages one by
  // one); a larger one is an error. The engine's ValidationOptions::max_event_bytes applies to the
  // event made from it as well. 0: no limit. Default: 32768 (Segment's 32 KB).
  size_t max_message_bytes = 32 * 1024;
  // The call type of a message without `type` ("track": Segment's /v1/track endpoint implies it).
  // Default: "" (a message needs its type).
  std::string default_type;
  // Deepest JSON nesting accepted; deeper input is an error, not a stack overflow.
  // Default: 64 levels.
  int max_json_depth = 64;
};

}  // namespace omnijourney

#endif  // OMNIJOURNEY_EVENT_OPTIONS_H_
