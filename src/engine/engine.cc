// The Engine façade: validation, idempotence, identity, timelines and context behind one lock.
//
// Profile states are keyed by the current profile id. Link tells what changed: absorbed ids
// (merges) move their timelines into the survivor; other changes (late-event replays, unlink,
// split, erasure) re-attribute the stored events of every changed profile by asking the graph
// which profile each event's identifiers belong to now (ResolveIdentifiers).
//
// With storage.cache_profiles, at most that many profiles keep their timeline and journeys in
// memory: the least recently used others are spilled to the store ("profiles" column family) and
// loaded back when an event, a timer, an operator action or a query needs them. Their journeys are
// rebuilt from the timeline on load, like after a late event; the identity graph, the timer index
// and the idempotence window stay in memory.
#include <algorithm>
#include <deque>
#include <future>
#include <system_error>
#include <memory>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/limit.h"
#include "common/mutex.h"
#include "common/status_macros.h"
#include "context/context_builder.h"
#include "journey/runtime.h"
#include "store/log_store.h"
#include "omnijourney/engine.h"
#include "omnijourney/validate.h"
#include "timeline/timeline.h"

namespace omnijourney {
namespace internal {
namespace {

struct DeferredLess {
  bool operator()(const std::tuple<absl::Time, int64_t, JourneyAction>& a,
                  const std::tuple<absl::Time, int64_t, JourneyAction>& b) const {
    return std::tie(std::get<0>(a), std::get<1>(a)) < std::tie(std::get<0>(b), std::get<1>(b));
  }
};

class EngineImpl final : public Engine {
 public:
  EngineImpl(const EngineOptions& options, std::unique_ptr<IdentityGraph> graph, absl::TimeZone zone,
             std::unique_ptr<LogStore> store)
      : options_(options),
        clock_(options.clock ? options.clock : RealClock()),
        graph_(std::move(graph)),
        cache_limit_(options.storage.cache_profiles) {
    default_zone_ = zone;
    store_ = std::move(store);
  }

  // Rebuilds the state from the stored log (nothing is written while replaying).
  absl::Status Recover() ABSL_LOCKS_EXCLUDED(mu_) {
    WriterLock lock(&mu_);
    if (store_ == nullptr) return absl::OkStatus();
    RETURN_IF_ERROR(
        store_->ForEachTaken([&](const std::string& id) ABSL_NO_THREAD_SAFETY_ANALYSIS { released_.insert(id); }));
    RETURN_IF_ERROR(store_->ClearProfiles());  // Spilled profiles of the last run: rebuilt below.
    // The *Locked operations replayed here never write the log.
    // The callback runs inside this call, under `lock`; the analysis cannot see that through it.
    absl::Status status = store_->ForEach([&](uint64_t seq, const v1::LogRecord& r)
                                              ABSL_NO_THREAD_SAFETY_ANALYSIS -> absl::Status {
      if (r.has_event()) {
        (void)IngestLocked(r.event());  // A rejected event is rejected again: same outcome.
      } else if (r.has_journey()) {
        const absl::Time from = r.journey().has_active_from() ? FromTimestamp(r.journey().active_from())
                                                               : absl::InfinitePast();
        if (absl::Status s = catalog_.Add(r.journey().definition(), from); !s.ok()) {
          return absl::DataLossError(absl::StrCat("log record ", seq, ": journey: ", s.message()));
        }
      } else if (r.has_unlink()) {
        (void)UnlinkLocked({r.unlink().tenant(), r.unlink().type(), r.unlink().value()});
      } else if (r.has_split()) {
        std::vector<IdentifierValue> part;
        for (const auto& id : r.split().part()) part.push_back({id.type(), id.value()});
        (void)SplitLocked(r.split().profile(), part);
      } else if (r.has_advance_time()) {
        (void)AdvanceLocked(FromTimestamp(r.advance_time()));
      }
      ++stats_.recovered;
      return io_error_;
    });
    return status;
  }

  absl::StatusOr<IngestResult> Ingest(const Event& event) override {
    WriterLock lock(&mu_);
    RETURN_IF_ERROR(io_error_);
    return IngestOneLocked(event);
  }

  // Ingest under the lock: validation, the capacity check, the durable write, the state change.
  absl::StatusOr<IngestResult> IngestOneLocked(const Event& event) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (absl::Status s = Check(event); !s.ok()) return s;
    if (!seen_.contains(KeyOf(event))) {
      RETURN_IF_ERROR(CheckCapacity(event));
      if (store_ != nullptr) {
        RETURN_IF_ERROR(store_->AppendSerialized({EncodeEventRecord(event)}));  // Durable before acknowledged.
      }
    }
    return IngestLocked(event);
  }

  // IngestBatch when the batch may reach max_profiles_per_tenant: whether an event fits depends on
  // the ones before it, so each is checked after those are applied; the accepted ones are stored in
  // one write at the end, before any result is returned (as in IngestBatch, a failed write leaves
  // them applied in memory only and the engine refuses further changes until reopened).
  std::vector<absl::StatusOr<IngestResult>> IngestNearProfileLimit(const std::vector<const Event*>& events)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    std::vector<absl::StatusOr<IngestResult>> out;
    out.reserve(events.size());
    std::vector<std::string> to_store;
    for (size_t i = 0; i < events.size(); ++i) {
      if (events[i] == nullptr) {
        out.push_back(absl::InvalidArgumentError(absl::StrCat("events[", i, "]: null")));
        continue;
      }
      const Event& event = *events[i];
      if (absl::Status s = Check(event); !s.ok()) {
        out.push_back(s);
        continue;
      }
      if (!seen_.contains(KeyOf(event))) {
        if (absl::Status s = CheckCapacity(event); !s.ok()) {
          out.push_back(s);
          continue;
        }
        if (store_ != nullptr) to_store.push_back(EncodeEventRecord(event));
      }
      out.push_back(IngestLocked(event));
    }
    if (!to_store.empty()) {
      if (absl::Status s = store_->AppendSerialized(to_store); !s.ok()) {
        Fail(s);
        return std::vector<absl::StatusOr<IngestResult>>(events.size(), io_error_);
      }
    }
    return out;
  }

  // EngineOptions::max_profiles_per_tenant, checked before anything is stored or changed (recovery
  // does not check it: what was stored had passed it).
  absl::Status CheckCapacity(const Event& event) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const int64_t limit = options_.max_profiles_per_tenant;
    if (limit <= 0) return absl::OkStatus();
    const int64_t have = graph_->TenantProfiles(event.tenant());
    // Far from the limit there is nothing to work out.
    if (have + MostProfilesAdded(event) <= limit) return absl::OkStatus();
    const int64_t added = graph_->ProfilesAdded(event);
    if (added <= 0 || have + added <= limit) return absl::OkStatus();
    ++stats_.rejected;
    ++stats_.limit_hits["max_profiles_per_tenant"];
    absl::Status status = absl::ResourceExhaustedError(
        absl::StrCat("identifiers: tenant '", event.tenant(), "' holds ", have, " profiles and this event would add ",
                     added, ", over max_profiles_per_tenant = ", limit));
    internal::TagLimit(status, "max_profiles_per_tenant");
    return status;
  }

  // Each identifier adds at most one profile.
  static int64_t MostProfilesAdded(const Event& event) {
    return event.identifiers_size() + (event.has_previous_id() ? 1 : 0);
  }

  // Whether a batch could reach max_profiles_per_tenant.
  bool MayReachProfileLimit(const std::vector<const Event*>& events) const ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    const int64_t limit = options_.max_profiles_per_tenant;
    if (limit <= 0) return false;
    absl::flat_hash_map<absl::string_view, int64_t> added;
    for (const Event* e : events) {
      if (e == nullptr) continue;
      auto [it, fresh] = added.try_emplace(e->tenant(), 0);
      if (fresh) it->second = graph_->TenantProfiles(e->tenant());
      it->second += MostProfilesAdded(*e);
      if (it->second > limit) return true;
    }
    return false;
  }

  std::vector<absl::StatusOr<IngestResult>> IngestBatch(const std::vector<const Event*>& events) override {
    constexpr size_t kLookahead = 8;
    constexpr size_t kParallelWrite = 64;  // Smaller batches: a thread costs more than it saves.
    std::vector<absl::StatusOr<IngestResult>> out;
    out.reserve(events.size());
    WriterLock lock(&mu_);
    if (!io_error_.ok()) return std::vector<absl::StatusOr<IngestResult>>(events.size(), io_error_);
    if (MayReachProfileLimit(events)) return IngestNearProfileLimit(events);
    // Validation first, then one durable write for the whole batch, then the state changes.
    std::vector<absl::Status> checks(events.size());
    std::vector<const Event*> to_store;
    for (size_t i = 0; i < events.size(); ++i) {
      checks[i] = events[i] == nullptr ? absl::InvalidArgumentError(absl::StrCat("events[", i, "]: null"))
                                       : Check(*events[i]);
      if (checks[i].ok() && store_ != nullptr && !seen_.contains(KeyOf(*events[i]))) {
        to_store.push_back(events[i]);
      }
    }
    // The write (encoding included) runs on another thread while this one applies the events; the
    // results are returned only once it has succeeded. If it fails, the events are applied in memory
    // but not stored: the engine refuses further changes until reopened (which replays the log).
    std::future<absl::Status> written;
    if (!to_store.empty()) {
      auto write = [store = store_.get(), &to_store] {
        std::vector<std::string> records;
        records.reserve(to_store.size());
        for (const Event* e : to_store) records.push_back(EncodeEventRecord(*e));
        return store->AppendSerialized(records);
      };
      if (to_store.size() >= kParallelWrite) {
        try {
          written = std::async(std::launch::async, write);
        } catch (const std::system_error&) {  // No thread to be had: write first.
        }
      }
      if (!written.valid()) {
        if (absl::Status s = write(); !s.ok()) return std::vector<absl::StatusOr<IngestResult>>(events.size(), s);
      }
    }
    for (size_t i = 0; i < events.size(); ++i) {
      if (i + kLookahead < events.size() && events[i + kLookahead] != nullptr) {
        graph_->Prefetch(*events[i + kLookahead]);
      }
      if (!checks[i].ok()) {
        out.push_back(checks[i]);
        continue;
      }
      out.push_back(IngestLocked(*events[i]));
    }
    if (written.valid()) {
      if (absl::Status s = written.get(); !s.ok()) {
        Fail(s);
        return std::vector<absl::StatusOr<IngestResult>>(events.size(), io_error_);
      }
    }
    return out;
  }

  absl::Status AdvanceTime(absl::Time t) override {
    WriterLock lock(&mu_);
    if (store_ != nullptr && t > watermark_ && options_.time_mode == EngineOptions::TimeMode::kEventTime) {
      v1::LogRecord record;
      *record.mutable_advance_time() = ToTimestamp(t);
      RETURN_IF_ERROR(store_->Append({&record}));
    }
    return AdvanceLocked(t);
  }

  absl::Status AdvanceLocked(absl::Time t) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (t > watermark_) watermark_ = t;
    FireDueTimers();
    ReleaseActions();
    Trim();
    return io_error_;
  }

  absl::Status AddJourney(const JourneyDefinition& journey) override {
    WriterLock lock(&mu_);
    // Loaded before any event: it applies to every event. Later: from now on (history does not start
    // instances; running instances of older versions migrate now, see JourneyCatalog).
    const absl::Time active_from = stats_.events == 0 ? absl::InfinitePast() : NowLocked();
    RETURN_IF_ERROR(catalog_.Add(journey, active_from));
    if (store_ != nullptr) {
      v1::LogRecord record;
      *record.mutable_journey()->mutable_definition() = journey;
      if (active_from != absl::InfinitePast()) *record.mutable_journey()->mutable_active_from() = ToTimestamp(active_from);
      RETURN_IF_ERROR(store_->Append({&record}));
    }
    return absl::OkStatus();
  }

  std::vector<JourneyAction> TakeActions() override {
    WriterLock lock(&mu_);
    std::vector<JourneyAction> out = std::move(outbox_);
    outbox_.clear();
    if (store_ != nullptr && !out.empty()) {
      // Taken: never handed out again, also after a restart. (If this write fails, they may be
      // handed out again after a restart: at least once, with the same ids.)
      std::vector<std::string> ids;
      for (const auto& a : out) ids.push_back(a.id);
      (void)store_->MarkTaken(ids);
    }
    return out;
  }

  absl::Time Now() const override {
    ReaderLock lock(&mu_);
    return NowLocked();
  }

  absl::StatusOr<CustomerContext> Context(const IdentifierQuery& query) const override {
    ReaderLock lock(&mu_);
    ASSIGN_OR_RETURN(ProfileId id, ResolveQuery(query));
    return ContextLocked(id);
  }

  absl::StatusOr<CustomerContext> Context(ProfileId profile) const override {
    ReaderLock lock(&mu_);
    ASSIGN_OR_RETURN(ProfileId id, graph_->ResolveProfile(profile));
    return ContextLocked(id);
  }

  absl::StatusOr<ProfileExplanation> Explain(ProfileId profile) const override {
    ReaderLock lock(&mu_);
    ASSIGN_OR_RETURN(ProfileId id, graph_->ResolveProfile(profile));
    ProfileExplanation out;
    out.profile = id;
    ASSIGN_OR_RETURN(out.identifiers, graph_->Identifiers(id));
    ASSIGN_OR_RETURN(out.audit, graph_->Explain(id));
    ASSIGN_OR_RETURN(ProfileView view, View(id));
    out.journeys = Traces(view);
    return out;
  }

  absl::Status ForEachProfile(const std::function<void(const ProfileSnapshot&)>& fn) const override {
    ReaderLock lock(&mu_);
    std::vector<ProfileId> ids;
    ids.reserve(profiles_.size() + spilled_.size());
    for (const auto& [id, timeline] : profiles_) ids.push_back(id);
    for (ProfileId id : spilled_) ids.push_back(id);
    std::sort(ids.begin(), ids.end());
    for (ProfileId id : ids) {
      ASSIGN_OR_RETURN(ProfileView view, View(id));
      if (view.timeline == nullptr) continue;
      ProfileSnapshot snap;
      snap.tenant = view.timeline->tenant();
      snap.profile = id;
      snap.timeline.reserve(view.timeline->entries().size());
      for (const StoredEntry& e : view.timeline->entries()) snap.timeline.push_back(e.View());
      snap.journeys = Traces(view);
      fn(snap);
    }
    return absl::OkStatus();
  }


  absl::StatusOr<std::vector<ProfileId>> Unlink(const IdentifierQuery& query) override {
    WriterLock lock(&mu_);
    ASSIGN_OR_RETURN(std::vector<ProfileId> changed, UnlinkLocked(query));
    if (store_ != nullptr) {
      v1::LogRecord record;
      record.mutable_unlink()->set_tenant(query.tenant);
      record.mutable_unlink()->set_type(query.type);
      record.mutable_unlink()->set_value(query.value);
      RETURN_IF_ERROR(Durable(store_->Append({&record})));
    }
    return changed;
  }

  // In-memory state changed but the log write failed: say so (the change is lost on restart).
  static absl::Status Durable(absl::Status s) {
    if (s.ok()) return s;
    return absl::Status(s.code(), absl::StrCat("applied in memory but not stored (lost on restart): ", s.message()));
  }

  absl::StatusOr<std::vector<ProfileId>> UnlinkLocked(const IdentifierQuery& query) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    ASSIGN_OR_RETURN(ProfileId before, ResolveQuery(query));
    ASSIGN_OR_RETURN(std::vector<ProfileId> changed, graph_->Unlink(query.tenant, query.type, query.value));
    changed.push_back(before);
    Reattribute(changed);
    SyncJourneys();
    Trim();
    RETURN_IF_ERROR(io_error_);
    return changed;
  }

  absl::StatusOr<std::vector<ProfileId>> Split(ProfileId profile, const std::vector<IdentifierValue>& part) override {
    WriterLock lock(&mu_);
    ASSIGN_OR_RETURN(std::vector<ProfileId> parts, SplitLocked(profile, part));
    if (store_ != nullptr) {
      v1::LogRecord record;
      record.mutable_split()->set_profile(profile);
      for (const auto& p : part) {
        auto* id = record.mutable_split()->add_part();
        id->set_type(p.type);
        id->set_value(p.value);
      }
      RETURN_IF_ERROR(Durable(store_->Append({&record})));
    }
    return parts;
  }

  absl::StatusOr<std::vector<ProfileId>> SplitLocked(ProfileId profile, const std::vector<IdentifierValue>& part)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    ASSIGN_OR_RETURN(ProfileId id, graph_->ResolveProfile(profile));
    ASSIGN_OR_RETURN(std::vector<ProfileId> parts, graph_->Split(id, part));
    std::vector<ProfileId> changed = parts;
    changed.push_back(id);
    Reattribute(changed);
    SyncJourneys();
    Trim();
    RETURN_IF_ERROR(io_error_);
    return parts;
  }

  absl::StatusOr<std::vector<ProfileId>> EraseIdentifier(const IdentifierQuery& query) override {
    WriterLock lock(&mu_);
    ASSIGN_OR_RETURN(ProfileId before, ResolveQuery(query));
    ASSIGN_OR_RETURN(std::string key, graph_->MatchKey(query.type, query.value));
    ASSIGN_OR_RETURN(std::vector<ProfileId> changed,
                     graph_->EraseIdentifier(query.tenant, query.type, query.value));
    changed.push_back(before);
    // Scrub the value from every stored event of the tenant: an event whose merge was refused may
    // sit in another profile and still carry it. Cost: O(stored events); erasure is rare. Spilled
    // profiles that carry it are loaded first; ScrubLog deletes the stale copies.
    // The lambdas below run inside this call, under mu_ (which the analysis cannot see through them).
    auto carries = [&](const PairList::value_type& v) ABSL_NO_THREAD_SAFETY_ANALYSIS {
      if (v.first != query.type) return false;
      auto k = graph_->MatchKey(std::string(v.first), std::string(v.second));
      return k.ok() && *k == key;
    };
    std::vector<ProfileId> carriers;
    if (store_ != nullptr && !spilled_.empty()) {
      RETURN_IF_ERROR(store_->ForEachProfile([&](uint64_t id, std::string_view bytes)
                                                 ABSL_NO_THREAD_SAFETY_ANALYSIS -> absl::Status {
        if (!spilled_.contains(id)) return absl::OkStatus();
        ASSIGN_OR_RETURN(ProfileTimeline t, ProfileTimeline::Decode(bytes));
        if (t.tenant() != query.tenant) return absl::OkStatus();
        for (const StoredEntry& e : t.entries()) {
          const PairList ids = e.identifiers();
          if (std::any_of(ids.begin(), ids.end(), carries)) {
            carriers.push_back(id);
            break;
          }
        }
        return absl::OkStatus();
      }));
    }
    for (ProfileId id : carriers) Load(id);
    RETURN_IF_ERROR(io_error_);
    for (auto& [id, timeline] : profiles_) {
      if (timeline->tenant() != query.tenant) continue;
      bool touched = false;
      const auto size_before = static_cast<int64_t>(timeline->entries().size());
      timeline->Rewrite([&](StoredEntry& e) {
        const PairList ids = e.identifiers();
        if (std::none_of(ids.begin(), ids.end(), carries)) return true;
        std::vector<IdentifierValue> kept;
        for (const auto& id : ids) {
          if (!carries(id)) kept.push_back({std::string(id.first), std::string(id.second)});
        }
        touched = true;
        if (kept.empty()) return false;  // Events only it identified are deleted.
        e.SetIdentifiers(kept);
        return true;
      });
      entries_ += static_cast<int64_t>(timeline->entries().size()) - size_before;
      if (touched) changed.push_back(id);
    }
    std::sort(changed.begin(), changed.end());
    changed.erase(std::unique(changed.begin(), changed.end()), changed.end());
    Reattribute(changed);
    SyncJourneys();
    Trim();
    RETURN_IF_ERROR(io_error_);
    RETURN_IF_ERROR(Durable(ScrubLog(query.tenant, {{query.type, key}})));
    return changed;
  }

  // Removes erased identifiers (type, match key) from the stored log: from events (an event left
  // without identifiers is deleted), unlink and split records; then the old bytes are purged.
  absl::Status ScrubLog(const std::string& tenant, const std::vector<IdentifierValue>& erased)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (store_ == nullptr || erased.empty()) return absl::OkStatus();
    auto is_erased = [&](const std::string& type, const std::string& value) ABSL_NO_THREAD_SAFETY_ANALYSIS {
      for (const auto& e : erased) {
        if (e.type != type) continue;
        auto k = graph_->MatchKey(type, value);
        if (k.ok() && *k == e.value) return true;
      }
      return false;
    };
    std::vector<std::pair<uint64_t, std::optional<v1::LogRecord>>> changes;
    RETURN_IF_ERROR(store_->ForEach([&](uint64_t seq, const v1::LogRecord& r) -> absl::Status {
      if (r.has_event() && r.event().tenant() == tenant) {
        v1::LogRecord copy = r;
        Event& e = *copy.mutable_event();
        auto* ids = e.mutable_identifiers();
        const int before = ids->size();
        ids->erase(std::remove_if(ids->begin(), ids->end(),
                                  [&](const v1::Identifier& id) { return is_erased(id.type(), id.value()); }),
                   ids->end());
        bool changed = ids->size() != before;
        if (e.has_previous_id() && is_erased(e.previous_id().type(), e.previous_id().value())) {
          e.clear_previous_id();
          changed = true;
        }
        if (changed) {
          if (ids->empty() && !e.has_previous_id()) {
            changes.emplace_back(seq, std::nullopt);
          } else {
            changes.emplace_back(seq, std::move(copy));
          }
        }
      } else if (r.has_unlink() && r.unlink().tenant() == tenant && is_erased(r.unlink().type(), r.unlink().value())) {
        changes.emplace_back(seq, std::nullopt);
      } else if (r.has_split()) {
        v1::LogRecord copy = r;
        auto* part = copy.mutable_split()->mutable_part();
        const int before = part->size();
        part->erase(std::remove_if(part->begin(), part->end(),
                                   [&](const v1::Identifier& id) { return is_erased(id.type(), id.value()); }),
                    part->end());
        if (part->size() != before) {
          if (part->empty()) {
            changes.emplace_back(seq, std::nullopt);
          } else {
            changes.emplace_back(seq, std::move(copy));
          }
        }
      }
      return absl::OkStatus();
    }));
    RETURN_IF_ERROR(store_->Rewrite(changes));
    RETURN_IF_ERROR(DropCopies());
    return store_->Purge();
  }

  absl::StatusOr<std::vector<ProfileId>> EraseProfile(ProfileId profile) override {
    WriterLock lock(&mu_);
    ASSIGN_OR_RETURN(ProfileId id, graph_->ResolveProfile(profile));
    ASSIGN_OR_RETURN(std::vector<IdentifierValue> identifiers, graph_->Identifiers(id));  // Match keys.
    ASSIGN_OR_RETURN(std::string tenant, graph_->TenantOf(id));
    ASSIGN_OR_RETURN(std::vector<ProfileId> changed, EraseProfileLocked(id));
    Trim();
    RETURN_IF_ERROR(io_error_);
    RETURN_IF_ERROR(Durable(ScrubLog(tenant, identifiers)));
    return changed;
  }

  absl::StatusOr<std::vector<ProfileId>> EraseProfileLocked(ProfileId id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    Load(id);  // Its stored copy goes too (ScrubLog).
    RETURN_IF_ERROR(io_error_);
    ASSIGN_OR_RETURN(std::vector<ProfileId> changed, graph_->EraseProfile(id));
    if (auto it = profiles_.find(id); it != profiles_.end()) {
      entries_ -= static_cast<int64_t>(it->second->entries().size());
      profiles_.erase(it);
    }
    stale_.insert(id);
    Reattribute(std::vector<ProfileId>(changed.begin() + 1, changed.end()));
    SyncJourneys();
    return changed;
  }

  EngineStats Stats() const override {
    ReaderLock lock(&mu_);
    EngineStats s = stats_;
    s.profiles = static_cast<int64_t>(profiles_.size() + spilled_.size());
    s.cached_profiles = static_cast<int64_t>(profiles_.size());
    s.timeline_entries = entries_;
    s.identity = graph_->Stats();
    std::tie(s.largest_tenant, s.largest_tenant_profiles) = graph_->LargestTenant();
    const std::pair<const char*, int64_t> trimmed[] = {{"timeline.max_entries", trimmed_.dropped_by_count},
                                                       {"timeline.max_age", trimmed_.dropped_by_age},
                                                       {"timeline.max_text_bytes", trimmed_.texts_cut},
                                                       {"dedupe_window", trimmed_.keys_forgotten}};
    for (const auto& [option, count] : trimmed) {
      if (count > 0) s.limit_hits[option] = count;
    }
    return s;
  }

  int64_t TenantProfiles(std::string_view tenant) const override {
    ReaderLock lock(&mu_);
    return graph_->TenantProfiles(tenant);
  }

  bool ContainsStringForTesting(std::string_view needle) const override {
    ReaderLock lock(&mu_);
    if (graph_->ContainsStringForTesting(needle)) return true;
    if (store_ != nullptr && store_->ContainsForTesting(needle)) return true;
    auto has = [&](std::string_view s) { return s.find(needle) != std::string_view::npos; };
    for (const auto& [id, timeline] : profiles_) {
      for (const StoredEntry& e : timeline->entries()) {
        if (has(e.text()) || has(e.name())) return true;
        for (const auto l : {StoredEntry::kProperties, StoredEntry::kIdentifiers, StoredEntry::kTraits,
                             StoredEntry::kFlatProperties}) {
          for (const auto& [k, v] : e.pairs(l)) {
            if (has(v)) return true;
          }
        }
      }
    }
    return false;
  }

 private:
  absl::Time NowLocked() const ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    if (options_.time_mode == EngineOptions::TimeMode::kEventTime) return watermark_;
    return std::max(clock_->Now(), watermark_);
  }

  absl::StatusOr<ProfileId> ResolveQuery(const IdentifierQuery& query) const ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    if (query.type.empty()) return absl::InvalidArgumentError("type: required");
    if (query.value.empty()) return absl::InvalidArgumentError("value: required");
    return graph_->Resolve(query.tenant, query.type, query.value);
  }

  // A profile's timeline and journeys: in memory, or read from the store for a spilled profile
  // (without caching it: readers hold the lock shared).
  struct ProfileView {
    const ProfileTimeline* timeline = nullptr;  // Null: no retained events.
    const ProfileJourneys* journeys = nullptr;  // Null: none (no journeys loaded).
    std::unique_ptr<ProfileTimeline> own_timeline;
    std::unique_ptr<ProfileJourneys> own_journeys;
  };

  absl::StatusOr<ProfileView> View(ProfileId id) const ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    ProfileView view;
    if (auto it = profiles_.find(id); it != profiles_.end()) {
      view.timeline = it->second.get();
      if (auto j = journeys_.find(id); j != journeys_.end()) view.journeys = j->second.get();
      return view;
    }
    if (!spilled_.contains(id)) return view;
    ASSIGN_OR_RETURN(std::optional<std::string> bytes, store_->GetProfile(id));
    if (!bytes) return absl::DataLossError(absl::StrCat("profile ", FormatProfileId(id), ": spilled copy missing"));
    ASSIGN_OR_RETURN(ProfileTimeline timeline, ProfileTimeline::Decode(*bytes));
    view.own_timeline = std::make_unique<ProfileTimeline>(std::move(timeline));
    view.timeline = view.own_timeline.get();
    if (!catalog_.empty()) {
      view.own_journeys = RebuildJourneys(*view.timeline);
      view.journeys = view.own_journeys.get();
    }
    return view;
  }

  static std::vector<JourneyTrace> Traces(const ProfileView& view) {
    std::vector<JourneyTrace> out;
    if (view.journeys == nullptr) return out;
    for (const JourneyInstance& inst : view.journeys->instances()) {
      JourneyTrace t;
      t.journey = inst.journey->def.name();
      t.version = inst.journey->def.version();
      t.state = inst.journey->def.states(inst.state).name();
      t.ended = inst.ended;
      t.started = inst.started;
      t.entered = inst.entered;
      for (const JourneyStep& s : inst.history) t.steps.push_back({s.from, s.to, s.transition, s.cause, s.time});
      out.push_back(std::move(t));
    }
    return out;
  }

  // A profile's journeys derived from its timeline, with the timeouts fired so far.
  std::unique_ptr<ProfileJourneys> RebuildJourneys(const ProfileTimeline& timeline) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    auto fresh = std::make_unique<ProfileJourneys>(&catalog_, &options_.context.trait_source_priority);
    for (const StoredEntry& e : timeline.entries()) fresh->Apply(e);
    if (auto due = fresh->NextDue(); due && *due <= fired_until_) fresh->AdvanceTo(fired_until_);
    return fresh;
  }

  absl::StatusOr<CustomerContext> ContextLocked(ProfileId id) const ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    ASSIGN_OR_RETURN(ProfileView view, View(id));
    if (view.timeline == nullptr) {
      return absl::NotFoundError(absl::StrCat("profile ", FormatProfileId(id), " has no retained events"));
    }
    ASSIGN_OR_RETURN(std::vector<IdentifierValue> ids, graph_->Identifiers(id));
    CustomerContext ctx = BuildContextCached(id, *view.timeline, ids, options_, NowLocked());
    if (view.journeys != nullptr) {
      for (const JourneyInstance& inst : view.journeys->instances()) {
        if (inst.ended) continue;
        ctx.journeys.push_back({inst.journey->def.name(), inst.journey->def.version(),
                                inst.journey->def.states(inst.state).name(), inst.entered,
                                std::max(absl::ZeroDuration(), ctx.as_of - inst.entered)});
      }
    }
    return ctx;
  }

  // The idempotence key: a 128-bit hash of (tenant, source, event_id), two 64-bit hashes with
  // different salts. Storing hashes instead of the strings saves two allocations per event; a false
  // duplicate needs both halves to collide (odds ~ window * events / 2^128).
  using DedupeKey = std::pair<uint64_t, uint64_t>;
  static DedupeKey KeyOf(const Event& event) {
    using Parts = std::tuple<absl::string_view, absl::string_view, absl::string_view, uint64_t>;
    const absl::Hash<Parts> hash;
    return {hash(Parts(event.tenant(), event.source(), event.event_id(), 0x6f6d6e69)),
            hash(Parts(event.tenant(), event.source(), event.event_id(), 0x6a6f75726e6579))};
  }

  // Validation (counts rejections).
  absl::Status Check(const Event& event) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    absl::Status s = ValidateEvent(event, options_.validation, clock_->Now());
    if (!s.ok()) {
      ++stats_.rejected;
      if (std::string limit = ExceededLimit(s); !limit.empty()) ++stats_.limit_hits[limit];
    }
    return s;
  }

  // Counts timeline entries retention dropped.
  void CountDropped(ProfileTimeline::Dropped dropped) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    trimmed_.dropped_by_count += static_cast<int64_t>(dropped.by_count);
    trimmed_.dropped_by_age += static_cast<int64_t>(dropped.by_age);
  }

  // REQUIRES: `event` passed Check (or comes from the log, where it had).
  absl::StatusOr<IngestResult> IngestLocked(const Event& event) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const DedupeKey key = KeyOf(event);
    IngestResult result;
    if (seen_.contains(key)) {
      ++stats_.duplicates;
      result.duplicate = true;
      std::vector<IdentifierValue> ids;
      for (const auto& id : event.identifiers()) ids.push_back({id.type(), id.value()});
      if (auto p = graph_->ResolveIdentifiers(event.tenant(), ids); p.ok()) result.profile = *p;
      return result;
    }
    ASSIGN_OR_RETURN(LinkResult link, graph_->Link(event));
    result.profile = link.profile;
    result.merged = std::move(link.merged);
    result.changed = std::move(link.changed);
    result.refusals = std::move(link.refusals);
    result.dropped = std::move(link.dropped);
    if (result.profile == 0) {
      ++stats_.rejected;
      std::string why;
      for (const auto& d : result.dropped) absl::StrAppend(&why, why.empty() ? "" : "; ", d.type, ": ", d.reason);
      return absl::InvalidArgumentError(absl::StrCat("identifiers: none usable (", why, ")"));
    }
    // Spilled profiles this event touches come back into memory.
    Load(result.profile);
    for (ProfileId absorbed : result.merged) Load(absorbed);
    if (!io_error_.ok()) return io_error_;
    Remember(key);
    ++stats_.events;
    const absl::Time t = FromTimestamp(event.occurred_at());
    if (t > watermark_ && options_.time_mode == EngineOptions::TimeMode::kEventTime) watermark_ = t;
    const absl::Time now = NowLocked();
    // Merges: absorbed timelines join their survivor (not always the event's profile: a refused
    // identifier of higher priority may name another one).
    for (ProfileId absorbed : result.merged) {
      auto it = profiles_.find(absorbed);
      if (it == profiles_.end()) continue;
      auto survivor = graph_->ResolveProfile(absorbed);
      if (!survivor.ok() || *survivor == absorbed) continue;
      std::unique_ptr<ProfileTimeline> moved = std::move(it->second);
      profiles_.erase(it);
      Load(*survivor);
      ProfileTimeline& into = State(*survivor, event.tenant());
      stale_.insert(*survivor);
      stale_.insert(absorbed);
      const size_t before = into.entries().size() + moved->entries().size();
      CountDropped(into.Absorb(std::move(*moved), options_.timeline, now));
      entries_ -= static_cast<int64_t>(before - into.entries().size());
    }
    if (!result.changed.empty()) Reattribute(result.changed);
    ProfileTimeline& timeline = State(result.profile, event.tenant());
    const size_t before = timeline.entries().size();
    StoredEntry entry = MakeEntry(event, options_.timeline);
    if (event.text().size() > options_.timeline.max_text_bytes) ++trimmed_.texts_cut;
    if (!catalog_.empty()) {
      // In timeline order: one more step; otherwise (a late event) the profile's journeys are rebuilt.
      auto j = journeys_.find(result.profile);
      if (j != journeys_.end() && j->second->InOrder(entry) && !stale_.contains(result.profile)) {
        j->second->Apply(entry);
        touched_.insert(result.profile);
      } else {
        stale_.insert(result.profile);
      }
    }
    CountDropped(timeline.Insert(std::move(entry), options_.timeline, now));
    entries_ += static_cast<int64_t>(timeline.entries().size()) - static_cast<int64_t>(before);
    SyncJourneys();
    Trim();
    return result;
  }

  // The time journey timeouts and actions have reached: now minus the allowed lateness.
  absl::Time TimerTime() const ABSL_SHARED_LOCKS_REQUIRED(mu_) { return NowLocked() - options_.allowed_lateness; }

  // Rebuilds stale profiles' journeys from their timelines, then fires timers and releases actions.
  void SyncJourneys() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (catalog_.empty()) {
      stale_.clear();
      return;
    }
    for (ProfileId id : stale_) Rebuild(id);
    stale_.clear();
    for (ProfileId id : touched_) Schedule(id);
    FireDueTimers();
    ReleaseActions();
  }

  // Rebuilds a profile's journeys from its timeline (REQUIRES: not spilled).
  void Rebuild(ProfileId id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto it = profiles_.find(id);
    if (it == profiles_.end()) {
      journeys_.erase(id);
      Schedule(id);
      return;
    }
    journeys_[id] = RebuildJourneys(*it->second);
    touched_.insert(id);
  }

  // Records the profile's next timeout in the timer index.
  void Schedule(ProfileId id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (auto old = timer_of_.find(id); old != timer_of_.end()) {
      timers_.erase({old->second, id});
      timer_of_.erase(old);
    }
    auto j = journeys_.find(id);
    if (j == journeys_.end()) return;
    if (auto due = j->second->NextDue()) {
      timers_.insert({*due, id});
      timer_of_[id] = *due;
    }
  }

  void FireDueTimers() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (catalog_.empty()) return;
    const absl::Time limit = TimerTime();
    fired_until_ = std::max(fired_until_, limit);
    while (!timers_.empty() && timers_.begin()->first <= limit) {
      const ProfileId id = timers_.begin()->second;
      if (spilled_.contains(id)) {
        Load(id, /*mark_stale=*/false);
        Rebuild(id);
      }
      auto j = journeys_.find(id);
      if (j != journeys_.end()) {
        j->second->AdvanceTo(limit);
        touched_.insert(id);
      }
      Schedule(id);
    }
  }

  static inline const std::optional<CustomerContext> kNoContext;

  bool PolicyActive() const {
    const ActionOptions& o = options_.actions;
    return o.max_per_channel_per_day > 0 || o.quiet_start_hour != o.quiet_end_hour;
  }

  // The profile's time zone: its "timezone" trait when it names a known zone, else the default.
  absl::TimeZone ZoneOf(const CustomerContext* ctx) const {
    absl::TimeZone tz = default_zone_;
    if (ctx != nullptr) {
      if (auto it = ctx->traits.find("timezone"); it != ctx->traits.end()) {
        absl::TimeZone own;
        if (absl::LoadTimeZone(it->second.value, &own)) tz = own;
      }
    }
    return tz;
  }

  // Applies quiet hours and frequency caps to an action for a customer-facing channel, then queues it
  // (or holds it until the quiet hours end).
  void Dispose(JourneyAction action, const CustomerContext* ctx) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const ActionOptions& o = options_.actions;
    if (action.channel.empty() || !PolicyActive()) {
      outbox_.push_back(std::move(action));
      return;
    }
    const absl::TimeZone tz = ZoneOf(ctx);
    const absl::Time at = action.handed_out;
    const absl::CivilHour hour = absl::ToCivilHour(at, tz);
    const int h = hour.hour();
    const int start = o.quiet_start_hour, end = o.quiet_end_hour;
    const bool quiet = start != end && (start < end ? (h >= start && h < end) : (h >= start || h < end));
    if (quiet) {
      const std::string why = absl::StrCat("quiet hours ", start, ":00-", end, ":00 ", tz.name());
      if (o.quiet_policy == ActionOptions::QuietPolicy::kSuppress) {
        action.disposition = JourneyAction::Disposition::kSuppressed;
        action.disposition_reason = why;
        outbox_.push_back(std::move(action));
        return;
      }
      // The next local end hour after `at`.
      absl::CivilDay day = absl::CivilDay(hour);
      if (h >= end) day += 1;
      action.handed_out = absl::FromCivil(absl::CivilHour(day.year(), day.month(), day.day(), end), tz);
      action.disposition = JourneyAction::Disposition::kDeferred;
      action.disposition_reason = absl::StrCat(why, ": deferred from ", FormatRfc3339(at));
      deferred_.insert({action.handed_out, deferred_seq_++, std::move(action)});
      return;
    }
    if (o.max_per_channel_per_day > 0) {
      const absl::CivilDay day = absl::ToCivilDay(at, tz);
      int& sent = sent_per_day_[{action.profile, action.channel, absl::FormatCivilTime(day)}];
      if (sent >= o.max_per_channel_per_day) {
        action.disposition = JourneyAction::Disposition::kSuppressed;
        action.disposition_reason = absl::StrCat("frequency cap ", o.max_per_channel_per_day, " per day on ",
                                                 action.channel, " reached on ", absl::FormatCivilTime(day));
        outbox_.push_back(std::move(action));
        return;
      }
      ++sent;
    }
    outbox_.push_back(std::move(action));
  }

  // Hands out deferred actions whose quiet hours are over (caps apply on the day they go out).
  void ReleaseDeferred() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const absl::Time limit = TimerTime();
    while (!deferred_.empty() && std::get<0>(*deferred_.begin()) <= limit) {
      auto node = deferred_.extract(deferred_.begin());
      JourneyAction action = std::move(std::get<2>(node.value()));
      const ActionOptions& o = options_.actions;
      if (o.max_per_channel_per_day > 0) {
        auto ctx = ContextLocked(action.profile);
        const absl::CivilDay day = absl::ToCivilDay(action.handed_out, ZoneOf(ctx.ok() ? &*ctx : nullptr));
        int& sent = sent_per_day_[{action.profile, action.channel, absl::FormatCivilTime(day)}];
        if (sent >= o.max_per_channel_per_day) {
          action.disposition = JourneyAction::Disposition::kSuppressed;
          action.disposition_reason = absl::StrCat(action.disposition_reason, "; then frequency cap ",
                                                   o.max_per_channel_per_day, " per day on ", action.channel);
        } else {
          ++sent;
        }
      }
      outbox_.push_back(std::move(action));
    }
  }

  // Hands out the actions of touched profiles whose time has come (each id once).
  void ReleaseActions() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    ReleaseDeferred();
    const absl::Time limit = TimerTime();
    std::vector<ProfileId> still_pending;
    // Due actions of every touched profile, handed out in time order (then profile, then emission).
    std::vector<std::tuple<absl::Time, ProfileId, size_t, const EmittedAction*>> due;
    for (ProfileId id : touched_) {
      auto j = journeys_.find(id);
      if (j == journeys_.end()) continue;
      bool pending = false;
      const auto& actions = j->second->actions();
      for (size_t i = 0; i < actions.size(); ++i) {
        const EmittedAction& a = actions[i];
        if (released_.contains(a.id)) continue;
        if (a.time > limit) {
          pending = true;
          continue;
        }
        due.emplace_back(a.time, id, i, &a);
      }
      if (pending) still_pending.push_back(id);
    }
    std::sort(due.begin(), due.end(), [](const auto& x, const auto& y) {
      return std::tie(std::get<0>(x), std::get<1>(x), std::get<2>(x)) < std::tie(std::get<0>(y), std::get<1>(y), std::get<2>(y));
    });
    std::map<ProfileId, std::optional<CustomerContext>> contexts;  // Built once per profile, when needed.
    for (const auto& [time, id, index, action] : due) {
      const EmittedAction& a = *action;
      if (!released_.insert(a.id).second) continue;
      JourneyAction out;
      out.id = a.id;
      out.profile = id;
      out.journey = a.journey;
      out.version = a.version;
      out.transition = a.transition;
      out.from_state = a.from_state;
      out.to_state = a.to_state;
      out.name = a.action.name();
      out.channel = a.action.channel();
      const bool needs_context = out.channel == "preferred" || (!out.channel.empty() && PolicyActive());
      std::optional<CustomerContext>* ctx_slot = nullptr;
      if (needs_context) {
        auto [slot, fresh] = contexts.try_emplace(id);
        if (fresh) {
          if (auto c = ContextLocked(id); c.ok()) slot->second = *std::move(c);
        }
        ctx_slot = &slot->second;
      }
      const std::optional<CustomerContext>& ctx = ctx_slot ? *ctx_slot : kNoContext;
      if (out.channel == "preferred" && ctx && ctx->preferred_channel) {
        out.channel = std::string(ChannelName(*ctx->preferred_channel));
      }
      out.parameters.insert(a.action.parameters().begin(), a.action.parameters().end());
      out.time = a.time;
      out.cause = a.cause;
      out.handed_out = std::max(a.time, limit);
      Dispose(std::move(out), ctx ? &*ctx : nullptr);
    }
    touched_.clear();
    touched_.insert(still_pending.begin(), still_pending.end());
  }

  ProfileTimeline& State(ProfileId id, const std::string& tenant) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto& slot = profiles_[id];
    if (!slot) slot = std::make_unique<ProfileTimeline>(tenant);
    if (cache_limit_ > 0) last_use_[id] = ++use_clock_;
    return *slot;
  }

  // Brings a spilled profile back into memory (its stored copy becomes stale); its journeys are rebuilt
  // by the next SyncJourneys when `mark_stale`. A storage failure sets io_error_.
  void Load(ProfileId id, bool mark_stale = true) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!spilled_.contains(id) || !io_error_.ok()) return;
    absl::StatusOr<std::optional<std::string>> bytes = store_->GetProfile(id);
    if (bytes.ok() && !*bytes) {
      bytes = absl::DataLossError(absl::StrCat("profile ", FormatProfileId(id), ": spilled copy missing"));
    }
    if (!bytes.ok()) {
      Fail(bytes.status());
      return;
    }
    absl::StatusOr<ProfileTimeline> timeline = ProfileTimeline::Decode(**bytes);
    if (!timeline.ok()) {
      Fail(timeline.status());
      return;
    }
    spilled_.erase(id);
    copies_.insert(id);  // The stored copy stays until the profile is spilled again (or erased).
    profiles_[id] = std::make_unique<ProfileTimeline>(*std::move(timeline));
    last_use_[id] = ++use_clock_;
    if (mark_stale) stale_.insert(id);
  }

  // Spills the least recently used profiles when more than cache_limit_ are in memory (down to
  // 7/8 of it, so spills come in batches). Profiles with work pending (stale journeys, actions
  // not yet due) stay.
  void Trim() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (cache_limit_ == 0 || profiles_.size() <= cache_limit_ || !io_error_.ok()) return;
    const size_t target = cache_limit_ - cache_limit_ / 8;
    std::vector<std::pair<uint64_t, ProfileId>> candidates;
    candidates.reserve(profiles_.size());
    for (const auto& [id, timeline] : profiles_) {
      if (stale_.contains(id) || touched_.contains(id)) continue;
      candidates.emplace_back(last_use_[id], id);
    }
    const size_t excess = profiles_.size() - target;
    if (candidates.size() > excess) {
      std::nth_element(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(excess), candidates.end());
      candidates.resize(excess);
    }
    std::vector<std::pair<uint64_t, std::string>> out;
    out.reserve(candidates.size());
    for (const auto& [use, id] : candidates) out.emplace_back(id, profiles_[id]->Encode());
    // Stale copies of profiles that are gone (merged into another, erased) go with the same batch.
    std::vector<uint64_t> gone;
    for (ProfileId id : copies_) {
      if (!profiles_.contains(id)) gone.push_back(id);
    }
    if (absl::Status s = store_->WriteProfiles(out, gone); !s.ok()) {
      Fail(s);
      return;
    }
    for (ProfileId id : gone) copies_.erase(id);
    for (const auto& [use, id] : candidates) {
      profiles_.erase(id);
      journeys_.erase(id);
      last_use_.erase(id);
      copies_.erase(id);
      spilled_.insert(id);
    }
  }

  // Deletes every stale stored copy (erasure: the erased value may be in one).
  absl::Status DropCopies() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (store_ == nullptr || copies_.empty()) return absl::OkStatus();
    RETURN_IF_ERROR(store_->WriteProfiles({}, std::vector<uint64_t>(copies_.begin(), copies_.end())));
    copies_.clear();
    return absl::OkStatus();
  }

  // After a storage failure the in-memory state may lack a profile: refuse further changes until
  // the engine is reopened (which rebuilds the state from the log).
  void Fail(const absl::Status& s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!io_error_.ok()) return;
    io_error_ = absl::Status(s.code(), absl::StrCat("storage failed, reopen the engine: ", s.message()));
  }

  // Moves every stored event of the given profiles to the profile its identifiers resolve to now.
  void Reattribute(const std::vector<ProfileId>& ids) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    std::vector<std::unique_ptr<ProfileTimeline>> taken;
    for (ProfileId id : ids) {
      Load(id);
      stale_.insert(id);
      auto it = profiles_.find(id);
      if (it == profiles_.end()) continue;
      taken.push_back(std::move(it->second));
      profiles_.erase(it);
    }
    const absl::Time now = NowLocked();
    for (auto& timeline : taken) {
      entries_ -= static_cast<int64_t>(timeline->entries().size());
      const std::string tenant = timeline->tenant();
      for (StoredEntry& e : timeline->TakeAll()) {
        auto p = graph_->ResolveIdentifiers(tenant, e.Identifiers());
        if (!p.ok()) continue;  // Nobody's any more (its identifiers were erased).
        Load(*p);
        ProfileTimeline& into = State(*p, tenant);
        stale_.insert(*p);
        const size_t before = into.entries().size();
        CountDropped(into.Insert(std::move(e), options_.timeline, now));
        entries_ += static_cast<int64_t>(into.entries().size()) - static_cast<int64_t>(before);
      }
    }
  }

  void Remember(DedupeKey key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (options_.dedupe_window == 0) return;
    if (seen_order_.size() >= options_.dedupe_window) {
      seen_.erase(seen_order_.front());
      seen_order_.pop_front();
      ++trimmed_.keys_forgotten;
    }
    seen_.insert(key);
    seen_order_.push_back(key);
  }

  const EngineOptions options_;
  const Clock* const clock_;
  // What limits trimmed, for EngineStats::limit_hits (counters: these happen on the hot path).
  struct Trimmed {
    int64_t dropped_by_count = 0;  // timeline.max_entries
    int64_t dropped_by_age = 0;    // timeline.max_age
    int64_t texts_cut = 0;         // timeline.max_text_bytes
    int64_t keys_forgotten = 0;    // dedupe_window
  };
  mutable absl::Mutex mu_;
  std::unique_ptr<IdentityGraph> graph_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<ProfileId, std::unique_ptr<ProfileTimeline>> profiles_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<DedupeKey> seen_ ABSL_GUARDED_BY(mu_);
  std::deque<DedupeKey> seen_order_ ABSL_GUARDED_BY(mu_);
  absl::Time watermark_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  EngineStats stats_ ABSL_GUARDED_BY(mu_);
  Trimmed trimmed_ ABSL_GUARDED_BY(mu_);
  JourneyCatalog catalog_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<LogStore> store_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<ProfileId, std::unique_ptr<ProfileJourneys>> journeys_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<ProfileId> stale_ ABSL_GUARDED_BY(mu_);    // Journeys to rebuild from the timeline.
  absl::flat_hash_set<ProfileId> touched_ ABSL_GUARDED_BY(mu_);  // May have actions to hand out.
  std::set<std::pair<absl::Time, ProfileId>> timers_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<ProfileId, absl::Time> timer_of_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> released_ ABSL_GUARDED_BY(mu_);
  std::vector<JourneyAction> outbox_ ABSL_GUARDED_BY(mu_);
  absl::TimeZone default_zone_;
  // Deferred actions by the time they go out (sequence keeps equal times in order).
  std::set<std::tuple<absl::Time, int64_t, JourneyAction>, DeferredLess> deferred_ ABSL_GUARDED_BY(mu_);
  int64_t deferred_seq_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::tuple<ProfileId, std::string, std::string>, int> sent_per_day_ ABSL_GUARDED_BY(mu_);
  int64_t entries_ ABSL_GUARDED_BY(mu_) = 0;
  // The profile cache (storage.cache_profiles; 0: everything stays in memory).
  const size_t cache_limit_;
  absl::flat_hash_set<ProfileId> spilled_ ABSL_GUARDED_BY(mu_);  // Timeline in the store, not in memory.
  absl::flat_hash_set<ProfileId> copies_ ABSL_GUARDED_BY(mu_);   // Not spilled, but a stale copy is stored.
  absl::flat_hash_map<ProfileId, uint64_t> last_use_ ABSL_GUARDED_BY(mu_);
  uint64_t use_clock_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time fired_until_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();  // Timer time of the last firing.
  absl::Status io_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace
}  // namespace internal

absl::StatusOr<std::unique_ptr<Engine>> Engine::Open(const EngineOptions& options) {
  if (options.max_profiles_per_tenant < 0) {
    return absl::InvalidArgumentError("max_profiles_per_tenant: must be >= 0 (0: no limit)");
  }
  if (options.timeline.max_entries == 0) return absl::InvalidArgumentError("timeline.max_entries: must be >= 1");
  if (options.timeline.max_age <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("timeline.max_age: must be positive");
  }
  if (options.timeline.conversation_idle_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("timeline.conversation_idle_timeout: must be positive");
  }
  if (options.context.preference_half_life <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("context.preference_half_life: must be positive");
  }
  IdentityOptions identity = options.identity;
  if (identity.clock == nullptr) identity.clock = options.clock;
  auto graph = IdentityGraph::Create(identity);
  if (!graph.ok()) return internal::Prefixed("identity.", graph.status());
  const ActionOptions& a = options.actions;
  if (a.max_per_channel_per_day < 0) return absl::InvalidArgumentError("actions.max_per_channel_per_day: must be >= 0");
  if (a.quiet_start_hour < 0 || a.quiet_start_hour > 23 || a.quiet_end_hour < 0 || a.quiet_end_hour > 23) {
    return absl::InvalidArgumentError("actions.quiet_start_hour/quiet_end_hour: must be 0-23");
  }
  absl::TimeZone zone;
  if (!absl::LoadTimeZone(a.default_time_zone, &zone)) {
    return absl::InvalidArgumentError(absl::StrCat("actions.default_time_zone: unknown time zone '", a.default_time_zone, "'"));
  }
  if (options.allowed_lateness < absl::ZeroDuration()) return absl::InvalidArgumentError("allowed_lateness: must be >= 0");
  if (options.storage.cache_profiles > 0 && options.storage.path.empty()) {
    return absl::InvalidArgumentError("storage.cache_profiles: needs storage.path (profiles are spilled there)");
  }
  std::unique_ptr<internal::LogStore> store;
  if (!options.storage.path.empty()) {
    auto opened = internal::OpenRocksDbLogStore(options.storage.path, options.storage.sync);
    if (!opened.ok()) return opened.status();
    store = *std::move(opened);
  }
  auto engine = std::make_unique<internal::EngineImpl>(options, *std::move(graph), zone, std::move(store));
  if (absl::Status s = engine->Recover(); !s.ok()) return s;
  return std::unique_ptr<Engine>(std::move(engine));
}

std::string ProfileExplanation::ToString() const {
  std::string out = absl::StrCat("profile ", FormatProfileId(profile), "\n");
  for (const auto& id : identifiers) absl::StrAppend(&out, "  ", id.type, " ", id.value, "\n");
  for (const auto& e : audit) absl::StrAppend(&out, "  ", e.ToString(), "\n");
  for (const auto& j : journeys) {
    absl::StrAppend(&out, "  journey ", j.journey, " v", j.version, ": ", j.state, j.ended ? " (ended)" : "", "\n");
    for (const auto& s : j.steps) {
      absl::StrAppend(&out, "    ", FormatRfc3339(s.time), " ", s.from.empty() ? "(entry)" : s.from, " -> ",
                      s.to.empty() ? "(restarted)" : s.to, " by ", s.transition, " on ", s.cause, "\n");
    }
  }
  return out;
}

}  // namespace omnijourney
