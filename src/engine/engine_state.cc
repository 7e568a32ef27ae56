#include "engine/engine_state.h"

#include <algorithm>
#include <map>
#include <optional>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "context/context_builder.h"
#include "engine/erasure.h"
#include "identity/graph_snapshot.h"
#include "identity/hash.h"

namespace omnijourney::internal {
namespace {

// Released action ids and cap counts are pruned every this many records.
constexpr int64_t kPruneEvery = 4096;

const std::optional<CustomerContext> kNoContext;

}  // namespace

EngineState::EngineState(const EngineOptions& options, std::unique_ptr<IdentityGraph> graph, absl::TimeZone zone,
                         Log* log, SpillStore* spill, RecordClock* record_clock)
    : options_(options),
      graph_(std::move(graph)),
      log_(log),
      record_clock_(record_clock),
      dedupe_(options.dedupe_window),
      profiles_(options.timeline, options.storage.cache_profiles, spill),
      journeys_(&options.context.trait_source_priority),
      outbox_(options.actions, zone) {}

absl::Time EngineState::Now() const {
  // Operator records carry a time in event-time mode too (for their audit entries); it does not move
  // event time.
  if (options_.time_mode == EngineOptions::TimeMode::kEventTime) return watermark_;
  return std::max(clock_at_, watermark_);
}

std::optional<absl::Time> EngineState::NextWake() const {
  std::optional<absl::Time> next;
  auto consider = [&](std::optional<absl::Time> t) {
    if (t && (!next || *t < *next)) next = *t;
  };
  consider(journeys_.NextDue());
  consider(outbox_.NextDeferred());
  ProfileId cached_profile = 0;
  std::string cached_tenant;
  char buffer[18];
  consider(journeys_.NextAction([&](ProfileId p, const std::string& id) {
    if (p != cached_profile) {
      absl::StatusOr<std::string> tenant = graph_->TenantOf(p);
      cached_tenant = tenant.ok() ? *std::move(tenant) : std::string();
      cached_profile = p;
    }
    return outbox_.released(TenantActionIdView(id, cached_tenant, buffer));
  }));
  if (next) *next += options_.allowed_lateness;
  return next;
}

void EngineState::Fail(const absl::Status& s) {
  if (!io_error_.ok()) return;
  io_error_ = absl::Status(s.code(), absl::StrCat("storage failed, reopen the engine: ", s.message()));
}

void EngineState::Load(ProfileId id) {
  if (!io_error_.ok()) return;
  absl::StatusOr<bool> loaded = profiles_.Load(id);
  if (!loaded.ok()) {
    Fail(loaded.status());
  } else if (*loaded) {
    journeys_.MarkStale(id);
  }
}

absl::Status EngineState::Begin(absl::Time at, LogPosition position) {
  RETURN_IF_ERROR(io_error_);
  position_ = position;
  if (at != absl::InfinitePast()) {
    clock_at_ = std::max(clock_at_, at);
    if (record_clock_ != nullptr) record_clock_->Set(at);
  }
  if (++applied_ % kPruneEvery == 0) outbox_.Prune(PruneHorizon());
  return absl::OkStatus();
}

absl::Status EngineState::ApplyEvent(const Event& event, const DedupeKey& key, absl::Time at, LogPosition position,
                                     LinkMemo* memo, IngestResult* result, StoredEntry* entry) {
  RETURN_IF_ERROR(Begin(at, position));
  // Admission has found it new (memo given); replayed records are checked here.
  if (memo == nullptr && dedupe_.Contains(key)) {
    *result = Duplicate(event);
    return absl::OkStatus();
  }
  RETURN_IF_ERROR(LinkAndStore(event, key, memo, result, entry));
  return io_error_;
}

absl::StatusOr<EngineState::Applied> EngineState::Apply(const v1::LogRecord& r, LogPosition position) {
  const absl::Time at = r.has_at() ? FromTimestamp(r.at()) : absl::InfinitePast();
  NoteSource({r.source(), r.source_check()});
  Applied out;
  if (r.has_event()) {
    RETURN_IF_ERROR(ApplyEvent(r.event(), DedupeWindow::KeyOf(r.event()), at, position, nullptr, &out.ingest));
    return out;
  }
  RETURN_IF_ERROR(Begin(at, position));
  switch (r.record_case()) {
    case v1::LogRecord::kEvent:
      break;  // Above.
    case v1::LogRecord::kJourney: {
      const absl::Time from = r.journey().has_active_from() ? FromTimestamp(r.journey().active_from())
                                                             : absl::InfinitePast();
      if (absl::Status s = journeys_.Add(r.journey().definition(), from); !s.ok()) {
        return absl::DataLossError(absl::StrCat("log record ", position, ": journey: ", s.message()));
      }
      break;
    }
    case v1::LogRecord::kUnlink: {
      ASSIGN_OR_RETURN(out.changed, ApplyUnlink(r.unlink()));
      break;
    }
    case v1::LogRecord::kSplit: {
      ASSIGN_OR_RETURN(out.changed, ApplySplit(r.split()));
      break;
    }
    case v1::LogRecord::kErasure: {
      ASSIGN_OR_RETURN(out.changed, ApplyErasure(r.erasure(), position));
      break;
    }
    case v1::LogRecord::kAdvanceTime: {
      const absl::Time t = FromTimestamp(r.advance_time());
      if (t > watermark_) watermark_ = t;
      Settle();
      break;
    }
    case v1::LogRecord::kAcks: {
      outbox_.Ack({r.acks().ids().begin(), r.acks().ids().end()});
      break;
    }
    case v1::LogRecord::RECORD_NOT_SET:
      // A record of a later format with nothing this build knows: its time still counts.
      Settle();
      break;
  }
  RETURN_IF_ERROR(io_error_);
  return out;
}

IngestResult EngineState::Duplicate(const Event& event) {
  ++duplicates_;
  IngestResult result;
  result.duplicate = true;
  std::vector<IdentifierValue> ids;
  for (const auto& id : event.identifiers()) ids.push_back({id.type(), id.value()});
  if (auto p = graph_->ResolveIdentifiers(event.tenant(), ids); p.ok()) result.profile = *p;
  return result;
}

absl::Status EngineState::LinkAndStore(const Event& event, const DedupeKey& key, LinkMemo* memo,
                                       IngestResult* out, StoredEntry* prepared) {
  ASSIGN_OR_RETURN(LinkResult link, graph_->Link(event, memo));
  IngestResult& result = *out;
  result.profile = link.profile;
  result.merged = std::move(link.merged);
  result.changed = std::move(link.changed);
  result.refusals = std::move(link.refusals);
  result.dropped = std::move(link.dropped);
  result.warnings = std::move(link.warnings);
  if (result.profile == 0) {
    ++rejected_;
    std::string why;
    for (const auto& d : result.dropped) absl::StrAppend(&why, why.empty() ? "" : "; ", d.type, ": ", d.reason);
    return absl::InvalidArgumentError(absl::StrCat("identifiers: none usable (", why, ")"));
  }
  // Spilled profiles this event touches come back into memory.
  Load(result.profile);
  for (ProfileId absorbed : result.merged) Load(absorbed);
  RETURN_IF_ERROR(io_error_);
  dedupe_.Remember(key);
  ++events_;
  const absl::Time t = FromTimestamp(event.occurred_at());
  if (t > watermark_ && options_.time_mode == EngineOptions::TimeMode::kEventTime) watermark_ = t;
  const absl::Time now = Now();
  // Merges: absorbed timelines join their survivor (not always the event's profile: a refused
  // identifier of higher priority may name another one).
  for (ProfileId absorbed : result.merged) {
    if (profiles_.Find(absorbed) == nullptr) continue;
    auto survivor = graph_->ResolveProfile(absorbed);
    if (!survivor.ok() || *survivor == absorbed) continue;
    Load(*survivor);
    profiles_.Absorb(*survivor, absorbed, now);
    journeys_.MarkStale(*survivor);
    journeys_.MarkStale(absorbed);
  }
  if (!result.changed.empty()) Reattribute(result.changed);
  ProfileTimeline& timeline = profiles_.State(result.profile, event.tenant());
  StoredEntry entry = prepared != nullptr ? std::move(*prepared) : MakeEntry(event, options_.timeline);
  if (event.text().size() > options_.timeline.max_text_bytes) profiles_.CountTextCut();
  journeys_.OnEntry(result.profile, entry);
  profiles_.Insert(timeline, std::move(entry), now);
  Settle();
  return absl::OkStatus();
}

absl::Status EngineState::UnsealAll() {
  // The erased value may be in sealed parts of the mapped snapshot: decode them all, so that the
  // mapping goes and the erasure reaches every copy.
  absl::Status s = profiles_.UnsealAll();
  if (s.ok()) s = journeys_.UnsealAll();
  dedupe_.Unseal();
  if (!s.ok()) Fail(s);
  return io_error_;
}

void EngineState::Settle() {
  if (!io_error_.ok()) return;
  if (!profiles_.status().ok()) {
    Fail(profiles_.status());
    return;
  }
  if (absl::Status s = journeys_.Sync(profiles_, TimerTime()); !s.ok()) {
    Fail(s);
    return;
  }
  if (!journeys_.empty()) ReleaseActions();  // Without journeys there are no actions.
  if (!profiles_.over_limit()) return;
  absl::StatusOr<std::vector<ProfileId>> spilled =
      profiles_.Trim([this](ProfileId id) { return journeys_.busy(id); });
  if (!spilled.ok()) {
    Fail(spilled.status());
    return;
  }
  for (ProfileId id : *spilled) journeys_.Unload(id);
}

absl::string_view TenantActionIdView(const std::string& runtime_id, const std::string& tenant, char (&buffer)[18]) {
  if (tenant.empty()) return absl::string_view(runtime_id.data(), runtime_id.size());
  uint64_t h = HashBytes(HashBytes(0x6f6a2d74656e616eULL, tenant), runtime_id);
  static constexpr char kHex[] = "0123456789abcdef";
  buffer[0] = 'a';
  buffer[1] = '-';
  for (int i = 17; i >= 2; --i, h >>= 4) buffer[i] = kHex[h & 0xF];
  return absl::string_view(buffer, 18);
}

std::string TenantActionId(const std::string& runtime_id, const std::string& tenant) {
  char buffer[18];
  return std::string(TenantActionIdView(runtime_id, tenant, buffer));
}

void EngineState::ReleaseActions() {
  const absl::Time limit = TimerTime();
  outbox_.ReleaseDeferred(limit, [this](ProfileId id) {
    auto ctx = Context(id, Now());
    return outbox_.ZoneOf(ctx.ok() ? &*ctx : nullptr);
  });
  // The journey runtime's ids are the same for the same events in two tenants (event ids are
  // per tenant): an action of a tenant other than the default one has its id qualified by it.
  ProfileId cached_profile = 0;
  std::string cached_tenant;
  auto tenant_of = [&](ProfileId p) -> const std::string& {
    if (p != cached_profile) {
      absl::StatusOr<std::string> t = graph_->TenantOf(p);
      cached_tenant = t.ok() ? *std::move(t) : std::string();
      cached_profile = p;
    }
    return cached_tenant;
  };
  char buffer[18];
  const std::vector<JourneyScheduler::Due> due = journeys_.TakeDue(limit, [&](ProfileId p, const std::string& id) {
    return outbox_.released(TenantActionIdView(id, tenant_of(p), buffer));
  });
  std::map<ProfileId, std::optional<CustomerContext>> contexts;  // Built once per profile, when needed.
  for (const JourneyScheduler::Due& d : due) {
    const EmittedAction& a = *d.action;
    const std::string tenant = tenant_of(d.profile);
    const std::string id = TenantActionId(a.id, tenant);
    if (outbox_.released(id)) continue;
    JourneyAction out;
    out.id = id;
    out.tenant = tenant;
    out.profile = d.profile;
    out.journey = a.journey;
    out.version = a.version;
    out.transition = a.transition;
    out.from_state = a.from_state;
    out.to_state = a.to_state;
    out.name = a.action.name();
    out.channel = a.action.channel();
    const bool needs_context = out.channel == "preferred" || (!out.channel.empty() && outbox_.PolicyActive());
    const std::optional<CustomerContext>* ctx_slot = &kNoContext;
    if (needs_context) {
      auto [slot, fresh] = contexts.try_emplace(d.profile);
      if (fresh) {
        if (auto c = Context(d.profile, Now()); c.ok()) slot->second = *std::move(c);
      }
      ctx_slot = &slot->second;
    }
    const std::optional<CustomerContext>& ctx = *ctx_slot;
    if (out.channel == "preferred" && ctx && ctx->preferred_channel) {
      out.channel = std::string(ChannelName(*ctx->preferred_channel));
    }
    out.parameters.insert(a.action.parameters().begin(), a.action.parameters().end());
    out.time = a.time;
    out.cause = a.cause;
    out.handed_out = std::max(a.time, limit);
    outbox_.Release(std::move(out), ctx ? &*ctx : nullptr);
  }
}

void EngineState::Reattribute(const std::vector<ProfileId>& ids) {
  std::vector<std::unique_ptr<ProfileTimeline>> taken;
  for (ProfileId id : ids) {
    Load(id);
    if (!io_error_.ok()) return;  // The state failed (reopen): nothing more is changed.
    journeys_.MarkStale(id);
    if (auto t = profiles_.Take(id)) taken.push_back(std::move(t));
  }
  const absl::Time now = Now();
  for (auto& timeline : taken) {
    const std::string tenant = timeline->tenant();
    for (StoredEntry& e : timeline->TakeAll()) {
      auto p = graph_->ResolveIdentifiers(tenant, e.Identifiers());
      if (!p.ok()) continue;  // Nobody's any more (its identifiers were erased).
      Load(*p);
      if (!io_error_.ok()) return;
      ProfileTimeline& into = profiles_.State(*p, tenant);
      journeys_.MarkStale(*p);
      profiles_.Insert(into, std::move(e), now);
    }
  }
}

absl::StatusOr<ProfileId> EngineState::ResolveProfileIn(std::string_view tenant, ProfileId id) const {
  absl::StatusOr<ProfileId> resolved = graph_->ResolveProfile(id);
  if (resolved.ok()) {
    absl::StatusOr<std::string> of = graph_->TenantOf(*resolved);
    if (of.ok() && *of == tenant) return resolved;
  }
  return absl::NotFoundError(absl::StrCat("profile ", FormatProfileId(id), ": not found in tenant '", ToAbsl(tenant), "'"));
}

absl::StatusOr<ProfileId> EngineState::Resolve(const IdentifierQuery& query) const {
  if (query.type.empty()) return absl::InvalidArgumentError("type: required");
  if (query.value.empty()) return absl::InvalidArgumentError("value: required");
  return graph_->Resolve(query.tenant, query.type, query.value);
}

absl::StatusOr<std::vector<ProfileId>> EngineState::ApplyUnlink(const v1::LoggedIdentifier& unlink) {
  const IdentifierQuery query{unlink.tenant(), unlink.type(), unlink.value()};
  ASSIGN_OR_RETURN(ProfileId before, Resolve(query));
  ASSIGN_OR_RETURN(std::vector<ProfileId> changed, graph_->Unlink(query.tenant, query.type, query.value));
  changed.push_back(before);
  Reattribute(changed);
  Settle();
  RETURN_IF_ERROR(io_error_);
  return changed;
}

absl::StatusOr<std::vector<ProfileId>> EngineState::ApplySplit(const v1::LoggedSplit& split) {
  std::vector<IdentifierValue> part;
  for (const auto& id : split.part()) part.push_back({id.type(), id.value()});
  ASSIGN_OR_RETURN(ProfileId id, graph_->ResolveProfile(split.profile()));
  ASSIGN_OR_RETURN(std::vector<ProfileId> parts, graph_->Split(id, part));
  std::vector<ProfileId> changed = parts;
  changed.push_back(id);
  Reattribute(changed);
  Settle();
  RETURN_IF_ERROR(io_error_);
  return parts;
}

absl::StatusOr<std::vector<ProfileId>> EngineState::ApplyErasure(const v1::LoggedErasure& erasure, LogPosition) {
  // Replayed: the records it erased are unreadable or replaced by scrubbed copies, so the state
  // never saw them; only the audit entry is left to record. Live, the engine calls PlanErasure and
  // FinishErasure instead.
  graph_->RecordErasure(erasure.type(), {erasure.audit_profiles().begin(), erasure.audit_profiles().end()});
  return std::vector<ProfileId>();
}

bool EngineState::IsErased(const DedupeKey& key) const {
  if (tombstones_.empty()) return false;
  return tombstones_.contains(log_->TombstoneOf(KeyBytes(key)));
}

IngestResult EngineState::Erased(const Event&) {
  ++erased_redeliveries_;
  IngestResult r;
  r.erased = true;
  return r;
}

void EngineState::AddTombstones(const std::vector<Tombstone>& tombstones) {
  tombstones_.insert(tombstones.begin(), tombstones.end());
}

std::string EngineState::KeyBytes(const DedupeKey& key) {
  std::string out(16, '\0');
  for (int i = 0; i < 8; ++i) {
    out[static_cast<size_t>(i)] = static_cast<char>(key.first >> (8 * i));
    out[static_cast<size_t>(8 + i)] = static_cast<char>(key.second >> (8 * i));
  }
  return out;
}

absl::StatusOr<Log::Erasure> EngineState::PlanErasure(const v1::LoggedErasure& erasure, absl::Time at) {
  RETURN_IF_ERROR(io_error_);
  // The erased values may be in sealed parts of the mapped snapshot and in spilled profiles: every
  // profile of the tenant is looked at.
  RETURN_IF_ERROR(UnsealAll());
  auto scope = std::make_unique<ErasureScope>();
  scope->tenant = erasure.tenant();
  if (!erasure.type().empty()) {
    ASSIGN_OR_RETURN(std::string key, graph_->MatchKey(erasure.tenant(), erasure.type(), erasure.value(), ""));
    RETURN_IF_ERROR(Resolve({erasure.tenant(), erasure.type(), erasure.value()}).status());
    scope->identifiers.push_back({erasure.type(), key});
    scope->value = erasure.value();
    scope->scrubber.AddValue(erasure.value());
    scope->scrubber.AddValue(key);
  } else {
    ASSIGN_OR_RETURN(scope->profile, graph_->ResolveProfile(erasure.profile()));
    ASSIGN_OR_RETURN(scope->tenant, graph_->TenantOf(scope->profile));
    ASSIGN_OR_RETURN(scope->identifiers, graph_->Identifiers(scope->profile));  // Match keys.
    for (const IdentifierValue& id : scope->identifiers) scope->scrubber.AddValue(id.value);
  }
  // The spellings the events carried: in the log and in memory (a memory log may keep no records).
  // Spilled profiles need no pass of their own: spilling needs a store, whose log has every event.
  RETURN_IF_ERROR(CollectSpellings(*log_, *graph_, *scope));
  profiles_.ForEachInMemory([&](ProfileId, ProfileTimeline& timeline) {
    if (timeline.tenant() != scope->tenant) return;
    for (const StoredEntry& e : timeline.entries()) {
      for (const auto& [type, value] : e.identifiers()) {
        if (scope->Erased(*graph_, type, value)) scope->scrubber.AddValue(value);
      }
    }
  });
  // Spilled profiles the erasure changes come into memory (the erased one, and those whose events
  // carry an erased identifier or spelling); the others stay spilled.
  std::vector<ProfileId> touched;
  RETURN_IF_ERROR(profiles_.ForEachSpilled(scope->tenant, [&](ProfileId id, const ProfileTimeline& t) {
    if (scope->profile != 0 && id == scope->profile) {
      touched.push_back(id);
      return;
    }
    for (const StoredEntry& e : t.entries()) {
      const PairList ids = e.identifiers();
      StoredEntry copy = e;
      if (std::any_of(ids.begin(), ids.end(), [&](const auto& v) { return scope->Erased(*graph_, v.first, v.second); }) ||
          copy.Scrub([&](std::string_view text) { return scope->scrubber.Scrub(text); })) {
        touched.push_back(id);
        return;
      }
    }
  }));
  for (ProfileId id : touched) Load(id);
  RETURN_IF_ERROR(io_error_);
  Log::Erasure plan;
  std::vector<DedupeKey> erased;
  RETURN_IF_ERROR(PlanLogErasure(*log_, *graph_, *scope, &plan, &erased));
  // Events erased in memory (a log that keeps no records has none of them).
  ForEachErasedEntry(*scope, [&](ProfileId, const StoredEntry& e) {
    erased.push_back(DedupeWindow::KeyOf(scope->tenant, e.source(), e.event_id()));
  });
  std::sort(erased.begin(), erased.end());
  erased.erase(std::unique(erased.begin(), erased.end()), erased.end());
  for (const DedupeKey& k : erased) plan.tombstones.push_back(log_->TombstoneOf(KeyBytes(k)));
  v1::LogRecord record;
  *record.mutable_erasure() = erasure;
  record.mutable_erasure()->clear_value();  // Never stored.
  record.mutable_erasure()->set_tenant(scope->tenant);
  *record.mutable_at() = ToTimestamp(at);
  plan.record = record.SerializeAsString();
  pending_erasure_ = std::move(scope);
  return plan;
}

void EngineState::ForEachErasedEntry(const ErasureScope& scope,
                                     const std::function<void(ProfileId, const StoredEntry&)>& fn) {
  profiles_.ForEachInMemory([&](ProfileId id, ProfileTimeline& timeline) {
    if (timeline.tenant() != scope.tenant) return;
    const bool whole = scope.profile != 0 && id == scope.profile;
    for (const StoredEntry& e : timeline.entries()) {
      if (whole) {
        fn(id, e);
        continue;
      }
      const PairList ids = e.identifiers();
      if (ids.begin() == ids.end()) continue;
      if (std::all_of(ids.begin(), ids.end(), [&](const auto& v) { return scope.Erased(*graph_, v.first, v.second); })) {
        fn(id, e);
      }
    }
  });
}

absl::StatusOr<std::vector<ProfileId>> EngineState::FinishErasure(const std::vector<Tombstone>& tombstones,
                                                                   LogPosition position, absl::Time at) {
  if (pending_erasure_ == nullptr) return absl::FailedPreconditionError("no erasure planned");
  std::unique_ptr<ErasureScope> scope = std::move(pending_erasure_);
  RETURN_IF_ERROR(Begin(at, position));
  ++erasures_;
  AddTombstones(tombstones);
  std::vector<ProfileId> changed;
  if (scope->profile != 0) {
    ASSIGN_OR_RETURN(changed, graph_->EraseProfile(scope->profile));
    (void)profiles_.Take(scope->profile);
    journeys_.MarkStale(scope->profile);
  } else {
    const IdentifierQuery query{scope->tenant, scope->identifiers.front().type, scope->value};
    ASSIGN_OR_RETURN(ProfileId before, Resolve(query));
    ASSIGN_OR_RETURN(changed, graph_->EraseIdentifier(query.tenant, query.type, query.value));
    changed.push_back(before);
  }
  // Every kept event of the tenant loses the erased identifiers and spellings; an event left
  // without identifiers goes.
  profiles_.ForEachInMemory([&](ProfileId id, ProfileTimeline& timeline) {
    if (timeline.tenant() != scope->tenant) return;
    bool touched = false;
    profiles_.Rewrite(timeline, [&](StoredEntry& e) {
      const PairList ids = e.identifiers();
      std::vector<IdentifierValue> kept;
      for (const auto& [type, value] : ids) {
        if (!scope->Erased(*graph_, type, value)) kept.push_back({std::string(type), std::string(value)});
      }
      if (kept.size() != static_cast<size_t>(std::distance(ids.begin(), ids.end()))) {
        touched = true;
        if (kept.empty()) return false;
        e.SetIdentifiers(kept);
      }
      if (e.Scrub([&](std::string_view s) { return scope->scrubber.Scrub(s); })) touched = true;
      return true;
    });
    if (touched) changed.push_back(id);
  });
  std::sort(changed.begin(), changed.end());
  changed.erase(std::unique(changed.begin(), changed.end()), changed.end());
  if (scope->profile != 0) {
    // The erased profile first; the others are re-attributed.
    changed.erase(std::remove(changed.begin(), changed.end(), scope->profile), changed.end());
    Reattribute(changed);
    changed.insert(changed.begin(), scope->profile);
  } else {
    Reattribute(changed);
  }
  Settle();
  RETURN_IF_ERROR(io_error_);
  RETURN_IF_ERROR(profiles_.DropCopies());
  return changed;
}

std::vector<std::string> EngineState::ReleasedActionIds(std::string_view tenant) const {
  std::vector<std::string> out;
  // Only those no prune can have forgotten yet: when the outbox prunes (every kPruneEvery records,
  // also acknowledgements, which replicas of the same input need not share) and which pending ids
  // it keeps differs between engines fed the same input; its horizon never passes this one.
  const absl::Time horizon = PruneHorizon();
  outbox_.ForEachReleased([&](const std::string& id, ProfileId profile, absl::Time time) {
    if (time < horizon) return;
    absl::StatusOr<ProfileId> now = graph_->ResolveProfile(profile);
    if (!now.ok()) return;  // Erased.
    absl::StatusOr<std::string> of = graph_->TenantOf(*now);
    if (of.ok() && *of == tenant) out.push_back(id);
  });
  return out;
}

// --- Snapshots -------------------------------------------------------------------------------

absl::Status EngineState::Save(SerialWriter& w) const {
  SaveIdentityGraph(*graph_, w);
  w.U64(position_);
  w.U64(source_.position);
  w.U64(source_.check);
  w.Time(watermark_);
  w.Time(clock_at_);
  // Duplicates and refusals are not records: like Stats().rejected they count this run only.
  for (int64_t v : {events_, applied_}) w.I64(v);
  dedupe_.Save(w);
  RETURN_IF_ERROR(profiles_.Save(w));
  journeys_.Save(w);
  outbox_.Save(w);
  return absl::OkStatus();
}

absl::Status EngineState::Restore(SerialReader& r, std::shared_ptr<const SnapshotMapping> mapping) {
  position_ = r.U64();
  source_.position = r.U64();
  source_.check = r.U64();
  watermark_ = r.Time();
  clock_at_ = r.Time();
  for (int64_t* v : {&events_, &applied_}) *v = r.I64();
  RETURN_IF_ERROR(r.status("engine state"));
  RETURN_IF_ERROR(dedupe_.Restore(r, mapping));
  RETURN_IF_ERROR(profiles_.Restore(r, mapping));
  RETURN_IF_ERROR(journeys_.Restore(r, mapping));
  return outbox_.Restore(r);
}

// --- Readers ---------------------------------------------------------------------------------

absl::StatusOr<EngineState::View> EngineState::Read(ProfileId id) const {
  View view;
  ASSIGN_OR_RETURN(view.timeline, profiles_.Read(id));
  if (!view.timeline.spilled) {
    ASSIGN_OR_RETURN(view.journeys, journeys_.Find(id, &view.own_journeys));
  } else if (!journeys_.empty()) {
    view.own_journeys = journeys_.Rebuild(*view.timeline.timeline);
    view.journeys = view.own_journeys.get();
  }
  return view;
}

std::vector<JourneyTrace> EngineState::Traces(const View& view) {
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
    for (const JourneyStep& s : inst.history) {
      t.steps.push_back(
          {std::string(s.from), std::string(s.to), std::string(s.transition), view.journeys->CauseOf(s), s.time});
    }
    out.push_back(std::move(t));
  }
  return out;
}

absl::StatusOr<CustomerContext> EngineState::Context(ProfileId id, absl::Time now) const {
  ASSIGN_OR_RETURN(View view, Read(id));
  if (view.timeline.timeline == nullptr) {
    return absl::NotFoundError(absl::StrCat("profile ", FormatProfileId(id), " has no retained events"));
  }
  ASSIGN_OR_RETURN(std::vector<IdentifierValue> ids, graph_->Identifiers(id));
  CustomerContext ctx = BuildContextCached(id, *view.timeline.timeline, ids, options_, now);
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

absl::StatusOr<TimelineSlice> EngineState::Timeline(ProfileId id, const TimelinePage& page) const {
  ASSIGN_OR_RETURN(View view, Read(id));
  if (view.timeline.timeline == nullptr) {
    return absl::NotFoundError(absl::StrCat("profile ", FormatProfileId(id), " has no retained events"));
  }
  const auto& entries = view.timeline.timeline->entries();
  auto key = [](const StoredEntry& e) {
    return std::tuple<absl::Time, std::string_view, std::string_view>(e.time(), e.source(), e.event_id());
  };
  std::optional<std::tuple<absl::Time, std::string_view, std::string_view>> after;
  if (page.after) after.emplace(page.after->time, page.after->source, page.after->event_id);
  std::vector<const StoredEntry*> older;
  older.reserve(entries.size());
  for (const StoredEntry& e : entries) {
    if (!after || key(e) < *after) older.push_back(&e);
  }
  const size_t n = std::min(page.limit, older.size());
  auto newer_first = [&](const StoredEntry* a, const StoredEntry* b) { return key(*b) < key(*a); };
  std::partial_sort(older.begin(), older.begin() + static_cast<std::ptrdiff_t>(n), older.end(), newer_first);
  TimelineSlice out;
  out.total = static_cast<int>(entries.size());
  out.entries.reserve(n);
  for (size_t i = 0; i < n; ++i) out.entries.push_back(older[i]->View());
  if (n > 0 && n < older.size()) {
    const TimelineEntry& last = out.entries.back();
    out.next = TimelineKey{last.time, last.source, last.event_id};
  }
  return out;
}

absl::StatusOr<ProfileExplanation> EngineState::Explain(ProfileId id, std::unique_ptr<AuditCursor>* audit) const {
  ProfileExplanation out;
  out.profile = id;
  ASSIGN_OR_RETURN(out.identifiers, graph_->Identifiers(id));
  ASSIGN_OR_RETURN(*audit, graph_->BeginExplain(id));
  ASSIGN_OR_RETURN(View view, Read(id));
  out.journeys = Traces(view);
  return out;
}

absl::Status EngineState::ForEachProfile(const std::function<void(const ProfileSnapshot&)>& fn) const {
  for (ProfileId id : profiles_.ids()) {
    ASSIGN_OR_RETURN(View view, Read(id));
    const ProfileTimeline* timeline = view.timeline.timeline;
    if (timeline == nullptr) continue;
    ProfileSnapshot snap;
    snap.tenant = timeline->tenant();
    snap.profile = id;
    snap.timeline.reserve(timeline->entries().size());
    for (const StoredEntry& e : timeline->entries()) snap.timeline.push_back(e.View());
    snap.journeys = Traces(view);
    fn(snap);
  }
  return absl::OkStatus();
}

EngineStats EngineState::Stats() const {
  EngineStats s;
  s.events = events_;
  s.duplicates = duplicates_;
  s.erased_redeliveries = erased_redeliveries_;
  s.rejected = rejected_;
  s.recovered = recovered_;
  s.profiles = profiles_.profiles();
  s.cached_profiles = profiles_.cached();
  s.sealed_profiles = profiles_.sealed();
  s.timeline_entries = profiles_.entries();
  s.pending_actions = outbox_.pending();
  s.identity = graph_->Stats();
  std::tie(s.largest_tenant, s.largest_tenant_profiles) = graph_->LargestTenant();
  const ProfileStore::Trimmed& t = profiles_.trimmed();
  const std::pair<const char*, int64_t> trimmed[] = {{"timeline.max_entries", t.by_count},
                                                     {"timeline.max_age", t.by_age},
                                                     {"timeline.max_text_bytes", t.texts_cut},
                                                     {"dedupe_window", dedupe_.forgotten()}};
  for (const auto& [option, count] : trimmed) {
    if (count > 0) s.limit_hits[option] = count;
  }
  return s;
}

bool EngineState::ContainsStringForTesting(std::string_view needle) const {
  if (graph_->ContainsStringForTesting(needle)) return true;
  if (log_->ContainsForTesting(needle)) return true;
  auto has = [&](std::string_view s) { return s.find(needle) != std::string_view::npos; };
  bool found = false;
  profiles_.ForEachCached([&](ProfileId, const ProfileTimeline& timeline) {
    for (const StoredEntry& e : timeline.entries()) {
      if (found || has(e.text()) || has(e.name())) {
        found = true;
        return;
      }
      for (const auto l : {StoredEntry::kProperties, StoredEntry::kIdentifiers, StoredEntry::kTraits,
                           StoredEntry::kFlatProperties}) {
        for (const auto& [k, v] : e.pairs(l)) {
          if (has(v)) found = true;
        }
      }
    }
  });
  return found;
}

}  // namespace omnijourney::internal
