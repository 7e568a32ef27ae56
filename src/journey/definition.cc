// Journey definitions: parsing, validation, builder.
#include <algorithm>
#include <deque>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/text_errors.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"
#include "omnijourney/event.h"
#include "omnijourney/journey.h"

namespace omnijourney {
namespace {

using internal::ToAbsl;

absl::Status Invalid(std::string_view path, std::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(ToAbsl(path), ": ", ToAbsl(message)));
}

bool NameOk(std::string_view s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
  });
}

constexpr int64_t kMaxDurationSeconds = int64_t{10} * 366 * 24 * 3600;  // Ten years.

absl::Status CheckDuration(const google::protobuf::Duration& d, std::string_view path, bool allow_zero) {
  if (d.nanos() < 0 || d.nanos() >= 1'000'000'000 || d.seconds() < 0) {
    return Invalid(path, "must be a non-negative duration with 0 <= nanos < 1e9");
  }
  if (!allow_zero && d.seconds() == 0 && d.nanos() == 0) return Invalid(path, "must be positive");
  if (d.seconds() > kMaxDurationSeconds) return Invalid(path, "longer than 10 years");
  return absl::OkStatus();
}

enum class Scope { kEvent, kProfile };

constexpr std::string_view kEventFields[] = {"kind",     "name",       "channel",         "direction",
                                             "source",   "provider",   "agent_id",        "conversation_id",
                                             "session_id", "text",     "value.units",     "value.currency"};
constexpr std::string_view kCounters[] = {"orders", "orders_30d", "contacts_7d", "contacts_30d",
                                          "repeat_contacts_24h_30d"};

absl::Status CheckField(std::string_view field, Scope scope, std::string_view path) {
  auto has_prefix = [&](std::string_view prefix) {
    return field.size() > prefix.size() && field.substr(0, prefix.size()) == prefix;
  };
  if (scope == Scope::kEvent) {
    if (std::find(std::begin(kEventFields), std::end(kEventFields), field) != std::end(kEventFields)) {
      return absl::OkStatus();
    }
    if (has_prefix("properties.") || has_prefix("traits.")) return absl::OkStatus();
    return Invalid(path, absl::StrCat("unknown event field '", ToAbsl(field),
                                      "' (kind, name, channel, direction, source, provider, agent_id, "
                                      "conversation_id, session_id, text, value.units, value.currency, "
                                      "properties.<key>, traits.<key>)"));
  }
  if (has_prefix("traits.")) return absl::OkStatus();
  if (has_prefix("counters.")) {
    const std::string_view name = field.substr(9);
    if (std::find(std::begin(kCounters), std::end(kCounters), name) != std::end(kCounters)) {
      return absl::OkStatus();
    }
  }
  return Invalid(path, absl::StrCat("unknown profile field '", ToAbsl(field),
                                    "' (traits.<key>, counters.orders|orders_30d|contacts_7d|contacts_30d|"
                                    "repeat_contacts_24h_30d)"));
}

absl::Status CheckCondition(const v1::Condition& c, Scope scope, const std::string& path) {
  RETURN_IF_ERROR(CheckField(c.field(), scope, path + ".field"));
  using C = v1::Condition;
  size_t want_min = 1, want_max = 1;
  switch (c.op()) {
    case C::OP_EQ: case C::OP_NE: case C::OP_LT: case C::OP_LE: case C::OP_GT: case C::OP_GE:
    case C::OP_PREFIX: case C::OP_CONTAINS:
      break;
    case C::OP_IN: want_max = SIZE_MAX; break;
    case C::OP_EXISTS: want_min = 0; want_max = 0; break;
    default: return Invalid(path + ".op", "required (OP_EQ, OP_NE, OP_LT, ... OP_CONTAINS)");
  }
  const size_t n = static_cast<size_t>(c.values_size());
  if (n < want_min || n > want_max) {
    return Invalid(path + ".values", want_max == 0   ? "OP_EXISTS takes no values"
                                     : want_max == 1 ? "takes exactly one value"
                                                     : "OP_IN needs at least one value");
  }
  for (int i = 0; i < c.values_size(); ++i) {
    const auto& v = c.values(i);
    const std::string vpath = absl::StrCat(path, ".values[", i, "]");
    const bool scalar = v.has_string_value() || v.has_number_value() || v.has_bool_value();
    if (!scalar) return Invalid(vpath, "must be a string, number or boolean");
    if ((c.op() == C::OP_PREFIX || c.op() == C::OP_CONTAINS) && !v.has_string_value()) {
      return Invalid(vpath, "must be a string for OP_PREFIX/OP_CONTAINS");
    }
    if ((c.op() == C::OP_LT || c.op() == C::OP_LE || c.op() == C::OP_GT || c.op() == C::OP_GE) && v.has_bool_value()) {
      return Invalid(vpath, "booleans cannot be ordered");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckPredicate(const v1::Predicate& p, Scope scope, const std::string& path, int depth) {
  if (depth > 32) return Invalid(path, "nested deeper than 32 levels");
  switch (p.expr_case()) {
    case v1::Predicate::kCondition: return CheckCondition(p.condition(), scope, path + ".condition");
    case v1::Predicate::kAll:
    case v1::Predicate::kAny: {
      const auto& list = p.has_all() ? p.all() : p.any();
      const std::string base = path + (p.has_all() ? ".all" : ".any");
      for (int i = 0; i < list.items_size(); ++i) {
        RETURN_IF_ERROR(CheckPredicate(list.items(i), scope, absl::StrCat(base, ".items[", i, "]"), depth + 1));
      }
      return absl::OkStatus();
    }
    case v1::Predicate::kNot: return CheckPredicate(p.not_(), scope, path + ".not", depth + 1);
    default: return Invalid(path, "empty predicate (set condition, all, any or not)");
  }
}

absl::Status CheckEventPredicate(const v1::EventPredicate& p, const std::string& path, bool require_something) {
  for (int i = 0; i < p.kinds_size(); ++i) {
    if (p.kinds(i) == v1::EVENT_KIND_UNSPECIFIED || !v1::EventKind_IsValid(p.kinds(i))) {
      return Invalid(absl::StrCat(path, ".kinds[", i, "]"), "not a valid event kind");
    }
  }
  for (int i = 0; i < p.names_size(); ++i) {
    if (p.names(i).empty()) return Invalid(absl::StrCat(path, ".names[", i, "]"), "empty name");
  }
  for (int i = 0; i < p.channels_size(); ++i) {
    if (!v1::Channel_IsValid(p.channels(i))) return Invalid(absl::StrCat(path, ".channels[", i, "]"), "not a channel");
  }
  for (int i = 0; i < p.directions_size(); ++i) {
    if (!v1::Direction_IsValid(p.directions(i))) {
      return Invalid(absl::StrCat(path, ".directions[", i, "]"), "not a direction");
    }
  }
  if (p.has_where()) RETURN_IF_ERROR(CheckPredicate(p.where(), Scope::kEvent, path + ".where", 0));
  if (require_something && p.kinds_size() == 0 && p.names_size() == 0 && p.channels_size() == 0 &&
      p.directions_size() == 0 && !p.has_where()) {
    return Invalid(path, "matches every event; name at least a kind, name, channel, direction or condition");
  }
  return absl::OkStatus();
}

absl::Status CheckAction(const v1::Action& a, const std::string& path) {
  if (!NameOk(a.name())) return Invalid(path + ".name", "required, 1-64 of [a-z0-9_.-]");
  if (!a.channel().empty() && a.channel() != "preferred" && !ParseChannel(a.channel()).ok()) {
    return Invalid(path + ".channel", absl::StrCat("'", a.channel(), "' is not a channel name or \"preferred\""));
  }
  return absl::OkStatus();
}

absl::Status CheckActions(const google::protobuf::RepeatedPtrField<v1::Action>& actions, const std::string& path) {
  for (int i = 0; i < actions.size(); ++i) RETURN_IF_ERROR(CheckAction(actions[i], absl::StrCat(path, "[", i, "]")));
  return absl::OkStatus();
}

template <typename Message>
absl::StatusOr<Message> ParseText(std::string_view text) {
  Message message;
  google::protobuf::TextFormat::Parser parser;
  internal::FirstTextError errors;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(std::string(text), &message)) {
    return absl::InvalidArgumentError(
        absl::StrCat("journey text: ", errors.first().empty() ? std::string("cannot parse") : errors.first()));
  }
  return message;
}

}  // namespace

absl::Status ValidateJourney(const JourneyDefinition& j) {
  if (!NameOk(j.name())) return Invalid("name", "required, 1-64 of [a-z0-9_.-]");
  const std::string who = absl::StrCat("journey '", j.name(), "': ");
  auto fail = [&](const std::string& path, std::string_view message) {
    return absl::InvalidArgumentError(absl::StrCat(who, path, ": ", ToAbsl(message)));
  };
  if (j.version() < 1) return fail("version", "must be >= 1");
  if (j.states_size() == 0) return fail("states", "at least one state is required");
  std::map<std::string, int> index;
  for (int i = 0; i < j.states_size(); ++i) {
    const std::string path = absl::StrCat("states[", i, "].name");
    if (!NameOk(j.states(i).name())) return fail(path, "required, 1-64 of [a-z0-9_.-]");
    if (!index.emplace(j.states(i).name(), i).second) {
      return fail(path, absl::StrCat("duplicate state '", j.states(i).name(), "'"));
    }
  }
  auto prefixed = [&](const absl::Status& s) { return internal::Prefixed(who, s); };
  if (!j.has_entry() || !j.entry().has_trigger()) return fail("entry.trigger", "required");
  if (auto s = CheckEventPredicate(j.entry().trigger(), "entry.trigger", true); !s.ok()) return prefixed(s);
  if (j.entry().has_condition()) {
    if (auto s = CheckPredicate(j.entry().condition(), Scope::kProfile, "entry.condition", 0); !s.ok()) {
      return prefixed(s);
    }
  }
  const std::string& first = j.entry().state().empty() ? j.states(0).name() : j.entry().state();
  if (!index.contains(first)) return fail("entry.state", absl::StrCat("unknown state '", first, "'"));

  std::vector<std::vector<int>> edges(static_cast<size_t>(j.states_size()));
  // Timeout transitions only, with their paths: a cycle of them would fire forever without events.
  std::vector<std::vector<std::pair<int, std::string>>> timeouts(static_cast<size_t>(j.states_size()));
  for (int i = 0; i < j.states_size(); ++i) {
    const v1::State& st = j.states(i);
    const std::string sp = absl::StrCat("states[", i, "]");
    const bool terminal = st.kind() != v1::State::STATE_KIND_NORMAL;
    if (!v1::State::Kind_IsValid(st.kind())) return fail(sp + ".kind", "not a state kind");
    if (terminal && st.transitions_size() > 0) {
      return fail(sp + ".transitions", "a goal or exit state ends the journey and cannot have transitions");
    }
    if (!terminal && st.transitions_size() == 0) {
      return fail(sp, absl::StrCat("no way out of state '", st.name(),
                                   "': add a transition or a timeout, or make it a goal or exit state"));
    }
    if (auto s = CheckActions(st.on_enter(), sp + ".on_enter"); !s.ok()) return prefixed(s);
    bool has_timeout = false;
    for (int t = 0; t < st.transitions_size(); ++t) {
      const v1::Transition& tr = st.transitions(t);
      const std::string tp = absl::StrCat(sp, ".transitions[", t, "]");
      if (tr.has_on() == tr.has_after()) return fail(tp, "exactly one trigger: `on` (an event) or `after` (a timeout)");
      if (tr.has_on()) {
        if (auto s = CheckEventPredicate(tr.on(), tp + ".on", false); !s.ok()) return prefixed(s);
      } else {
        has_timeout = true;
        if (auto s = CheckDuration(tr.after(), tp + ".after", false); !s.ok()) return prefixed(s);
      }
      if (tr.has_guard()) {
        if (auto s = CheckPredicate(tr.guard(), Scope::kProfile, tp + ".guard", 0); !s.ok()) return prefixed(s);
      }
      if (auto s = CheckActions(tr.actions(), tp + ".actions"); !s.ok()) return prefixed(s);
      if (!tr.name().empty() && !NameOk(tr.name())) return fail(tp + ".name", "1-64 of [a-z0-9_.-]");
      if (tr.branches_size() > 0) {
        if (!tr.to().empty()) return fail(tp + ".to", "set either `to` or `branches`, not both");
        for (int b = 0; b < tr.branches_size(); ++b) {
          const v1::Branch& br = tr.branches(b);
          const std::string bp = absl::StrCat(tp, ".branches[", b, "]");
          auto it = index.find(br.to());
          if (it == index.end()) return fail(bp + ".to", absl::StrCat("unknown state '", br.to(), "'"));
          if (br.weight() == 0) return fail(bp + ".weight", "must be > 0");
          if (auto s = CheckActions(br.actions(), bp + ".actions"); !s.ok()) return prefixed(s);
          edges[static_cast<size_t>(i)].push_back(it->second);
          if (tr.has_after()) timeouts[static_cast<size_t>(i)].push_back({it->second, bp});
        }
      } else {
        auto it = index.find(tr.to());
        if (tr.to().empty()) return fail(tp + ".to", "required (or `branches`)");
        if (it == index.end()) return fail(tp + ".to", absl::StrCat("unknown state '", tr.to(), "'"));
        edges[static_cast<size_t>(i)].push_back(it->second);
        if (tr.has_after()) timeouts[static_cast<size_t>(i)].push_back({it->second, tp});
      }
    }
    for (int r = 0; r < st.reset_timers_on_size(); ++r) {
      const std::string rp = absl::StrCat(sp, ".reset_timers_on[", r, "]");
      if (auto s = CheckEventPredicate(st.reset_timers_on(r), rp, true); !s.ok()) return prefixed(s);
    }
    if (st.reset_timers_on_size() > 0 && !has_timeout) {
      return fail(sp + ".reset_timers_on", "the state has no timeout (`after`) to reset");
    }
  }
  // No cycle of timeouts: after the last event its timers would fire one after another without end.
  // An iterative depth-first search (a journey may have many states).
  {
    enum class Mark { kNew, kOnPath, kDone };
    std::vector<Mark> mark(static_cast<size_t>(j.states_size()), Mark::kNew);
    struct Frame {
      int state;
      size_t next = 0;  // The next timeout of `state` to follow.
    };
    for (int root = 0; root < j.states_size(); ++root) {
      if (mark[static_cast<size_t>(root)] != Mark::kNew) continue;
      std::vector<Frame> stack = {{root}};
      mark[static_cast<size_t>(root)] = Mark::kOnPath;
      while (!stack.empty()) {
        Frame& f = stack.back();
        const auto& out = timeouts[static_cast<size_t>(f.state)];
        if (f.next == out.size()) {
          mark[static_cast<size_t>(f.state)] = Mark::kDone;
          stack.pop_back();
          continue;
        }
        const auto& [to, where] = out[f.next++];
        if (mark[static_cast<size_t>(to)] == Mark::kOnPath) {
          std::string cycle;
          bool in = false;
          for (const Frame& g : stack) {
            in = in || g.state == to;
            if (in) absl::StrAppend(&cycle, j.states(g.state).name(), " -> ");
          }
          absl::StrAppend(&cycle, j.states(to).name());
          return fail(where, absl::StrCat("timeouts form a cycle (", cycle,
                                          ") that would fire without end; leave it on an event, or end it in a goal or exit state"));
        }
        if (mark[static_cast<size_t>(to)] == Mark::kNew) {
          mark[static_cast<size_t>(to)] = Mark::kOnPath;
          stack.push_back({to});
        }
      }
    }
  }
  // Every state must be reachable from the first one.
  std::vector<bool> seen(static_cast<size_t>(j.states_size()), false);
  std::deque<int> queue = {index[first]};
  seen[static_cast<size_t>(index[first])] = true;
  while (!queue.empty()) {
    const int s = queue.front();
    queue.pop_front();
    for (int t : edges[static_cast<size_t>(s)]) {
      if (!seen[static_cast<size_t>(t)]) {
        seen[static_cast<size_t>(t)] = true;
        queue.push_back(t);
      }
    }
  }
  for (int i = 0; i < j.states_size(); ++i) {
    if (!seen[static_cast<size_t>(i)]) {
      return fail(absl::StrCat("states[", i, "]"),
                  absl::StrCat("state '", j.states(i).name(), "' is unreachable from the entry state '", first, "'"));
    }
  }
  if (!v1::Reentry::Policy_IsValid(j.reentry().policy())) return fail("reentry.policy", "not a policy");
  if (j.reentry().has_cooldown()) {
    if (auto s = CheckDuration(j.reentry().cooldown(), "reentry.cooldown", true); !s.ok()) return prefixed(s);
  }
  std::set<int> from_versions;
  for (int m = 0; m < j.migrations_size(); ++m) {
    const v1::Migration& mig = j.migrations(m);
    const std::string mp = absl::StrCat("migrations[", m, "]");
    if (mig.from_version() < 1 || mig.from_version() >= j.version()) {
      return fail(mp + ".from_version", absl::StrCat("must be between 1 and ", j.version() - 1));
    }
    if (!from_versions.insert(mig.from_version()).second) return fail(mp + ".from_version", "duplicate");
    std::map<std::string, std::string> sorted(mig.state_map().begin(), mig.state_map().end());
    for (const auto& [from, to] : sorted) {
      if (!index.contains(to)) {
        return fail(absl::StrCat(mp, ".state_map[", from, "]"), absl::StrCat("unknown state '", to, "'"));
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<JourneyDefinition> ParseJourneyText(std::string_view text) {
  ASSIGN_OR_RETURN(JourneyDefinition j, ParseText<JourneyDefinition>(text));
  RETURN_IF_ERROR(ValidateJourney(j));
  return j;
}

absl::StatusOr<std::vector<JourneyDefinition>> ParseJourneySetText(std::string_view text) {
  ASSIGN_OR_RETURN(v1::JourneySet set, ParseText<v1::JourneySet>(text));
  std::vector<JourneyDefinition> out;
  std::set<std::pair<std::string, int>> seen;
  for (int i = 0; i < set.journeys_size(); ++i) {
    const JourneyDefinition& j = set.journeys(i);
    if (absl::Status s = ValidateJourney(j); !s.ok()) return internal::Prefixed(absl::StrCat("journeys[", i, "]: "), s);
    if (!seen.emplace(j.name(), j.version()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("journeys[", i, "]: journey '", j.name(), "' version ", j.version(), " defined twice"));
    }
    out.push_back(j);
  }
  return out;
}

absl::StatusOr<JourneyDefinition> ParseJourneyJson(std::string_view json) {
  JourneyDefinition j;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(std::string(json), &j, options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("journey JSON: ", std::string(status.message())));
  }
  RETURN_IF_ERROR(ValidateJourney(j));
  return j;
}

}  // namespace omnijourney
