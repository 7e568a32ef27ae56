// The interaction event envelope: the generated protobuf types and short aliases.
//
// The schema, with every field documented, is proto/omnijourney/v1/event.proto (installed next to this
// header as omnijourney/v1/event.proto).
//
// Example:
//   omnijourney::Event e;
//   e.set_event_id("chat-7781-3");
//   e.set_source("livechat");
//   e.set_kind(omnijourney::v1::EVENT_KIND_MESSAGE);
//   e.set_channel(omnijourney::v1::CHANNEL_CHAT);
//   *e.mutable_occurred_at() = omnijourney::ToTimestamp(absl::Now());
//   auto* id = e.add_identifiers();
//   id->set_type("email");
//   id->set_value("eva@example.com");
#ifndef OMNIJOURNEY_EVENT_H_
#define OMNIJOURNEY_EVENT_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"
#include "omnijourney/v1/event.pb.h"

namespace omnijourney {

using Event = v1::Event;
using EventIdentifier = v1::Identifier;

// Converts between absl::Time and google.protobuf.Timestamp. Times before/after the Timestamp range
// (years 1-9999) are clamped to its ends.
google::protobuf::Timestamp ToTimestamp(absl::Time t);
absl::Time FromTimestamp(const google::protobuf::Timestamp& ts);

// Formats `t` as RFC 3339 in UTC with as many fractional digits as needed, e.g.
// "2026-11-22T09:30:00.250Z".
std::string FormatRfc3339(absl::Time t);

// Parses an ISO-8601 / RFC 3339 date-time: "2026-11-22T09:30:00Z", "2026-11-22T10:30:00.25+01:00",
// "2026-11-22 09:30:00+0100", "2026-11-22T09:30:00" (no offset: UTC), "2026-11-22" (midnight UTC).
// Fractions up to nanoseconds. Errors are InvalidArgument and say what is wrong.
absl::StatusOr<absl::Time> ParseIso8601(std::string_view text);

// Lowercase names of the enums as used in JSON, logs and journey files:
// ChannelName(CHANNEL_WHATSAPP) == "whatsapp", KindName(EVENT_KIND_ORDER) == "order",
// DirectionName(DIRECTION_INBOUND) == "inbound". Unknown values give "unspecified".
std::string_view ChannelName(v1::Channel channel);
std::string_view KindName(v1::EventKind kind);
std::string_view DirectionName(v1::Direction direction);

// Inverse of the above; also accepts the full enum names ("CHANNEL_WHATSAPP"), case-insensitively.
// An unknown name is an InvalidArgument error naming it.
absl::StatusOr<v1::Channel> ParseChannel(std::string_view name);
absl::StatusOr<v1::EventKind> ParseKind(std::string_view name);
absl::StatusOr<v1::Direction> ParseDirection(std::string_view name);

// A one-line human-readable summary of an event for logs and the demo, e.g.
// "2026-11-22T09:30:00Z chat inbound message \"Where is my parcel?\" [email=eva@example.com]".
std::string DescribeEvent(const Event& event);

}  // namespace omnijourney

#endif  // OMNIJOURNEY_EVENT_H_
