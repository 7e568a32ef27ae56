// omnijourney::Engine: the façade a host links in. It validates and de-duplicates interaction events,
// stitches their identifiers into profiles, keeps each profile's cross-channel timeline, and answers
// "who is this and what happened so far" for any identifier.
//
// Example:
//   omnijourney::EngineOptions options;
//   auto engine = omnijourney::Engine::Open(options);
//   if (!engine.ok()) return engine.status();
//   auto r = (*engine)->Ingest(event);                     // from any channel
//   auto ctx = (*engine)->Context({.type = "phone", .value = "601 123 456"});
//
// Every change (events, journey definitions, unlink, split, erasure, time advances, action
// acknowledgements) is first admitted (a refused call changes nothing and is not logged), then
// appended to the engine's log (in memory, or RocksDB with EngineOptions::storage), then applied;
// Open() on a store applies its log again. See docs/architecture.md.
//
// Thread-safety: all methods may be called from many threads. Writers are ordered by one lock (what
// is appended to the log is applied in that order); validation and encoding run before it, on the
// caller's thread, and admission and the log append run while readers go on. Applying takes the
// state lock exclusively: one record, or a slice of a batch of about 100 us, after which waiting
// readers get their turn. Context, Explain and Stats share the state lock, so they wait for at most
// about one slice (see docs/architecture.md).
#ifndef OMNIJOURNEY_ENGINE_H_
#define OMNIJOURNEY_ENGINE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "omnijourney/context.h"
#include "omnijourney/engine_options.h"
#include "omnijourney/event.h"
#include "omnijourney/identity.h"
#include "omnijourney/journey.h"

namespace omnijourney {

// An identifier to look a customer up by, in any spelling its normaliser accepts.
struct IdentifierQuery {
  std::string tenant;  // Default tenant: "".
  std::string type;
  std::string value;
};

struct IngestResult {
  ProfileId profile = 0;   // The event's profile after linking.
  bool duplicate = false;  // (tenant, source, event_id) was ingested before: nothing changed.
  // The event was erased (EraseProfile, or EraseIdentifier of its only identifiers): a re-delivery
  // is refused, also after any restart; nothing changed and `profile` is 0.
  bool erased = false;
  std::vector<ProfileId> merged;   // Profile ids absorbed into others by this event.
  std::vector<ProfileId> changed;  // Profiles recomputed (late event replays, id moves).
  std::vector<std::string> refusals;          // Merges refused, with reasons.
  std::vector<DroppedIdentifier> dropped;     // Identifiers not used (blocked, invalid).
  std::vector<std::string> warnings;          // Used but suspect (LinkResult::warnings).
};

// An action a journey hands to the host. Handle each id once: replays (merges, late events) yield
// the same id for the same transition.
struct JourneyAction {
  // Hash of journey, version, instance (its starting event), transition, cause, index, and the
  // tenant (unless it is the default one).
  std::string id;
  std::string tenant;     // The profile's tenant.
  ProfileId profile = 0;  // The profile when the action was handed out.
  std::string journey;
  int version = 0;
  std::string transition;
  std::string from_state;
  std::string to_state;
  std::string name;
  // The action's channel; "preferred" is resolved to the profile's preferred channel when known
  // (else stays "preferred").
  std::string channel;
  std::map<std::string, std::string> parameters;
  absl::Time time;    // Event time of the transition.
  std::string cause;  // "source/event_id" of the triggering event, or "timeout@<time>".
  // What the host should do with it (EngineOptions::actions): deliver it, deliver it now that the
  // quiet hours are over (deferred), or not at all (suppressed: frequency cap or quiet hours).
  enum class Disposition { kDeliver, kDeferred, kSuppressed };
  Disposition disposition = Disposition::kDeliver;
  std::string disposition_reason;  // Why deferred or suppressed; empty for kDeliver.
  absl::Time handed_out;           // Engine time it was handed out (later than `time` when deferred).
};

// One journey instance of a profile and how it got where it is.
struct JourneyTrace {
  std::string journey;
  int version = 0;
  std::string state;
  bool ended = false;
  absl::Time started;
  absl::Time entered;  // Current state entered.
  struct Step {
    std::string from, to, transition, cause;
    absl::Time time;
  };
  std::vector<Step> steps;
};

// Which entries of a profile's audit Engine::Explain returns: [offset, offset + limit) in time order.
struct AuditPage {
  size_t offset = 0;
  size_t limit = SIZE_MAX;
};

// Why a profile is what it is.
struct ProfileExplanation {
  ProfileId profile = 0;
  std::vector<IdentifierValue> identifiers;  // Highest priority first.
  std::vector<AuditEntry> audit;             // Links, merges, refusals, operator actions: the page asked for.
  size_t audit_total = 0;                    // Entries of the whole audit (audit is a page of them).
  int64_t audit_folded = 0;                  // Older link records left out (identity.max_audit_records).
  std::vector<JourneyTrace> journeys;        // Every instance, running and ended.
  std::string ToString() const;
};

// Where a page of a profile's timeline starts (Engine::Timeline): entries are ordered newest first
// by (time, source, event_id), and a page holds the entries after `after` in that order, so that
// pages do not shift when new events arrive.
struct TimelineKey {
  absl::Time time;
  std::string source;
  std::string event_id;
  bool operator==(const TimelineKey&) const = default;
};
struct TimelinePage {
  size_t limit = 50;
  std::optional<TimelineKey> after;  // None: from the newest entry.
};
struct TimelineSlice {
  std::vector<TimelineEntry> entries;  // Newest first, at most `limit`.
  std::optional<TimelineKey> next;      // The `after` of the next page; none after the oldest entry.
  int total = 0;                        // Retained entries of the profile.
};

// A profile as analytics and exports read it (Engine::ForEachProfile).
struct ProfileSnapshot {
  std::string tenant;
  ProfileId profile = 0;
  std::vector<TimelineEntry> timeline;  // Every retained entry, oldest first.
  std::vector<JourneyTrace> journeys;   // Every instance, running and ended, in start order.
};

struct EngineStats {
  int64_t events = 0;      // Ingested (not counting duplicates and rejected events).
  int64_t duplicates = 0;
  int64_t rejected = 0;
  int64_t erased_redeliveries = 0;  // Re-delivered erased events refused since Open (IngestResult::erased).
  int64_t recovered = 0;   // Log records replayed by Open() from storage (after the snapshot).
  // The log position of the snapshot Open() started from (0: none, the whole log was replayed), and
  // why newer snapshots were not used (damaged, taken under other options, not matching the log).
  int64_t snapshot_position = 0;
  std::vector<std::string> snapshot_notes;
  // Snapshots written since Open, and the last failure to write one (empty: none). A failed snapshot
  // loses nothing (the log has every record); it only makes the next Open replay more.
  int64_t snapshots_written = 0;
  std::string snapshot_error;
  // What Open had to give up (storage.damaged_log = kRecoverToLastConsistentPoint): empty when
  // nothing was lost.
  std::string storage_recovery;
  int64_t profiles = 0;    // Profiles with at least one retained entry.
  int64_t cached_profiles = 0;  // Of those, in memory (the others are spilled, storage.cache_profiles).
  // Of those, still encoded in the snapshot Open started from: decoded into memory when an event,
  // a timer or an operator action first touches them (a reader decodes a copy).
  int64_t sealed_profiles = 0;
  int64_t timeline_entries = 0;
  int64_t pending_actions = 0;  // Released actions not acknowledged yet (AckActions).
  IdentityStats identity;
  // Resource limits hit since Open, by option: events refused ("validation.max_event_bytes",
  // "validation.max_identifiers", "validation.max_identifier_bytes", "validation.max_id_bytes",
  // "validation.max_string_bytes", "validation.max_struct_depth", "max_profiles_per_tenant"),
  // timeline entries dropped ("timeline.max_entries", "timeline.max_age"), texts cut
  // ("timeline.max_text_bytes"), idempotence keys forgotten ("dedupe_window": a re-delivery of
  // those events would be ingested again) and Explain answers that folded older link records
  // ("identity.max_audit_records"). Absent: never hit.
  std::map<std::string, int64_t> limit_hits;
  // The tenant with the most profiles, and how many (see EngineOptions::max_profiles_per_tenant).
  std::string largest_tenant;
  int64_t largest_tenant_profiles = 0;
};

// Where a change came from in the host's own log, for a host that keeps the engine's input in a
// distributed log (a NATS JetStream stream, a Kafka partition) and feeds it in that log's order
// (docs/scale-out.md): the record's position there, and a check value of it (a hash of its message
// id, say), so that after a restart the host resumes after the last change the engine stored and
// can tell whether its log still holds that record at that position.
struct SourcePosition {
  uint64_t position = 0;  // 0: none.
  uint64_t check = 0;
  bool operator==(const SourcePosition&) const = default;
};

class Engine {
 public:
  // InvalidArgument naming the option when `options` are inconsistent.
  static absl::StatusOr<std::unique_ptr<Engine>> Open(const EngineOptions& options);

  virtual ~Engine() = default;
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Validates, de-duplicates, links and records one event. InvalidArgument naming the field for a
  // bad event, or when none of its identifiers is usable; nothing changes then.
  virtual absl::StatusOr<IngestResult> Ingest(const Event& event) = 0;
  // Ingest for each event in order (faster: index lookups of the next events overlap). One result
  // per event; a bad event does not stop the others.
  virtual std::vector<absl::StatusOr<IngestResult>> IngestBatch(const std::vector<const Event*>& events) = 0;

  // Loads a journey definition (validated). Loaded before the first event, it applies to all events.
  // Loaded later, it is active from the engine's current time: earlier events do not start instances
  // of it, events from then on start instances of the highest active version, and running instances
  // of older versions move to it by its `migrations` state maps (unmapped ones stay on their version).
  // A profile's instances migrate when the profile's journeys next advance (its next event or due
  // timeout). AlreadyExists for a loaded (name, version); InvalidArgument for a lower version.
  virtual absl::Status AddJourney(const JourneyDefinition& journey) = 0;
  // Every journey definition the engine holds (added, or restored from storage), each version, in
  // the order they were added.
  virtual std::vector<JourneyDefinition> Journeys() const = 0;
  // Due actions not yet acknowledged that this engine has not handed out before (or handed out at
  // least actions.redeliver_after ago), in the order they became due. None once a storage failure
  // has made the engine refuse changes (its state may be ahead of its log). An action stays pending until
  // AckActions: after a restart every pending action is handed out again with the same id, so a
  // host that crashed between taking and delivering loses nothing (at least once); an acknowledged
  // one never comes back (identified exactly once).
  virtual std::vector<JourneyAction> TakeActions() = 0;
  // The host has delivered (or dropped for good) these actions; the acknowledgement is logged.
  // Acknowledging an id twice is fine. NotFound naming the first id the engine never handed out;
  // nothing is acknowledged then.
  virtual absl::Status AckActions(const std::vector<std::string>& ids) = 0;

  // Moves the engine's time forward to `t` (never backwards); due timers fire. In event-time mode
  // this is how time passes without events; in clock mode the engine's timer thread fires timers as
  // the clock reaches them (EngineOptions::live_timers), and AdvanceTime only moves time ahead of it.
  virtual absl::Status AdvanceTime(absl::Time t) = 0;
  // The engine's current time (see EngineOptions::time_mode).
  virtual absl::Time Now() const = 0;

  // The customer's context. NotFound for an unknown identifier or profile (never an empty profile);
  // InvalidArgument for a value the type's normaliser rejects. Cost: O(retained entries).
  virtual absl::StatusOr<CustomerContext> Context(const IdentifierQuery& query) const = 0;
  // By profile id, within `tenant`: a profile of another tenant is NotFound, as an unknown one.
  virtual absl::StatusOr<CustomerContext> Context(std::string_view tenant, ProfileId profile) const = 0;
  // The default tenant "".
  absl::StatusOr<CustomerContext> Context(ProfileId profile) const { return Context("", profile); }

  // Identifiers and audit trail of a profile (absorbed ids are followed). NotFound when unknown.
  // `page`: the entries [offset, offset + limit) of the audit in time order; ProfileExplanation says
  // how many there are. The audit reads at most identity.max_audit_records link records (the
  // newest; older ones are one folded entry), in steps that let writers in, so one call stays
  // bounded however large the profile. NotFound for a profile of another tenant.
  virtual absl::StatusOr<ProfileExplanation> Explain(std::string_view tenant, ProfileId profile,
                                                     const AuditPage& page) const = 0;
  absl::StatusOr<ProfileExplanation> Explain(std::string_view tenant, ProfileId profile) const {
    return Explain(tenant, profile, AuditPage());
  }
  // The default tenant "".
  absl::StatusOr<ProfileExplanation> Explain(ProfileId profile) const { return Explain("", profile, AuditPage()); }

  // A page of the profile's retained timeline, newest first (TimelinePage). NotFound for an unknown
  // profile or one of another tenant.
  virtual absl::StatusOr<TimelineSlice> Timeline(std::string_view tenant, ProfileId profile,
                                                 const TimelinePage& page) const = 0;

  // Detaches an identifier from its profile for good; stored events are re-attributed.
  // Returns the changed profiles.
  virtual absl::StatusOr<std::vector<ProfileId>> Unlink(const IdentifierQuery& query) = 0;
  // Splits a wrongly merged profile: `part` (identifiers of the profile) becomes a profile of its own
  // and the two never merge again; stored events are re-attributed. Returns the ids of the part and
  // of the rest. InvalidArgument as IdentityGraph::Split.
  // NotFound for a profile of another tenant.
  virtual absl::StatusOr<std::vector<ProfileId>> Split(std::string_view tenant, ProfileId profile,
                                                       const std::vector<IdentifierValue>& part) = 0;
  // The default tenant "".
  absl::StatusOr<std::vector<ProfileId>> Split(ProfileId profile, const std::vector<IdentifierValue>& part) {
    return Split("", profile, part);
  }
  // GDPR erasure of one identifier: its value leaves the graph and every kept event of the tenant
  // (its identifiers, and each spelling of the value in text, properties, traits, page URL and the
  // other strings); events that only it identified are erased whole, and a re-delivery of one is
  // refused (IngestResult::erased), also after a restart. Durable: nothing erased can be read from
  // the store's files afterwards (docs/storage.md). Returns the changed profiles.
  virtual absl::StatusOr<std::vector<ProfileId>> EraseIdentifier(const IdentifierQuery& query) = 0;
  // GDPR erasure of a whole person: identifiers and every event that resolves to the profile (also
  // those older than the retained timeline), erased as EraseIdentifier erases; the profile's
  // identifiers also leave other profiles' events. Returns the changed profiles (the erased one
  // first).
  // NotFound for a profile of another tenant.
  virtual absl::StatusOr<std::vector<ProfileId>> EraseProfile(std::string_view tenant, ProfileId profile) = 0;
  // The default tenant "".
  absl::StatusOr<std::vector<ProfileId>> EraseProfile(ProfileId profile) { return EraseProfile("", profile); }

  // Calls `fn` for every profile with retained events, in profile id order (spilled profiles are
  // read from the store one at a time). Holds the reader lock: `fn` must not call the engine.
  // For analytics and exports; cost O(everything retained).
  virtual absl::Status ForEachProfile(const std::function<void(const ProfileSnapshot&)>& fn) const = 0;

  // Writes a snapshot of the derived state (identity graph, timelines, journeys' timers, dedupe
  // window, outbox, caps) with its log position, so that the next Open replays only the records
  // after it; older snapshots but the previous one are deleted. Automatic every
  // storage.snapshot_every_records records, and after every erasure. Without storage.path it does
  // nothing. Blocks writers (not readers) while it runs. Cost: O(state).
  virtual absl::Status Checkpoint() = 0;

  // Every change logged from now on (events, journey definitions, operator actions, time advances,
  // acknowledgements) carries `source` (its LogRecord.source), until the next call. Call it from
  // the thread that makes those changes, before them. Position 0: changes carry none.
  virtual void SetSource(const SourcePosition& source) = 0;
  // The source of the latest change applied (also after Open, from the snapshot and the log):
  // a host that feeds the engine from its own log resumes reading there. {0, 0}: none yet.
  virtual SourcePosition Source() const = 0;

  // A digest of one tenant's state: its profiles with their identifiers, audit, retained timeline
  // and journey instances, and the ids of the actions released for them within the retention
  // (timeline.max_age, allowed_lateness and a day before now), in a canonical order. Two engines fed the same records in the same order have the same digests
  // (whatever else they hold, and whether they were restarted on the way); what one process did
  // with its actions (handed out, acknowledged) is not part of it. Cost: O(the tenant's state).
  // `text`, when given, receives what was hashed (for a diff when two digests differ).
  virtual std::string StateDigest(std::string_view tenant, std::string* text = nullptr) const = 0;

  virtual EngineStats Stats() const = 0;
  // Profiles of one tenant now (0 for a tenant never seen). Cost: O(1).
  virtual int64_t TenantProfiles(std::string_view tenant) const = 0;

  // For tests of erasure: true when the identity graph or any stored event (identifiers, text,
  // properties, traits) contains `needle`. Cost: O(everything stored).
  virtual bool ContainsStringForTesting(std::string_view needle) const = 0;

 protected:
  Engine() = default;
};

}  // namespace omnijourney

#endif  // OMNIJOURNEY_ENGINE_H_
