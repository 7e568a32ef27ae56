// The engine's derived state and the one function that changes it: Apply(record, position).
//
// Every change (events, journey definitions, unlink, split, erasure, time advances, action
// acknowledgements) arrives as a v1::LogRecord that is already in the log; Apply is the same call
// live, at recovery, and (later) on followers, so a replay of the log gives the same state. The
// record's time (LogRecord.at, clock mode) is the state's "now" for that record.
//
// It wires the components: the dedupe window, the identity graph, the profile store, the journey
// scheduler and the outbox, and reads them for Context, Explain and analytics.
//
// Thread-safety: not thread-safe. The engine calls Apply and the other non-const methods under its
// exclusive lock, and the const ones under its shared lock.
#ifndef OMNIJOURNEY_SRC_ENGINE_ENGINE_STATE_H_
#define OMNIJOURNEY_SRC_ENGINE_ENGINE_STATE_H_

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/container/flat_hash_set.h"
#include "engine/dedupe_window.h"
#include "engine/erasure.h"
#include "engine/journey_scheduler.h"
#include "engine/outbox.h"
#include "engine/profile_store.h"
#include "omnijourney/engine.h"
#include "store/log.h"
#include "store/spill_store.h"

namespace omnijourney::internal {

// The time of the record being applied (LogRecord.at), for the identity graph's audit entries of
// operator actions, so that a replay stamps them as the live engine did. Before any record with a
// time it reads `fallback`. Thread-safe.
class RecordClock final : public Clock {
 public:
  explicit RecordClock(const Clock* fallback) : fallback_(fallback) {}
  absl::Time Now() const override {
    const int64_t us = micros_.load(std::memory_order_relaxed);
    return us == kUnset ? fallback_->Now() : absl::FromUnixMicros(us);
  }
  void Set(absl::Time t) { micros_.store(absl::ToUnixMicros(t), std::memory_order_relaxed); }

 private:
  static constexpr int64_t kUnset = INT64_MIN;
  const Clock* fallback_;
  std::atomic<int64_t> micros_{kUnset};
};

// The id of an action of `tenant`: the journey runtime's id for the default tenant, else a hash of
// it with the tenant ("a-" and 16 hex digits either way).
std::string TenantActionId(const std::string& runtime_id, const std::string& tenant);
// The same in a buffer of the caller's (no allocation: checked for every emitted action of a
// touched profile); the view is of `runtime_id` for the default tenant, else of `buffer`.
absl::string_view TenantActionIdView(const std::string& runtime_id, const std::string& tenant, char (&buffer)[18]);

class EngineState {
 public:
  // `options`, `log`, `spill` (may be null) and `record_clock` (the graph's clock; may be null) must
  // outlive the state. The log is read and rewritten by erasure (scrubbing the records before it).
  EngineState(const EngineOptions& options, std::unique_ptr<IdentityGraph> graph, absl::TimeZone zone, Log* log,
              SpillStore* spill, RecordClock* record_clock);

  // What applying a record did.
  struct Applied {
    IngestResult ingest;               // Events.
    std::vector<ProfileId> changed;    // Unlink, split, erasure: the changed profiles.
  };
  // Applies one record at `position`. Errors: an event none of whose identifiers is usable
  // (InvalidArgument; only in logs written before admission checked it), an operator action on an
  // unknown identifier or profile (as the graph answers), a journey that does not load (DataLoss),
  // and storage failures of the spill store, after which every later call fails (see io_error).
  // An erasure record applied live carries the erased value (LoggedErasure is stored without it).
  absl::StatusOr<Applied> Apply(const v1::LogRecord& record, LogPosition position);
  // Apply of an event record (record time `at`, InfinitePast when unset), without building the
  // LogRecord around the event. `key`: DedupeWindow::KeyOf(event). `memo`: admission's, which found the
  // event new (IdentityGraph::CheckUsable); without it (a replayed record) a duplicate is found
  // here. The result goes to `*result` (the caller's slot: no copies on the way). `entry`: the
  // event's MakeEntry, made by the caller before it took the lock (moved from), or null.
  absl::Status ApplyEvent(const Event& event, const DedupeKey& key, absl::Time at, LogPosition position,
                          LinkMemo* memo, IngestResult* result, StoredEntry* entry = nullptr);
  // What AddJourney's record would get from Apply, changing nothing.
  absl::Status CheckJourney(const JourneyDefinition& def, absl::Time active_from) const {
    return journeys_.Check(def, active_from);
  }
  std::vector<JourneyDefinition> JourneyDefinitions() const { return journeys_.Definitions(); }

  // The event's (tenant, source, event_id) was applied before, within the window.
  bool IsDuplicate(const DedupeKey& key) const { return dedupe_.Contains(key); }
  // The result of a duplicate: its profile now (counts it).
  IngestResult Duplicate(const Event& event);
  // The event was erased (a tombstone of its key): a re-delivery is refused for good.
  bool IsErased(const DedupeKey& key) const;
  // The result of a re-delivered erased event (counts it).
  IngestResult Erased(const Event& event);
  // Tombstones of erased events (the log's, at open).
  void AddTombstones(const std::vector<Tombstone>& tombstones);

  // A live erasure, in two calls around the log's append (Log::Erase): what the log must do, from
  // the state before the erasure, as of clock time `at` (`erasure` carries the value of an erased identifier; the returned
  // plan's record does not), then the change of this state once the log has it. Every sealed and
  // spilled profile of the tenant is decoded first. Errors of the plan change nothing.
  absl::StatusOr<Log::Erasure> PlanErasure(const v1::LoggedErasure& erasure, absl::Time at);
  // REQUIRES: the last PlanErasure's plan (with these tombstones), appended at `position`. Returns the changed profiles (a
  // profile erasure: the erased one first).
  absl::StatusOr<std::vector<ProfileId>> FinishErasure(const std::vector<Tombstone>& tombstones, LogPosition position,
                                                       absl::Time at);

  const IdentityGraph& graph() const { return *graph_; }
  // No event applied yet (journeys loaded now apply to every event).
  bool pristine() const { return events_ == 0; }
  // The state's time: the latest event time (event-time mode) or record time (clock mode), or
  // AdvanceTime, whichever is later.
  absl::Time Now() const;
  // The time timers and actions have reached: Now() minus the allowed lateness.
  absl::Time TimerTime() const { return Now() - options_.allowed_lateness; }
  // The earliest time at which something becomes due (a timer, a deferred action, an action not yet
  // handed out), as a clock time (allowed lateness included); nullopt when nothing waits.
  std::optional<absl::Time> NextWake() const;

  // Resolves an identifier query. InvalidArgument for an empty type or value.
  absl::StatusOr<ProfileId> Resolve(const IdentifierQuery& query) const;
  absl::StatusOr<ProfileId> ResolveProfile(ProfileId id) const { return graph_->ResolveProfile(id); }
  // The same within `tenant`: a profile of another tenant is NotFound, as an unknown one.
  absl::StatusOr<ProfileId> ResolveProfileIn(std::string_view tenant, ProfileId id) const;

  // The outbox, for the host side (TakeActions, AckActions).
  Outbox& outbox() { return outbox_; }
  const Outbox& outbox() const { return outbox_; }

  // Readers. `now`: the reader's time (the clock in clock mode).
  absl::StatusOr<CustomerContext> Context(ProfileId id, absl::Time now) const;
  // The explanation without its audit, and the cursor the audit is read with
  // (graph().ContinueExplain, then Take), so that the caller may read it in steps.
  absl::StatusOr<ProfileExplanation> Explain(ProfileId id, std::unique_ptr<AuditCursor>* audit) const;
  absl::StatusOr<TimelineSlice> Timeline(ProfileId id, const TimelinePage& page) const;
  absl::Status ForEachProfile(const std::function<void(const ProfileSnapshot&)>& fn) const;
  // Released actions before this are forgotten (Outbox::Prune): no replay can emit them again.
  absl::Time PruneHorizon() const {
    return Now() - options_.timeline.max_age - options_.allowed_lateness - absl::Hours(24);
  }
  // The ids of the released actions whose profiles are of `tenant` now, of those after
  // PruneHorizon().
  std::vector<std::string> ReleasedActionIds(std::string_view tenant) const;
  // Everything but the admission counters (the façade adds them).
  EngineStats Stats() const;
  bool ContainsStringForTesting(std::string_view needle) const;

  // Erasures applied since Open: a reader that reads in steps (Explain) starts again when it moved.
  int64_t erasures() const { return erasures_; }
  // Whether a part sealed in the snapshot failed to decode: the snapshot must not be used again.
  bool sealed_damaged() const { return profiles_.sealed_damaged() || journeys_.sealed_damaged(); }
  // The position of the last record applied (0: none).
  LogPosition position() const { return position_; }
  // The source of the last record applied that had one (Engine::Source); applying a record with a
  // source notes it, and the façade notes the source of the events it applies live.
  const SourcePosition& source() const { return source_; }
  void NoteSource(const SourcePosition& source) {
    if (source.position != 0) source_ = source;
  }

  // Snapshots: the whole derived state as of position() (the identity graph first, see
  // SaveIdentityGraph), and back into a state constructed with the graph read from it. With a
  // `mapping` that the reader's bytes lie in (the mapped snapshot file), each profile's timeline and
  // journey instances stay sealed in it until used (sealed.h); without one they are decoded here.
  absl::Status Save(SerialWriter& w) const;
  absl::Status Restore(SerialReader& r, std::shared_ptr<const SnapshotMapping> mapping);

  // Sets the profile cache's limit (storage.cache_profiles) and spills down to it; no-op without
  // a cache. Open replays the log with a larger one.
  absl::Status SetCacheLimit(size_t limit) {
    profiles_.set_cache_limit(limit);
    Settle();
    return io_error_;
  }
  // Counts records replayed at recovery.
  void CountRecovered() { ++recovered_; }
  // Set after a storage failure of the spill store: the state may lack a profile, so every later
  // change is refused until the engine is reopened (which rebuilds the state from the log).
  const absl::Status& io_error() const { return io_error_; }
  // A write of records already applied failed: the state is ahead of the log (see io_error).
  void FailStorage(const absl::Status& s) { Fail(s); }

 private:
  // A profile's timeline and journeys for a reader.
  struct View {
    ProfileStore::View timeline;
    const ProfileJourneys* journeys = nullptr;
    std::unique_ptr<ProfileJourneys> own_journeys;
  };
  absl::StatusOr<View> Read(ProfileId id) const;
  static std::vector<JourneyTrace> Traces(const View& view);

  // Every record's start: its position and time, and now and then the outbox's pruning.
  absl::Status Begin(absl::Time at, LogPosition position);
  // An event's change of state. REQUIRES: not a duplicate.
  absl::Status LinkAndStore(const Event& event, const DedupeKey& key, LinkMemo* memo, IngestResult* result,
                            StoredEntry* entry);
  absl::StatusOr<std::vector<ProfileId>> ApplyUnlink(const v1::LoggedIdentifier& unlink);
  absl::StatusOr<std::vector<ProfileId>> ApplySplit(const v1::LoggedSplit& split);
  absl::StatusOr<std::vector<ProfileId>> ApplyErasure(const v1::LoggedErasure& erasure, LogPosition position);
  // Decodes every sealed part (before an erasure). A failure fails the state.
  absl::Status UnsealAll();
  // Calls `fn` for each entry in memory that the erasure takes away whole.
  void ForEachErasedEntry(const ErasureScope& scope, const std::function<void(ProfileId, const StoredEntry&)>& fn);
  // A dedupe key as the bytes its tombstone is the keyed hash of.
  static std::string KeyBytes(const DedupeKey& key);

  // Brings spilled profiles back; a failure sets io_error_.
  void Load(ProfileId id);
  // Moves every stored event of the given profiles to the profile its identifiers resolve to now.
  void Reattribute(const std::vector<ProfileId>& ids);
  // Rebuilds stale journeys, fires due timers, hands out due actions, spills beyond the cache.
  void Settle();
  // Hands out the due actions of touched profiles (each id once).
  void ReleaseActions();
  void Fail(const absl::Status& s);

  const EngineOptions& options_;
  std::unique_ptr<IdentityGraph> graph_;
  Log* const log_;
  RecordClock* const record_clock_;
  DedupeWindow dedupe_;
  ProfileStore profiles_;
  JourneyScheduler journeys_;
  Outbox outbox_;
  absl::Time watermark_ = absl::InfinitePast();  // Latest event time, or AdvanceTime.
  absl::Time clock_at_ = absl::InfinitePast();   // Latest record time (clock mode).
  int64_t events_ = 0;
  int64_t duplicates_ = 0;
  int64_t rejected_ = 0;  // Events in the log that Apply refused.
  int64_t recovered_ = 0;
  int64_t erasures_ = 0;  // Erasures applied (a reader working in steps starts again after one).
  int64_t erased_redeliveries_ = 0;  // Re-delivered erased events refused.
  absl::flat_hash_set<Tombstone> tombstones_;
  std::unique_ptr<ErasureScope> pending_erasure_;  // Between PlanErasure and FinishErasure.
  int64_t applied_ = 0;   // Records applied (for occasional pruning).
  LogPosition position_ = 0;
  SourcePosition source_;
  absl::Status io_error_;
};

}  // namespace omnijourney::internal

#endif  // OMNIJOURNEY_SRC_ENGINE_ENGINE_STATE_H_
