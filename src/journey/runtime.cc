#include "journey/runtime.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "identity/hash.h"
#include "omnijourney/event.h"

namespace omnijourney::internal {
namespace {

absl::Duration FromProto(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

std::string Cause(const StoredEntry& e) { return absl::StrCat(e.view.source, "/", e.view.event_id); }

std::string TransitionLabel(const v1::Transition& t, const std::string& from, int index) {
  if (!t.name().empty()) return t.name();
  return absl::StrCat(from, "->", t.to().empty() ? "split" : t.to(), "#", index);
}

// Deterministic action id: the same journey version, instance, transition, cause and action give
// the same id in every replay and process.
std::string ActionId(const CompiledJourney& j, const std::string& start_key, const std::string& transition,
                     const std::string& cause, int action_index) {
  uint64_t h = HashBytes(0xcbf29ce484222325ULL, j.def.name());
  h = HashBytes(h ^ static_cast<uint64_t>(j.def.version()), start_key);
  h = HashBytes(h, transition);
  h = HashBytes(h, cause);
  h = Mix64(h ^ static_cast<uint64_t>(action_index));
  return absl::StrFormat("a-%016x", h);
}

}  // namespace

absl::Status JourneyCatalog::Add(const JourneyDefinition& def) {
  if (absl::Status s = ValidateJourney(def); !s.ok()) return s;
  for (const auto& j : all_) {
    if (j->def.name() == def.name() && j->def.version() == def.version()) {
      return absl::AlreadyExistsError(absl::StrCat("journey '", def.name(), "' version ", def.version(), " is already loaded"));
    }
  }
  auto c = std::make_unique<CompiledJourney>();
  c->def = def;
  for (int i = 0; i < def.states_size(); ++i) c->state_index.emplace(def.states(i).name(), i);
  c->first_state = def.entry().state().empty() ? 0 : c->state_index.at(def.entry().state());
  all_.push_back(std::move(c));
  // Latest version per name.
  std::map<std::string, const CompiledJourney*> latest;
  for (const auto& j : all_) {
    auto& slot = latest[j->def.name()];
    if (slot == nullptr || slot->def.version() < j->def.version()) slot = j.get();
  }
  latest_.clear();
  entry_by_name_.clear();
  entry_unnamed_.clear();
  for (const auto& [name, j] : latest) {
    latest_.push_back(j);
    const auto& names = j->def.entry().trigger().names();
    if (names.empty()) entry_unnamed_.push_back(j);
    for (const std::string& n : names) entry_by_name_[n].push_back(j);
  }
  return absl::OkStatus();
}

void JourneyCatalog::EntryCandidates(std::string_view name, std::vector<const CompiledJourney*>* out) const {
  out->clear();
  if (auto it = entry_by_name_.find(name); it != entry_by_name_.end()) out->assign(it->second.begin(), it->second.end());
  out->insert(out->end(), entry_unnamed_.begin(), entry_unnamed_.end());
  if (out->size() > 1) {
    std::sort(out->begin(), out->end(),
              [](const CompiledJourney* a, const CompiledJourney* b) { return a->def.name() < b->def.name(); });
    out->erase(std::unique(out->begin(), out->end()), out->end());
  }
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

void ProfileJourneys::Enter(JourneyInstance& inst, int state, absl::Time t, const std::string& from,
                            const std::string& transition, const std::string& cause, const v1::Transition* via,
                            int branch) {
  const CompiledJourney& j = *inst.journey;
  const v1::State& to = j.def.states(state);
  auto emit = [&](const google::protobuf::RepeatedPtrField<v1::Action>& list, const std::string& label) {
    for (int i = 0; i < list.size(); ++i) {
      EmittedAction a;
      a.id = ActionId(j, inst.start_key, label, cause, i);
      a.journey = j.def.name();
      a.version = j.def.version();
      a.from_state = from;
      a.to_state = to.name();
      a.transition = label;
      a.cause = cause;
      a.time = t;
      a.action = list[i];
      actions_.push_back(std::move(a));
    }
  };
  if (via != nullptr) {
    emit(via->actions(), transition);
    if (branch >= 0) emit(via->branches(branch).actions(), absl::StrCat(transition, "/branch:", via->branches(branch).to()));
  }
  emit(to.on_enter(), absl::StrCat(transition, "/enter:", to.name()));
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
    const std::string label = TransitionLabel(tr, st.name(), best_t);
    const std::string cause = absl::StrCat("timeout@", FormatRfc3339(best_due));
    int target = tr.to().empty() ? -1 : best->journey->state_index.at(tr.to());
    int branch = -1;
    if (tr.branches_size() > 0) {
      uint64_t total = 0;
      for (const auto& b : tr.branches()) total += b.weight();
      uint64_t pick = HashBytes(HashBytes(0x9e3779b97f4a7c15ULL, best->journey->def.name()), best->start_key + label) % total;
      for (int b = 0; b < tr.branches_size(); ++b) {
        if (pick < tr.branches(b).weight()) {
          branch = b;
          break;
        }
        pick -= tr.branches(b).weight();
      }
      target = best->journey->state_index.at(tr.branches(branch).to());
    }
    Enter(*best, target, best_due, st.name(), label, cause, &tr, branch);
  }
}

void ProfileJourneys::AdvanceTo(absl::Time t) { FireTimers(t, /*inclusive=*/true); }

void ProfileJourneys::Apply(const StoredEntry& e) {
  const absl::Time t = e.view.time;
  FireTimers(t, /*inclusive=*/false);
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
      const std::string label = TransitionLabel(tr, st.name(), i);
      int target = -1, branch = -1;
      if (tr.branches_size() > 0) {
        uint64_t total = 0;
        for (const auto& b : tr.branches()) total += b.weight();
        // Deterministic per instance (profile and journey): every replay takes the same branch.
        uint64_t pick = HashBytes(HashBytes(0x9e3779b97f4a7c15ULL, inst.journey->def.name()), inst.start_key + label) % total;
        for (int b = 0; b < tr.branches_size(); ++b) {
          if (pick < tr.branches(b).weight()) {
            branch = b;
            break;
          }
          pick -= tr.branches(b).weight();
        }
        target = inst.journey->state_index.at(tr.branches(branch).to());
      } else {
        target = inst.journey->state_index.at(tr.to());
      }
      Enter(inst, target, t, st.name(), label, cause, &tr, branch);
      break;
    }
  }
  // Then entries (only journeys whose trigger can match this event's name).
  catalog_->EntryCandidates(e.view.name, &candidates_);
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

}  // namespace omnijourney::internal
