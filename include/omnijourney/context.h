// What an operator sees when a customer calls: one profile's cross-channel context.
//
// Engine::Context() returns a CustomerContext for any identifier (in any spelling its normaliser
// accepts) or profile id. Everything in it is derived from the profile's retained timeline (see
// TimelineOptions) as of the engine's current time, so merges, splits and late events are reflected
// the moment they are ingested.
//
// Example:
//   auto ctx = engine->Context({.type = "phone", .value = "+420 601 123 456"});
//   if (ctx.ok()) std::cout << RenderContext(*ctx);   // or ContextToJson(*ctx) for a UI
#ifndef OMNIJOURNEY_CONTEXT_H_
#define OMNIJOURNEY_CONTEXT_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "omnijourney/identity.h"
#include "omnijourney/v1/event.pb.h"

namespace omnijourney {

// One event of a profile's timeline, reduced to what an operator reads.
struct TimelineEntry {
  absl::Time time;  // occurred_at.
  std::string source;
  std::string event_id;
  v1::EventKind kind = v1::EVENT_KIND_UNSPECIFIED;
  std::string name;
  v1::Channel channel = v1::CHANNEL_UNSPECIFIED;
  v1::Direction direction = v1::DIRECTION_UNSPECIFIED;
  std::string provider;
  std::string agent_id;
  std::string conversation_id;
  std::string text;  // Message, transcript or note; cut to TimelineOptions::max_text_bytes.
  std::string value;  // "1299.50 CZK" for events with a monetary value, else empty.
  // The event's key properties (TimelineOptions::key_properties), as display strings.
  std::vector<std::pair<std::string, std::string>> properties;

  // The property's value, or "" when absent.
  std::string_view Property(std::string_view key) const;
};

// Events sharing a conversation_id.
struct ConversationSummary {
  std::string id;
  v1::Channel channel = v1::CHANNEL_UNSPECIFIED;  // Channel of its first event.
  std::vector<std::string> agents;                // Agents who took part, first-seen order.
  bool open = true;  // Until a closing event (TimelineOptions::closing_words) or idle timeout.
  std::string closed_by;  // "event" or "idle" when closed.
  absl::Time started;
  absl::Time last_activity;
  int events = 0;
  std::optional<TimelineEntry> last_message;  // The latest entry with text.
};

// A ticket or complaint: TICKET events grouped by the "ticket_id" property, else by conversation_id,
// else the event on its own.
struct TicketSummary {
  std::string id;
  std::string subject;  // "subject" or "title" property, else the first event's name.
  v1::Channel channel = v1::CHANNEL_UNSPECIFIED;
  bool open = true;
  std::string status;  // Latest "status" property, else "open"/"closed".
  absl::Time opened;
  absl::Time updated;
};

// A trait after reconciliation: the most recent value from the highest-priority source.
struct TraitValue {
  std::string value;  // Strings as is; numbers, booleans and structures as compact JSON.
  std::string source;
  absl::Time time;
};

struct Interest {
  std::string kind;   // "category" or "product".
  std::string value;
  int count = 0;
  absl::Time last_seen;
};

struct LastContact {
  v1::Channel channel = v1::CHANNEL_UNSPECIFIED;
  v1::Direction direction = v1::DIRECTION_UNSPECIFIED;
  absl::Time time;
  std::string agent_id;  // The entry's agent, else the conversation's latest agent; may be empty.
  std::string name;
};

struct ContactCounters {
  int orders = 0;          // ORDER events in the retained timeline (distinct order_id when given).
  int orders_30d = 0;
  int contacts_7d = 0;     // Inbound contacts (a conversation counts once) started in the last 7 days.
  int contacts_30d = 0;
  // Contacts in the last 30 days that started within 24 hours after the previous contact.
  int repeat_contacts_24h_30d = 0;
  bool last_contact_is_repeat_24h = false;
};

// A journey instance as the operator sees it. Filled by the journey runtime (see the journey issue);
// empty while no journeys are defined.
struct JourneyStatus {
  std::string journey;
  int version = 0;
  std::string state;
  absl::Time entered_at;
  absl::Duration time_in_state;
};

struct ChannelScore {
  v1::Channel channel = v1::CHANNEL_UNSPECIFIED;
  double score = 0;  // Inbound contacts and replies, decayed with ContextOptions::preference_half_life.
};

struct CustomerContext {
  std::string tenant;
  ProfileId profile = 0;
  absl::Time as_of;  // The engine time the context was computed for.
  // Identifiers by type (match keys), highest-priority type first within the map's order of types.
  std::map<std::string, std::vector<std::string>> identifiers;
  std::map<std::string, TraitValue> traits;
  std::vector<TimelineEntry> recent;  // Newest first, at most ContextOptions::recent_entries.
  int timeline_size = 0;              // Retained entries in all.
  std::vector<ConversationSummary> open_conversations;  // Most recent activity first.
  std::vector<TicketSummary> open_tickets;               // Most recently updated first.
  std::vector<JourneyStatus> journeys;
  std::optional<LastContact> last_contact;
  std::optional<v1::Channel> preferred_channel;
  std::vector<ChannelScore> channel_scores;  // Highest first.
  std::vector<Interest> interests;           // Most frequent first.
  ContactCounters counters;
};

// The context as a JSON object (UTF-8, times as RFC 3339, channels and kinds by name).
std::string ContextToJson(const CustomerContext& context);
// A compact plain-text rendering for an agent screen (about 10-25 lines).
std::string RenderContext(const CustomerContext& context);

}  // namespace omnijourney

#endif  // OMNIJOURNEY_CONTEXT_H_
