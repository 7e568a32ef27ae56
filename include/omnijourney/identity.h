// The identity graph: links every channel's identifiers of one customer into one profile with a
// stable id, and keeps different people apart.
//
// Each event contributes one link record: its identifiers (normalised; blocked placeholders dropped).
// Records are applied in event-time order through a union-find with merge protection (per-type
// limits, caps, super-node guard, operator splits). The result is a function of the set of events,
// not of their arrival order: an event older than what its profiles have already seen triggers a
// replay of the affected part of the graph. Every decision is kept with the event that caused it, so
// any profile can be explained and any link removed.
//
// Example:
//   auto graph = omnijourney::IdentityGraph::Create({});
//   auto r1 = (*graph)->Link(chat_event);   // chat_handle + email
//   auto r2 = (*graph)->Link(call_event);   // phone + email -> same profile as r1
//   auto who = (*graph)->Resolve("", "phone", "+420 601 123 456");
//   for (const auto& entry : (*graph)->Explain(*who)) std::cout << entry.ToString() << "\n";
#ifndef OMNIJOURNEY_IDENTITY_H_
#define OMNIJOURNEY_IDENTITY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "omnijourney/event.h"
#include "omnijourney/identity_options.h"
#include "omnijourney/profile_id.h"

namespace omnijourney {

// Why an identifier of an event did not take part in linking.
struct DroppedIdentifier {
  std::string type;
  // The raw value for invalid input (so the host can fix it); empty for blocked placeholders.
  std::string value;
  std::string reason;  // e.g. "blocked placeholder value", "not a phone number".
};

// What one Link() call did.
struct LinkResult {
  // The event's profile: the profile of its highest-priority identifier. 0 when no identifier
  // was usable (all dropped).
  ProfileId profile = 0;
  // Profiles absorbed into another one by this call (their ids now resolve to the survivor).
  std::vector<ProfileId> merged;
  // Links this event asked for and was refused, with the reason ("crm_id limit 1 reached", ...).
  std::vector<std::string> refusals;
  // Identifiers of the event that were not used.
  std::vector<DroppedIdentifier> dropped;
  // What was used but looks wrong ("identifiers: unknown type 'emial', linked under the default
  // rule"; IdentityOptions::unknown_types).
  std::vector<std::string> warnings;
  // True when the event was older than what its profiles had seen and part of the graph was
  // replayed; `changed` then lists every profile id (before and after) whose membership changed.
  bool replayed = false;
  std::vector<ProfileId> changed;
};

// One line of a profile's audit trail.
struct AuditEntry {
  enum class Action {
    kLinked,     // The identifier joined (or founded) the profile through this event.
    kMerged,     // The event merged another profile into this one.
    kRefused,    // A merge was refused (limit, cap, super-node, split).
    kDropped,    // An identifier was dropped from the link by the conflict policy.
    kNotLinking, // The identifier does not link (type rule, unlinked by an operator, super-node).
    kUnlinked,   // An operator unlinked an identifier.
    kSplit,      // An operator split the profile.
    kErased,     // Identifiers were erased.
    kFolded,     // Older link records left out (IdentityOptions::max_audit_records); `reason` says how many.
  };
  Action action = Action::kLinked;
  absl::Time time;         // Event time of the causing event; operation time for operator actions.
  std::string source;      // Causing event (empty for operator actions).
  std::string event_id;
  IdentifierValue identifier;  // The identifier concerned (type only for erasures).
  ProfileId other = 0;         // The absorbed/refused profile, when there is one.
  std::string reason;
  // "2026-11-20T18:02:11Z merged p-... via email=eva@example.com (livechat/chat-301-1)".
  std::string ToString() const;
};

// Counters for monitoring and benchmarks.
struct IdentityStats {
  int64_t identifiers = 0;   // Live interned identifiers.
  int64_t profiles = 0;      // Live profiles.
  int64_t link_records = 0;  // Stored multi-identifier link records (duplicates folded).
  int64_t replays = 0;       // Partial replays triggered by late events or operator changes.
  int64_t refusals = 0;      // Refused merges so far (counted at each application).
  int64_t super_nodes = 0;   // Identifiers flagged by the super-node guard.
  // Identifiers of types without a rule linked with IdentityOptions::unknown_types = kWarn.
  int64_t unknown_type_identifiers = 0;
};

// A profile's audit trail read in steps: IdentityGraph::BeginExplain, then ContinueExplain until it
// returns true, then Take.
class AuditCursor {
 public:
  virtual ~AuditCursor() = default;
  // Whether every part was read.
  virtual bool done() const = 0;
  // Link records left out by IdentityOptions::max_audit_records (the oldest).
  virtual int64_t folded() const { return 0; }
  // The entries in time order, as Explain returns them. REQUIRES: done(). Needs no access to the
  // graph (a caller that locks the graph may sort without the lock).
  virtual std::vector<AuditEntry> Take() && = 0;
};

// What CheckUsable (and Prefetch) learnt, kept for the Link calls that follow: where each checked
// event's first usable identifier is, the match keys of the new identifiers it normalised, and each
// prefetched identifier's type and hash, so that Link does not work them out again (for a caller
// that checks a batch of events, in order, before linking them). Entries are found by the event's
// address: the events must stay alive and unchanged from Prefetch or CheckUsable to their Link.
// Link uses the memo only for the graph that filled it and only while that graph changed by
// nothing but Link calls (an unlink, split, erasure or restore makes it stale: then Link does all
// the work itself); the result is the same with or without it. Holds identifier values: clear or
// destroy it when the batch is done. Not thread-safe.
class LinkMemo {
 public:
  LinkMemo();
  ~LinkMemo();
  LinkMemo(const LinkMemo&) = delete;
  LinkMemo& operator=(const LinkMemo&) = delete;

  // Forgets everything (keeps the memory for the next batch).
  void Clear();

  struct State;  // The graph's.
  State& state() { return *state_; }

 private:
  std::unique_ptr<State> state_;
};

// Thread-safety: not thread-safe; the caller serialises access (Engine shards and locks it).
class IdentityGraph {
 public:
  // Fails with InvalidArgument naming the rule when a rule is malformed (bad regex, unknown phone
  // region, negative limit).
  static absl::StatusOr<std::unique_ptr<IdentityGraph>> Create(const IdentityOptions& options);

  virtual ~IdentityGraph() = default;
  IdentityGraph(const IdentityGraph&) = delete;
  IdentityGraph& operator=(const IdentityGraph&) = delete;

  // Links the identifiers (and previous_id) of `event` under its tenant. REQUIRES: `event` passed
  // ValidateEvent. Linking the same (source, event_id) again changes nothing. Cost: amortised
  // O(identifiers) with cached values; a late event costs a replay of its connected records.
  // With `memo` (may be null), what CheckUsable(event, memo) found out is not worked out again.
  absl::StatusOr<LinkResult> Link(const Event& event) { return Link(event, nullptr); }
  virtual absl::StatusOr<LinkResult> Link(const Event& event, LinkMemo* memo) = 0;
  // A hint for batch ingestion: starts fetching the index entries of `event`'s identifiers into the
  // CPU cache so that a later Link(event) does not wait for memory. Changes nothing observable;
  // calling it a few events ahead of Link hides most index cache misses on large graphs.
  void Prefetch(const Event& event) const { Prefetch(event, nullptr); }
  // With `memo` (may be null), also notes each identifier's type and hashes there, for the
  // CheckUsable and Link of the event that follow (in the order prefetched).
  virtual void Prefetch(const Event& event, LinkMemo* memo) const = 0;

  // The profile holding the identifier, given in any format the normaliser accepts. NotFound when
  // unknown; InvalidArgument when the value cannot be normalised.
  virtual absl::StatusOr<ProfileId> Resolve(std::string_view tenant, std::string_view type,
                                            std::string_view value) const = 0;
  // The current id of a profile id, following merges (an absorbed id resolves to the survivor).
  // NotFound for ids never issued or erased.
  virtual absl::StatusOr<ProfileId> ResolveProfile(ProfileId id) const = 0;
  // The profile an event with these identifiers belongs to now, by Link's rule: the highest-priority
  // known identifier that links, else the highest-priority known one. Unknown identifiers are
  // skipped; NotFound when none is known. Used to re-attribute stored events after a split.
  virtual absl::StatusOr<ProfileId> ResolveIdentifiers(std::string_view tenant,
                                                       const std::vector<IdentifierValue>& ids) const = 0;
  // The match key of a raw identifier of `tenant` under its type's rule (unknown types: the default
  // rule), e.g. "+420601123456" for phone "601 123 456" in a tenant whose region is CZ. `region`:
  // the identifier's own phone region ("": the tenant's). InvalidArgument for invalid or blocked
  // values.
  virtual absl::StatusOr<std::string> MatchKey(std::string_view tenant, std::string_view type, std::string_view value,
                                               std::string_view region) const = 0;
  // The tenant a profile belongs to. NotFound as ResolveProfile.
  virtual absl::StatusOr<std::string> TenantOf(ProfileId id) const = 0;
  // The profile's identifiers, highest priority first. NotFound as ResolveProfile.
  virtual absl::StatusOr<std::vector<IdentifierValue>> Identifiers(ProfileId id) const = 0;
  // The profile's audit trail in time order: every link, merge, refusal and operator action
  // concerning its identifiers. NotFound as ResolveProfile.
  virtual absl::StatusOr<std::vector<AuditEntry>> Explain(ProfileId id) const = 0;
  // The same in steps, for a caller that serialises access with a lock and must not hold it for the
  // whole audit of a very large profile: BeginExplain fixes the profile's members and the records to
  // read (O(members + records), no strings); each ContinueExplain turns up to `max_records` of them
  // into entries, and the operator actions with the last step; it returns cursor.done(). The graph
  // may change between steps: the members are those at BeginExplain, and each entry reads its
  // record as it is at its step. `cursor` must come from this graph's BeginExplain. NotFound as
  // ResolveProfile.
  virtual absl::StatusOr<std::unique_ptr<AuditCursor>> BeginExplain(ProfileId id) const = 0;
  virtual bool ContinueExplain(AuditCursor& cursor, size_t max_records) const = 0;

  // Detaches an identifier: it stops linking (now and for future events) and the rest of its profile
  // is recomputed from the remaining links. Returns the changed profiles (before and after ids).
  virtual absl::StatusOr<std::vector<ProfileId>> Unlink(std::string_view tenant, std::string_view type,
                                                        std::string_view value) = 0;
  // Splits a profile: `part` (identifiers of the profile) becomes a profile of its own, and no
  // future event may join the two parts. Identifiers of `part` that were connected only through the
  // rest end up in separate profiles. Returns the profile ids of the first identifier of `part` and
  // of the rest (part first). InvalidArgument when `part` is empty, foreign, or the whole profile.
  virtual absl::StatusOr<std::vector<ProfileId>> Split(ProfileId profile,
                                                       const std::vector<IdentifierValue>& part) = 0;
  // Erases one identifier (GDPR): the value is removed from memory, links through it are gone,
  // and its profile is recomputed. Returns the changed profiles.
  virtual absl::StatusOr<std::vector<ProfileId>> EraseIdentifier(std::string_view tenant,
                                                                 std::string_view type,
                                                                 std::string_view value) = 0;
  // Erases every identifier of a profile (a whole person). Returns the erased profile id first, then
  // any other profile that changed (profiles that had been refused a merge with it may merge now).
  virtual absl::StatusOr<std::vector<ProfileId>> EraseProfile(ProfileId profile) = 0;
  // The audit entry of an erasure replayed from a log, which never holds the erased identifiers:
  // `type` (empty for a profile erasure) and the profiles the live erasure named.
  virtual void RecordErasure(std::string_view type, const std::vector<ProfileId>& profiles) = 0;
  // The profiles the audit entry of the last erasure names.
  virtual std::vector<ProfileId> LastErasureProfiles() const = 0;

  virtual IdentityStats Stats() const = 0;
  // Live profiles of a tenant (0 for a tenant never seen).
  virtual int64_t TenantProfiles(std::string_view tenant) const = 0;
  // The tenant with the most live profiles and their number ("", 0 when there are none).
  virtual std::pair<std::string, int64_t> LargestTenant() const = 0;
  // How many profiles Link(event) would add to the event's tenant, changing nothing: 0 when the event
  // brings no new usable identifier, otherwise the net change of the tenant's count (new identifiers
  // that would not join a profile, less merges of known profiles: it may be negative). Exact for an
  // event in time order; for a late event (before the latest event of a profile it touches) it is
  // the number of new identifiers, an upper bound. REQUIRES: `event` passed ValidateEvent.
  // Cost: O(identifiers), plus normalising the new ones.
  virtual int64_t ProfilesAdded(const Event& event) const = 0;

  // OK when Link(event) would use at least one of the event's identifiers (a known one, or a new
  // one its type's rule accepts); otherwise InvalidArgument "identifiers: none usable (type: reason;
  // ...)". Changes nothing but `memo` (may be null), where it leaves its work for Link(event, memo).
  // REQUIRES: `event` passed ValidateEvent. Cost: O(identifiers), plus normalising unknown ones up
  // to the first usable.
  absl::Status CheckUsable(const Event& event) const { return CheckUsable(event, nullptr); }
  virtual absl::Status CheckUsable(const Event& event, LinkMemo* memo) const = 0;

  // For tests of erasure: true when any stored string (identifier values, caches, audit) contains
  // `needle`. Cost: O(size of the graph).
  virtual bool ContainsStringForTesting(std::string_view needle) const = 0;

 protected:
  IdentityGraph() = default;
};

}  // namespace omnijourney

#endif  // OMNIJOURNEY_IDENTITY_H_
