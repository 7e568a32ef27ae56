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

std::string TransitionLabel(const v1::Transition& t, std::string_view from, int index) {
  if (!t.name().empty()) return t.name();
  return absl::StrCat(ToAbsl(from), "->", t.to().empty() ? "split" : t.to(), "#", index);
}

// Deterministic action id: the same journey version, instance, transition, cause and action give
// the same id in every replay and process.
std::string ActionId(const CompiledJourney& j, std::string_view start_key, std::string_view transition,
                     std::string_view cause, int action_index) {
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
  auto found = family_of_.find(def.name());
  if (found == family_of_.end()) return absl::OkStatus();
  for (const CompiledJourney* v : families_[static_cast<size_t>(found->second)].versions) {
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
  auto [family, fresh] = family_of_.try_emplace(def.name(), static_cast<int>(families_.size()));
  if (fresh) {
    families_.push_back({def.name(), 0, {}});
    std::vector<Family*> by_name;
    for (Family& f : families_) by_name.push_back(&f);
    std::sort(by_name.begin(), by_name.end(), [](const Family* a, const Family* b) { return a->name < b->name; });
    for (size_t i = 0; i < by_name.size(); ++i) by_name[i]->rank = static_cast<int>(i);
  }
  auto c = std::make_unique<CompiledJourney>();
  c->def = def;
  c->active_from = active_from;
  c->family = family->second;
  for (int i = 0; i < def.states_size(); ++i) c->state_index.emplace(def.states(i).name(), i);
  for (const v1::State& st : def.states()) {
    std::vector<std::string>& labels = c->labels.emplace_back();
    std::vector<absl::Duration>& after = c->after.emplace_back();
    std::vector<int>& to = c->to.emplace_back();
    std::vector<std::vector<int>>& branch_to = c->branch_to.emplace_back();
    for (int i = 0; i < st.transitions_size(); ++i) {
      const v1::Transition& tr = st.transitions(i);
      labels.push_back(TransitionLabel(tr, st.name(), i));
      after.push_back(tr.has_after() ? FromProto(tr.after()) : absl::InfiniteDuration());
      to.push_back(tr.branches_size() == 0 ? c->state_index.at(tr.to()) : -1);
      std::vector<int>& branches = branch_to.emplace_back();
      for (const v1::Branch& br : tr.branches()) branches.push_back(c->state_index.at(br.to()));
    }
  }
  c->first_state = def.entry().state().empty() ? 0 : c->state_index.at(def.entry().state());
  families_[static_cast<size_t>(c->family)].versions.push_back(c.get());
  if (def.migrations_size() > 0) {
    migrating_.push_back(c.get());
    std::stable_sort(migrating_.begin(), migrating_.end(), [](const CompiledJourney* a, const CompiledJourney* b) {
      return a->active_from < b->active_from;
    });
  }
  // Entry index by event name (journey names, deduplicated).
  auto add_unique = [](std::vector<int>& list, int f) {
    if (std::find(list.begin(), list.end(), f) == list.end()) list.push_back(f);
  };
  const v1::EventPredicate& trigger = def.entry().trigger();
  for (const std::string& n : trigger.names()) add_unique(entry_by_name_[n], c->family);
  if (trigger.names().empty()) {
    for (int k : trigger.kinds()) add_unique(entry_by_kind_[k], c->family);
    if (trigger.kinds().empty()) add_unique(entry_unindexed_, c->family);
  }
  all_.push_back(std::move(c));
  return absl::OkStatus();
}

std::string_view JourneyCatalog::Intern(std::string_view text) const {
  WriterLock lock(&names_mu_);
  return *names_.emplace(text).first;
}

const CompiledJourney* JourneyCatalog::Active(int family, absl::Time t) const {
  const CompiledJourney* best = nullptr;
  for (const CompiledJourney* v : families_[static_cast<size_t>(family)].versions) {
    if (v->active_from <= t && (best == nullptr || v->def.version() > best->def.version())) best = v;
  }
  return best;
}

void JourneyCatalog::EntryCandidates(std::string_view name, v1::EventKind kind, absl::Time t,
                                     std::vector<const CompiledJourney*>* out) const {
  out->clear();
  auto consider = [&](int family) {
    const CompiledJourney* v = Active(family, t);
    if (v == nullptr) return;
    // The active version's own trigger must name this event (an older version's may have).
    const auto& names = v->def.entry().trigger().names();
    if (!names.empty() && std::find(names.begin(), names.end(), name) == names.end()) return;
    if (std::find(out->begin(), out->end(), v) == out->end()) out->push_back(v);
  };
  if (auto it = entry_by_name_.find(ToAbsl(name)); it != entry_by_name_.end()) {
    for (int f : it->second) consider(f);
  }
  if (auto it = entry_by_kind_.find(kind); it != entry_by_kind_.end()) {
    for (int f : it->second) consider(f);
  }
  for (int f : entry_unindexed_) consider(f);
  std::sort(out->begin(), out->end(), [this](const CompiledJourney* a, const CompiledJourney* b) {
    return families_[static_cast<size_t>(a->family)].rank < families_[static_cast<size_t>(b->family)].rank;
  });
}

void ProfileJourneys::Migrate(const CompiledJourney& to) {
  for (JourneyInstance& inst : instances_) {
    if (inst.ended || inst.journey->family != to.family || inst.journey == &to) continue;
    for (const v1::Migration& m : to.def.migrations()) {
      if (m.from_version() != inst.journey->def.version()) continue;
      const std::string& from_state = inst.journey->def.states(inst.state).name();
      auto mapped = m.state_map().find(from_state);
      if (mapped == m.state_map().end()) break;  // Unmapped: stays on its version.
      inst.history.push_back(
          {from_state, mapped->second,
           catalog_->Intern(absl::StrCat("migrated v", inst.journey->def.version(), "->v", to.def.version())),
           to.active_from, kMigrationCause});
      inst.journey = &to;
      inst.state = to.state_index.at(mapped->second);
      inst.skipped_timeouts = 0;  // Keeps entered and timer_base: the state continues.
      Reschedule(inst);
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

void ProfileJourneys::Reschedule(JourneyInstance& inst) {
  inst.next_due = absl::InfiniteFuture();
  inst.next_transition = -1;
  if (inst.ended) return;
  const std::vector<absl::Duration>& after = inst.journey->after[static_cast<size_t>(inst.state)];
  for (int i = 0; i < static_cast<int>(after.size()); ++i) {
    if (after[static_cast<size_t>(i)] == absl::InfiniteDuration() || (inst.skipped_timeouts >> std::min(i, 63) & 1)) {
      continue;
    }
    const absl::Time due = inst.timer_base + after[static_cast<size_t>(i)];
    if (inst.next_transition < 0 || due < inst.next_due) {
      inst.next_due = due;
      inst.next_transition = i;
    }
  }
}

std::optional<absl::Time> ProfileJourneys::NextDue() const {
  std::optional<absl::Time> best;
  for (const JourneyInstance& inst : instances_) {
    if (inst.next_transition >= 0 && (!best || inst.next_due < *best)) best = inst.next_due;
  }
  return best;
}

std::string ProfileJourneys::CauseText(uint32_t cause, absl::Time t) const {
  if (cause == kTimeoutCause) return absl::StrCat("timeout@", FormatRfc3339(t));
  if (cause == kMigrationCause) return "migration";
  return std::string(EventCause(cause));
}

uint32_t ProfileJourneys::AddCause(std::string_view text) {
  if (!cause_ends_.empty() && EventCause(static_cast<uint32_t>(cause_ends_.size() - 1)) == text) {
    return static_cast<uint32_t>(cause_ends_.size() - 1);
  }
  causes_.append(text);
  cause_ends_.push_back(static_cast<uint32_t>(causes_.size()));
  return static_cast<uint32_t>(cause_ends_.size() - 1);
}

uint32_t ProfileJourneys::CurrentCause() {
  if (!event_cause_number_) event_cause_number_ = AddCause(event_cause_);
  return *event_cause_number_;
}

void ProfileJourneys::Enter(JourneyInstance& inst, int state, absl::Time t, std::string_view from,
                            std::string_view transition, uint32_t cause, const v1::Transition* via,
                            int branch) {
  const CompiledJourney& j = *inst.journey;
  const v1::State& to = j.def.states(state);
  std::string cause_text;  // Built for the first action.
  auto emit = [&](const google::protobuf::RepeatedPtrField<v1::Action>& list, std::string_view label) {
    if (!list.empty() && cause_text.empty()) cause_text = CauseText(cause, t);
    for (int i = 0; i < list.size(); ++i) {
      EmittedAction a;
      a.id = ActionId(j, EventCause(inst.start), label, cause_text, i);
      a.journey = j.def.name();
      a.version = j.def.version();
      a.from_state = std::string(from);
      a.to_state = to.name();
      a.transition = std::string(label);
      a.cause = cause_text;
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
  Reschedule(inst);
}

void ProfileJourneys::FireTimers(absl::Time limit, bool inclusive) {
  // Repeatedly fire the earliest due timeout: one timeout may lead to a state whose own timeout is
  // also due before the limit.
  for (int guard_steps = 0; guard_steps < 100000; ++guard_steps) {
    // The earliest, the first instance among equals (each instance's own is its first among equals).
    JourneyInstance* best = nullptr;
    for (JourneyInstance& inst : instances_) {
      if (inst.next_transition < 0 || (inclusive ? inst.next_due > limit : inst.next_due >= limit)) continue;
      if (best == nullptr || inst.next_due < best->next_due) best = &inst;
    }
    if (best == nullptr) return;
    const int best_t = best->next_transition;
    const absl::Time best_due = best->next_due;
    const v1::State& st = best->journey->def.states(best->state);
    const v1::Transition& tr = st.transitions(best_t);
    facts_.SetNow(std::max(best_due, absl::InfinitePast()));
    if (tr.has_guard() && !Eval(tr.guard(), facts_)) {
      best->skipped_timeouts |= uint64_t{1} << std::min(best_t, 63);
      Reschedule(*best);
      continue;
    }
    Take(*best, tr, best_t, best_due, kTimeoutCause);
  }
}

void ProfileJourneys::Take(JourneyInstance& inst, const v1::Transition& tr, int index, absl::Time t, uint32_t cause) {
  const CompiledJourney& j = *inst.journey;
  const auto state = static_cast<size_t>(inst.state);
  const std::string_view from = j.def.states(inst.state).name();
  const std::string_view label = j.labels[state][static_cast<size_t>(index)];
  if (tr.branches_size() == 0) {
    Enter(inst, j.to[state][static_cast<size_t>(index)], t, from, label, cause, &tr, -1);
    return;
  }
  // A randomized split, deterministic per instance (profile and journey): every replay takes the
  // same branch.
  uint64_t total = 0;
  for (const auto& b : tr.branches()) total += b.weight();
  uint64_t pick = HashConcat(HashBytes(0x9e3779b97f4a7c15ULL, j.def.name()), EventCause(inst.start), label) % total;
  int branch = 0;
  while (pick >= tr.branches(branch).weight()) pick -= tr.branches(branch++).weight();
  Enter(inst, j.branch_to[state][static_cast<size_t>(index)][static_cast<size_t>(branch)], t, from, label, cause, &tr,
        branch);
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
  event_cause_.assign(e.source());
  event_cause_.push_back('/');
  event_cause_.append(e.event_id());
  event_cause_number_.reset();
  // Running instances first: the event moves them (the first matching transition of the state).
  for (JourneyInstance& inst : instances_) {
    if (inst.ended) continue;
    const v1::State& st = inst.journey->def.states(inst.state);
    for (const auto& reset : st.reset_timers_on()) {
      if (Matches(reset, e)) {
        inst.timer_base = t;
        inst.skipped_timeouts = 0;
        Reschedule(inst);
        break;
      }
    }
    for (int i = 0; i < st.transitions_size(); ++i) {
      const v1::Transition& tr = st.transitions(i);
      if (!tr.has_on() || !Matches(tr.on(), e)) continue;
      if (tr.has_guard() && !Eval(tr.guard(), facts_)) continue;
      Take(inst, tr, i, t, CurrentCause());
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
      if (inst.journey->family != j->family) continue;
      any = true;
      if (!inst.ended) running = &inst;
      if (inst.ended && (last_ended == nullptr || inst.ended_at > last_ended->ended_at)) last_ended = &inst;
    }
    const auto policy = j->def.reentry().policy();
    if (running != nullptr && running->started == t && EventCause(running->start) == event_cause_) continue;  // Same event.
    if (policy == v1::Reentry::REENTRY_NEVER && any) continue;
    if (policy == v1::Reentry::REENTRY_AFTER_EXIT && running != nullptr) continue;
    const absl::Duration cooldown = FromProto(j->def.reentry().cooldown());
    if (last_ended != nullptr && t - last_ended->ended_at < cooldown) continue;
    if (running != nullptr) {  // REENTRY_ALWAYS: the running instance ends, a new one starts.
      running->history.push_back(
          {running->journey->def.states(running->state).name(), "", "restarted", t, CurrentCause()});
      running->ended = true;
      running->ended_at = t;
      Reschedule(*running);
    }
    JourneyInstance inst;
    inst.journey = j;
    inst.start = CurrentCause();
    inst.started = t;
    inst.history.reserve(2);  // Most instances take one step after their entry.
    instances_.push_back(std::move(inst));
    Enter(instances_.back(), j->first_state, t, "", "entry", instances_.back().start, nullptr, -1);
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
    w.Bytes(EventCause(inst.start));
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
      w.Bytes(CauseText(s.cause, s.time));
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
    inst.start = AddCause(r.Bytes());
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
      const std::string_view cause = r.Bytes();
      if (cause == "migration") {
        s.cause = kMigrationCause;
      } else if (cause.substr(0, 8) == "timeout@" && cause == CauseText(kTimeoutCause, s.time)) {
        s.cause = kTimeoutCause;
      } else {
        s.cause = AddCause(cause);
      }
      inst.history.push_back(s);
    }
    Reschedule(inst);
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
