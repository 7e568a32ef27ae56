// The identity graph's internals, shared by its parts: identity_graph.cc (interning, linking,
// merges and replays, lookups), graph_predict.cc (what an event would do, without doing it),
// graph_operations.cc (audit, unlink, split, erasure) and graph_snapshot.cc (snapshots).
//
// The identity graph: interned identifiers, link records with provenance, union-find with merge
// protection, replay of the affected part on late events and operator changes.
//
// Invariant (what makes the result independent of arrival order): the partition equals applying all
// live link records in key order (event time, then source and event id) from scratch. A record that
// is newer than every record already applied to the components it touches is applied directly; an
// older one makes the graph replay its closure (all nodes reachable through records, refused or not).
#ifndef OMNIJOURNEY_SRC_IDENTITY_GRAPH_H_
#define OMNIJOURNEY_SRC_IDENTITY_GRAPH_H_

#include <algorithm>
#include <array>
#include <cstring>
#include <deque>
#include <limits>
#include <tuple>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "common/huge_pages.h"
#include "common/status_macros.h"
#include "identity/hash.h"
#include "identity/key_table.h"
#include "identity/link_memo.h"
#include "identity/rules.h"
#include "identity/string_arena.h"
#include "identity/graph_snapshot.h"
#include "common/serial.h"
#include "omnijourney/identity.h"

namespace omnijourney::internal::graph {


constexpr uint32_t kNone = UINT32_MAX;
constexpr char kUnknownType[] = "unknown identifier type (identity.unknown_types = kReject)";

enum NodeFlags : uint8_t {
  kUnlinkedFlag = 1,  // Operator unlinked it: never links again.
  kSuperFlag = 2,     // Super-node guard tripped (derived; recomputed on replay).
  kErasedFlag = 4,    // Tombstone.
};

// Why a merge was refused or an identifier did not link.
enum class Reason : uint8_t {
  kNone,
  kTypeLimit,      // `type` would exceed max_per_profile.
  kIdentifierCap,  // max_identifiers_per_profile.
  kMergeCap,       // max_merges_per_profile.
  kSuperNode,      // The identifier has tried to join too many profiles.
  kSplit,          // An operator split separates the two profiles.
  kRuleNoLink,     // The type's rule says it does not link.
  kUnlinked,       // An operator unlinked the identifier.
  kDropped,        // Dropped by the kDropLowestPriority policy.
};

struct Decision {
  uint32_t node;
  AuditEntry::Action action;
  Reason reason = Reason::kNone;
  TypeIndex type = 0;  // For kTypeLimit.
  ProfileId other = 0;
};

constexpr uint32_t kNoRename = 0xFFFFFFFF;

// An alias's allowance: a merge may hold this many identifiers of `type` beyond its max_per_profile
// (the previous_id side's own ones: the person's earlier ids).
struct Rename {
  uint32_t type = kNoRename;
  uint32_t allowance = 0;
};

struct Record {
  int64_t micros = 0;
  uint64_t event_hash = 0;
  std::string source;
  std::string event_id;
  absl::InlinedVector<uint32_t, 4> nodes;  // Priority order.
  uint32_t count = 1;           // Events with exactly this identifier set (folded).
  bool alive = true;
  // An alias call's record with IdentityOptions::alias_renames: the node of its previous_id, whose
  // side may join the others beyond its type's max_per_profile (the person's old and new ids), and
  // only that side; kNoRename otherwise. Of two aliases with the same identifiers, the one whose
  // previous_id comes first in priority order (deterministic).
  uint32_t renamed_node = kNoRename;
  absl::InlinedVector<Decision, 2> decisions;  // Outcome of the last application.
};

// What a lookup touches, in one cache line: an index hit is verified against the value (inline
// up to 16 bytes: cookies, phones, ids) and the union-find walk reads `parent`. The member list and
// the records of a node live in parallel arrays (next_, node_records_).
struct alignas(64) Node {
  static constexpr size_t kInline = 16;

  uint32_t parent = 0;
  uint32_t tenant = 0;
  uint32_t attempts = 0;  // Cross-profile link attempts (super-node guard).
  uint32_t value_size = 0;
  TypeIndex type = 0;
  uint8_t flags = 0;
  int64_t first_micros = 0;  // Earliest event that mentioned it (ties: first_hash_).
  ProfileId own_id = 0;
  ProfileId root_id = 0;  // At roots: the component's profile id (its anchor's own_id).
  union {
    char inline_value[kInline];
    const char* arena_value;  // In values_ when longer than kInline.
  };

  Node() : inline_value{} {}
  // The match key.
  std::string_view value() const {
    return std::string_view(value_size <= kInline ? inline_value : arena_value, value_size);
  }
};
static_assert(sizeof(Node) == 64);

using SplitLabels = std::vector<std::pair<uint32_t, uint8_t>>;  // (split id, side)

// Per-component state, valid at roots.
struct Comp {
  uint32_t size = 1;
  uint32_t merges = 0;
  uint32_t max_record = kNone;  // The latest (by key) record applied to the component.
  uint32_t anchor;              // The oldest identifier: its own_id is the profile id.
  absl::InlinedVector<std::pair<TypeIndex, uint32_t>, 4> type_counts;
  absl::InlinedVector<std::pair<uint32_t, uint8_t>, 1> labels;
};

struct Operation {
  AuditEntry::Action action;
  absl::Time time;
  std::string type;  // Identifier type concerned (never the value for erasures).
  std::string value;  // Identifier value (unlink only); empty for erasures.
  std::vector<ProfileId> profiles;
  std::string reason;
};

class Graph final : public IdentityGraph {
 public:
  Graph(const IdentityOptions& options, std::unique_ptr<RuleSet> rules)
      : options_(options), rules_(std::move(rules)) {}

  using IdentityGraph::Link;
  absl::StatusOr<LinkResult> Link(const Event& event, LinkMemo* memo) override;
  using IdentityGraph::Prefetch;
  void Prefetch(const Event& event, LinkMemo* memo) const override;
  absl::StatusOr<ProfileId> Resolve(std::string_view tenant, std::string_view type,
                                    std::string_view value) const override;
  absl::StatusOr<ProfileId> ResolveProfile(ProfileId id) const override;
  absl::StatusOr<std::string> TenantOf(ProfileId id) const override {
    ASSIGN_OR_RETURN(uint32_t root, RootOfProfile(id));
    return tenants_[nodes_[root].tenant];
  }
  absl::StatusOr<ProfileId> ResolveIdentifiers(std::string_view tenant,
                                               const std::vector<IdentifierValue>& ids) const override;
  absl::StatusOr<std::string> MatchKey(std::string_view tenant, std::string_view type, std::string_view value,
                                       std::string_view region) const override;
  absl::StatusOr<std::vector<IdentifierValue>> Identifiers(ProfileId id) const override;
  absl::StatusOr<std::vector<AuditEntry>> Explain(ProfileId id) const override;
  absl::StatusOr<std::unique_ptr<AuditCursor>> BeginExplain(ProfileId id) const override;
  bool ContinueExplain(AuditCursor& cursor, size_t max_records) const override;
  absl::StatusOr<std::vector<ProfileId>> Unlink(std::string_view tenant, std::string_view type,
                                                std::string_view value) override;
  absl::StatusOr<std::vector<ProfileId>> Split(ProfileId profile,
                                               const std::vector<IdentifierValue>& part) override;
  absl::StatusOr<std::vector<ProfileId>> EraseIdentifier(std::string_view tenant, std::string_view type,
                                                         std::string_view value) override;
  absl::StatusOr<std::vector<ProfileId>> EraseProfile(ProfileId profile) override;
  void RecordErasure(std::string_view type, const std::vector<ProfileId>& profiles) override;
  std::vector<ProfileId> LastErasureProfiles() const override;
  IdentityStats Stats() const override;
  int64_t TenantProfiles(std::string_view tenant) const override {
    const int t = FindTenant(tenant);
    return t < 0 ? 0 : tenant_profiles_[t];
  }
  std::pair<std::string, int64_t> LargestTenant() const override {
    std::pair<std::string, int64_t> out;
    for (size_t t = 0; t < tenants_.size(); ++t) {
      if (tenant_profiles_[t] > out.second) out = {tenants_[t], tenant_profiles_[t]};
    }
    return out;
  }
  int64_t ProfilesAdded(const Event& event) const override;
  using IdentityGraph::CheckUsable;
  absl::Status CheckUsable(const Event& event, LinkMemo* memo) const override;
  bool ContainsStringForTesting(std::string_view needle) const override;

  // Snapshots (identity/graph_snapshot.h).
  void Save(SerialWriter& w) const;
  absl::Status Restore(SerialReader& r);

 private:
  absl::Time OperatorTime() const { return (options_.clock ? options_.clock : RealClock())->Now(); }

  // --- union-find -----------------------------------------------------------------------------
  // Mutating paths halve the path; const paths (lookups, possibly from several reader threads)
  // only walk it: union by size keeps trees O(log n) deep.
  uint32_t Find(uint32_t n) {
    while (nodes_[n].parent != n) {
      const uint32_t p = nodes_[n].parent;
      nodes_[n].parent = nodes_[p].parent;
      n = p;
    }
    return n;
  }
  uint32_t Find(uint32_t n) const {
    while (nodes_[n].parent != n) n = nodes_[n].parent;
    return n;
  }
  ProfileId IdOfRoot(uint32_t root) const { return nodes_[root].root_id; }
  void SetAnchor(uint32_t root, uint32_t n) {
    comps_[root].anchor = n;
    nodes_[root].root_id = nodes_[n].own_id;
  }
  ProfileId IdOf(uint32_t node) { return IdOfRoot(Find(node)); }
  ProfileId IdOf(uint32_t node) const { return IdOfRoot(Find(node)); }
  bool Older(uint32_t a, uint32_t b) const {
    const Node& x = nodes_[a];
    const Node& y = nodes_[b];
    if (x.first_micros != y.first_micros) return x.first_micros < y.first_micros;
    if (first_hash_[a] != first_hash_[b]) return first_hash_[a] < first_hash_[b];
    return x.own_id < y.own_id;
  }
  bool RecordLess(uint32_t a, uint32_t b) const {
    const Record& x = records_[a];
    const Record& y = records_[b];
    if (x.micros != y.micros) return x.micros < y.micros;
    if (x.source != y.source) return x.source < y.source;
    if (x.event_id != y.event_id) return x.event_id < y.event_id;
    return a < b;
  }
  void ResetSingleton(uint32_t n);
  // Counts profiles, in all and per tenant.
  void AddProfiles(uint32_t tenant, int64_t delta) {
    live_profiles_ += delta;
    tenant_profiles_[tenant] += delta;
  }
  uint32_t Union(uint32_t a, uint32_t b);
  void Members(uint32_t root, std::vector<uint32_t>* out) const;

  // --- linking --------------------------------------------------------------------------------
  uint32_t InternTenant(std::string_view tenant);
  int FindTenant(std::string_view tenant) const;
  // In-process hash of an identifier key (tenant, type, value) for the index tables.
  static uint64_t KeyHash(uint32_t tenant, TypeIndex type, std::string_view value) {
    return absl::HashOf(tenant, type, ToAbsl(value));
  }
  uint32_t FindIndexed(uint64_t hash, uint32_t tenant, TypeIndex type, std::string_view value) const {
    return node_index_.Find(hash, [&](uint32_t n) {
      const Node& node = nodes_[n];
      return node.tenant == tenant && node.type == type && node.value() == value;
    });
  }
  // An existing node for a raw value: a canonical value is probed in the node index directly, others
  // through the raw-value cache, then normalised. Not found: `node` is kNone and `norm` says why
  // (kOk with the match key of a new value, whose index hash is `norm_hash`).
  struct Found {
    uint32_t node = kNone;
    bool canonical = false;   // The raw value is its own match key.
    bool normalized = false;  // Found only after normalising (the raw spelling is not cached).
    bool from_memo = false;   // The match key came from a LinkMemo.
    bool hinted = false;      // A national phone number in its identifier's own region (not cached).
    uint64_t raw_hash = 0;
    uint64_t norm_hash = 0;
    Normalized norm;
  };
  // `memo`: match keys to use instead of normalising (may be null); `take`: a key used leaves the
  // memo (Link, which adds the identifier, so no later call needs it).
  // `pre`: the raw value's hash and canonical flag as Prefetch worked them out (may be null).
  // `hint`: the identifier's region (v1::Identifier::region), before the tenant's.
  Found FindExisting(uint32_t tenant, TypeIndex type, std::string_view raw,
                     LinkMemo::State* memo = nullptr, bool take = false,
                     const LinkMemo::State::Prepared* pre = nullptr, std::string_view hint = {}) const;
  // The phone region of an identifier: its own (`hint`), else its tenant's.
  std::string_view RegionFor(std::string_view tenant, std::string_view hint) const {
    return hint.empty() ? std::string_view(rules_->RegionOf(tenant)) : hint;
  }
  void CacheRaw(uint64_t hash, uint32_t tenant, TypeIndex type, std::string_view raw, uint32_t node);
  void ClearRawCache();
  // The node for a raw identifier (created when new), or kNone with `dropped` filled. `found`: its
  // FindExisting.
  uint32_t Lookup(uint32_t tenant, TypeIndex type, std::string_view raw, Found found, int64_t micros,
                  uint64_t hash, std::vector<DroppedIdentifier>* dropped);
  uint32_t NewNode(uint32_t tenant, TypeIndex type, std::string_view value, int64_t micros, uint64_t hash);
  bool PriorityLess(uint32_t a, uint32_t b) const;  // a before b in a record.
  // Whether components `a` and `b` may merge; `type` is set for kTypeLimit.
  // `rename`: an alias's allowance beyond one type's max_per_profile.
  Reason CheckMerge(const Comp& a, const Comp& b, TypeIndex* type, Rename rename = {}) const;
  static uint32_t CountOf(const Comp& c, uint32_t type) {
    for (const auto& [t, count] : c.type_counts) {
      if (t == type) return count;
    }
    return 0;
  }
  // Adds b's size, merges, type counts and split labels to `a` (one more merge).
  static void MergeCounts(Comp& a, const Comp& b);
  // Whether `parts` may all merge into one, the first absorbing the others in order; `type` is set
  // for kTypeLimit.
  Reason CheckMergeAll(const std::vector<const Comp*>& parts, TypeIndex* type, Rename rename = {}) const;
  // kDropLowestPriority: drops candidates from the end until all their components may merge.
  void DropUntilMergeable(Record& rec, std::vector<uint32_t>& candidates, LinkResult* out);
  Reason Excluded(uint32_t n) const;
  // Whether a profile holds a personal identifier (IdentifierRule::personal: email, phone, user and
  // card ids), not only anonymous ones (cookies): the super-node guard counts joins of such
  // profiles against every identifier of the record that joins them.
  bool Personal(const Comp& c) const;
  // Whether an event's previous_id may join beyond its type's limit (Record::renamed_node).
  bool Renames(const Event& event) const {
    return options_.alias_renames && event.kind() == v1::EVENT_KIND_ALIAS && event.has_previous_id();
  }
  void Apply(uint32_t record, LinkResult* out);
  void Replay(const std::vector<uint32_t>& seeds, LinkResult* out);
  std::string ReasonText(Reason reason, TypeIndex type) const;
  absl::StatusOr<uint32_t> FindNode(std::string_view tenant, std::string_view type,
                                    std::string_view value) const;
  absl::StatusOr<uint32_t> RootOfProfile(ProfileId id) const;
  void EraseNode(uint32_t n, std::vector<uint32_t>* neighbours);
  std::vector<ProfileId> ChangedIds(const std::vector<std::pair<uint32_t, ProfileId>>& before) const;

  IdentityOptions options_;
  std::unique_ptr<RuleSet> rules_;
  std::vector<Node, HugePageAllocator<Node>> nodes_;
  std::vector<Comp, HugePageAllocator<Comp>> comps_;
  std::vector<uint32_t, HugePageAllocator<uint32_t>> next_;  // Circular member list per component.
  std::vector<uint64_t, HugePageAllocator<uint64_t>> first_hash_;  // Event hash of first_micros.
  using RecordList = absl::InlinedVector<uint32_t, 2>;  // Most identifiers are in one or two records.
  std::vector<RecordList, HugePageAllocator<RecordList>> node_records_;
  std::vector<Record, HugePageAllocator<Record>> records_;
  std::vector<Operation> operations_;
  std::vector<std::string> tenants_;
  std::vector<std::string> tenant_regions_;  // By tenant index: RuleSet::RegionOf.
  std::vector<int64_t> tenant_profiles_;  // By tenant index.
  absl::flat_hash_map<std::string, uint32_t> tenant_index_;  // Searched beyond kScanTenants.
  static constexpr size_t kScanTenants = 8;
  StringArena values_;     // Node values.
  KeyTable node_index_;    // KeyHash(tenant, type, value) -> node.
  // Raw spellings that differ from their match key (a phone with spaces) -> node, so each is
  // normalised once. Bounded by options_.raw_value_cache_entries (cleared when full).
  struct RawEntry {
    std::string_view raw;  // In raw_arena_.
    uint32_t tenant;
    TypeIndex type;
    uint32_t node;
  };
  KeyTable raw_cache_;  // KeyHash of the raw spelling -> index in raw_entries_.
  std::vector<RawEntry, HugePageAllocator<RawEntry>> raw_entries_;
  StringArena raw_arena_;
  absl::flat_hash_map<uint32_t, SplitLabels> split_labels_;  // Node -> operator splits it is in.
  template <typename K>
  using BigMap = absl::flat_hash_map<K, uint32_t, absl::Hash<K>, std::equal_to<K>,
                                     HugePageAllocator<std::pair<const K, uint32_t>>>;
  BigMap<ProfileId> id_index_;      // own_id -> node.
  BigMap<uint64_t> record_index_;   // Hash of node set -> record.
  std::vector<ProfileId> anchor_changes_;  // Filled by Lookup, drained by Link.
  // Bumped by every change other than Link (unlink, split, erasure, restore): a LinkMemo of an
  // older generation may name a node that is gone or no longer the identifier's.
  uint64_t generation_ = 0;
  // Prefetch pipeline: identifiers announced by Prefetch have their index slot fetched first; a few
  // identifiers later (the slot is cached by then) the node or raw entry it names is fetched.
  struct Pending {
    bool raw = false;
    uint64_t hash = 0;
  };
  static constexpr size_t kPipeline = 4;
  mutable std::array<Pending, kPipeline> pending_{};
  mutable size_t pending_count_ = 0;
  uint32_t next_split_ = 0;
  int64_t live_nodes_ = 0;
  int64_t live_profiles_ = 0;
  int64_t live_records_ = 0;
  int64_t replays_ = 0;
  int64_t refusals_ = 0;
  int64_t super_nodes_ = 0;  // Nodes with kSuperFlag.
  int64_t unknown_type_identifiers_ = 0;  // Linked with UnknownTypes::kWarn.
};

}  // namespace omnijourney::internal::graph

#endif  // OMNIJOURNEY_SRC_IDENTITY_GRAPH_H_
