// Backtest of journey definitions over history: see include/omnijourney/backtest.h.
#include "omnijourney/backtest.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <tuple>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"

namespace omnijourney::analytics {
namespace {

using ::omnijourney::internal::ToAbsl;

// A retained entry as the event it was, for one customer: the profile.
Event ToEvent(const std::string& tenant, ProfileId profile, const TimelineEntry& e) {
  Event ev;
  ev.set_tenant(tenant);
  ev.set_source(e.source);
  ev.set_event_id(e.event_id);
  ev.set_kind(e.kind);
  ev.set_name(e.name);
  ev.set_channel(e.channel);
  ev.set_direction(e.direction);
  ev.set_provider(e.provider);
  ev.set_agent_id(e.agent_id);
  ev.set_conversation_id(e.conversation_id);
  ev.set_text(e.text);
  *ev.mutable_occurred_at() = ToTimestamp(e.time);
  auto* id = ev.add_identifiers();
  id->set_type("profile");
  id->set_value(FormatProfileId(profile));
  for (const auto& [k, v] : e.properties) (*ev.mutable_properties()->mutable_fields())[k].set_string_value(v);
  // "1299.50 CZK" back to money.
  std::vector<absl::string_view> parts = absl::StrSplit(ToAbsl(e.value), ' ');
  double amount = 0;
  if (parts.size() == 2 && absl::SimpleAtod(parts[0], &amount) && parts[1].size() == 3) {
    const double units = std::trunc(amount);
    ev.mutable_value()->set_currency(std::string(parts[1]));
    ev.mutable_value()->set_units(static_cast<int64_t>(units));
    ev.mutable_value()->set_nanos(static_cast<int32_t>(std::llround((amount - units) * 1e9)));
  }
  return ev;
}

struct Replay {
  std::vector<Event> events;  // In event-time order.
  int64_t profiles = 0;
};

absl::StatusOr<BacktestRun> Run(const std::string& label, const std::vector<JourneyDefinition>& journeys,
                                const Replay& replay, const BacktestOptions& options, absl::Time end,
                                int64_t* rejected) {
  BacktestRun run;
  run.label = label;
  run.journeys = journeys;
  EngineOptions eo = options.engine;
  eo.storage = {};  // In memory: nothing of the dry run is written anywhere.
  eo.time_mode = EngineOptions::TimeMode::kEventTime;
  eo.live_timers = false;
  eo.clock = nullptr;
  eo.max_profiles_per_tenant = 0;
  ASSIGN_OR_RETURN(std::unique_ptr<Engine> scratch, Engine::Open(eo));
  for (const JourneyDefinition& j : journeys) {
    if (absl::Status s = scratch->AddJourney(j); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("journey ", j.name(), " v", j.version(), ": ", s.message()));
    }
  }
  std::map<std::tuple<absl::CivilDay, std::string, std::string>, ActionCount> counts;
  const auto take = [&] {
    std::vector<std::string> ids;
    for (const JourneyAction& a : scratch->TakeActions()) {
      ids.push_back(a.id);
      const absl::CivilDay day = absl::ToCivilDay(a.time, options.time_zone);
      ActionCount& c = counts[{day, a.journey, a.channel}];
      c.day = day;
      c.journey = a.journey;
      c.channel = a.channel;
      switch (a.disposition) {
        case JourneyAction::Disposition::kDeliver:
          ++c.delivered;
          ++run.delivered;
          break;
        case JourneyAction::Disposition::kDeferred:
          ++c.deferred;
          ++run.deferred;
          break;
        case JourneyAction::Disposition::kSuppressed:
          ++c.suppressed;
          ++run.suppressed;
          break;
      }
    }
    return scratch->AckActions(ids);
  };
  // Time moves on in steps of timer_step between events, as a live engine's timer thread acts on
  // timeouts when they are due (not at the next event): quiet hours and caps see the right hour.
  const absl::Duration step = options.timer_step;
  std::optional<absl::Time> clock;
  const auto advance_to = [&](absl::Time t) -> absl::Status {
    if (!clock) return absl::OkStatus();
    while (*clock + step < t) {
      *clock += step;
      RETURN_IF_ERROR(scratch->AdvanceTime(*clock));
    }
    return absl::OkStatus();
  };
  for (size_t i = 0; i < replay.events.size(); ++i) {
    const absl::Time t = FromTimestamp(replay.events[i].occurred_at());
    RETURN_IF_ERROR(advance_to(t));
    if (!scratch->Ingest(replay.events[i]).ok()) ++*rejected;
    clock = t;
    if (i % 1000 == 999) RETURN_IF_ERROR(take());
  }
  if (end != absl::InfinitePast()) {
    RETURN_IF_ERROR(advance_to(end));
    RETURN_IF_ERROR(scratch->AdvanceTime(end));
  }
  RETURN_IF_ERROR(take());
  for (auto& [key, c] : counts) run.actions.push_back(std::move(c));
  FunnelOptions fo = options.funnels;
  fo.as_of = scratch->Now();
  AnalysisOptions ao;
  ao.journeys = journeys;
  ao.funnels = fo;
  ao.as_of = fo.as_of;
  ASSIGN_OR_RETURN(Analysis a, Analyze(*scratch, ao));
  run.funnels = std::move(a.funnels);
  return run;
}

std::string Pct(int64_t part, int64_t whole) {
  return whole <= 0 ? std::string("-") : absl::StrFormat("%.1f%%", 100.0 * static_cast<double>(part) / static_cast<double>(whole));
}

std::string Dur(const DurationStats& d) {
  if (d.count == 0) return "-";
  const double h = absl::ToDoubleHours(d.median);
  if (h >= 48) return absl::StrFormat("%.1f d", h / 24);
  if (h >= 1) return absl::StrFormat("%.1f h", h);
  return absl::StrFormat("%.0f min", absl::ToDoubleMinutes(d.median));
}

const JourneyFunnel* FindFunnel(const std::vector<JourneyFunnel>& funnels, const std::string& name) {
  for (const JourneyFunnel& f : funnels) {
    if (f.journey == name) return &f;
  }
  return nullptr;
}

int Version(const std::vector<JourneyDefinition>& journeys, const std::string& name) {
  for (const JourneyDefinition& j : journeys) {
    if (j.name() == name) return j.version();
  }
  return 0;
}

}  // namespace

absl::StatusOr<Backtest> RunBacktest(const Engine& live, const std::vector<JourneyDefinition>& candidate,
                                     const BacktestOptions& options) {
  if (candidate.empty()) return absl::InvalidArgumentError("candidate: no journey to backtest");
  if (options.from >= options.to) return absl::InvalidArgumentError("from: must be before to");
  if (options.timer_step < absl::Seconds(1)) return absl::InvalidArgumentError("timer_step: at least a second");
  std::set<std::string> names;
  for (const JourneyDefinition& j : candidate) {
    if (absl::Status s = ValidateJourney(j); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("candidate ", j.name(), ": ", s.message()));
    }
    if (!names.insert(j.name()).second) {
      return absl::InvalidArgumentError(absl::StrCat("candidate: journey ", j.name(), " given twice"));
    }
  }
  // The live engine's newest version of each candidate's name.
  std::map<std::string, JourneyDefinition> newest;
  for (JourneyDefinition& j : live.Journeys()) {
    if (!names.contains(j.name())) continue;
    auto it = newest.find(j.name());
    if (it == newest.end() || it->second.version() < j.version()) newest[j.name()] = std::move(j);
  }
  std::vector<JourneyDefinition> live_journeys;
  for (const JourneyDefinition& j : candidate) {
    if (auto it = newest.find(j.name()); it != newest.end()) live_journeys.push_back(it->second);
  }

  Replay replay;
  RETURN_IF_ERROR(live.ForEachProfile([&](const ProfileSnapshot& p) {
    if (options.tenant && p.tenant != *options.tenant) return;
    bool any = false;
    for (const TimelineEntry& e : p.timeline) {
      if (e.time < options.from || e.time >= options.to) continue;
      replay.events.push_back(ToEvent(p.tenant, p.profile, e));
      any = true;
    }
    replay.profiles += any;
  }));
  std::stable_sort(replay.events.begin(), replay.events.end(), [](const Event& a, const Event& b) {
    return std::make_pair(a.occurred_at().seconds(), a.occurred_at().nanos()) <
           std::make_pair(b.occurred_at().seconds(), b.occurred_at().nanos());
  });
  Backtest out;
  out.from = options.from;
  out.to = options.to;
  out.profiles = replay.profiles;
  out.events = static_cast<int64_t>(replay.events.size());
  out.end = options.to != absl::InfiniteFuture()
                ? options.to
                : (replay.events.empty() ? absl::InfinitePast()
                                         : FromTimestamp(replay.events.back().occurred_at()) + absl::Hours(24));
  int64_t rejected = 0;
  ASSIGN_OR_RETURN(out.candidate, Run("candidate", candidate, replay, options, out.end, &rejected));
  out.rejected = rejected;
  rejected = 0;
  ASSIGN_OR_RETURN(out.live, Run("live (replayed)", live_journeys, replay, options, out.end, &rejected));
  AnalysisOptions recorded;
  recorded.journeys = live_journeys;
  recorded.from = options.from;
  recorded.to = options.to;
  recorded.tenant = options.tenant;
  recorded.funnels = options.funnels;
  ASSIGN_OR_RETURN(Analysis a, Analyze(live, recorded));
  out.recorded = std::move(a.funnels);
  return out;
}

std::string Backtest::ToString() const {
  const auto when = [](absl::Time t) {
    if (t == absl::InfinitePast() || t == absl::InfiniteFuture()) return std::string("-");
    return absl::FormatTime("%Y-%m-%d %H:%M", t, absl::UTCTimeZone());
  };
  std::string out = absl::StrFormat(
      "backtest of %s to %s (UTC): %d profiles, %d events replayed into each run (%d refused), timers to %s; "
      "no action left the dry run\n",
      from == absl::InfinitePast() ? std::string("the start") : when(from),
      to == absl::InfiniteFuture() ? std::string("the end") : when(to), profiles, events, rejected, when(end));
  const auto row = [&](const std::string& label, const std::string& a, const std::string& b, const std::string& c) {
    absl::StrAppend(&out, absl::StrFormat("%-34s %16s %18s %18s\n", label, a, b, c));
  };
  for (const JourneyDefinition& j : candidate.journeys) {
    const JourneyFunnel* c = FindFunnel(candidate.funnels, j.name());
    const JourneyFunnel* l = FindFunnel(live.funnels, j.name());
    const JourneyFunnel* r = FindFunnel(recorded, j.name());
    const int lv = Version(live.journeys, j.name());
    absl::StrAppend(&out, "\n");
    row(absl::StrCat("journey ", j.name()), absl::StrCat("candidate v", j.version()),
        lv ? absl::StrCat("live v", lv, " replayed") : "no live version", lv ? "live, recorded" : "");
    const auto cell = [](const JourneyFunnel* f, auto fn) { return f == nullptr ? std::string("") : fn(*f); };
    const auto each = [&](const std::string& label, auto fn) { row(label, cell(c, fn), cell(l, fn), cell(r, fn)); };
    each("  instances", [](const JourneyFunnel& f) { return absl::StrCat(f.entered); });
    each("  reached a goal", [](const JourneyFunnel& f) { return Pct(f.converted, f.entered); });
    each("  exited", [](const JourneyFunnel& f) { return Pct(f.exited, f.entered); });
    each("  median time to goal", [](const JourneyFunnel& f) { return Dur(f.time_to_goal); });
    std::vector<std::string> states;
    for (const JourneyFunnel* f : {c, l}) {
      if (f == nullptr) continue;
      for (const StateStats& s : f->states) {
        if (std::find(states.begin(), states.end(), s.state) == states.end()) states.push_back(s.state);
      }
    }
    for (const std::string& s : states) {
      each(absl::StrCat("  reached ", s), [&](const JourneyFunnel& f) {
        for (const StateStats& st : f.states) {
          if (st.state == s) return Pct(st.reached, f.entered);
        }
        return std::string("-");
      });
    }
  }
  absl::StrAppend(&out, "\n");
  row("actions", "candidate", "live replayed", "");
  const auto total = [](const BacktestRun& r) { return r.delivered + r.deferred + r.suppressed; };
  row("  handed out (in the dry run)", absl::StrCat(total(candidate)), absl::StrCat(total(live)), "");
  row("  to deliver", absl::StrCat(candidate.delivered), absl::StrCat(live.delivered), "");
  row("  deferred by quiet hours", absl::StrCat(candidate.deferred), absl::StrCat(live.deferred), "");
  row("  suppressed (cap, quiet hours)", absl::StrCat(candidate.suppressed), absl::StrCat(live.suppressed), "");
  // Per day and channel, both runs side by side.
  std::map<std::pair<absl::CivilDay, std::string>, std::pair<int64_t, int64_t>> by_day;
  for (const ActionCount& a : candidate.actions) by_day[{a.day, a.channel}].first += a.total();
  for (const ActionCount& a : live.actions) by_day[{a.day, a.channel}].second += a.total();
  if (!by_day.empty()) {
    absl::StrAppend(&out, "\nactions per day and channel           candidate      live replayed\n");
    for (const auto& [key, n] : by_day) {
      absl::StrAppend(&out, absl::StrFormat("  %04d-%02d-%02d %-22s %10d %18d\n", key.first.year(), key.first.month(),
                                            key.first.day(), key.second.empty() ? "(no channel)" : key.second,
                                            n.first, n.second));
    }
  }
  return out;
}

}  // namespace omnijourney::analytics
