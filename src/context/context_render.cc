// CustomerContext as JSON and as a compact agent-screen text.
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "omnijourney/context.h"
#include "common/json.h"
#include "omnijourney/event.h"

namespace omnijourney {
namespace {

// Names as std::string (Debian's absl::string_view is not std::string_view, so StrCat cannot take them).
std::string CN(v1::Channel c) { return std::string(ChannelName(c)); }
std::string DN(v1::Direction d) { return std::string(DirectionName(d)); }
std::string KN(v1::EventKind k) { return std::string(KindName(k)); }

void AppendJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        if (c < 0x20) {
          absl::StrAppendFormat(out, "\\u%04x", c);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

// A minimal JSON writer: callers emit keys and values in order; commas are inserted.
class Json {
 public:
  void Open(char c) {
    Sep();
    out_.push_back(c);
    first_ = true;
  }
  void Close(char c) {
    out_.push_back(c);
    first_ = false;
  }
  void Key(std::string_view k) {
    Sep();
    AppendJsonString(k, &out_);
    out_.push_back(':');
    first_ = true;  // The value follows without a comma.
  }
  void Str(std::string_view s) {
    Sep();
    AppendJsonString(s, &out_);
  }
  void Num(double d) {
    Sep();
    absl::StrAppend(&out_, d);
  }
  // `json`, already encoded.
  void Raw(std::string_view json) {
    Sep();
    out_.append(json.data(), json.size());
  }
  void Int(int64_t i) {
    Sep();
    absl::StrAppend(&out_, i);
  }
  void Bool(bool b) {
    Sep();
    out_.append(b ? "true" : "false");
  }
  void Time(absl::Time t) { Str(FormatRfc3339(t)); }
  std::string Take() { return std::move(out_); }

 private:
  void Sep() {
    if (!first_) out_.push_back(',');
    first_ = false;
  }
  std::string out_;
  bool first_ = true;
};

void EntryJson(const TimelineEntry& e, Json& j) {
  j.Open('{');
  j.Key("time"), j.Time(e.time);
  j.Key("source"), j.Str(e.source);
  j.Key("event_id"), j.Str(e.event_id);
  j.Key("kind"), j.Str(KN(e.kind));
  j.Key("name"), j.Str(e.name);
  j.Key("channel"), j.Str(CN(e.channel));
  j.Key("direction"), j.Str(DN(e.direction));
  if (!e.provider.empty()) j.Key("provider"), j.Str(e.provider);
  if (!e.agent_id.empty()) j.Key("agent_id"), j.Str(e.agent_id);
  if (!e.conversation_id.empty()) j.Key("conversation_id"), j.Str(e.conversation_id);
  if (!e.text.empty()) j.Key("text"), j.Str(e.text);
  if (!e.value.empty()) j.Key("value"), j.Str(e.value);
  if (!e.properties.empty()) {
    j.Key("properties");
    j.Open('{');
    for (const auto& [k, v] : e.properties) j.Key(k), j.Str(v);
    j.Close('}');
  }
  j.Close('}');
}

std::string Short(absl::Time t) { return absl::FormatTime("%Y-%m-%d %H:%M", t, absl::UTCTimeZone()); }

std::string Quote(std::string_view text, size_t max) {
  std::string s(text.substr(0, max));
  for (char& c : s) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  if (text.size() > max) s += "...";
  return absl::StrCat("\"", s, "\"");
}

std::string HumanDuration(absl::Duration d) {
  if (d < absl::Hours(1)) return absl::StrCat(absl::ToInt64Minutes(d), "m");
  if (d < absl::Hours(48)) return absl::StrCat(absl::ToInt64Hours(d), "h");
  return absl::StrCat(absl::ToInt64Hours(d) / 24, "d");
}

}  // namespace

std::string TimelineEntryToJson(const TimelineEntry& entry) {
  Json j;
  EntryJson(entry, j);
  return j.Take();
}

std::string ContextToJson(const CustomerContext& c) {
  Json j;
  j.Open('{');
  j.Key("tenant"), j.Str(c.tenant);
  j.Key("profile"), j.Str(FormatProfileId(c.profile));
  j.Key("as_of"), j.Time(c.as_of);
  j.Key("identifiers");
  j.Open('{');
  for (const auto& [type, values] : c.identifiers) {
    j.Key(type);
    j.Open('[');
    for (const auto& v : values) j.Str(v);
    j.Close(']');
  }
  j.Close('}');
  j.Key("traits");
  j.Open('{');
  for (const auto& [k, t] : c.traits) {
    j.Key(k);
    j.Open('{');
    j.Key("value");
    // As sent: a number, boolean, object or array stays one (an erased part of it is a string).
    if (t.kind == TraitValue::Kind::kString || !internal::CheckJsonSyntax(t.value).ok()) {
      j.Str(t.value);
    } else {
      j.Raw(t.value);
    }
    j.Key("source"), j.Str(t.source);
    j.Key("time"), j.Time(t.time);
    j.Close('}');
  }
  j.Close('}');
  j.Key("groups");
  j.Open('[');
  for (const auto& g : c.groups) {
    j.Open('{');
    j.Key("id"), j.Str(g.id);
    j.Key("traits");
    j.Open('{');
    for (const auto& [k, t] : g.traits) j.Key(k), j.Str(t.value);
    j.Close('}');
    j.Key("first_seen"), j.Time(g.first_seen);
    j.Key("last_seen"), j.Time(g.last_seen);
    j.Key("events"), j.Int(g.events);
    j.Close('}');
  }
  j.Close(']');
  j.Key("recent");
  j.Open('[');
  for (const auto& e : c.recent) EntryJson(e, j);
  j.Close(']');
  j.Key("timeline_size"), j.Int(c.timeline_size);
  j.Key("open_conversations");
  j.Open('[');
  for (const auto& conv : c.open_conversations) {
    j.Open('{');
    j.Key("id"), j.Str(conv.id);
    j.Key("channel"), j.Str(CN(conv.channel));
    j.Key("agents");
    j.Open('[');
    for (const auto& a : conv.agents) j.Str(a);
    j.Close(']');
    j.Key("started"), j.Time(conv.started);
    j.Key("last_activity"), j.Time(conv.last_activity);
    j.Key("events"), j.Int(conv.events);
    if (conv.last_message) j.Key("last_message"), EntryJson(*conv.last_message, j);
    j.Close('}');
  }
  j.Close(']');
  j.Key("open_tickets");
  j.Open('[');
  for (const auto& t : c.open_tickets) {
    j.Open('{');
    j.Key("id"), j.Str(t.id);
    j.Key("subject"), j.Str(t.subject);
    j.Key("channel"), j.Str(CN(t.channel));
    j.Key("status"), j.Str(t.status);
    j.Key("opened"), j.Time(t.opened);
    j.Key("updated"), j.Time(t.updated);
    j.Close('}');
  }
  j.Close(']');
  j.Key("journeys");
  j.Open('[');
  for (const auto& s : c.journeys) {
    j.Open('{');
    j.Key("journey"), j.Str(s.journey);
    j.Key("version"), j.Int(s.version);
    j.Key("state"), j.Str(s.state);
    j.Key("entered_at"), j.Time(s.entered_at);
    j.Key("time_in_state_seconds"), j.Int(absl::ToInt64Seconds(s.time_in_state));
    j.Close('}');
  }
  j.Close(']');
  if (c.last_contact) {
    j.Key("last_contact");
    j.Open('{');
    j.Key("channel"), j.Str(CN(c.last_contact->channel));
    j.Key("direction"), j.Str(DN(c.last_contact->direction));
    j.Key("time"), j.Time(c.last_contact->time);
    j.Key("agent_id"), j.Str(c.last_contact->agent_id);
    j.Key("name"), j.Str(c.last_contact->name);
    j.Close('}');
  }
  if (c.preferred_channel) j.Key("preferred_channel"), j.Str(CN(*c.preferred_channel));
  j.Key("channel_scores");
  j.Open('{');
  for (const auto& s : c.channel_scores) j.Key(CN(s.channel)), j.Num(s.score);
  j.Close('}');
  j.Key("interests");
  j.Open('[');
  for (const auto& in : c.interests) {
    j.Open('{');
    j.Key("kind"), j.Str(in.kind);
    j.Key("value"), j.Str(in.value);
    j.Key("count"), j.Int(in.count);
    j.Key("last_seen"), j.Time(in.last_seen);
    j.Close('}');
  }
  j.Close(']');
  const ContactCounters& k = c.counters;
  j.Key("counters");
  j.Open('{');
  j.Key("orders"), j.Int(k.orders);
  j.Key("orders_30d"), j.Int(k.orders_30d);
  j.Key("contacts_7d"), j.Int(k.contacts_7d);
  j.Key("contacts_30d"), j.Int(k.contacts_30d);
  j.Key("repeat_contacts_24h_30d"), j.Int(k.repeat_contacts_24h_30d);
  j.Key("last_contact_is_repeat_24h"), j.Bool(k.last_contact_is_repeat_24h);
  j.Close('}');
  j.Close('}');
  return j.Take();
}

std::string RenderContext(const CustomerContext& c) {
  std::string out;
  // The display name: `name`, else first and last name (Segment's reserved traits are camelCase,
  // other sources write snake_case).
  auto trait = [&c](std::initializer_list<const char*> keys) -> std::string {
    for (const char* key : keys) {
      if (auto it = c.traits.find(key); it != c.traits.end() && !it->second.value.empty()) return it->second.value;
    }
    return "";
  };
  std::string name = trait({"name"});
  if (name.empty()) {
    const std::string first = trait({"firstName", "first_name"});
    const std::string last = trait({"lastName", "last_name"});
    name = first.empty() ? last : last.empty() ? first : absl::StrCat(first, " ", last);
  }
  absl::StrAppend(&out, name.empty() ? "(no name)" : name, "  ", FormatProfileId(c.profile), "  as of ",
                  Short(c.as_of), "\n");
  std::vector<std::string> ids;
  for (const auto& [type, values] : c.identifiers) ids.push_back(absl::StrCat(type, " ", absl::StrJoin(values, ", ")));
  absl::StrAppend(&out, "Identifiers: ", ids.empty() ? "-" : absl::StrJoin(ids, " | "), "\n");
  if (c.last_contact) {
    const LastContact& l = *c.last_contact;
    absl::StrAppend(&out, "Last contact: ", CN(l.channel), " ", DN(l.direction), " ",
                    Short(l.time), l.agent_id.empty() ? "" : absl::StrCat(" with ", l.agent_id), "\n");
  }
  if (!c.groups.empty()) {
    std::vector<std::string> parts;
    for (const GroupMembership& g : c.groups) {
      auto name = g.traits.find("name");
      parts.push_back(name == g.traits.end() || name->second.value.empty() ? g.id
                                                                          : absl::StrCat(name->second.value, " (", g.id, ")"));
    }
    absl::StrAppend(&out, "Groups: ", absl::StrJoin(parts, ", "), "\n");
  }
  const ContactCounters& k = c.counters;
  absl::StrAppend(&out, "Contacts 7d/30d: ", k.contacts_7d, "/", k.contacts_30d,
                  k.last_contact_is_repeat_24h ? " (repeat within 24h)" : "", " | orders: ", k.orders,
                  " | preferred channel: ", c.preferred_channel ? CN(*c.preferred_channel) : "-", "\n");
  for (const auto& conv : c.open_conversations) {
    absl::StrAppend(&out, "Open conversation ", conv.id, " (", CN(conv.channel), ", ", conv.events,
                    " events, last ", Short(conv.last_activity), ")");
    if (conv.last_message) absl::StrAppend(&out, ": ", Quote(conv.last_message->text, 70));
    out.push_back('\n');
  }
  for (const auto& t : c.open_tickets) {
    absl::StrAppend(&out, "Open ticket ", t.id, " ", Quote(t.subject, 60), " [", t.status, "] since ",
                    Short(t.opened), "\n");
  }
  for (const auto& s : c.journeys) {
    absl::StrAppend(&out, "Journey ", s.journey, " v", s.version, ": ", s.state, " for ",
                    HumanDuration(s.time_in_state), "\n");
  }
  if (!c.interests.empty()) {
    std::vector<std::string> parts;
    for (const auto& in : c.interests) parts.push_back(absl::StrCat(in.value, " (", in.count, ")"));
    absl::StrAppend(&out, "Interests: ", absl::StrJoin(parts, ", "), "\n");
  }
  absl::StrAppend(&out, "Recent (", c.recent.size(), " of ", c.timeline_size, "):\n");
  for (const auto& e : c.recent) {
    absl::StrAppend(&out, "  ", Short(e.time), "  ", absl::StrFormat("%-8s", CN(e.channel)), " ",
                    e.direction == v1::DIRECTION_INBOUND    ? "in "
                    : e.direction == v1::DIRECTION_OUTBOUND ? "out"
                                                            : "   ",
                    "  ", e.name.empty() ? KN(e.kind) : e.name);
    if (!e.value.empty()) absl::StrAppend(&out, "  ", e.value);
    if (!e.text.empty()) absl::StrAppend(&out, "  ", Quote(e.text, 60));
    out.push_back('\n');
  }
  return out;
}

}  // namespace omnijourney
