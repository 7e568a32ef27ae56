// What the names and context of a Segment message say about it: its channel (docs/events.md,
// "Channels"), whether it is an order, and the semantic events of the live-chat, email and
// e-commerce specs ("Semantic events").
#ifndef OMNIJOURNEY_SRC_EVENT_SEGMENT_NAMES_H_
#define OMNIJOURNEY_SRC_EVENT_SEGMENT_NAMES_H_

#include <optional>
#include <string>
#include <string_view>

#include "omnijourney/v1/event.pb.h"

namespace omnijourney::internal {

// What a message shows of where it came from.
struct ChannelHints {
  std::string channel, library, os;
  bool page = false, user_agent = false;
};

// Segment's and RudderStack's `channel` values, else the call type (page, screen), else the library
// that sent it, else what its context shows (a mobile OS, a page, a browser's user agent).
v1::Channel ChannelFromSegment(const ChannelHints& h, v1::EventKind kind);

// A name compared without case and separators: "Live Chat Message Sent", "live_chat_message_sent".
std::string NameKey(std::string_view name);

// The e-commerce spec's order events, v2 ("Order Completed") and v1 ("Completed Order"), whatever
// the case and separators ("order_completed", "order-completed").
bool IsOrderEvent(std::string_view name);

// What a semantic event of the live-chat and email specs, and the e-commerce spec's review, is.
struct Semantic {
  v1::EventKind kind = v1::EVENT_KIND_UNSPECIFIED;
  v1::Channel channel = v1::CHANNEL_UNSPECIFIED;
  v1::Direction direction = v1::DIRECTION_UNSPECIFIED;
  bool chat = false;  // Conversation, agent and message body from the live-chat properties.
  // Only with an email's properties (email_id, email_subject, campaign_id, list_id): "Unsubscribed"
  // may be an SMS or push opt-out too.
  bool needs_email = false;
};
std::optional<Semantic> SemanticOf(std::string_view name);

}  // namespace omnijourney::internal

#endif  // OMNIJOURNEY_SRC_EVENT_SEGMENT_NAMES_H_
