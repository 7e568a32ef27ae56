#include "context/context_builder.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/mutex.h"
#include "common/status_macros.h"

namespace omnijourney::internal {
namespace {

using v1::Channel;
using v1::Direction;
using v1::EventKind;

// Channels a customer can be reached on or reach out through (not web browsing, ads or back office).
bool IsContactChannel(Channel c) {
  switch (c) {
    case v1::CHANNEL_EMAIL:
    case v1::CHANNEL_VOICE:
    case v1::CHANNEL_CHAT:
    case v1::CHANNEL_SMS:
    case v1::CHANNEL_WHATSAPP:
    case v1::CHANNEL_VIBER:
    case v1::CHANNEL_TELEGRAM:
    case v1::CHANNEL_SOCIAL:
    case v1::CHANNEL_PUSH:
    case v1::CHANNEL_STORE:
    case v1::CHANNEL_OFFICE:
    case v1::CHANNEL_APP:
      return true;
    default:
      return false;
  }
}

// Conversation key of a contact: its conversation, else the event itself (views into the entry).
std::pair<std::string_view, std::string_view> ContactKey(const StoredEntry& e) {
  if (e.conversation_id().empty()) return {e.source(), e.event_id()};
  return {std::string_view(), e.conversation_id()};
}


}  // namespace

ContextAccumulator::ContextAccumulator(const EngineOptions& options)
    : options_(&options),
      traits_(&options.context.trait_source_priority),
      half_life_s_(std::max(1.0, absl::ToDoubleSeconds(options.context.preference_half_life))) {}

void ContextAccumulator::Observe(const std::vector<StoredEntry>& entries) {
  const TimelineOptions& topt = options_->timeline;
  const ContextOptions& copt = options_->context;
  for (; observed_ < entries.size(); ++observed_) {
    const StoredEntry& e = entries[observed_];
    const absl::Time time = e.time();
    const EventKind kind = e.kind();
    const Channel channel = e.channel();
    const std::string_view conversation_id = e.conversation_id();
    const std::string_view agent = e.agent_id();
    traits_.Observe(e);
    // Conversations and tickets close on a word in the name or the "status" property.
    const bool threaded = !conversation_id.empty() || kind == v1::EVENT_KIND_TICKET;
    const std::string_view status = threaded ? e.Property("status") : std::string_view();
    const bool closing = threaded && IsClosing(e.name(), status, topt);
    if (!conversation_id.empty()) {
      Conversation& c = conversations_[conversation_id];
      ConversationSummary& s = c.summary;
      if (s.events == 0) {
        s.id = conversation_id;
        s.channel = channel;
        s.started = time;
      }
      ++s.events;
      s.last_activity = time;
      if (!agent.empty()) {
        if (std::find(s.agents.begin(), s.agents.end(), agent) == s.agents.end()) s.agents.emplace_back(agent);
        c.latest_agent = agent;
        // A later entry at the last contact's time, in its conversation, names its agent.
        if (last_contact_ != kNone && time <= entries[last_contact_].time() &&
            conversation_id == entries[last_contact_].conversation_id()) {
          last_contact_agent_ = agent;
        }
      }
      if (!e.text().empty()) c.last_message = observed_;
      s.open = !closing;  // A later event reopens a closed conversation.
      s.closed_by = s.open ? "" : "event";
    }
    if (kind == v1::EVENT_KIND_TICKET) {
      std::string key(e.Property("ticket_id"));
      if (key.empty()) key = conversation_id;
      if (key.empty()) key = absl::StrCat(ToAbsl(e.source()), "/", ToAbsl(e.event_id()));
      auto [it, inserted] = tickets_.try_emplace(key);
      TicketSummary& t = it->second;
      if (inserted) {
        t.id = key;
        t.channel = channel;
        t.opened = time;
        t.subject = e.name();
      }
      if (std::string_view s = e.Property("subject"); !s.empty()) t.subject = s;
      else if (std::string_view s2 = e.Property("title"); !s2.empty()) t.subject = s2;
      t.updated = time;
      t.open = !closing;
      if (!status.empty()) {
        t.status = status;
      } else {
        t.status = t.open ? "open" : "closed";
      }
    }
    if (const std::string_view group = e.Property("group_id"); !group.empty()) {
      auto it = groups_.find(group);
      if (it == groups_.end()) {
        it = groups_.emplace(std::string(group), GroupMembership{}).first;
        it->second.id = std::string(group);
        it->second.first_seen = time;
      }
      GroupMembership& g = it->second;
      g.last_seen = time;
      ++g.events;
      if (kind == v1::EVENT_KIND_GROUP) {
        for (const auto& [key, value] : e.flat_properties()) {
          TraitValue& t = g.traits[std::string(key)];
          t.value.assign(value);
          t.source.assign(e.source());
          t.time = time;
        }
      }
    }
    if (kind == v1::EVENT_KIND_ORDER) {
      const std::string_view id = e.Property("order_id");
      if (id.empty()) {
        order_times_.push_back(time);
      } else if (order_ids_.insert(id).second) {
        order_times_.push_back(time);  // Entries are in time order: the first is the earliest.
      }
    }
    if (e.direction() == v1::DIRECTION_OUTBOUND && IsContactChannel(channel)) outbound_.emplace_back(time, channel);
    if (IsInboundContact(e.direction(), kind) && contact_keys_.insert(ContactKey(e)).second) {
      contact_starts_.push_back(time);
      if (IsContactChannel(channel)) {
        // A reply: an outbound on the same channel shortly before.
        bool reply = false;
        for (auto o = outbound_.rbegin(); o != outbound_.rend() && time - o->first <= copt.reply_window; ++o) {
          if (o->second == channel && o->first <= time) {
            reply = true;
            break;
          }
        }
        scores_[channel].emplace_back(time, reply ? 2.0 : 1.0);  // Decayed as of the context's time.
      }
    }
    if (kind == v1::EVENT_KIND_PAGE || kind == v1::EVENT_KIND_SCREEN || kind == v1::EVENT_KIND_TRACK) {
      for (const char* what : {"category", "product"}) {
        const std::string_view v = e.Property(what);
        if (v.empty()) continue;
        Interest& in = interests_[{what, std::string(v)}];
        in.kind = what;
        in.value = std::string(v);
        ++in.count;
        in.last_seen = time;
      }
    }
    if (IsContactKind(kind) && e.direction() != v1::DIRECTION_INTERNAL) {
      last_contact_ = observed_;
      last_contact_agent_ = {};
      if (!conversation_id.empty()) last_contact_agent_ = conversations_[conversation_id].latest_agent;
    }
  }
}

CustomerContext ContextAccumulator::Produce(ProfileId profile, const ProfileTimeline& timeline,
                                            const std::vector<IdentifierValue>& identifiers, absl::Time now) const {
  const TimelineOptions& topt = options_->timeline;
  const ContextOptions& copt = options_->context;
  const std::vector<StoredEntry>& entries = timeline.entries();
  CustomerContext ctx;
  ctx.tenant = timeline.tenant();
  ctx.profile = profile;
  ctx.as_of = now;
  for (const IdentifierValue& id : identifiers) ctx.identifiers[id.type].push_back(id.value);
  ctx.traits = {traits_.traits().begin(), traits_.traits().end()};
  for (const auto& [id, g] : groups_) ctx.groups.push_back(g);
  std::sort(ctx.groups.begin(), ctx.groups.end(), [](const GroupMembership& a, const GroupMembership& b) {
    return a.last_seen != b.last_seen ? a.last_seen > b.last_seen : a.id < b.id;
  });
  ctx.timeline_size = static_cast<int>(entries.size());
  for (size_t i = std::min(entries.size(), observed_); i > 0 && ctx.recent.size() < copt.recent_entries; --i) {
    ctx.recent.push_back(entries[i - 1].View());
  }
  if (last_contact_ != kNone) {
    const StoredEntry& e = entries[last_contact_];
    LastContact lc;
    lc.channel = e.channel();
    lc.direction = e.direction();
    lc.time = e.time();
    lc.name = e.name();
    lc.agent_id = e.agent_id();
    if (lc.agent_id.empty()) lc.agent_id = last_contact_agent_;  // The conversation's latest agent up to then.
    ctx.last_contact = std::move(lc);
  }
  for (const auto& [id, c] : conversations_) {
    if (!c.summary.open || now - c.summary.last_activity > topt.conversation_idle_timeout) continue;  // Closed or idle.
    ConversationSummary s = c.summary;
    if (c.last_message != kNone) s.last_message = entries[c.last_message].View();
    ctx.open_conversations.push_back(std::move(s));
  }
  std::sort(ctx.open_conversations.begin(), ctx.open_conversations.end(),
            [](const auto& a, const auto& b) { return a.last_activity > b.last_activity; });
  for (const auto& [id, t] : tickets_) {
    if (t.open) ctx.open_tickets.push_back(t);
  }
  std::sort(ctx.open_tickets.begin(), ctx.open_tickets.end(),
            [](const auto& a, const auto& b) { return a.updated > b.updated; });
  ctx.counters = CountContacts(order_times_, contact_starts_, now);

  for (const auto& [channel, contacts] : scores_) {
    double score = 0;
    for (const auto& [t, weight] : contacts) {
      score += weight * std::exp2(-std::max(0.0, absl::ToDoubleSeconds(now - t)) / half_life_s_);
    }
    ctx.channel_scores.push_back({channel, score});
  }
  std::sort(ctx.channel_scores.begin(), ctx.channel_scores.end(), [](const auto& a, const auto& b) {
    return a.score != b.score ? a.score > b.score : a.channel < b.channel;
  });
  if (!ctx.channel_scores.empty()) ctx.preferred_channel = ctx.channel_scores.front().channel;

  for (const auto& [key, in] : interests_) ctx.interests.push_back(in);
  std::sort(ctx.interests.begin(), ctx.interests.end(), [](const Interest& a, const Interest& b) {
    if (a.count != b.count) return a.count > b.count;
    if (a.last_seen != b.last_seen) return a.last_seen > b.last_seen;
    return std::tie(a.kind, a.value) < std::tie(b.kind, b.value);
  });
  if (ctx.interests.size() > copt.max_interests) ctx.interests.resize(copt.max_interests);
  return ctx;
}

CustomerContext BuildContext(ProfileId profile, const ProfileTimeline& timeline,
                             const std::vector<IdentifierValue>& identifiers, const EngineOptions& options,
                             absl::Time now) {
  ContextAccumulator fresh(options);
  fresh.Observe(timeline.entries());
  return fresh.Produce(profile, timeline, identifiers, now);
}

CustomerContext BuildContextCached(ProfileId profile, const ProfileTimeline& timeline,
                                   const std::vector<IdentifierValue>& identifiers, const EngineOptions& options,
                                   absl::Time now) {
  // Small timelines are cheap to fold again; a summary is kept for the large ones.
  if (timeline.entries().size() < ContextAccumulator::kCacheMinEntries) {
    return BuildContext(profile, timeline, identifiers, options, now);
  }
  WriterLock lock(&timeline.cache_mutex());
  auto* acc = dynamic_cast<ContextAccumulator*>(timeline.cache());
  if (acc == nullptr || acc->observed() > timeline.entries().size()) {
    timeline.set_cache(std::make_unique<ContextAccumulator>(options));
    acc = static_cast<ContextAccumulator*>(timeline.cache());
  }
  acc->Observe(timeline.entries());
  return acc->Produce(profile, timeline, identifiers, now);
}

}  // namespace omnijourney::internal
