// The Engine façade: validation, idempotence, identity, timelines and context behind one lock.
//
// Profile states are keyed by the current profile id. Link tells what changed: absorbed ids
// (merges) move their timelines into the survivor; other changes (late-event replays, unlink,
// split, erasure) re-attribute the stored events of every changed profile by asking the graph
// which profile each event's identifiers belong to now (ResolveIdentifiers).
#include <algorithm>
#include <deque>
#include <memory>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/status_macros.h"
#include "context/context_builder.h"
#include "omnijourney/engine.h"
#include "omnijourney/validate.h"
#include "timeline/timeline.h"

namespace omnijourney {
namespace internal {
namespace {

class EngineImpl final : public Engine {
 public:
  EngineImpl(const EngineOptions& options, std::unique_ptr<IdentityGraph> graph)
      : options_(options), clock_(options.clock ? options.clock : RealClock()), graph_(std::move(graph)) {}

  absl::StatusOr<IngestResult> Ingest(const Event& event) override {
    absl::MutexLock lock(&mu_);
    return IngestLocked(event);
  }

  std::vector<absl::StatusOr<IngestResult>> IngestBatch(const std::vector<const Event*>& events) override {
    constexpr size_t kLookahead = 8;
    std::vector<absl::StatusOr<IngestResult>> out;
    out.reserve(events.size());
    absl::MutexLock lock(&mu_);
    for (size_t i = 0; i < events.size(); ++i) {
      if (i + kLookahead < events.size() && events[i + kLookahead] != nullptr) {
        graph_->Prefetch(*events[i + kLookahead]);
      }
      if (events[i] == nullptr) {
        out.push_back(absl::InvalidArgumentError(absl::StrCat("events[", i, "]: null")));
        continue;
      }
      out.push_back(IngestLocked(*events[i]));
    }
    return out;
  }

  absl::Status AdvanceTime(absl::Time t) override {
    absl::MutexLock lock(&mu_);
    if (t > watermark_) watermark_ = t;
    return absl::OkStatus();
  }

  absl::Time Now() const override {
    absl::ReaderMutexLock lock(&mu_);
    return NowLocked();
  }

  absl::StatusOr<CustomerContext> Context(const IdentifierQuery& query) const override {
    absl::ReaderMutexLock lock(&mu_);
    ASSIGN_OR_RETURN(ProfileId id, ResolveQuery(query));
    return ContextLocked(id);
  }

  absl::StatusOr<CustomerContext> Context(ProfileId profile) const override {
    absl::ReaderMutexLock lock(&mu_);
    ASSIGN_OR_RETURN(ProfileId id, graph_->ResolveProfile(profile));
    return ContextLocked(id);
  }

  absl::StatusOr<ProfileExplanation> Explain(ProfileId profile) const override {
    absl::ReaderMutexLock lock(&mu_);
    ASSIGN_OR_RETURN(ProfileId id, graph_->ResolveProfile(profile));
    ProfileExplanation out;
    out.profile = id;
    ASSIGN_OR_RETURN(out.identifiers, graph_->Identifiers(id));
    ASSIGN_OR_RETURN(out.audit, graph_->Explain(id));
    return out;
  }

  absl::StatusOr<std::vector<ProfileId>> Unlink(const IdentifierQuery& query) override {
    absl::MutexLock lock(&mu_);
    ASSIGN_OR_RETURN(ProfileId before, ResolveQuery(query));
    ASSIGN_OR_RETURN(std::vector<ProfileId> changed, graph_->Unlink(query.tenant, query.type, query.value));
    changed.push_back(before);
    Reattribute(changed);
    return changed;
  }

  absl::StatusOr<std::vector<ProfileId>> Split(ProfileId profile, const std::vector<IdentifierValue>& part) override {
    absl::MutexLock lock(&mu_);
    ASSIGN_OR_RETURN(ProfileId id, graph_->ResolveProfile(profile));
    ASSIGN_OR_RETURN(std::vector<ProfileId> parts, graph_->Split(id, part));
    std::vector<ProfileId> changed = parts;
    changed.push_back(id);
    Reattribute(changed);
    return parts;
  }

  absl::StatusOr<std::vector<ProfileId>> EraseIdentifier(const IdentifierQuery& query) override {
    absl::MutexLock lock(&mu_);
    ASSIGN_OR_RETURN(ProfileId before, ResolveQuery(query));
    ASSIGN_OR_RETURN(std::string key, graph_->MatchKey(query.type, query.value));
    ASSIGN_OR_RETURN(std::vector<ProfileId> changed,
                     graph_->EraseIdentifier(query.tenant, query.type, query.value));
    changed.push_back(before);
    // Scrub the value from every stored event of the tenant: an event whose merge was refused may
    // sit in another profile and still carry it. Cost: O(stored events); erasure is rare.
    for (auto& [id, timeline] : profiles_) {
      if (timeline->tenant() != query.tenant) continue;
      bool touched = false;
      const auto size_before = static_cast<int64_t>(timeline->entries().size());
      timeline->Rewrite([&](StoredEntry& e) {
        const size_t n = e.identifiers.size();
        e.identifiers.erase(std::remove_if(e.identifiers.begin(), e.identifiers.end(),
                                           [&](const IdentifierValue& v) {
                                             if (v.type != query.type) return false;
                                             auto k = graph_->MatchKey(v.type, v.value);
                                             return k.ok() && *k == key;
                                           }),
                            e.identifiers.end());
        touched = touched || e.identifiers.size() != n;
        return !e.identifiers.empty();  // Events only it identified are deleted.
      });
      entries_ += static_cast<int64_t>(timeline->entries().size()) - size_before;
      if (touched) changed.push_back(id);
    }
    std::sort(changed.begin(), changed.end());
    changed.erase(std::unique(changed.begin(), changed.end()), changed.end());
    Reattribute(changed);
    return changed;
  }

  absl::StatusOr<std::vector<ProfileId>> EraseProfile(ProfileId profile) override {
    absl::MutexLock lock(&mu_);
    ASSIGN_OR_RETURN(ProfileId id, graph_->ResolveProfile(profile));
    ASSIGN_OR_RETURN(std::vector<ProfileId> changed, graph_->EraseProfile(id));
    if (auto it = profiles_.find(id); it != profiles_.end()) {
      entries_ -= static_cast<int64_t>(it->second->entries().size());
      profiles_.erase(it);
    }
    Reattribute(std::vector<ProfileId>(changed.begin() + 1, changed.end()));
    return changed;
  }

  EngineStats Stats() const override {
    absl::ReaderMutexLock lock(&mu_);
    EngineStats s = stats_;
    s.profiles = static_cast<int64_t>(profiles_.size());
    s.timeline_entries = entries_;
    s.identity = graph_->Stats();
    return s;
  }

  bool ContainsStringForTesting(std::string_view needle) const override {
    absl::ReaderMutexLock lock(&mu_);
    if (graph_->ContainsStringForTesting(needle)) return true;
    auto has = [&](std::string_view s) { return s.find(needle) != std::string_view::npos; };
    for (const auto& [id, timeline] : profiles_) {
      for (const StoredEntry& e : timeline->entries()) {
        if (has(e.view.text) || has(e.view.name)) return true;
        for (const auto& v : e.identifiers) {
          if (has(v.value)) return true;
        }
        for (const auto& [k, v] : e.view.properties) {
          if (has(v)) return true;
        }
        for (const auto& [k, v] : e.traits) {
          if (has(v)) return true;
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

  absl::StatusOr<CustomerContext> ContextLocked(ProfileId id) const ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    auto it = profiles_.find(id);
    if (it == profiles_.end()) {
      return absl::NotFoundError(absl::StrCat("profile ", FormatProfileId(id), " has no retained events"));
    }
    ASSIGN_OR_RETURN(std::vector<IdentifierValue> ids, graph_->Identifiers(id));
    return BuildContext(id, *it->second, ids, options_, NowLocked());
  }

  absl::StatusOr<IngestResult> IngestLocked(const Event& event) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (absl::Status s = ValidateEvent(event, options_.validation, clock_->Now()); !s.ok()) {
      ++stats_.rejected;
      return s;
    }
    std::string key = absl::StrCat(event.tenant(), "\x1f", event.source(), "\x1f", event.event_id());
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
    Remember(std::move(key));
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
      ProfileTimeline& into = State(*survivor, event.tenant());
      const size_t before = into.entries().size() + moved->entries().size();
      into.Absorb(std::move(*moved), options_.timeline, now);
      entries_ -= static_cast<int64_t>(before - into.entries().size());
    }
    if (!result.changed.empty()) Reattribute(result.changed);
    ProfileTimeline& timeline = State(result.profile, event.tenant());
    const size_t before = timeline.entries().size();
    timeline.Insert(MakeEntry(event, options_.timeline), options_.timeline, now);
    entries_ += static_cast<int64_t>(timeline.entries().size()) - static_cast<int64_t>(before);
    return result;
  }

  ProfileTimeline& State(ProfileId id, const std::string& tenant) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto& slot = profiles_[id];
    if (!slot) slot = std::make_unique<ProfileTimeline>(tenant);
    return *slot;
  }

  // Moves every stored event of the given profiles to the profile its identifiers resolve to now.
  void Reattribute(const std::vector<ProfileId>& ids) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    std::vector<std::unique_ptr<ProfileTimeline>> taken;
    for (ProfileId id : ids) {
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
        auto p = graph_->ResolveIdentifiers(tenant, e.identifiers);
        if (!p.ok()) continue;  // Nobody's any more (its identifiers were erased).
        ProfileTimeline& into = State(*p, tenant);
        const size_t before = into.entries().size();
        into.Insert(std::move(e), options_.timeline, now);
        entries_ += static_cast<int64_t>(into.entries().size()) - static_cast<int64_t>(before);
      }
    }
  }

  void Remember(std::string key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (options_.dedupe_window == 0) return;
    if (seen_order_.size() >= options_.dedupe_window) {
      seen_.erase(seen_order_.front());
      seen_order_.pop_front();
    }
    seen_.insert(key);
    seen_order_.push_back(std::move(key));
  }

  const EngineOptions options_;
  const Clock* const clock_;
  mutable absl::Mutex mu_;
  std::unique_ptr<IdentityGraph> graph_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<ProfileId, std::unique_ptr<ProfileTimeline>> profiles_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> seen_ ABSL_GUARDED_BY(mu_);
  std::deque<std::string> seen_order_ ABSL_GUARDED_BY(mu_);
  absl::Time watermark_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  EngineStats stats_ ABSL_GUARDED_BY(mu_);
  int64_t entries_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace
}  // namespace internal

absl::StatusOr<std::unique_ptr<Engine>> Engine::Open(const EngineOptions& options) {
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
  return std::unique_ptr<Engine>(new internal::EngineImpl(options, *std::move(graph)));
}

std::string ProfileExplanation::ToString() const {
  std::string out = absl::StrCat("profile ", FormatProfileId(profile), "\n");
  for (const auto& id : identifiers) absl::StrAppend(&out, "  ", id.type, " ", id.value, "\n");
  for (const auto& e : audit) absl::StrAppend(&out, "  ", e.ToString(), "\n");
  return out;
}

}  // namespace omnijourney
