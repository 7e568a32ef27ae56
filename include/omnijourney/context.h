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
#include "omnijourney/timeline_types.h"
#include "omnijourney/v1/event.pb.h"

namespace omnijourney {

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

// A journey instance as the operator sees it. Filled by the journey runtime (see the journey issue);
// empty while no journeys are defined.
struct JourneyStatus {
  std::string journey;
  int version = 0;
  std::string state;
  absl::Time entered_at;
  absl::Duration time_in_state;
};

// An account, company or household the customer belongs to (Segment's group call), with the
// account's traits apart from the person's.
struct GroupMembership {
  std::string id;  // The group call's groupId, or an event's group_id (Segment's context.groupId).
  // The latest value of each of the group calls' traits (flattened to "address.city" paths,
  // display strings), with the source and time of the call that set it.
  std::map<std::string, TraitValue> traits;
  absl::Time first_seen;
  absl::Time last_seen;
  int events = 0;  // Events naming the group.
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
  std::vector<GroupMembership> groups;  // Most recently seen first.
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
// One timeline entry as a JSON object, as ContextToJson writes the entries of `recent`.
std::string TimelineEntryToJson(const TimelineEntry& entry);
// A compact plain-text rendering for an agent screen (about 10-25 lines).
std::string RenderContext(const CustomerContext& context);

}  // namespace omnijourney

#endif  // OMNIJOURNEY_CONTEXT_H_
