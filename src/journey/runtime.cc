#include "journey/runtime.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/mutex.h"
#include "common/status_macros.h"
#include "identity/hash.h"
#include "omnijourney/event.h"

namespace omnijourney::internal {
namespace {

absl::Duration FromProto(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

std::string Cause(const StoredEntry& e) { return absl::StrCat(ToAbsl(e.source()), "/", ToAbsl(e.event_id())); }

std::string TransitionLabel(const v1::Transition& t, std::string_view from, int index) {
  if (!t.name().empty()) return t.name();
  return absl::StrCat(ToAbsl(from), "->", t.to().empty() ? "split" : t.to(), "#", index);
}

// Deterministic action id: the same journey version, instance, transition, cause and action give
// the same id in every replay and process.
std::string ActionId(const CompiledJourney& j, const std::string& start_key, std::string_view transition,
                     const std::string& cause, int action_index) {
  uint64_t h = HashBytes(0xcbf29ce484222325ULL, j.def.name());
  h = HashBytes(h ^ static_cast<uint64_t>(j.def.version()), start_key);
  h = HashBytes(h, transition);
  h = HashBytes(h, cause);
  h = Mix64(h ^ static_cast<uint64_t>(action_index));
  return absl::StrFormat("a-%016x", h);
}

}  // namespace

absl::Status JourneyCatalog::Check(const JourneyDefinition& def, absl::Time active_from) const {
  if (absl::Status s = ValidateJourney(def); !s.ok()) return s;
  auto found = versions_.find(def.name());
  if (found == versions_.end()) return absl::OkStatus();
  for (const CompiledJourney* v : found->second) {
    if (v->def.version() == def.version()) {
      return absl::AlreadyExistsError(absl::StrCat("journey '", def.name(), "' version ", def.version(), " is already loaded"));
    }
    if (v->def.version() > def.version()) {
      return absl::InvalidArgumentError(absl::StrCat("journey '", def.name(), "' version ", def.version(),
                                                     ": version ", v->def.version(), " is already loaded (versions only go up)"));
    }
    if (v->active_from > active_from) {
      return absl::InvalidArgumentError(absl::StrCat("journey '", def.name(), "': activation times must not go back"));
    }
  }
  return absl::OkStatus();
}

absl::Status JourneyCatalog::Add(const JourneyDefinition& def, absl::Time active_from) {
  if (absl::Status s = Check(def, active_from); !s.ok()) return s;
  auto& versions = versions_[def.name()];
  auto c = std::make_unique<CompiledJourney>();
  c->def = def;
  c->active_from = active_from;
  for (int i = 0; i < def.states_size(); ++i) c->state_index.emplace(def.states(i).name(), i);
  for (const v1::State& st : def.states()) {
    std::vector<std::string>& labels = c->labels.emplace_back();
    for (int i = 0; i < st.transitions_size(); ++i) labels.push_back(TransitionLabel(st.transitions(i), st.name(), i));
  }
  c->first_state = def.entry().state().empty() ? 0 : c->state_index.at(def.entry().state());
  versions.push_back(c.get());
  if (def.migrations_size() > 0) {
    migrating_.push_back(c.get());
    std::stable_sort(migrating_.begin(), migrating_.end(), [](const CompiledJourney* a, const CompiledJourney* b) {
      return a->active_from < b->active_from;
    });
  }
  // Entry index by event name (journey names, deduplicated).
  auto add_unique = [](std::vector<std::string>& list, const std::string& name) {
    if (std::find(list.begin(), list.end(), name) == list.end()) list.push_back(name);
  };
  const v1::EventPredicate& trigger = def.entry().trigger();
  for (const std::string& n : trigger.names()) add_unique(entry_by_name_[n], def.name());
  if (trigger.names().empty()) {
    for (int k : trigger.kinds()) add_unique(entry_by_kind_[k], def.name());
    if (trigger.kinds().empty()) add_unique(entry_unindexed_, def.name());
  }
  all_.push_back(std::move(c));
  return absl::OkStatus();
}

std::string_view JourneyCatalog::Intern(std::string_view text) const {
  WriterLock lock(&names_mu_);
  return *names_.emplace(text).first;
}

const CompiledJourney* JourneyCatalog::Active(const std::string& name, absl::Time t) const {
  auto it = versions_.find(name);
  if (it == versions_.end()) return nullptr;
  const CompiledJourney* best = nullptr;
  for (const CompiledJourney* v : it->second) {
    if (v->active_from <= t && (best == nullptr || v->def.version() > best->def.version())) best = v;
  }
  return best;
}

void JourneyCatalog::EntryCandidates(std::string_view name, v1::EventKind kind, absl::Time t,
                                     std::vector<const CompiledJourney*>* out) const {
  out->clear();
  auto consider = [&](const std::string& journey) {
    const CompiledJourney* v = Active(journey, t);
    if (v == nullptr) return;
    // The active version's own trigger must name this event (an older version's may have).
    const auto& names = v->def.entry().trigger().names();
    if (!names.empty() && std::find(names.begin(), names.end(), name) == names.end()) return;
    if (std::find(out->begin(), out->end(), v) == out->end()) out->push_back(v);
  };
  if (auto it = entry_by_name_.find(name); it != entry_by_name_.end()) {
    for (const std::string& j : it->second) consider(j);
  }
  if (auto it = entry_by_kind_.find(kind); it != entry_by_kind_.end()) {
    for (const std::string& j : it->second) consider(j);
  }
  for (const std::string& j : entry_unindexed_) consider(j);
  std::sort(out->begin(), out->end(),
            [](const CompiledJourney* a, const CompiledJourney* b) { return a->def.name() < b->def.name(); });
}

void ProfileJourneys::Migrate(const CompiledJourney& to) {
  for (JourneyInstance& inst : instances_) {
    if (inst.ended || inst.journey->def.name() != to.def.name() || inst.journey == &to) continue;
    for (const v1::Migration& m : to.def.migrations()) {
      if (m.from_version() != inst.journey->def.version()) continue;
      const std::string& from_state = inst.journey->def.states(inst.state).name();
      auto mapped = m.state_map().find(from_state);
      if (mapped == m.state_map().end()) break;  // Unmapped: stays on its version.
      inst.history.push_back(
          {from_state, mapped->second,
           catalog_->Intern(absl::StrCat("migrated v", inst.journey->def.version(), "->v", to.def.version())),
           to.active_from, "migration"});
      inst.journey = &to;
      inst.state = to.state_index.at(mapped->second);
      inst.skipped_timeouts = 0;  // Keeps entered and timer_base: the state continues.
      break;
    }
  }
}

void ProfileJourneys::Advance(absl::Time limit, bool inclusive) {
  const auto& migrating = catalog_->migrating();
  while (migrations_done_ < migrating.size()) {
    const CompiledJourney* m = migrating[migrations_done_];
    if (inclusive ? m->active_from > limit : m->active_from >= limit) break;
    FireTimers(m->active_from, /*inclusive=*/false);  // Timeouts before the switch run on the old version.
    Migrate(*m);
    ++migrations_done_;
  }
  FireTimers(limit, inclusive);
}

std::optional<absl::Time> ProfileJourneys::Due(const JourneyInstance& inst, int transition) const {
  const v1::Transition& t = inst.journey->def.states(inst.state).transitions(transition);
  if (!t.has_after() || (inst.skipped_timeouts >> std::min(transition, 63) & 1)) return std::nullopt;
  return inst.timer_base + FromProto(t.after());
}

std::optional<absl::Time> ProfileJourneys::NextDue() const {
  std::optional<absl::Time> best;
  for (const JourneyInstance& inst : instances_) {
    if (inst.ended) continue;
    const int n = inst.journey->def.states(inst.state).transitions_size();
    for (int i = 0; i < n; ++i) {
      if (auto d = Due(inst, i); d && (!best || *d < *best)) best = d;
    }
  }
  return best;
}

void ProfileJourneys::Enter(JourneyInstance& inst, int state, absl::Time t, std::string_view from,
                            std::string_view transition, const std::string& cause, const v1::Transition* via,
                            int branch) {
  const CompiledJourney& j = *inst.journey;
  const v1::State& to = j.def.states(state);
  auto emit = [&](const google::protobuf::RepeatedPtrField<v1::Action>& list, std::string_view label) {
    for (int i = 0; i < list.size(); ++i) {
      EmittedAction a;
      a.id = ActionId(j, inst.start_key, label, cause, i);
      a.journey = j.def.name();
      a.version = j.def.version();
      a.from_state = std::string(from);
      a.to_state = to.name();
      a.transition = std::string(label);
      a.cause = cause;
      a.time = t;
      a.action = list[i];
      actions_.push_back(std::move(a));
    }
  };
  if (via != nullptr) {
    emit(via->actions(), transition);
    if (branch >= 0) {
      emit(via->branches(branch).actions(), absl::StrCat(ToAbsl(transition), "/branch:", via->branches(branch).to()));
    }
  }
  if (!to.on_enter().empty()) emit(to.on_enter(), absl::StrCat(ToAbsl(transition), "/enter:", to.name()));
  inst.history.push_back({from, to.name(), transition, t, cause});
  inst.state = state;
  inst.entered = t;
  inst.timer_base = t;
  inst.skipped_timeouts = 0;
  if (to.kind() != v1::State::STATE_KIND_NORMAL) {
    inst.ended = true;
    inst.ended_at = t;
  }
}

void ProfileJourneys::FireTimers(absl::Time limit, bool inclusive) {
  // Repeatedly fire the earliest due timeout: one timeout may lead to a state whose own timeout is
  // also due before the limit.
  for (int guard_steps = 0; guard_steps < 100000; ++guard_steps) {
    JourneyInstance* best = nullptr;
    int best_t = -1;
    absl::Time best_due;
    for (JourneyInstance& inst : instances_) {
      if (inst.ended) continue;
      const int n = inst.journey->def.states(inst.state).transitions_size();
      for (int i = 0; i < n; ++i) {
        auto d = Due(inst, i);
        if (!d || (inclusive ? *d > limit : *d >= limit)) continue;
        if (best == nullptr || *d < best_due) {
          best = &inst;
          best_t = i;
          best_due = *d;
        }
      }
    }
    if (best == nullptr) return;
    const v1::State& st = best->journey->def.states(best->state);
    const v1::Transition& tr = st.transitions(best_t);
    facts_.SetNow(std::max(best_due, absl::InfinitePast()));
    if (tr.has_guard() && !Eval(tr.guard(), facts_)) {
      best->skipped_timeouts |= uint64_t{1} << std::min(best_t, 63);
      continue;
    }
    Take(*best, tr, best->journey->labels[static_cast<size_t>(best->state)][static_cast<size_t>(best_t)], best_due,
         absl::StrCat("timeout@", FormatRfc3339(best_due)));
  }
}

void ProfileJourneys::Take(JourneyInstance& inst, const v1::Transition& tr, std::string_view label, absl::Time t,
                           const std::string& cause) {
  const std::string_view from = inst.journey->def.states(inst.state).name();
  if (tr.branches_size() == 0) {
    Enter(inst, inst.journey->state_index.at(tr.to()), t, from, label, cause, &tr, -1);
    return;
  }
  // A randomized split, deterministic per instance (profile and journey): every replay takes the
  // same branch.
  uint64_t total = 0;
  for (const auto& b : tr.branches()) total += b.weight();
  uint64_t pick = HashBytes(HashBytes(0x9e3779b97f4a7c15ULL, inst.journey->def.name()), absl::StrCat(inst.start_key, ToAbsl(label))) % total;
  int branch = 0;
  while (pick >= tr.branches(branch).weight()) pick -= tr.branches(branch++).weight();
  Enter(inst, inst.journey->state_index.at(tr.branches(branch).to()), t, from, label, cause, &tr, branch);
}

void ProfileJourneys::AdvanceTo(absl::Time t) { Advance(t, /*inclusive=*/true); }

void ProfileJourneys::Apply(const StoredEntry& e) {
  const absl::Time t = e.time();
  Advance(t, /*inclusive=*/false);
  // A migration activated exactly at t applies before the event.
  const auto& migrating = catalog_->migrating();
  while (migrations_done_ < migrating.size() && migrating[migrations_done_]->active_from <= t) {
    Migrate(*migrating[migrations_done_]);
    ++migrations_done_;
  }
  facts_.Observe(e);
  facts_.SetNow(t);
  has_cursor_ = true;
  cursor_ = e.Key();
  const std::string cause = Cause(e);
  // Running instances first: the event moves them (the first matching transition of the state).
  for (JourneyInstance& inst : instances_) {
    if (inst.ended) continue;
    const v1::State& st = inst.journey->def.states(inst.state);
    for (const auto& reset : st.reset_timers_on()) {
      if (Matches(reset, e)) {
        inst.timer_base = t;
        inst.skipped_timeouts = 0;
        break;
      }
    }
    for (int i = 0; i < st.transitions_size(); ++i) {
      const v1::Transition& tr = st.transitions(i);
      if (!tr.has_on() || !Matches(tr.on(), e)) continue;
      if (tr.has_guard() && !Eval(tr.guard(), facts_)) continue;
      Take(inst, tr, inst.journey->labels[static_cast<size_t>(inst.state)][static_cast<size_t>(i)], t, cause);
      break;
    }
  }
  // Then entries (only journeys whose trigger can match this event's name).
  catalog_->EntryCandidates(e.name(), e.kind(), t, &candidates_);
  for (const CompiledJourney* j : candidates_) {
    const v1::Entry& entry = j->def.entry();
    if (!Matches(entry.trigger(), e)) continue;
    if (entry.has_condition() && !Eval(entry.condition(), facts_)) continue;
    JourneyInstance* running = nullptr;
    const JourneyInstance* last_ended = nullptr;
    bool any = false;
    for (JourneyInstance& inst : instances_) {
      if (inst.journey->def.name() != j->def.name()) continue;
      any = true;
      if (!inst.ended) running = &inst;
      if (inst.ended && (last_ended == nullptr || inst.ended_at > last_ended->ended_at)) last_ended = &inst;
    }
    const auto policy = j->def.reentry().policy();
    if (running != nullptr && running->started == t && running->start_key == cause) continue;  // Same event.
    if (policy == v1::Reentry::REENTRY_NEVER && any) continue;
    if (policy == v1::Reentry::REENTRY_AFTER_EXIT && running != nullptr) continue;
    const absl::Duration cooldown = FromProto(j->def.reentry().cooldown());
    if (last_ended != nullptr && t - last_ended->ended_at < cooldown) continue;
    if (running != nullptr) {  // REENTRY_ALWAYS: the running instance ends, a new one starts.
      running->history.push_back({running->journey->def.states(running->state).name(), "", "restarted", t, cause});
      running->ended = true;
      running->ended_at = t;
    }
    JourneyInstance inst;
    inst.journey = j;
    inst.start_key = cause;
    inst.started = t;
    instances_.push_back(std::move(inst));
    Enter(instances_.back(), j->first_state, t, "", "entry", cause, nullptr, -1);
  }
}

void ProfileJourneys::Save(SerialWriter& w) const {
  const auto& all = catalog_->all();
  auto index_of = [&](const CompiledJourney* j) {
    for (size_t i = 0; i < all.size(); ++i) {
      if (all[i].get() == j) return i;
    }
    return all.size();
  };
  w.Varint(instances_.size());
  for (const JourneyInstance& inst : instances_) {
    w.Varint(index_of(inst.journey));
    w.I64(inst.state);
    w.Bytes(inst.start_key);
    w.Time(inst.started);
    w.Time(inst.entered);
    w.Time(inst.timer_base);
    w.U64(inst.skipped_timeouts);
    w.Bool(inst.ended);
    w.Time(inst.ended_at);
    w.Varint(inst.history.size());
    for (const JourneyStep& s : inst.history) {
      w.Bytes(s.from);
      w.Bytes(s.to);
      w.Bytes(s.transition);
      w.Time(s.time);
      w.Bytes(s.cause);
    }
  }
  w.Varint(actions_.size());
  for (const EmittedAction& a : actions_) {
    w.Bytes(a.id);
    w.Bytes(a.journey);
    w.I64(a.version);
    w.Bytes(a.from_state);
    w.Bytes(a.to_state);
    w.Bytes(a.transition);
    w.Bytes(a.cause);
    w.Time(a.time);
    w.Bytes(a.action.SerializeAsString());
  }
  w.Bool(has_cursor_);
  w.Time(std::get<0>(cursor_));
  w.Bytes(std::get<1>(cursor_));
  w.Bytes(std::get<2>(cursor_));
  w.Varint(migrations_done_);
  facts_.Save(w);
}

bool ProfileJourneys::Restore(SerialReader& r) {
  const auto& all = catalog_->all();
  const size_t instances = r.Count(40);
  for (size_t i = 0; i < instances && r.ok(); ++i) {
    JourneyInstance inst;
    const uint64_t j = r.Varint();
    if (j >= all.size()) return false;
    inst.journey = all[j].get();
    inst.state = static_cast<int>(r.I64());
    if (inst.state < 0 || inst.state >= inst.journey->def.states_size()) return false;
    inst.start_key = std::string(r.Bytes());
    inst.started = r.Time();
    inst.entered = r.Time();
    inst.timer_base = r.Time();
    inst.skipped_timeouts = r.U64();
    inst.ended = r.Bool();
    inst.ended_at = r.Time();
    const size_t steps = r.Count(12);
    for (size_t k = 0; k < steps && r.ok(); ++k) {
      JourneyStep s;
      s.from = catalog_->Intern(r.Bytes());
      s.to = catalog_->Intern(r.Bytes());
      s.transition = catalog_->Intern(r.Bytes());
      s.time = r.Time();
      s.cause = std::string(r.Bytes());
      inst.history.push_back(std::move(s));
    }
    instances_.push_back(std::move(inst));
  }
  const size_t actions = r.Count(16);
  for (size_t i = 0; i < actions && r.ok(); ++i) {
    EmittedAction a;
    a.id = std::string(r.Bytes());
    a.journey = std::string(r.Bytes());
    a.version = static_cast<int>(r.I64());
    a.from_state = std::string(r.Bytes());
    a.to_state = std::string(r.Bytes());
    a.transition = std::string(r.Bytes());
    a.cause = std::string(r.Bytes());
    a.time = r.Time();
    const std::string_view bytes = r.Bytes();
    if (!a.action.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return false;
    actions_.push_back(std::move(a));
  }
  has_cursor_ = r.Bool();
  const absl::Time t = r.Time();
  std::string source(r.Bytes());
  cursor_ = Key(t, std::move(source), std::string(r.Bytes()));
  migrations_done_ = static_cast<size_t>(r.Varint());
  if (migrations_done_ > catalog_->migrating().size()) return false;
  return facts_.Restore(r) && r.ok();
}

}  // namespace omnijourney::internal
