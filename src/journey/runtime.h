// The journey runtime: per-profile instances derived from the profile's events in time order.
//
// A profile's journey state is a pure function of (its events in timeline order, the definitions,
// the time timers have been fired up to). ProfileJourneys::Apply processes one more event (in order);
// anything that breaks the order (a late event, a merge, a split) rebuilds the state by applying the
// profile's whole timeline again. Timeouts fire in event time: before an event later than their due
// time, or when time is advanced past it.
#ifndef OMNIJOURNEY_SRC_JOURNEY_RUNTIME_H_
#define OMNIJOURNEY_SRC_JOURNEY_RUNTIME_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_set.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "journey/predicate.h"
#include "omnijourney/journey.h"
#include "timeline/timeline.h"

namespace omnijourney::internal {

struct CompiledJourney {
  JourneyDefinition def;
  std::map<std::string, int, std::less<>> state_index;
  // labels[state][i]: the label of transition i of the state (its name, else "from->to#i").
  std::vector<std::vector<std::string>> labels;
  // after[state][i]: the timeout of transition i of the state, InfiniteDuration when it has none.
  std::vector<std::vector<absl::Duration>> after;
  // to[state][i]: the state transition i of the state leads to (-1 for a split); branch_to[state][i][b]:
  // the state of its branch b.
  std::vector<std::vector<int>> to;
  std::vector<std::vector<std::vector<int>>> branch_to;
  int first_state = 0;
  int family = 0;  // The journey name's number in the catalog (the same for all its versions).
  // Events before this time do not start instances of this version; running instances of older
  // versions migrate (by def.migrations) at this time. InfinitePast for journeys loaded before any event.
  absl::Time active_from = absl::InfinitePast();
};

// All loaded definitions. An event at time t starts instances of the highest version active at t.
class JourneyCatalog {
 public:
  // Validates and loads a definition. InvalidArgument / AlreadyExists as Engine::AddJourney.
  absl::Status Add(const JourneyDefinition& def, absl::Time active_from = absl::InfinitePast());
  // What Add would answer, changing nothing.
  absl::Status Check(const JourneyDefinition& def, absl::Time active_from) const;
  bool empty() const { return all_.empty(); }
  // Journeys whose entry trigger could match an event (`name`, `kind`) at time `t`: per journey name
  // the highest version active at t, indexed by the trigger's names, else its kinds (triggers with
  // neither are always candidates), in name order. The cost does not grow with journeys that cannot
  // match.
  void EntryCandidates(std::string_view name, v1::EventKind kind, absl::Time t,
                       std::vector<const CompiledJourney*>* out) const;
  // Every loaded version, in load order.
  const std::vector<std::unique_ptr<CompiledJourney>>& all() const { return all_; }
  // Versions that migrate running instances, by activation time.
  const std::vector<const CompiledJourney*>& migrating() const { return migrating_; }
  // A lasting copy of `text` (the same view for the same text), for the step labels that are not
  // in a definition (migrations, restored snapshots). Thread-safe.
  std::string_view Intern(std::string_view text) const;

 private:
  // The versions of one journey name.
  struct Family {
    std::string name;
    int rank = 0;  // Place in name order among all families.
    std::vector<const CompiledJourney*> versions;  // By version.
  };
  const CompiledJourney* Active(int family, absl::Time t) const;

  std::vector<std::unique_ptr<CompiledJourney>> all_;
  std::vector<Family> families_;
  absl::flat_hash_map<std::string, int> family_of_;                        // Name -> families_ index.
  absl::flat_hash_map<std::string, std::vector<int>> entry_by_name_;       // Event name -> families.
  absl::flat_hash_map<int, std::vector<int>> entry_by_kind_;  // Triggers with kinds but no names.
  std::vector<int> entry_unindexed_;                          // Neither names nor kinds.
  std::vector<const CompiledJourney*> migrating_;
  mutable absl::Mutex names_mu_;
  mutable absl::node_hash_set<std::string> names_ ABSL_GUARDED_BY(names_mu_);  // Nodes never move.
};

// The names are views into the catalog, which outlives every instance: its definitions' state names
// and labels, and JourneyCatalog::Intern.
struct JourneyStep {
  std::string_view from;  // Empty for the entry.
  std::string_view to;
  std::string_view transition;
  absl::Time time;
  // The cause, by number in its ProfileJourneys (ProfileJourneys::CauseOf gives the text:
  // "source/event_id" of the triggering event, "timeout@<time>" or "migration").
  uint32_t cause = 0;
};

struct JourneyInstance {
  const CompiledJourney* journey = nullptr;
  int state = 0;
  // The event that started it ("source/event_id", stable across merges), as a cause number.
  uint32_t start = 0;
  absl::Time started;
  absl::Time entered;     // When the current state was entered.
  absl::Time timer_base;  // Entered, or the last reset_timers_on event.
  uint64_t skipped_timeouts = 0;  // Timeouts whose guard failed since timer_base (bit per transition).
  // The earliest pending timeout (InfiniteFuture when none) and its transition, kept with the
  // fields above (ProfileJourneys::Reschedule).
  absl::Time next_due = absl::InfiniteFuture();
  int next_transition = -1;
  bool ended = false;
  absl::Time ended_at;
  std::vector<JourneyStep> history;
};

struct EmittedAction {
  std::string id;  // Deterministic: see ActionId in runtime.cc.
  std::string journey;
  int version = 0;
  std::string from_state;
  std::string to_state;
  std::string transition;
  std::string cause;
  absl::Time time;  // Event time of the transition.
  v1::Action action;
};

class ProfileJourneys {
 public:
  ProfileJourneys(const JourneyCatalog* catalog, const std::vector<std::string>* trait_priority)
      : catalog_(catalog), facts_(trait_priority) {}

  // REQUIRES: `e` is later in timeline order than every entry applied before (see InOrder).
  void Apply(const StoredEntry& e);
  bool InOrder(const StoredEntry& e) const {
    // Compared as string_views (comparing tuples of different element types is not portable).
    return !has_cursor_ ||
           std::tuple<absl::Time, std::string_view, std::string_view>(std::get<0>(cursor_), std::get<1>(cursor_),
                                                                      std::get<2>(cursor_)) < e.Key();
  }
  // Fires every timeout due at or before `t` (due == t fires here, unlike before an event at t).
  void AdvanceTo(absl::Time t);
  // The earliest pending timeout, if any.
  std::optional<absl::Time> NextDue() const;

  const std::vector<JourneyInstance>& instances() const { return instances_; }
  const std::vector<EmittedAction>& actions() const { return actions_; }
  // A step's cause as text: "source/event_id", "timeout@<RFC 3339 time>" or "migration".
  std::string CauseOf(const JourneyStep& step) const { return CauseText(step.cause, step.time); }

  // Snapshots: instances name their version by its index in catalog->all(). Restore returns false
  // for malformed input or a version the catalog does not have.
  void Save(SerialWriter& w) const;
  bool Restore(SerialReader& r);

 private:
  using Key = std::tuple<absl::Time, std::string, std::string>;
  // Cause numbers: events' causes are numbered in causes_; timeouts (whose text names the step's
  // time) and migrations have their own.
  static constexpr uint32_t kTimeoutCause = 0xffffffff;
  static constexpr uint32_t kMigrationCause = 0xfffffffe;
  std::string_view EventCause(uint32_t cause) const {
    const uint32_t begin = cause == 0 ? 0 : cause_ends_[cause - 1];
    return std::string_view(causes_).substr(begin, cause_ends_[cause] - begin);
  }
  std::string CauseText(uint32_t cause, absl::Time t) const;
  uint32_t AddCause(std::string_view text);
  // The current event's cause number (added on first use).
  uint32_t CurrentCause();
  // Recomputes the instance's next_due from its state's timeouts.
  static void Reschedule(JourneyInstance& inst);
  // Fires timeouts due before `limit` (or at it when `inclusive`), applying version migrations at
  // their activation times in between.
  void Advance(absl::Time limit, bool inclusive);
  void FireTimers(absl::Time limit, bool inclusive);
  void Migrate(const CompiledJourney& to);
  // Takes transition `tr` (number `index`) of the instance's state (choosing the branch of a split).
  void Take(JourneyInstance& inst, const v1::Transition& tr, int index, absl::Time t, uint32_t cause);
  void Enter(JourneyInstance& inst, int state, absl::Time t, std::string_view from, std::string_view transition,
             uint32_t cause, const v1::Transition* via, int branch);

  const JourneyCatalog* catalog_;
  ProfileFacts facts_;
  std::vector<JourneyInstance> instances_;
  std::vector<EmittedAction> actions_;
  bool has_cursor_ = false;
  Key cursor_;
  std::vector<const CompiledJourney*> candidates_;  // Scratch.
  std::string causes_;               // Event causes, back to back.
  std::vector<uint32_t> cause_ends_;  // Where each ends in causes_.
  std::string event_cause_;          // The event being applied's cause (scratch).
  std::optional<uint32_t> event_cause_number_;  // Its number, once added.
  size_t migrations_done_ = 0;  // Prefix of catalog_->migrating() applied.
};

}  // namespace omnijourney::internal

#endif  // OMNIJOURNEY_SRC_JOURNEY_RUNTIME_H_
