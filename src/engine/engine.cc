// The Engine façade: the ingest pipeline (admit -> log record -> append -> apply), the locks, the
// timer thread, and Open (options, store, recovery). The state and its components are in
// engine_state.h; see docs/architecture.md.
#include <algorithm>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <future>
#include <system_error>
#include <optional>
#include <limits>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/mutex.h"
#include "common/status_macros.h"
#include "engine/admission.h"
#include "engine/checkpoints.h"
#include "engine/engine_state.h"
#include "engine/options_check.h"
#include "engine/readers.h"
#include "engine/recovery.h"
#include "engine/snapshot.h"
#include "engine/turns.h"
#include "identity/rules.h"
#include "store/snapshot_store.h"
#include "omnijourney/engine.h"
#include "store/log.h"
#include "store/rocksdb_store.h"

namespace omnijourney {
namespace internal {
namespace {

// A batch in memory is admitted and appended in steps of this many events (one shared-lock pass,
// one log append each), then applied in slices. Small, so that an event's Link comes soon after
// admission looked up its identifiers (still in cache).
constexpr size_t kApplyStep = 16;
// Index lookups of the next events start this many events ahead (IdentityGraph::Prefetch).
constexpr size_t kLookahead = 8;
// Steps of at least this many records are written to a durable log on a second thread while they
// are applied (smaller ones: a thread costs more than it saves; the memory log: always).
constexpr size_t kParallelWrite = 64;

// Explain reads a profile's audit in steps of this many identity records (about 0.2 ms each).
constexpr size_t kExplainStep = 256;

class EngineImpl final : public Engine {
 public:
  EngineImpl(const EngineOptions& options, std::unique_ptr<RecordClock> record_clock,
             std::unique_ptr<IdentityGraph> graph, absl::TimeZone zone, std::unique_ptr<Log> log,
             std::unique_ptr<SpillStore> spill, std::unique_ptr<SnapshotStore> snapshots)
      : options_(options),
        record_clock_(std::move(record_clock)),
        clock_(options.clock ? options.clock : RealClock()),
        zone_(zone),
        admission_(options_, clock_),
        log_(std::move(log)),
        encode_records_(log_->keeps_records()),
        spill_(std::move(spill)),
        checkpoints_(options_, zone, log_.get(), spill_.get(), record_clock_.get(), std::move(snapshots)),
        state_(std::make_unique<EngineState>(options_, std::move(graph), zone, log_.get(), spill_.get(),
                                             record_clock_.get())) {}

  ~EngineImpl() override {
    if (timer_.joinable()) {
      {
        std::lock_guard<std::mutex> lock(wake_mu_);
        stop_ = true;
      }
      wake_cv_.notify_one();
      timer_.join();
    }
  }

  // Rebuilds the state from the log; then, for a store of format 1, logs its taken actions as
  // acknowledged; then starts the timer thread.
  absl::Status Open(RocksDbStore* store) {
    {
      WriterLock order(&write_mu_);
      WriterLock lock(&mu_, kSpin);
      ASSIGN_OR_RETURN(std::unique_ptr<EngineState> loaded, checkpoints_.Load());
      if (loaded != nullptr) state_ = std::move(loaded);
      // The replay keeps up to storage.recovery_cache_profiles in memory: with the smaller cache
      // almost every event of interleaved customers would load a spilled profile and spill another.
      const size_t cache = options_.storage.cache_profiles;
      if (cache > 0) RETURN_IF_ERROR(state_->SetCacheLimit(std::max(cache, options_.storage.recovery_cache_profiles)));
      RETURN_IF_ERROR(Recover(*log_, *state_, checkpoints_.position()));
      if (cache > 0) RETURN_IF_ERROR(state_->SetCacheLimit(cache));
      state_->AddTombstones(log_->Tombstones());
      if (store != nullptr) storage_recovery_ = store->recovery_note;
      if (store != nullptr && store->finish_upgrade) {
        if (!store->taken.empty()) {
          v1::LogRecord record;
          for (const std::string& id : store->taken) record.mutable_acks()->add_ids(id);
          RETURN_IF_ERROR(AppendAndApply(std::move(record)).status());
        }
        RETURN_IF_ERROR(store->finish_upgrade());
      }
    }
    if (options_.time_mode == EngineOptions::TimeMode::kClock && options_.live_timers) {
      timer_ = std::thread([this] { TimerLoop(); });
    }
    return absl::OkStatus();
  }

  void SetSource(const SourcePosition& source) override {
    source_position_.store(source.position, std::memory_order_relaxed);
    source_check_.store(source.check, std::memory_order_relaxed);
  }

  SourcePosition Source() const override {
    TurnReaderLock lock(&mu_, &turns_);
    return state_->source();
  }

  std::vector<JourneyDefinition> Journeys() const override {
    TurnReaderLock lock(&mu_, &turns_);
    return state_->JourneyDefinitions();
  }

  std::string StateDigest(std::string_view tenant, std::string* text) const override {
    std::vector<std::string> released;
    {
      TurnReaderLock lock(&mu_, &turns_);
      released = state_->ReleasedActionIds(tenant);
    }
    return DigestState(*this, tenant, std::move(released), text);
  }

  absl::Status Checkpoint() override {
    if (!checkpoints_.enabled()) return absl::OkStatus();
    Checkpoints::Encoded snapshot;
    {
      WriterLock order(&write_mu_);
      ReaderLock lock(&mu_);
      snapshot = checkpoints_.Encode(*state_);
    }
    return checkpoints_.Write(std::move(snapshot), /*keep_previous=*/true);
  }

  absl::StatusOr<IngestResult> Ingest(const Event& given) override {
    RETURN_IF_ERROR(admission_.Validate(given));
    // Phone numbers with a region of their own are logged in E.164 (ApplyRegionHints).
    const std::optional<Event> hinted = ApplyRegionHints(options_.identity, given);
    const Event* event = hinted ? &*hinted : &given;
    std::optional<Event> resolved;  // An alias whose previousId is an earlier user id.
    const absl::Time at = RecordTime();
    const SourcePosition src = CurrentSource();
    const DedupeKey key = DedupeWindow::KeyOf(*event);
    std::string record = encode_records_ ? Encode(*event, at, src) : std::string();
    StoredEntry entry = MakeEntry(*event, options_.timeline);  // Before the lock, as in IngestBatch.
    absl::StatusOr<IngestResult> result;
    {
      WriterLock order(&write_mu_);  // Log order = apply order.
      bool duplicate = false;
      bool erased = false;
      LinkMemo memo;
      {
        ReaderLock lock(&mu_);
        RETURN_IF_ERROR(state_->io_error());
        erased = state_->IsErased(key);
        duplicate = !erased && state_->IsDuplicate(key);
        if (!duplicate && !erased && AliasToResolve(options_.identity, *event)) {
          // Decided in log order (ResolveAliasPrevious), and logged as decided.
          resolved = ResolveAliasPrevious(state_->graph(), options_.identity, *event, {});
          if (resolved) {
            event = &*resolved;
            if (encode_records_) record = Encode(*event, at, src);
            entry = MakeEntry(*event, options_.timeline);
          }
        }
        if (!duplicate && !erased) RETURN_IF_ERROR(admission_.CheckState(state_->graph(), *event, &memo));
      }
      if (erased || duplicate) {
        WriterLock lock(&mu_, kSpin);
        return erased ? state_->Erased(*event) : state_->Duplicate(*event);
      }
      std::vector<std::string> records;
      records.push_back(std::move(record));
      ASSIGN_OR_RETURN(const LogPosition pos, log_->Append(std::move(records)));
      WriterLock lock(&mu_, kSpin);
      IngestResult applied;
      state_->NoteSource(src);
      if (absl::Status s = state_->ApplyEvent(*event, key, at, pos, &memo, &applied, &entry); !s.ok()) {
        result = std::move(s);
      } else {
        result = std::move(applied);
      }
    }
    AfterWrite();
    return result;
  }

  std::vector<absl::StatusOr<IngestResult>> IngestBatch(const std::vector<const Event*>& given) override {
    const size_t n = given.size();
    std::vector<const Event*> events = given;
    std::deque<Event> hinted;  // Events whose phone numbers had a region of their own (ApplyRegionHints).
    std::vector<absl::StatusOr<IngestResult>> out(n, absl::InternalError("not ingested"));
    // Before the lock: validation and encoding, which need no state.
    const absl::Time at = RecordTime();
    const SourcePosition src = CurrentSource();
    const bool encode = encode_records_;
    std::vector<uint8_t> valid(n, 0);  // Bytes: read in the hot loop.
    std::vector<std::string> records(n);
    std::vector<DedupeKey> keys(n);
    // Timeline entries are packed here too, in the caller's thread: the lock is held only to link
    // and store them (an entry a duplicate or an error leaves unused is dropped).
    std::vector<StoredEntry> entries(n);
    for (size_t i = 0; i < n; ++i) {
      if (events[i] == nullptr) {
        out[i] = absl::InvalidArgumentError(absl::StrCat("events[", i, "]: null"));
        continue;
      }
      if (absl::Status s = admission_.Validate(*events[i]); !s.ok()) {
        out[i] = std::move(s);
        continue;
      }
      if (std::optional<Event> e = ApplyRegionHints(options_.identity, *events[i])) {
        hinted.push_back(*std::move(e));
        events[i] = &hinted.back();
      }
      valid[i] = 1;
    }
    for (size_t i = 0; i < n; ++i) {
      if (!valid[i]) continue;
      keys[i] = DedupeWindow::KeyOf(*events[i]);
      if (encode) records[i] = Encode(*events[i], at, src);
      entries[i] = MakeEntry(*events[i], options_.timeline);
    }
    // Then in steps, in log order (write_mu_): admit the step against the state (shared with readers),
    // append its records (readers go on), apply them one event at a time (readers wait for one
    // event at most, and are let in when they wait).
    {
    WriterLock order(&write_mu_);
    // An alias's previousId may be an earlier user id, linked before or named by an earlier event of
    // the batch that will be applied (not a duplicate or erased): decided in log order
    // (ResolveAliasPrevious) and logged as decided.
    if (std::any_of(events.begin(), events.end(), [&](const Event* e) {
          return e != nullptr && AliasToResolve(options_.identity, *e);
        })) {
      ReaderLock lock(&mu_);
      std::vector<const Event*> earlier;
      for (size_t i = 0; i < n; ++i) {
        if (!valid[i] || state_->IsErased(keys[i]) || state_->IsDuplicate(keys[i])) continue;
        if (AliasToResolve(options_.identity, *events[i])) {
          if (std::optional<Event> e = ResolveAliasPrevious(state_->graph(), options_.identity, *events[i], earlier)) {
            hinted.push_back(*std::move(e));
            events[i] = &hinted.back();
            if (encode) records[i] = Encode(*events[i], at, src);
            entries[i] = MakeEntry(*events[i], options_.timeline);
          }
        }
        earlier.push_back(events[i]);
      }
    }
    std::vector<const Event*> step_events;
    StepKeys admitted;  // Keys admitted in this step.
    enum class Step { kSkip, kDuplicate, kErased, kApply };
    std::vector<Step> what;
    LinkMemo memo;  // Admission's and Prefetch's work, for the Links of the batch's events.
    bool one_at_a_time = false;  // Near max_profiles_per_tenant: from then on, for the rest of the batch.
    for (size_t begin = 0; begin < n;) {
      // A durable log takes the whole batch as one step, written on a second thread while it is
      // applied (below); in memory, steps of kApplyStep.
      size_t end = std::min(n, begin + (one_at_a_time ? 1 : encode_records_ ? n : kApplyStep));
      what.assign(end - begin, Step::kSkip);
      std::vector<std::string> batch;
      {
        ReaderLock lock(&mu_);
        if (!state_->io_error().ok()) {
          for (size_t i = begin; i < n; ++i) out[i] = state_->io_error();
          break;
        }
        step_events.assign(events.begin() + static_cast<std::ptrdiff_t>(begin),
                           events.begin() + static_cast<std::ptrdiff_t>(end));
        // Near max_profiles_per_tenant whether an event fits depends on the ones before it: one at a time.
        if (!one_at_a_time && admission_.MayReachProfileLimit(state_->graph(), step_events)) {
          one_at_a_time = true;
          end = begin + 1;
          what.resize(1);
        }
        admitted.Reset(end - begin);
        for (size_t i = begin; i < end; ++i) {
          // Admission's index lookups come first: they get the prefetches.
          if (i + kLookahead < n && valid[i + kLookahead]) state_->graph().Prefetch(*events[i + kLookahead], &memo);
          if (!valid[i]) continue;
          if (state_->IsErased(keys[i])) {
            what[i - begin] = Step::kErased;
            continue;
          }
          if (state_->IsDuplicate(keys[i]) || admitted.Contains(keys, i)) {
            what[i - begin] = Step::kDuplicate;
            continue;
          }
          if (absl::Status s = admission_.CheckState(state_->graph(), *events[i], &memo); !s.ok()) {
            out[i] = std::move(s);
            continue;
          }
          admitted.Add(keys, i);
          what[i - begin] = Step::kApply;
          batch.push_back(std::move(records[i]));
        }
      }
      const size_t appended = batch.size();
      LogPosition pos = 0;
      // Large steps are written on another thread while they are applied; the results are returned
      // once the write succeeded. If it fails, the applied events are not stored: they get the error,
      // and the engine refuses further changes until reopened (which rebuilds the state from the log).
      std::future<absl::StatusOr<LogPosition>> written;
      if (log_->durable() && appended >= kParallelWrite) {
        pos = log_->last() + 1;  // write_mu_ is held: nobody else appends.
        try {
          // The calling thread holds write_mu_ until written.get() below.
          written = std::async(std::launch::async, [this, &batch]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return log_->Append(std::move(batch));
          });
        } catch (const std::system_error&) {  // No thread to be had: write first.
        }
      }
      if (appended > 0 && !written.valid()) {
        absl::StatusOr<LogPosition> last = log_->Append(std::move(batch));
        if (!last.ok()) {
          for (size_t i = begin; i < end; ++i) {
            if (what[i - begin] == Step::kApply || what[i - begin] == Step::kDuplicate) out[i] = last.status();
            if (what[i - begin] == Step::kErased) {
              WriterLock lock(&mu_, kSpin);
              out[i] = state_->Erased(*events[i]);
            }
          }
          begin = end;
          continue;
        }
        pos = *last - appended + 1;
      }
      for (size_t i = begin; i < end;) {
        {
          TurnWriterLock lock(&mu_, &turns_);
          const absl::Time slice_end = absl::Now() + options_.writer_slice;
          for (bool applied = false; i < end; ++i) {
            if (what[i - begin] == Step::kSkip) continue;
            // The slice is over and readers wait: they go first (the event is applied next slice).
            if (applied && turns_.readers_wait() && absl::Now() >= slice_end) break;
            if (what[i - begin] == Step::kDuplicate) {
              out[i] = state_->Duplicate(*events[i]);
            } else if (what[i - begin] == Step::kErased) {
              out[i] = state_->Erased(*events[i]);
            } else {
              out[i] = IngestResult();  // Filled in place.
              state_->NoteSource(src);
              if (absl::Status s = state_->ApplyEvent(*events[i], keys[i], at, pos++, &memo, &*out[i], &entries[i]);
                  !s.ok()) {
                out[i] = std::move(s);
              }
            }
            applied = true;
          }
        }
        if (i < end) turns_.LetReadersIn();  // Readers wait (turns.h).
      }
      if (written.valid()) {
        if (absl::StatusOr<LogPosition> last = written.get(); !last.ok()) {
          WriterLock lock(&mu_, kSpin);
          state_->FailStorage(last.status());
          for (size_t i = begin; i < end; ++i) {
            if (what[i - begin] == Step::kApply || what[i - begin] == Step::kDuplicate) out[i] = state_->io_error();
          }
        }
      }
      begin = end;
    }
    }  // write_mu_
    AfterWrite();
    return out;
  }

  absl::Status AddJourney(const JourneyDefinition& journey) override {
    {
      WriterLock order(&write_mu_);
      WriterLock lock(&mu_, kSpin);
      RETURN_IF_ERROR(state_->io_error());
      // Loaded before any event: it applies to every event. Later: from now on (history does not
      // start instances; running instances of older versions migrate, see JourneyCatalog).
      const absl::Time active_from = state_->pristine() ? absl::InfinitePast() : LiveNow();
      RETURN_IF_ERROR(state_->CheckJourney(journey, active_from));
      v1::LogRecord record;
      *record.mutable_journey()->mutable_definition() = journey;
      if (active_from != absl::InfinitePast()) {
        *record.mutable_journey()->mutable_active_from() = ToTimestamp(active_from);
      }
      RETURN_IF_ERROR(AppendAndApply(std::move(record)).status());
    }
    AfterWrite();
    return absl::OkStatus();
  }

  std::vector<JourneyAction> TakeActions() override {
    WriterLock lock(&mu_, kSpin);
    if (!state_->io_error().ok()) return {};
    return state_->outbox().Take(clock_->Now(), options_.actions.redeliver_after);
  }

  absl::Status AckActions(const std::vector<std::string>& ids) override {
    if (ids.empty()) return absl::OkStatus();
    WriterLock order(&write_mu_);
    WriterLock lock(&mu_, kSpin);
    RETURN_IF_ERROR(state_->io_error());
    RETURN_IF_ERROR(state_->outbox().CheckAck(ids));
    v1::LogRecord record;
    for (const std::string& id : ids) record.mutable_acks()->add_ids(id);
    return AppendAndApply(std::move(record)).status();
  }

  absl::Status AdvanceTime(absl::Time t) override {
    {
      WriterLock order(&write_mu_);
      WriterLock lock(&mu_, kSpin);
      RETURN_IF_ERROR(state_->io_error());
      if (options_.time_mode == EngineOptions::TimeMode::kEventTime && t <= state_->Now()) {
        return absl::OkStatus();  // Nothing moves.
      }
      v1::LogRecord record;
      *record.mutable_advance_time() = ToTimestamp(t);
      RETURN_IF_ERROR(AppendAndApply(std::move(record)).status());
    }
    Wake();
    return absl::OkStatus();
  }

  absl::Time Now() const override {
    TurnReaderLock lock(&mu_, &turns_);
    return LiveNow();
  }

  absl::StatusOr<CustomerContext> Context(const IdentifierQuery& query) const override {
    TurnReaderLock lock(&mu_, &turns_);
    ASSIGN_OR_RETURN(ProfileId id, state_->Resolve(query));
    return state_->Context(id, LiveNow());
  }

  using Engine::Context;
  using Engine::EraseProfile;
  using Engine::Explain;
  using Engine::Split;

  absl::StatusOr<CustomerContext> Context(std::string_view tenant, ProfileId profile) const override {
    TurnReaderLock lock(&mu_, &turns_);
    ASSIGN_OR_RETURN(ProfileId id, state_->ResolveProfileIn(tenant, profile));
    return state_->Context(id, LiveNow());
  }

  absl::StatusOr<TimelineSlice> Timeline(std::string_view tenant, ProfileId profile,
                                         const TimelinePage& page) const override {
    TurnReaderLock lock(&mu_, &turns_);
    ASSIGN_OR_RETURN(ProfileId id, state_->ResolveProfileIn(tenant, profile));
    return state_->Timeline(id, page);
  }

  absl::StatusOr<ProfileExplanation> Explain(std::string_view tenant, ProfileId profile,
                                             const AuditPage& page) const override {
    // The audit of a large profile is read in steps of kExplainStep records, each under the lock
    // once (writers apply between them), and sorted without it.
    ProfileExplanation out;
    std::unique_ptr<AuditCursor> audit;
    int64_t erasures = 0;
    {
      TurnReaderLock lock(&mu_, &turns_);
      ASSIGN_OR_RETURN(ProfileId id, state_->ResolveProfileIn(tenant, profile));
      ASSIGN_OR_RETURN(out, state_->Explain(id, &audit));
      erasures = state_->erasures();
    }
    for (bool done = false; !done;) {
      TurnReaderLock lock(&mu_, &turns_);
      if (state_->erasures() != erasures) {
        // What was read before an erasure may hold the erased value: all again, in one go.
        ASSIGN_OR_RETURN(ProfileId id, state_->ResolveProfileIn(tenant, profile));
        ASSIGN_OR_RETURN(out, state_->Explain(id, &audit));
        state_->graph().ContinueExplain(*audit, std::numeric_limits<size_t>::max());
        break;
      }
      done = state_->graph().ContinueExplain(*audit, kExplainStep);
    }
    out.audit_folded = audit->folded();
    if (out.audit_folded > 0) audit_folded_.fetch_add(1, std::memory_order_relaxed);
    std::vector<AuditEntry> all = std::move(*audit).Take();
    out.audit_total = all.size();
    const size_t begin = std::min(page.offset, all.size());
    const size_t end = begin + std::min(page.limit, all.size() - begin);
    out.audit.assign(std::make_move_iterator(all.begin() + static_cast<std::ptrdiff_t>(begin)),
                     std::make_move_iterator(all.begin() + static_cast<std::ptrdiff_t>(end)));
    return out;
  }

  absl::Status ForEachProfile(const std::function<void(const ProfileSnapshot&)>& fn) const override {
    TurnReaderLock lock(&mu_, &turns_);
    return state_->ForEachProfile(fn);
  }

  absl::StatusOr<std::vector<ProfileId>> Unlink(const IdentifierQuery& query) override {
    WriterLock order(&write_mu_);
    WriterLock lock(&mu_, kSpin);
    RETURN_IF_ERROR(state_->io_error());
    RETURN_IF_ERROR(state_->Resolve(query).status());
    v1::LogRecord record;
    record.mutable_unlink()->set_tenant(query.tenant);
    record.mutable_unlink()->set_type(query.type);
    record.mutable_unlink()->set_value(query.value);
    ASSIGN_OR_RETURN(EngineState::Applied applied, AppendAndApply(std::move(record)));
    return applied.changed;
  }

  absl::StatusOr<std::vector<ProfileId>> Split(std::string_view tenant, ProfileId profile,
                                                const std::vector<IdentifierValue>& part) override {
    WriterLock order(&write_mu_);
    WriterLock lock(&mu_, kSpin);
    RETURN_IF_ERROR(state_->io_error());
    ASSIGN_OR_RETURN(const ProfileId id, state_->ResolveProfileIn(tenant, profile));
    RETURN_IF_ERROR(CheckSplitPart(state_->graph(), id, part));
    v1::LogRecord record;
    record.mutable_split()->set_profile(profile);
    for (const auto& p : part) {
      auto* identifier = record.mutable_split()->add_part();
      identifier->set_type(p.type);
      identifier->set_value(p.value);
    }
    ASSIGN_OR_RETURN(EngineState::Applied applied, AppendAndApply(std::move(record)));
    return applied.changed;
  }

  absl::StatusOr<std::vector<ProfileId>> EraseIdentifier(const IdentifierQuery& query) override {
    WriterLock order(&write_mu_);
    WriterLock lock(&mu_, kSpin);
    RETURN_IF_ERROR(state_->io_error());
    ASSIGN_OR_RETURN(const ProfileId before, state_->Resolve(query));
    RETURN_IF_ERROR(state_->graph().MatchKey(query.tenant, query.type, query.value, "").status());
    v1::LoggedErasure erasure;
    erasure.set_tenant(query.tenant);
    erasure.set_type(query.type);
    erasure.set_profile(before);
    erasure.set_value(query.value);  // For the plan only: never stored.
    return Erase(erasure);
  }

  absl::StatusOr<std::vector<ProfileId>> EraseProfile(std::string_view tenant, ProfileId profile) override {
    WriterLock order(&write_mu_);
    WriterLock lock(&mu_, kSpin);
    RETURN_IF_ERROR(state_->io_error());
    ASSIGN_OR_RETURN(const ProfileId id, state_->ResolveProfileIn(tenant, profile));
    v1::LoggedErasure erasure;
    erasure.set_tenant(std::string(tenant));
    erasure.set_profile(id);
    return Erase(erasure);
  }

  EngineStats Stats() const override {
    EngineStats s;
    {
      TurnReaderLock lock(&mu_, &turns_);
      s = state_->Stats();
    }
    checkpoints_.AddTo(s);
    s.storage_recovery = storage_recovery_;
    if (const int64_t folded = audit_folded_.load(std::memory_order_relaxed); folded > 0) {
      s.limit_hits["identity.max_audit_records"] = folded;
    }
    const Admission::Counters refused = admission_.counters();
    s.rejected += refused.rejected;
    for (const auto& [option, count] : refused.limit_hits) s.limit_hits[option] += count;
    return s;
  }

  int64_t TenantProfiles(std::string_view tenant) const override {
    TurnReaderLock lock(&mu_, &turns_);
    return state_->graph().TenantProfiles(tenant);
  }

  bool ContainsStringForTesting(std::string_view needle) const override {
    WriterLock order(&write_mu_);
    ReaderLock lock(&mu_);
    return state_->ContainsStringForTesting(needle);
  }

 private:
  SourcePosition CurrentSource() const {
    return {source_position_.load(std::memory_order_relaxed), source_check_.load(std::memory_order_relaxed)};
  }
  // An event's record, with the source of the changes now.
  static std::string Encode(const Event& event, absl::Time at, const SourcePosition& src) {
    std::string record = EncodeEventRecord(event, at);
    AppendSource(&record, src.position, src.check);
    return record;
  }

  // The record time: the clock in clock mode, unset in event-time mode.
  absl::Time RecordTime() const {
    return options_.time_mode == EngineOptions::TimeMode::kClock ? clock_->Now() : absl::InfinitePast();
  }
  // "Now" for readers and new journeys: the state's time, or the clock when it is later.
  absl::Time LiveNow() const ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    if (options_.time_mode == EngineOptions::TimeMode::kEventTime) return state_->Now();
    return std::max(clock_->Now(), state_->Now());
  }

  // Appends a record that is not an event; it carries the clock time in both time modes (operator
  // actions are stamped with it in the audit).
  absl::StatusOr<LogPosition> Append(v1::LogRecord& record) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_, mu_) {
    *record.mutable_at() = ToTimestamp(clock_->Now());
    if (const SourcePosition src = CurrentSource(); src.position != 0) {
      record.set_source(src.position);
      record.set_source_check(src.check);
    }
    std::vector<std::string> records;
    records.push_back(record.SerializeAsString());
    return log_->Append(std::move(records));
  }

  absl::StatusOr<EngineState::Applied> AppendAndApply(v1::LogRecord record)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_, mu_) {
    ASSIGN_OR_RETURN(const LogPosition pos, Append(record));
    return state_->Apply(record, pos);
  }

  // An erasure: planned against the state before it, appended with everything it makes unreadable
  // in one atomic write (a crash leaves it done or not at all), applied, purged from the files, and
  // then the state is written as a snapshot (the older ones hold what it erased).
  absl::StatusOr<std::vector<ProfileId>> Erase(const v1::LoggedErasure& erasure)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_, mu_) {
    const absl::Time at = clock_->Now();
    ASSIGN_OR_RETURN(Log::Erasure plan, state_->PlanErasure(erasure, at));
    const std::vector<Tombstone> tombstones = plan.tombstones;
    const SourcePosition src = CurrentSource();
    // The state first: the record keeps the profiles its audit entry names, for a replay of the log
    // that cannot start from a snapshot after it. If the log then refuses the record, this state is
    // ahead of the log and takes no more changes until reopened (which has no erasure).
    const LogPosition pos = log_->last() + 1;  // write_mu_ is held: nobody else appends.
    state_->NoteSource(src);
    absl::StatusOr<std::vector<ProfileId>> changed = state_->FinishErasure(tombstones, pos, at);
    if (!changed.ok()) {
      state_->FailStorage(changed.status());
      return state_->io_error();
    }
    AppendAuditProfiles(&plan.record, state_->graph().LastErasureProfiles());
    AppendSource(&plan.record, src.position, src.check);
    absl::StatusOr<LogPosition> erased = log_->Erase(std::move(plan));
    if (!erased.ok() || *erased != pos) {
      state_->FailStorage(erased.ok() ? absl::InternalError(absl::StrCat("the erasure was logged at ", *erased,
                                                                          ", not at ", pos))
                                      : erased.status());
      return state_->io_error();
    }
    if (absl::Status s = log_->Purge(); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat("erased, but removing the old keys from the files failed (done at the next open): ",
                                                 s.message()));
    }
    RETURN_IF_ERROR(SnapshotAfterErasure());
    return changed;
  }

  // After an erasure the older snapshots hold the erased values: a new snapshot replaces them all
  // (if it cannot be written, they are deleted anyway and the next Open replays the whole log).
  absl::Status SnapshotAfterErasure() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_, mu_) {
    if (!checkpoints_.enabled()) return absl::OkStatus();
    // Before the erasure returns.
    absl::Status s = checkpoints_.Write(checkpoints_.Encode(*state_), /*keep_previous=*/false);
    if (!s.ok()) return absl::Status(s.code(), absl::StrCat("erased, but writing the snapshot failed: ", s.message()));
    return s;
  }

  // After a change: the timer thread may have to wake earlier, and a snapshot may be due.
  void AfterWrite() {
    Wake();
    if (!checkpoints_.enabled()) return;
    const uint64_t every = options_.storage.snapshot_every_records;
    Checkpoints::Encoded due;
    {
      WriterLock order(&write_mu_);
      ReaderLock lock(&mu_);
      if (state_->sealed_damaged()) checkpoints_.DropDamaged(*state_);
      if (every == 0) return;
      if (state_->position() < checkpoints_.position() + every) return;
      due = checkpoints_.Encode(*state_);
    }
    (void)checkpoints_.Write(std::move(due), /*keep_previous=*/true);  // Failures: Stats().
  }

  // Tells the timer thread that the next due time may have moved.
  void Wake() {
    if (!timer_.joinable()) return;
    {
      std::lock_guard<std::mutex> lock(wake_mu_);
      woken_ = true;
    }
    wake_cv_.notify_one();
  }

  // Clock mode: sleeps until the next timer, deferred action or action is due (or a change may
  // have moved it, or the poll interval passed), then logs a time advance to the clock's time,
  // whose Apply fires them.
  void TimerLoop() {
    for (;;) {
      std::optional<absl::Time> next;
      {
        ReaderLock lock(&mu_);
        if (state_->io_error().ok()) next = state_->NextWake();
      }
      const absl::Time now = clock_->Now();
      if (next && *next <= now) {
        WriterLock order(&write_mu_);
        WriterLock lock(&mu_, kSpin);
        if (state_->io_error().ok()) {
          v1::LogRecord record;
          *record.mutable_advance_time() = ToTimestamp(now);
          (void)AppendAndApply(std::move(record));  // A failure shows in io_error() or the next call.
          if (auto again = state_->NextWake(); !again || *again > now) continue;
        }
      }
      absl::Duration wait = options_.timer_poll_interval;
      if (next && *next > now) wait = std::min(wait, *next - now);
      std::unique_lock<std::mutex> lock(wake_mu_);
      wake_cv_.wait_for(lock, absl::ToChronoNanoseconds(wait), [this] { return stop_ || woken_; });
      if (stop_) return;
      woken_ = false;
    }
  }

  const EngineOptions options_;
  std::unique_ptr<RecordClock> record_clock_;  // The identity graph's clock.
  const Clock* const clock_;
  const absl::TimeZone zone_;
  Admission admission_;
  // Lock order: write_mu_, then mu_. write_mu_ orders the writers (what is appended to the log is
  // applied in the same order); mu_ guards the state (readers share it, a writer applies one
  // record or one event under it exclusively).
  mutable absl::Mutex write_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  mutable absl::Mutex mu_;
  std::unique_ptr<Log> log_ ABSL_PT_GUARDED_BY(write_mu_);
  const bool encode_records_;  // log_->keeps_records(), fixed: events are encoded only when kept.
  std::string storage_recovery_;  // Set by Open, then fixed.
  std::atomic<uint64_t> source_position_{0};  // SetSource.
  std::atomic<uint64_t> source_check_{0};
  mutable std::atomic<int64_t> audit_folded_{0};  // Explain answers that folded older records.
  std::unique_ptr<SpillStore> spill_;
  Checkpoints checkpoints_;  // Snapshots (none without storage.path).
  std::unique_ptr<EngineState> state_ ABSL_GUARDED_BY(mu_) ABSL_PT_GUARDED_BY(mu_);
  mutable Turns turns_;  // Readers and the batch writer taking turns on mu_ (turns.h).
  std::thread timer_;
  // The timer thread waits on wake_cv_ for these (std::mutex: ThreadSanitizer sees it, unlike
  // Debian's prebuilt absl::Mutex, which also evaluates wait conditions on other threads).
  std::mutex wake_mu_;
  std::condition_variable wake_cv_;
  bool stop_ = false;   // Guarded by wake_mu_.
  bool woken_ = false;  // Guarded by wake_mu_.
};

}  // namespace
}  // namespace internal

absl::StatusOr<std::unique_ptr<Engine>> Engine::Open(const EngineOptions& options) {
  absl::TimeZone zone;
  RETURN_IF_ERROR(internal::CheckOptions(options, &zone));
  // Operator actions are stamped with their record's time; before any record, with the clock.
  const Clock* fallback = options.identity.clock ? options.identity.clock : options.clock ? options.clock : RealClock();
  auto record_clock = std::make_unique<internal::RecordClock>(fallback);
  IdentityOptions identity = options.identity;
  identity.clock = record_clock.get();
  auto graph = IdentityGraph::Create(identity);
  if (!graph.ok()) return internal::Prefixed("identity.", graph.status());
  std::optional<internal::RocksDbStore> store;
  std::unique_ptr<internal::Log> log;
  std::unique_ptr<internal::SpillStore> spill;
  std::unique_ptr<internal::SnapshotStore> snapshots;
  if (options.storage.path.empty()) {
    log = internal::NewMemoryLog(options.storage.memory_log_bytes);
  } else {
    ASSIGN_OR_RETURN(store, internal::OpenRocksDbStore(
                                options.storage.path, options.storage.sync,
                                options.storage.damaged_log ==
                                    EngineOptions::Storage::DamagedLog::kRecoverToLastConsistentPoint));
    log = std::move(store->log);
    spill = std::move(store->spill);
    snapshots = std::make_unique<internal::SnapshotStore>(options.storage.path + "/snapshots");
  }
  auto engine = std::make_unique<internal::EngineImpl>(options, std::move(record_clock), *std::move(graph), zone,
                                                       std::move(log), std::move(spill), std::move(snapshots));
  RETURN_IF_ERROR(engine->Open(store ? &*store : nullptr));
  return std::unique_ptr<Engine>(std::move(engine));
}

}  // namespace omnijourney
