// The identity graph: interned identifiers, link records with provenance, union-find with merge
// protection, replay of the affected part on late events and operator changes.
//
// Invariant (what makes the result independent of arrival order): the partition equals applying all
// live link records in key order (event time, then source and event id) from scratch. A record that
// is newer than every record already applied to the components it touches is applied directly; an
// older one makes the graph replay its closure (all nodes reachable through records, refused or not).
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

namespace omnijourney {

LinkMemo::LinkMemo() : state_(std::make_unique<State>()) {}
LinkMemo::~LinkMemo() = default;
void LinkMemo::Clear() { state_->Clear(); }

namespace internal {
namespace {

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

struct Record {
  int64_t micros = 0;
  uint64_t event_hash = 0;
  std::string source;
  std::string event_id;
  absl::InlinedVector<uint32_t, 4> nodes;  // Priority order.
  uint32_t count = 1;           // Events with exactly this identifier set (folded).
  bool alive = true;
  // An alias call's record with IdentityOptions::alias_renames: the type of its previous_id, whose
  // max_per_profile its merge may exceed (the person's old and new ids); kNoRename otherwise.
  uint32_t renamed_type = kNoRename;
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
  // `renamed`: a type whose max_per_profile does not apply (Record::renamed_type), or kNoRename.
  Reason CheckMerge(const Comp& a, const Comp& b, TypeIndex* type, uint32_t renamed = kNoRename) const;
  // Adds b's size, merges, type counts and split labels to `a` (one more merge).
  static void MergeCounts(Comp& a, const Comp& b);
  // Whether `parts` may all merge into one, the first absorbing the others in order; `type` is set
  // for kTypeLimit.
  Reason CheckMergeAll(const std::vector<const Comp*>& parts, TypeIndex* type, uint32_t renamed = kNoRename) const;
  // kDropLowestPriority: drops candidates from the end until all their components may merge.
  void DropUntilMergeable(Record& rec, std::vector<uint32_t>& candidates, LinkResult* out);
  Reason Excluded(uint32_t n) const;
  // Whether a profile holds a personal identifier (IdentifierRule::personal: email, phone, user and
  // card ids), not only anonymous ones (cookies): the super-node guard counts joins of such
  // profiles against every identifier of the record that joins them.
  bool Personal(const Comp& c) const;
  // The type an alias event may hold twice (Record::renamed_type), or kNoRename.
  uint32_t RenamedType(const Event& event) const {
    if (!options_.alias_renames || event.kind() != v1::EVENT_KIND_ALIAS || !event.has_previous_id()) return kNoRename;
    const int t = rules_->Find(event.previous_id().type());
    return t < 0 ? kNoRename : static_cast<uint32_t>(t);
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

void Graph::ResetSingleton(uint32_t n) {
  Node& node = nodes_[n];
  node.parent = n;
  next_[n] = n;
  node.attempts = 0;
  if (node.flags & kSuperFlag) --super_nodes_;
  node.flags &= ~kSuperFlag;
  Comp& c = comps_[n];
  c.size = 1;
  c.merges = 0;
  c.max_record = kNone;
  SetAnchor(n, n);
  c.type_counts.assign({{node.type, 1}});
  c.labels.clear();
  if (!split_labels_.empty()) {
    if (auto it = split_labels_.find(n); it != split_labels_.end()) {
      c.labels.assign(it->second.begin(), it->second.end());
    }
  }
}

uint32_t Graph::Union(uint32_t a, uint32_t b) {
  // Union by size for shallow trees; the profile id follows the oldest anchor, not the root.
  if (comps_[a].size < comps_[b].size) std::swap(a, b);
  Comp& ca = comps_[a];
  const Comp& cb = comps_[b];
  nodes_[b].parent = a;
  std::swap(next_[a], next_[b]);  // Splice the member lists.
  MergeCounts(ca, cb);
  if (cb.max_record != kNone && (ca.max_record == kNone || RecordLess(ca.max_record, cb.max_record))) {
    ca.max_record = cb.max_record;
  }
  if (Older(cb.anchor, ca.anchor)) SetAnchor(a, cb.anchor);
  AddProfiles(nodes_[a].tenant, -1);
  return a;
}

void Graph::MergeCounts(Comp& a, const Comp& b) {
  a.size += b.size;
  a.merges += b.merges + 1;
  for (const auto& [type, count] : b.type_counts) {
    auto it = std::find_if(a.type_counts.begin(), a.type_counts.end(),
                           [t = type](const auto& p) { return p.first == t; });
    if (it == a.type_counts.end()) {
      a.type_counts.emplace_back(type, count);
    } else {
      it->second += count;
    }
  }
  for (const auto& label : b.labels) {
    if (std::find(a.labels.begin(), a.labels.end(), label) == a.labels.end()) a.labels.push_back(label);
  }
}

void Graph::Members(uint32_t root, std::vector<uint32_t>* out) const {
  uint32_t n = root;
  do {
    out->push_back(n);
    n = next_[n];
  } while (n != root);
}

uint32_t Graph::InternTenant(std::string_view tenant) {
  if (const int found = FindTenant(tenant); found >= 0) return static_cast<uint32_t>(found);
  const auto index = static_cast<uint32_t>(tenants_.size());
  tenants_.emplace_back(tenant);
  tenant_regions_.push_back(rules_->RegionOf(tenant));
  tenant_profiles_.push_back(0);
  tenant_index_.emplace(std::string(tenant), index);
  return index;
}

int Graph::FindTenant(std::string_view tenant) const {
  // A few tenants (the usual case): comparing them costs less than hashing.
  if (tenants_.size() <= kScanTenants) {
    for (size_t t = 0; t < tenants_.size(); ++t) {
      if (tenants_[t] == tenant) return static_cast<int>(t);
    }
    return -1;
  }
  auto it = tenant_index_.find(ToAbsl(tenant));
  return it == tenant_index_.end() ? -1 : static_cast<int>(it->second);
}

void Graph::CacheRaw(uint64_t hash, uint32_t tenant, TypeIndex type, std::string_view raw, uint32_t node) {
  if (raw_entries_.size() >= options_.raw_value_cache_entries) ClearRawCache();
  raw_cache_.Insert(hash, static_cast<uint32_t>(raw_entries_.size()));
  raw_entries_.push_back({raw_arena_.Add(raw), tenant, type, node});
}

void Graph::ClearRawCache() {
  raw_cache_.Clear();
  raw_entries_.clear();
  raw_arena_.Clear();
}

uint32_t Graph::NewNode(uint32_t tenant, TypeIndex type, std::string_view value, int64_t micros,
                        uint64_t hash) {
  const auto n = static_cast<uint32_t>(nodes_.size());
  Node node;
  node.tenant = tenant;
  node.type = type;
  node.first_micros = micros;
  // A keyed hash of the identifier; re-keyed on the (astronomically rare) collision.
  ProfileId id = 0;
  for (uint64_t salt = 0; id == 0 || id_index_.contains(id); ++salt) {
    id = HashIdentifier(options_.profile_id_seed + salt, tenants_[tenant], rules_->rule(type).type, value);
  }
  node.own_id = id;
  node.value_size = static_cast<uint32_t>(value.size());
  if (value.size() <= Node::kInline) {
    std::memcpy(node.inline_value, value.data(), value.size());
  } else {
    node.arena_value = values_.Add(value).data();
  }
  nodes_.push_back(node);
  first_hash_.push_back(hash);
  comps_.emplace_back();
  next_.push_back(n);
  node_records_.emplace_back();
  ResetSingleton(n);
  id_index_.emplace(id, n);
  ++live_nodes_;
  AddProfiles(tenant, 1);
  return n;
}

uint32_t Graph::Lookup(uint32_t tenant, TypeIndex type, std::string_view raw, Found found, int64_t micros,
                       uint64_t hash, std::vector<DroppedIdentifier>* dropped) {
  uint32_t n = found.node;
  if (n == kNone) {
    Normalized& norm = found.norm;
    if (norm.status != Normalized::Status::kOk) {
      // Blocked placeholders are not echoed back; invalid input is, so the host can fix it.
      dropped->push_back({rules_->rule(type).type,
                          norm.status == Normalized::Status::kInvalid ? std::string(raw) : std::string(),
                          std::move(norm.reason)});
      return kNone;
    }
    n = NewNode(tenant, type, norm.value, micros, hash);
    node_index_.Insert(found.norm_hash, n);
  }
  // Remember non-canonical spellings so they are normalised once.
  if (!found.canonical && !found.hinted && (found.normalized || found.node == kNone)) {
    CacheRaw(found.raw_hash, tenant, type, raw, n);
  }
  // An earlier mention makes the identifier older; the profile id may move to it.
  Node& node = nodes_[n];
  if (micros < node.first_micros || (micros == node.first_micros && hash < first_hash_[n])) {
    node.first_micros = micros;
    first_hash_[n] = hash;
    const uint32_t root = Find(n);
    if (comps_[root].anchor != n && Older(n, comps_[root].anchor)) {
      anchor_changes_.push_back(IdOfRoot(root));
      SetAnchor(root, n);
      anchor_changes_.push_back(IdOfRoot(root));
    }
  }
  return n;
}

bool Graph::PriorityLess(uint32_t a, uint32_t b) const {
  const Node& x = nodes_[a];
  const Node& y = nodes_[b];
  const int px = rules_->rule(x.type).rule.priority;
  const int py = rules_->rule(y.type).rule.priority;
  if (px != py) return px > py;
  if (x.type != y.type) return rules_->rule(x.type).type < rules_->rule(y.type).type;
  return x.value() < y.value();
}

Reason Graph::Excluded(uint32_t n) const {
  const Node& node = nodes_[n];
  if (!rules_->rule(node.type).rule.links) return Reason::kRuleNoLink;
  if (node.flags & kUnlinkedFlag) return Reason::kUnlinked;
  if (node.flags & kSuperFlag) return Reason::kSuperNode;
  return Reason::kNone;
}

Reason Graph::CheckMerge(const Comp& ca, const Comp& cb, TypeIndex* type, uint32_t renamed) const {
  for (const auto& [t, count] : cb.type_counts) {
    const int max = rules_->rule(t).rule.max_per_profile;
    if (max <= 0 || t == renamed) continue;
    uint32_t have = 0;
    for (const auto& [ta, ca_count] : ca.type_counts) {
      if (ta == t) have = ca_count;
    }
    if (have + count > static_cast<uint32_t>(max)) {
      *type = t;
      return Reason::kTypeLimit;
    }
  }
  if (ca.size + cb.size > static_cast<uint32_t>(options_.max_identifiers_per_profile)) {
    return Reason::kIdentifierCap;
  }
  if (ca.merges + cb.merges + 1 > static_cast<uint32_t>(options_.max_merges_per_profile)) {
    return Reason::kMergeCap;
  }
  for (const auto& [split, side] : ca.labels) {
    for (const auto& [split_b, side_b] : cb.labels) {
      if (split == split_b && side != side_b) return Reason::kSplit;
    }
  }
  return Reason::kNone;
}

std::string Graph::ReasonText(Reason reason, TypeIndex type) const {
  switch (reason) {
    case Reason::kNone: return "";
    case Reason::kTypeLimit:
      return absl::StrCat(rules_->rule(type).type, " limit ", rules_->rule(type).rule.max_per_profile,
                          " per profile would be exceeded");
    case Reason::kIdentifierCap:
      return absl::StrCat("cap of ", options_.max_identifiers_per_profile, " identifiers per profile reached");
    case Reason::kMergeCap:
      return absl::StrCat("cap of ", options_.max_merges_per_profile, " merges per profile reached");
    case Reason::kSuperNode:
      return absl::StrCat("super-node: the identifier tried to join more than ", options_.super_node_limit,
                          " profiles and stopped linking");
    case Reason::kSplit: return "the profiles were split by an operator";
    case Reason::kRuleNoLink: return "identifiers of this type do not link profiles";
    case Reason::kUnlinked: return "unlinked by an operator";
    case Reason::kDropped: return "dropped as the lowest-priority identifier of a conflicting event";
  }
  return "";
}

void Graph::Apply(uint32_t index, LinkResult* out) {
  Record& rec = records_[index];
  rec.decisions.clear();
  std::vector<uint32_t> candidates;
  candidates.reserve(rec.nodes.size());
  for (uint32_t n : rec.nodes) {
    if (Reason r = Excluded(n); r != Reason::kNone) {
      rec.decisions.push_back({n, AuditEntry::Action::kNotLinking, r});
    } else {
      candidates.push_back(n);
    }
  }
  // Every component the record touches has now seen it (for late-event detection); merged
  // components inherit the maximum in Union.
  for (uint32_t n : rec.nodes) {
    Comp& c = comps_[Find(n)];
    if (c.max_record == kNone || RecordLess(c.max_record, index)) c.max_record = index;
  }
  if (options_.conflict_policy == ConflictPolicy::kDropLowestPriority) {
    DropUntilMergeable(rec, candidates, out);
  }
  // Greedy in priority order: the first candidate's profile absorbs the others that may join it.
  uint32_t acc = kNone;
  auto refuse = [&](uint32_t n, Reason reason, TypeIndex type, ProfileId other) {
    rec.decisions.push_back({n, AuditEntry::Action::kRefused, reason, type, other});
    ++refusals_;
    if (out) {
      out->refusals.push_back(absl::StrCat(rules_->rule(nodes_[n].type).type, ": ", ReasonText(reason, type)));
    }
  };
  const auto limit = static_cast<uint32_t>(options_.super_node_limit);
  absl::InlinedVector<uint32_t, 4> joined;  // The record's identifiers in acc's profile so far.
  for (uint32_t n : candidates) {
    const uint32_t r = Find(n);
    if (acc == kNone || r == acc) {
      if (acc == kNone) acc = r;
      rec.decisions.push_back({n, AuditEntry::Action::kLinked});
      joined.push_back(n);
      continue;
    }
    Node& node = nodes_[n];
    if (++node.attempts > limit) {
      node.flags |= kSuperFlag;
      ++super_nodes_;
      refuse(n, Reason::kSuperNode, 0, IdOfRoot(r));
      continue;
    }
    // The higher-priority side joins r's profile too: a shared address or a switchboard number
    // arriving with each caller's own identifiers is the hub, not the callers' ids.
    if (Personal(comps_[r])) {
      uint32_t hub = kNone;
      for (uint32_t m : joined) {
        if (++nodes_[m].attempts > limit && hub == kNone) hub = m;
      }
      if (hub != kNone) {
        nodes_[hub].flags |= kSuperFlag;
        ++super_nodes_;
        refuse(hub, Reason::kSuperNode, 0, IdOfRoot(r));
        joined.erase(std::find(joined.begin(), joined.end(), hub));  // Flagged once.
        continue;
      }
    }
    TypeIndex type = 0;
    if (Reason reason = CheckMerge(comps_[acc], comps_[r], &type, rec.renamed_type); reason != Reason::kNone) {
      refuse(n, reason, type, IdOfRoot(r));
      continue;
    }
    const ProfileId id_acc = IdOfRoot(acc);
    const ProfileId id_r = IdOfRoot(r);
    acc = Union(acc, r);
    const ProfileId absorbed = IdOfRoot(acc) == id_acc ? id_r : id_acc;
    rec.decisions.push_back({n, AuditEntry::Action::kMerged, Reason::kNone, 0, absorbed});
    if (out) out->merged.push_back(absorbed);
    joined.push_back(n);
  }
}

bool Graph::Personal(const Comp& c) const {
  for (const auto& [t, count] : c.type_counts) {
    if (count > 0 && rules_->rule(t).rule.personal) return true;
  }
  return false;
}

Reason Graph::CheckMergeAll(const std::vector<const Comp*>& parts, TypeIndex* type, uint32_t renamed) const {
  Comp agg = *parts[0];
  for (size_t i = 1; i < parts.size(); ++i) {
    if (Reason reason = CheckMerge(agg, *parts[i], type, renamed); reason != Reason::kNone) return reason;
    MergeCounts(agg, *parts[i]);
  }
  return Reason::kNone;
}

void Graph::DropUntilMergeable(Record& rec, std::vector<uint32_t>& candidates, LinkResult* out) {
  while (!candidates.empty()) {
    std::vector<const Comp*> parts;
    for (uint32_t n : candidates) {
      const Comp* c = &comps_[Find(n)];
      if (std::find(parts.begin(), parts.end(), c) == parts.end()) parts.push_back(c);
    }
    TypeIndex type = 0;
    const Reason reason = CheckMergeAll(parts, &type, rec.renamed_type);
    if (reason == Reason::kNone) return;
    const uint32_t dropped = candidates.back();
    candidates.pop_back();
    rec.decisions.push_back({dropped, AuditEntry::Action::kDropped, reason, type, IdOf(dropped)});
    ++refusals_;
    if (out) {
      out->refusals.push_back(absl::StrCat(rules_->rule(nodes_[dropped].type).type, " dropped: ",
                                           ReasonText(reason, type)));
    }
  }
}

void Graph::Replay(const std::vector<uint32_t>& seeds, LinkResult* out) {
  ++replays_;
  // The closure: every node reachable from the seeds through live records, refused links included
  // (a refusal can turn into a merge when the order changes).
  absl::flat_hash_set<uint32_t> in_closure;
  absl::flat_hash_set<uint32_t> recs;
  std::vector<uint32_t> closure;
  std::deque<uint32_t> queue;
  for (uint32_t s : seeds) {
    if (!(nodes_[s].flags & kErasedFlag) && in_closure.insert(s).second) queue.push_back(s);
  }
  while (!queue.empty()) {
    const uint32_t n = queue.front();
    queue.pop_front();
    closure.push_back(n);
    for (uint32_t r : node_records_[n]) {
      if (!records_[r].alive || !recs.insert(r).second) continue;
      for (uint32_t m : records_[r].nodes) {
        if (in_closure.insert(m).second) queue.push_back(m);
      }
    }
  }
  std::vector<std::pair<uint32_t, ProfileId>> before;
  before.reserve(closure.size());
  for (uint32_t n : closure) before.emplace_back(n, IdOf(n));
  // Count the profiles about to be rebuilt, reset, replay, count again.
  absl::flat_hash_set<uint32_t> roots;
  for (uint32_t n : closure) roots.insert(Find(n));
  // Records join identifiers of one event, so the closure is in one tenant.
  const uint32_t tenant = closure.empty() ? 0 : nodes_[closure[0]].tenant;
  AddProfiles(tenant, -static_cast<int64_t>(roots.size()));
  for (uint32_t n : closure) ResetSingleton(n);
  AddProfiles(tenant, static_cast<int64_t>(closure.size()));
  std::vector<uint32_t> order(recs.begin(), recs.end());
  std::sort(order.begin(), order.end(), [this](uint32_t a, uint32_t b) { return RecordLess(a, b); });
  for (uint32_t r : order) Apply(r, nullptr);
  if (out) {
    out->replayed = true;
    std::vector<ProfileId> changed = ChangedIds(before);
    out->changed.insert(out->changed.end(), changed.begin(), changed.end());
  }
}

std::vector<ProfileId> Graph::ChangedIds(const std::vector<std::pair<uint32_t, ProfileId>>& before) const {
  // A profile changed when any member's profile id changed: report the ids before and after.
  absl::flat_hash_set<ProfileId> changed;
  for (const auto& [n, old_id] : before) {
    if (nodes_[n].flags & kErasedFlag) {
      changed.insert(old_id);
      continue;
    }
    const ProfileId now = IdOf(n);
    if (now != old_id) {
      changed.insert(old_id);
      changed.insert(now);
    }
  }
  // Membership can change without any id changing (a member left): compare member sets.
  absl::flat_hash_map<ProfileId, std::vector<uint32_t>> old_members;
  for (const auto& [n, old_id] : before) old_members[old_id].push_back(n);
  for (auto& [id, members] : old_members) {
    if (changed.contains(id)) continue;
    auto it = id_index_.find(id);
    if (it == id_index_.end()) {
      changed.insert(id);
      continue;
    }
    std::vector<uint32_t> now;
    Members(Find(it->second), &now);
    std::sort(now.begin(), now.end());
    std::sort(members.begin(), members.end());
    if (now != members) changed.insert(id);
  }
  std::vector<ProfileId> out(changed.begin(), changed.end());
  std::sort(out.begin(), out.end());
  return out;
}

absl::StatusOr<LinkResult> Graph::Link(const Event& event, LinkMemo* link_memo) {
  LinkMemo::State* memo = link_memo != nullptr ? &link_memo->state() : nullptr;
  if (memo != nullptr && (memo->graph != this || memo->generation != generation_)) memo = nullptr;  // Stale.
  const uint64_t mark = memo != nullptr ? EventMark(event) : 0;
  const LinkMemo::State::Ticket* ticket = memo != nullptr ? memo->Take(event, mark) : nullptr;
  const LinkMemo::State::PreparedEvent* prepared =
      memo != nullptr ? memo->PreparedOf(event, mark, memo->link_cursor) : nullptr;
  LinkResult result;
  const uint32_t tenant = ticket != nullptr     ? ticket->tenant
                          : prepared != nullptr ? prepared->tenant
                                                : InternTenant(event.tenant());
  const int64_t micros = absl::ToUnixMicros(FromTimestamp(event.occurred_at()));
  const uint64_t hash = HashEvent(event.source(), event.event_id());

  absl::InlinedVector<uint32_t, 8> ids;
  ids.reserve(event.identifiers_size() + 1);
  int position = 0;  // The identifier's, as in LinkMemo::State::Ticket::identifier.
  // Known when checked: nodes stay while only Link changes the graph. New: a Link since may have
  // added it, so it is looked up again (with its match key from the memo).
  auto from_ticket = [&](const v1::Identifier& id) {
    if (ticket->node == kNone) {
      return FindExisting(tenant, ticket->type, id.value(), memo, /*take=*/true, nullptr, id.region());
    }
    Found found;
    found.node = ticket->node;
    found.raw_hash = ticket->raw_hash;
    found.canonical = ticket->canonical;
    found.normalized = ticket->normalized;
    return found;
  };
  auto add = [&](const v1::Identifier& id) {
    uint32_t n;
    if (!rules_->Configured(rules_->Find(id.type()))) {
      if (options_.unknown_types == UnknownTypes::kReject) {
        result.dropped.push_back({id.type(), id.value(), kUnknownType});
        ++position;
        return;
      }
      if (options_.unknown_types == UnknownTypes::kWarn) {
        result.warnings.push_back(absl::StrCat("identifiers: unknown type '", id.type(), "', linked under the default rule"));
        ++unknown_type_identifiers_;
      }
    }
    if (ticket != nullptr && ticket->identifier == position) {
      n = Lookup(tenant, ticket->type, id.value(), from_ticket(id), micros, hash, &result.dropped);
    } else {
      const LinkMemo::State::Prepared* pre = memo != nullptr ? memo->PreparedId(prepared, position) : nullptr;
      const TypeIndex type = pre != nullptr ? pre->type : rules_->Intern(id.type());
      n = Lookup(tenant, type, id.value(), FindExisting(tenant, type, id.value(), memo, /*take=*/true, pre, id.region()),
                 micros, hash, &result.dropped);
    }
    ++position;
    if (n != kNone && std::find(ids.begin(), ids.end(), n) == ids.end()) {
      ids.push_back(n);
    }
  };
  for (const auto& id : event.identifiers()) add(id);
  if (event.has_previous_id()) add(event.previous_id());
  // A late event may make an identifier older and move its profile id to it.
  if (!anchor_changes_.empty()) {
    result.changed = std::move(anchor_changes_);
    anchor_changes_.clear();
  }
  if (ids.empty()) return result;
  std::sort(ids.begin(), ids.end(), [this](uint32_t a, uint32_t b) { return PriorityLess(a, b); });

  // The event's profile: its highest-priority identifier that links, else its highest-priority one.
  auto event_profile = [&] {
    for (uint32_t n : ids) {
      if (Excluded(n) == Reason::kNone) return IdOf(n);
    }
    return IdOf(ids[0]);
  };
  if (ids.size() == 1) {
    result.profile = event_profile();
    return result;
  }

  // Fold events with exactly the same identifiers into one record (keeping the earliest key).
  // `ids` is in priority order, a total order on nodes, so equal sets are equal vectors.
  const uint64_t set_hash = HashNodeSet(absl::MakeConstSpan(ids));
  auto existing = record_index_.find(set_hash);
  if (existing != record_index_.end()) {
    Record& rec = records_[existing->second];
    if (rec.alive && std::equal(rec.nodes.begin(), rec.nodes.end(), ids.begin(), ids.end())) {
      const bool same_event = rec.micros == micros && rec.source == event.source() &&
                              rec.event_id == event.event_id();
      if (!same_event) ++rec.count;
      // An alias of the same identifiers: the record's merge may now go ahead.
      const uint32_t renamed = RenamedType(event);
      const bool renames = renamed != kNoRename && rec.renamed_type != renamed;
      if (renames) rec.renamed_type = renamed;
      const bool earlier = micros < rec.micros ||
                           (micros == rec.micros && std::tie(event.source(), event.event_id()) <
                                                        std::tie(rec.source, rec.event_id));
      if (earlier) {
        rec.micros = micros;
        rec.event_hash = hash;
        rec.source = event.source();
        rec.event_id = event.event_id();
      }
      if (earlier || renames) Replay({ids.begin(), ids.end()}, &result);
      result.profile = event_profile();
      return result;
    }
  }
  const auto index = static_cast<uint32_t>(records_.size());
  Record rec;
  rec.micros = micros;
  rec.event_hash = hash;
  rec.source = event.source();
  rec.event_id = event.event_id();
  rec.nodes.assign(ids.begin(), ids.end());
  rec.renamed_type = RenamedType(event);
  records_.push_back(std::move(rec));
  ++live_records_;
  if (existing == record_index_.end()) record_index_.emplace(set_hash, index);
  for (uint32_t n : ids) node_records_[n].push_back(index);

  bool late = false;
  for (uint32_t n : ids) {
    const uint32_t max = comps_[Find(n)].max_record;
    if (max != kNone && RecordLess(index, max)) late = true;
  }
  if (late) {
    Replay({ids.begin(), ids.end()}, &result);
  } else {
    Apply(index, &result);
  }
  result.profile = event_profile();
  return result;
}

absl::Status Graph::CheckUsable(const Event& event, LinkMemo* link_memo) const {
  // Link's Lookup without its side effects: a known identifier is usable; a new one when its rule
  // accepts it (blocked and invalid ones are dropped).
  LinkMemo::State* memo = link_memo != nullptr ? &link_memo->state() : nullptr;
  if (memo != nullptr) memo->Bind(this, generation_);
  const uint64_t event_hash = memo != nullptr ? EventMark(event) : 0;
  const LinkMemo::State::PreparedEvent* prepared =
      memo != nullptr ? memo->PreparedOf(event, event_hash, memo->check_cursor) : nullptr;
  const int tenant = prepared != nullptr ? static_cast<int>(prepared->tenant) : FindTenant(event.tenant());
  std::string why;
  int index = 0;  // Of the identifier, as in LinkMemo::State::Ticket::identifier.
  auto usable = [&](const v1::Identifier& id) {
    const int at = index++;
    const LinkMemo::State::Prepared* pre = memo != nullptr ? memo->PreparedId(prepared, at) : nullptr;
    const int type = pre != nullptr ? pre->type : rules_->Find(id.type());
    Normalized norm;
    if (options_.unknown_types == UnknownTypes::kReject && !rules_->Configured(type)) {
      absl::StrAppend(&why, why.empty() ? "" : "; ", id.type(), ": ", kUnknownType);
      return false;
    }
    if (type >= 0 && tenant >= 0) {
      // With the memo: an identifier new to the graph may have been checked for an earlier event.
      Found found = FindExisting(static_cast<uint32_t>(tenant), static_cast<TypeIndex>(type), id.value(), memo,
                                 /*take=*/false, pre, id.region());
      if (found.node != kNone || found.norm.status == Normalized::Status::kOk) {
        if (memo != nullptr) {
          memo->tickets.push_back({&event, event_hash, true, at, static_cast<uint32_t>(tenant), static_cast<TypeIndex>(type),
                                   found.node, found.canonical, found.normalized, found.raw_hash});
          if (found.node == kNone && !found.from_memo && !found.hinted) {
            memo->keys[found.raw_hash] = {static_cast<uint32_t>(tenant), static_cast<TypeIndex>(type),
                                          id.value(), std::move(found.norm.value)};
          }
        }
        return true;
      }
      norm = std::move(found.norm);
    } else {
      norm = rules_->NormalizeByName(id.type(), id.value(), RegionFor(event.tenant(), id.region()));
    }
    if (norm.status == Normalized::Status::kOk) {
      if (memo != nullptr) memo->tickets.push_back({&event, event_hash, false});  // Link works it out.
      return true;
    }
    absl::StrAppend(&why, why.empty() ? "" : "; ", type >= 0 ? rules_->rule(static_cast<TypeIndex>(type)).type
                                                           : std::string(id.type()),
                    ": ", norm.reason);
    return false;
  };
  for (const auto& id : event.identifiers()) {
    if (usable(id)) return absl::OkStatus();
  }
  if (event.has_previous_id() && usable(event.previous_id())) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("identifiers: none usable (", why, ")"));
}

int64_t Graph::ProfilesAdded(const Event& event) const {
  // Link's view of the event without changing anything: its known identifiers (nodes) and its new
  // ones (match keys), then Apply's decisions replayed on copies of the components involved.
  const int tenant = FindTenant(event.tenant());
  const uint32_t renamed = RenamedType(event);
  struct Item {
    uint32_t node = kNone;     // Known identifier, or kNone for a new one.
    int rule = -1;             // Its type's index in rules_; -1: no rule yet (the default rule).
    int priority = 0;
    std::string_view type;
    std::string value;         // Match key (new identifiers).
    int comp = 0;              // Index in `comps` below.
  };
  std::vector<Item> items;
  bool unknown_type_limited = false;
  auto add = [&](const v1::Identifier& id) {
    const int type = rules_->Find(id.type());
    if (options_.unknown_types == UnknownTypes::kReject && !rules_->Configured(type)) {
      return;  // Dropped by Link.
    }
    Item item;
    item.rule = type;
    if (type >= 0 && tenant >= 0) {
      Found found = FindExisting(static_cast<uint32_t>(tenant), static_cast<TypeIndex>(type), id.value(), nullptr,
                                 false, nullptr, id.region());
      if (found.node != kNone) {
        item.node = found.node;
        item.value = std::string(nodes_[found.node].value());
      } else if (found.norm.status == Normalized::Status::kOk) {
        item.value = std::move(found.norm.value);
      } else {
        return;  // Blocked or invalid: dropped by Link.
      }
    } else {
      Normalized norm = rules_->NormalizeByName(id.type(), id.value(), RegionFor(event.tenant(), id.region()));
      if (norm.status != Normalized::Status::kOk) return;
      item.value = std::move(norm.value);
    }
    if (type >= 0) {
      item.priority = rules_->rule(static_cast<TypeIndex>(type)).rule.priority;
      item.type = rules_->rule(static_cast<TypeIndex>(type)).type;
    } else {
      item.priority = options_.default_rule.priority;
      item.type = id.type();
      unknown_type_limited |= options_.default_rule.max_per_profile > 0;
    }
    const bool seen = std::any_of(items.begin(), items.end(), [&](const Item& other) {
      return item.node != kNone ? other.node == item.node
                                : other.node == kNone && other.type == item.type && other.value == item.value;
    });
    if (!seen) items.push_back(std::move(item));
  };
  for (const auto& id : event.identifiers()) add(id);
  if (event.has_previous_id()) add(event.previous_id());
  const auto fresh = static_cast<int64_t>(
      std::count_if(items.begin(), items.end(), [](const Item& item) { return item.node == kNone; }));
  if (fresh == 0) return 0;
  if (items.size() == 1) return 1;

  // Components involved: one copy per known profile, a singleton per new identifier.
  std::vector<Comp> comps;
  std::vector<uint32_t> known_roots;
  std::vector<int> known_comps;  // Parallel to known_roots.
  for (Item& item : items) {
    if (item.node == kNone) {
      Comp c;
      if (item.rule >= 0) c.type_counts.assign({{static_cast<TypeIndex>(item.rule), 1}});
      item.comp = static_cast<int>(comps.size());
      comps.push_back(std::move(c));
      continue;
    }
    const uint32_t root = Find(item.node);
    auto at = std::find(known_roots.begin(), known_roots.end(), root);
    if (at == known_roots.end()) {
      known_roots.push_back(root);
      known_comps.push_back(static_cast<int>(comps.size()));
      item.comp = static_cast<int>(comps.size());
      comps.push_back(comps_[root]);
    } else {
      item.comp = known_comps[static_cast<size_t>(at - known_roots.begin())];
    }
  }
  // A late event is replayed with the records it precedes: count all its new identifiers (an
  // upper bound). So does a limit on identifiers of types without a rule (they have no counts yet).
  const int64_t micros = absl::ToUnixMicros(FromTimestamp(event.occurred_at()));
  for (uint32_t root : known_roots) {
    const uint32_t max = comps_[root].max_record;
    if (max == kNone) continue;
    const Record& last = records_[max];
    if (std::tie(micros, event.source(), event.event_id()) < std::tie(last.micros, last.source, last.event_id)) {
      return fresh;
    }
  }
  if (unknown_type_limited) return fresh;

  // Apply's rules in priority order (PriorityLess on what the nodes will hold).
  std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    if (a.priority != b.priority) return a.priority > b.priority;
    return a.type != b.type ? a.type < b.type : a.value < b.value;
  });
  std::vector<int> parent(comps.size());
  for (size_t i = 0; i < parent.size(); ++i) parent[i] = static_cast<int>(i);
  auto root_of = [&](int c) {
    while (parent[c] != c) c = parent[c];
    return c;
  };
  std::vector<const Item*> candidates;
  for (Item& item : items) {
    if (item.node != kNone) {
      if (Excluded(item.node) != Reason::kNone) continue;
    } else {
      const bool links = item.rule >= 0 ? rules_->rule(static_cast<TypeIndex>(item.rule)).rule.links
                                        : options_.default_rule.links;
      if (!links) continue;
    }
    candidates.push_back(&item);
  }
  if (options_.conflict_policy == ConflictPolicy::kDropLowestPriority) {
    while (!candidates.empty()) {  // DropUntilMergeable.
      std::vector<const Comp*> parts;
      for (const Item* item : candidates) {
        const Comp* c = &comps[item->comp];
        if (std::find(parts.begin(), parts.end(), c) == parts.end()) parts.push_back(c);
      }
      TypeIndex type = 0;
      if (CheckMergeAll(parts, &type, renamed) == Reason::kNone) break;
      candidates.pop_back();
    }
  }
  int acc = -1;
  const auto limit = static_cast<uint32_t>(options_.super_node_limit);
  std::vector<const Item*> joined;  // As in Apply.
  std::vector<uint32_t> counted(items.size(), 0);  // Attempts Apply would add, by item.
  // New identifiers of types without a rule have no type counts here: the default rule says.
  std::vector<uint8_t> unknown_personal(comps.size(), 0);
  for (const Item& item : items) {
    if (item.node == kNone && item.rule < 0 && options_.default_rule.personal) {
      unknown_personal[static_cast<size_t>(item.comp)] = 1;
    }
  }
  auto attempts = [&](const Item* item) {
    return (item->node == kNone ? 0 : nodes_[item->node].attempts) + counted[static_cast<size_t>(item - items.data())];
  };
  auto count = [&](const Item* item) { ++counted[static_cast<size_t>(item - items.data())]; };
  for (const Item* item : candidates) {
    const int r = root_of(item->comp);
    if (acc < 0 || r == acc) {
      acc = r;
      joined.push_back(item);
      continue;
    }
    count(item);
    if (attempts(item) > limit) continue;
    if (Personal(comps[r]) || unknown_personal[static_cast<size_t>(r)]) {
      const Item* hub = nullptr;
      for (const Item* m : joined) {
        count(m);
        if (hub == nullptr && attempts(m) > limit) hub = m;
      }
      if (hub != nullptr) {
        joined.erase(std::find(joined.begin(), joined.end(), hub));
        continue;
      }
    }
    TypeIndex type = 0;
    if (CheckMerge(comps[acc], comps[r], &type, renamed) != Reason::kNone) continue;
    // Union keeps the larger component's index as the root; the counts are what matter here.
    MergeCounts(comps[acc], comps[r]);
    parent[r] = acc;
    unknown_personal[static_cast<size_t>(acc)] |= unknown_personal[static_cast<size_t>(r)];
    joined.push_back(item);
  }
  int64_t after = 0;
  for (size_t c = 0; c < parent.size(); ++c) after += parent[c] == static_cast<int>(c) ? 1 : 0;
  return after - static_cast<int64_t>(known_roots.size());
}

void Graph::Prefetch(const Event& event, LinkMemo* link_memo) const {
  const int tenant = FindTenant(event.tenant());
  LinkMemo::State* memo = link_memo != nullptr ? &link_memo->state() : nullptr;
  if (memo != nullptr) {
    memo->Bind(this, generation_);
    memo->prepared_events.push_back({&event, EventMark(event), tenant >= 0,
                                     static_cast<uint32_t>(std::max(tenant, 0)), memo->prepared.size()});
  }
  if (tenant < 0) return;
  auto one = [&](const v1::Identifier& id) {
    const int type = rules_->Find(id.type());
    if (type < 0) {
      if (memo != nullptr) memo->prepared.push_back({LinkMemo::State::kUnknownType, false, 0});
      return;
    }
    const auto t = static_cast<TypeIndex>(type);
    const uint64_t hash = KeyHash(static_cast<uint32_t>(tenant), t, id.value());
    const bool raw = !rules_->IsCanonical(t, id.value());
    if (memo != nullptr) memo->prepared.push_back({t, !raw, hash});
    (raw ? raw_cache_ : node_index_).Prefetch(hash);
    // Second stage for the identifier announced kPipeline identifiers ago.
    Pending& slot = pending_[pending_count_++ % kPipeline];
    if (pending_count_ > kPipeline) {
      if (slot.raw) {
        if (uint32_t e = raw_cache_.Peek(slot.hash); e != KeyTable::kEmpty) __builtin_prefetch(&raw_entries_[e]);
      } else {
        if (uint32_t n = node_index_.Peek(slot.hash); n != KeyTable::kEmpty) __builtin_prefetch(&nodes_[n]);
      }
    }
    slot = {raw, hash};
  };
  for (const auto& id : event.identifiers()) one(id);
  if (event.has_previous_id()) one(event.previous_id());
  if (memo != nullptr) memo->prepared_events.back().count = memo->prepared.size() - memo->prepared_events.back().first;
}

absl::StatusOr<uint32_t> Graph::FindNode(std::string_view tenant, std::string_view type,
                                         std::string_view value) const {
  const int t = FindTenant(tenant);
  const int type_index = rules_->Find(type);
  if (t < 0 || type_index < 0) {
    return absl::NotFoundError(absl::StrCat("no identifier ", ToAbsl(type), " in tenant '", ToAbsl(tenant), "'"));
  }
  const Found found = FindExisting(t, static_cast<TypeIndex>(type_index), value);
  if (found.node != kNone) return found.node;
  if (found.norm.status == Normalized::Status::kInvalid) {
    return absl::InvalidArgumentError(absl::StrCat(ToAbsl(type), ": ", found.norm.reason));
  }
  if (found.norm.status == Normalized::Status::kBlocked) {
    return absl::NotFoundError(absl::StrCat(ToAbsl(type), ": a blocked placeholder value identifies nobody"));
  }
  return absl::NotFoundError(absl::StrCat("unknown ", ToAbsl(type), " in tenant '", ToAbsl(tenant), "'"));
}

Graph::Found Graph::FindExisting(uint32_t tenant, TypeIndex type, std::string_view raw,
                                 LinkMemo::State* memo, bool take,
                                 const LinkMemo::State::Prepared* pre, std::string_view hint) const {
  Found found;
  found.raw_hash = pre != nullptr ? pre->raw_hash : KeyHash(tenant, type, raw);
  found.canonical = pre != nullptr ? pre->canonical : rules_->IsCanonical(type, raw);
  // A national phone number in a region of its own: the raw spelling means another number than in
  // the tenant's region, so neither the raw-value cache nor the memo (keyed by spelling) is used.
  if (!found.canonical && !hint.empty() && hint != tenant_regions_[tenant] &&
      rules_->rule(type).rule.normalizer == Normalizer::kPhone) {
    found.hinted = true;
    found.norm = rules_->Normalize(type, raw, hint);
    if (found.norm.status != Normalized::Status::kOk) return found;
    found.norm_hash = KeyHash(tenant, type, found.norm.value);
    found.node = FindIndexed(found.norm_hash, tenant, type, found.norm.value);
    return found;
  }
  // A known value that is its own match key needs one probe of the node index and no cache entry.
  if (found.canonical) {
    found.node = FindIndexed(found.raw_hash, tenant, type, raw);
    if (found.node != kNone) return found;
  } else {
    const uint32_t entry = raw_cache_.Find(found.raw_hash, [&](uint32_t e) {
      const RawEntry& r = raw_entries_[e];
      return r.tenant == tenant && r.type == type && r.raw == raw;
    });
    if (entry != KeyTable::kEmpty) {
      found.node = raw_entries_[entry].node;
      return found;
    }
  }
  bool memoized = false;
  if (memo != nullptr && !memo->keys.empty()) {
    auto it = memo->keys.find(found.raw_hash);
    if (it != memo->keys.end() && it->second.tenant == tenant && it->second.type == type && it->second.raw == raw) {
      memoized = true;
      if (take) {
        found.norm.value = std::move(it->second.key);
        memo->keys.erase(it);
      } else {
        found.norm.value = it->second.key;
      }
    }
  }
  if (memoized) {
    found.from_memo = true;
  } else {
    found.norm = rules_->Normalize(type, raw, tenant_regions_[tenant]);
    if (found.norm.status != Normalized::Status::kOk) return found;
  }
  found.norm_hash = found.canonical && found.norm.value == raw ? found.raw_hash
                                                               : KeyHash(tenant, type, found.norm.value);
  found.node = FindIndexed(found.norm_hash, tenant, type, found.norm.value);
  found.normalized = found.node != kNone;
  return found;
}

absl::StatusOr<ProfileId> Graph::Resolve(std::string_view tenant, std::string_view type,
                                         std::string_view value) const {
  ASSIGN_OR_RETURN(uint32_t n, FindNode(tenant, type, value));
  return IdOf(n);
}

absl::StatusOr<ProfileId> Graph::ResolveIdentifiers(std::string_view tenant,
                                                    const std::vector<IdentifierValue>& ids) const {
  // Link's rule for the event's profile: the highest-priority known identifier that links, else the
  // highest-priority known one.
  uint32_t best = kNone;
  uint32_t best_linking = kNone;
  for (const IdentifierValue& id : ids) {
    auto n = FindNode(tenant, id.type, id.value);
    if (!n.ok()) continue;
    if (best == kNone || PriorityLess(*n, best)) best = *n;
    if (Excluded(*n) == Reason::kNone && (best_linking == kNone || PriorityLess(*n, best_linking))) {
      best_linking = *n;
    }
  }
  if (best == kNone) return absl::NotFoundError("none of the identifiers is known");
  return IdOf(best_linking != kNone ? best_linking : best);
}

absl::StatusOr<std::string> Graph::MatchKey(std::string_view tenant, std::string_view type, std::string_view value,
                                            std::string_view region) const {
  Normalized norm = rules_->NormalizeByName(type, value, RegionFor(tenant, region));
  if (norm.status == Normalized::Status::kInvalid) {
    return absl::InvalidArgumentError(absl::StrCat(ToAbsl(type), ": ", norm.reason));
  }
  if (norm.status == Normalized::Status::kBlocked) {
    return absl::InvalidArgumentError(absl::StrCat(ToAbsl(type), ": a blocked placeholder value"));
  }
  return std::move(norm.value);
}

absl::StatusOr<uint32_t> Graph::RootOfProfile(ProfileId id) const {
  auto it = id_index_.find(id);
  if (it == id_index_.end()) {
    return absl::NotFoundError(absl::StrCat("profile ", FormatProfileId(id), " not found"));
  }
  return Find(it->second);
}

absl::StatusOr<ProfileId> Graph::ResolveProfile(ProfileId id) const {
  ASSIGN_OR_RETURN(uint32_t root, RootOfProfile(id));
  return IdOfRoot(root);
}

absl::StatusOr<std::vector<IdentifierValue>> Graph::Identifiers(ProfileId id) const {
  ASSIGN_OR_RETURN(uint32_t root, RootOfProfile(id));
  std::vector<uint32_t> members;
  Members(root, &members);
  std::sort(members.begin(), members.end(), [this](uint32_t a, uint32_t b) { return PriorityLess(a, b); });
  std::vector<IdentifierValue> out;
  out.reserve(members.size());
  for (uint32_t n : members) out.push_back({rules_->rule(nodes_[n].type).type, std::string(nodes_[n].value())});
  return out;
}

// The audit of one profile, read in steps (Graph::BeginExplain). Entries keep the order Explain
// always had: by time; at one time, records before operator actions, records by (source, event_id,
// record), a record's decisions and the actions in the order they were made.
class GraphAuditCursor final : public AuditCursor {
 public:
  bool done() const override { return done_; }
  int64_t folded() const override { return folded_; }
  std::vector<AuditEntry> Take() && override {
    std::vector<size_t> order(entries_.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [this](size_t a, size_t b) {
      const AuditEntry& x = entries_[a];
      const AuditEntry& y = entries_[b];
      if (x.time != y.time) return x.time < y.time;
      if (seq_[a].first != seq_[b].first) return seq_[a].first < seq_[b].first;  // Records, then actions.
      if (x.source != y.source) return x.source < y.source;
      if (x.event_id != y.event_id) return x.event_id < y.event_id;
      return seq_[a].second < seq_[b].second;
    });
    std::vector<AuditEntry> out;
    out.reserve(order.size() + 1);
    if (folded_ > 0) {
      AuditEntry e;
      e.action = AuditEntry::Action::kFolded;
      e.time = order.empty() ? absl::InfinitePast() : entries_[order.front()].time;
      e.reason = absl::StrCat(folded_, " older link records folded (identity.max_audit_records)");
      out.push_back(std::move(e));
    }
    for (size_t i : order) out.push_back(std::move(entries_[i]));
    return out;
  }

 private:
  friend class Graph;
  absl::flat_hash_set<uint32_t> members_;
  absl::flat_hash_set<ProfileId> member_ids_;
  std::vector<uint32_t> records_;  // Sorted, unique; read from records_[next_].
  size_t next_ = 0;
  bool done_ = false;
  int64_t folded_ = 0;
  std::vector<AuditEntry> entries_;
  std::vector<std::pair<int, uint64_t>> seq_;  // Per entry: (0 record / 1 action, order within).
};

absl::StatusOr<std::unique_ptr<AuditCursor>> Graph::BeginExplain(ProfileId id) const {
  ASSIGN_OR_RETURN(uint32_t root, RootOfProfile(id));
  auto cursor = std::make_unique<GraphAuditCursor>();
  std::vector<uint32_t> members;
  Members(root, &members);
  cursor->members_.reserve(members.size());
  for (uint32_t n : members) {
    cursor->members_.insert(n);
    cursor->member_ids_.insert(nodes_[n].own_id);
    for (uint32_t r : node_records_[n]) cursor->records_.push_back(r);
  }
  std::sort(cursor->records_.begin(), cursor->records_.end());
  cursor->records_.erase(std::unique(cursor->records_.begin(), cursor->records_.end()), cursor->records_.end());
  // The newest records (by arrival) within the cap; the others are folded into one entry.
  const size_t cap = options_.max_audit_records > 0 ? static_cast<size_t>(options_.max_audit_records) : 0;
  if (cap > 0 && cursor->records_.size() > cap) {
    const size_t drop = cursor->records_.size() - cap;
    cursor->folded_ = static_cast<int64_t>(drop);
    cursor->records_.erase(cursor->records_.begin(), cursor->records_.begin() + static_cast<std::ptrdiff_t>(drop));
  }
  return cursor;
}

bool Graph::ContinueExplain(AuditCursor& base, size_t max_records) const {
  auto& cursor = static_cast<GraphAuditCursor&>(base);
  if (cursor.done_) return true;
  const size_t end = cursor.records_.size() - cursor.next_ <= max_records ? cursor.records_.size()
                                                                          : cursor.next_ + max_records;
  for (; cursor.next_ < end; ++cursor.next_) {
    const uint32_t r = cursor.records_[cursor.next_];
    const Record& rec = records_[r];
    if (!rec.alive) continue;
    for (size_t k = 0; k < rec.decisions.size(); ++k) {
      const Decision& d = rec.decisions[k];
      // The profile's own links, and every refusal on an event that touched it (the refused
      // identifier may belong to the other profile).
      const bool refusal = d.action != AuditEntry::Action::kLinked && d.action != AuditEntry::Action::kMerged;
      if (!cursor.members_.contains(d.node) && !refusal) continue;
      AuditEntry e;
      e.action = d.action;
      e.time = absl::FromUnixMicros(rec.micros);
      e.source = rec.source;
      e.event_id = rec.event_id;
      e.identifier = {rules_->rule(nodes_[d.node].type).type, std::string(nodes_[d.node].value())};
      e.other = d.other;
      e.reason = ReasonText(d.reason, d.type);
      cursor.entries_.push_back(std::move(e));
      cursor.seq_.push_back({0, (static_cast<uint64_t>(r) << 20) | std::min<size_t>(k, (1u << 20) - 1)});
    }
  }
  if (cursor.next_ < cursor.records_.size()) return false;
  for (size_t k = 0; k < operations_.size(); ++k) {
    const Operation& op = operations_[k];
    if (!std::any_of(op.profiles.begin(), op.profiles.end(),
                     [&](ProfileId p) { return cursor.member_ids_.contains(p); })) {
      continue;
    }
    AuditEntry e;
    e.action = op.action;
    e.time = op.time;
    e.identifier = {op.type, op.value};
    e.reason = op.reason;
    cursor.entries_.push_back(std::move(e));
    cursor.seq_.push_back({1, k});
  }
  cursor.done_ = true;
  return true;
}

absl::StatusOr<std::vector<AuditEntry>> Graph::Explain(ProfileId id) const {
  ASSIGN_OR_RETURN(std::unique_ptr<AuditCursor> cursor, BeginExplain(id));
  ContinueExplain(*cursor, std::numeric_limits<size_t>::max());
  return std::move(*cursor).Take();
}

absl::StatusOr<std::vector<ProfileId>> Graph::Unlink(std::string_view tenant, std::string_view type,
                                                     std::string_view value) {
  ASSIGN_OR_RETURN(uint32_t n, FindNode(tenant, type, value));
  ++generation_;
  std::vector<uint32_t> seeds;
  Members(Find(n), &seeds);
  const ProfileId before = IdOf(n);
  nodes_[n].flags |= kUnlinkedFlag;
  LinkResult result;
  Replay(seeds, &result);
  operations_.push_back({AuditEntry::Action::kUnlinked, OperatorTime(), std::string(type), std::string(nodes_[n].value()),
                         {before, IdOf(n), nodes_[n].own_id}, "unlinked by an operator"});
  return result.changed;
}

absl::StatusOr<std::vector<ProfileId>> Graph::Split(ProfileId profile,
                                                    const std::vector<IdentifierValue>& part) {
  ASSIGN_OR_RETURN(uint32_t root, RootOfProfile(profile));
  ++generation_;
  std::vector<uint32_t> members;
  Members(root, &members);
  const uint32_t tenant = nodes_[root].tenant;
  absl::flat_hash_set<uint32_t> part_nodes;
  for (size_t i = 0; i < part.size(); ++i) {
    auto n = FindNode(tenants_[tenant], part[i].type, part[i].value);
    if (!n.ok() || Find(*n) != root) {
      return absl::InvalidArgumentError(absl::StrCat("part[", i, "]: ", part[i].type,
                                                     " is not an identifier of profile ", FormatProfileId(profile)));
    }
    part_nodes.insert(*n);
  }
  if (part_nodes.empty()) return absl::InvalidArgumentError("part: empty");
  if (part_nodes.size() == members.size()) {
    return absl::InvalidArgumentError("part: must leave at least one identifier in the profile");
  }
  const uint32_t split = ++next_split_;
  for (uint32_t n : members) split_labels_[n].emplace_back(split, part_nodes.contains(n) ? 0 : 1);
  const ProfileId before = IdOfRoot(root);
  LinkResult result;
  Replay(members, &result);
  const uint32_t part_first = *std::min_element(part_nodes.begin(), part_nodes.end(),
                                                [this](uint32_t a, uint32_t b) { return PriorityLess(a, b); });
  uint32_t rest_first = kNone;
  for (uint32_t n : members) {
    if (!part_nodes.contains(n) && (rest_first == kNone || PriorityLess(n, rest_first))) rest_first = n;
  }
  std::vector<ProfileId> out = {IdOf(part_first), IdOf(rest_first)};
  operations_.push_back({AuditEntry::Action::kSplit, OperatorTime(), "", "", {before, out[0], out[1]},
                         absl::StrCat("split by an operator into ", FormatProfileId(out[0]), " and ",
                                      FormatProfileId(out[1]))});
  return out;
}

void Graph::EraseNode(uint32_t n, std::vector<uint32_t>* neighbours) {
  ++generation_;
  Node& node = nodes_[n];
  for (uint32_t r : node_records_[n]) {
    Record& rec = records_[r];
    if (!rec.alive) continue;
    rec.nodes.erase(std::remove(rec.nodes.begin(), rec.nodes.end(), n), rec.nodes.end());
    rec.decisions.clear();
    neighbours->insert(neighbours->end(), rec.nodes.begin(), rec.nodes.end());
    if (rec.nodes.size() < 2) {
      // A single identifier links nothing: the record is gone.
      rec.alive = false;
      --live_records_;
      for (uint32_t m : rec.nodes) {
        auto& list = node_records_[m];
        list.erase(std::remove(list.begin(), list.end(), r), list.end());
      }
      rec.nodes.clear();
    }
  }
  for (Operation& op : operations_) {
    if (op.value == node.value() && op.type == rules_->rule(node.type).type) op.value.clear();
  }
  node_index_.Erase(KeyHash(node.tenant, node.type, node.value()), n);
  id_index_.erase(node.own_id);
  if (node.value_size <= Node::kInline) {
    std::memset(node.inline_value, 0, sizeof(node.inline_value));
  } else {
    StringArena::Wipe(node.value());
    node.arena_value = nullptr;
  }
  node.value_size = 0;
  RecordList().swap(node_records_[n]);
  split_labels_.erase(n);
  if (node.flags & kSuperFlag) --super_nodes_;
  node.flags = kErasedFlag;
  // Raw spellings of the value may sit in the cache under any key: drop it all.
  ClearRawCache();
  --live_nodes_;
}

absl::StatusOr<std::vector<ProfileId>> Graph::EraseIdentifier(std::string_view tenant, std::string_view type,
                                                              std::string_view value) {
  ASSIGN_OR_RETURN(uint32_t n, FindNode(tenant, type, value));
  std::vector<uint32_t> seeds;
  Members(Find(n), &seeds);
  const bool alone = seeds.size() == 1;
  const ProfileId before = IdOf(n);
  const uint32_t tenant_index = nodes_[n].tenant;
  EraseNode(n, &seeds);  // Adds the other identifiers of its records (perhaps of other profiles).
  seeds.erase(std::remove(seeds.begin(), seeds.end(), n), seeds.end());
  LinkResult result;
  if (alone) AddProfiles(tenant_index, -1);  // It was a profile of its own: gone.
  // Recounts the profiles of the remaining members and of profiles it had been refused to join.
  if (!seeds.empty()) Replay(seeds, &result);
  std::vector<ProfileId> changed = result.changed;
  if (std::find(changed.begin(), changed.end(), before) == changed.end()) changed.push_back(before);
  operations_.push_back({AuditEntry::Action::kErased, OperatorTime(), std::string(type), "", changed,
                         "identifier erased (GDPR)"});
  return changed;
}

absl::StatusOr<std::vector<ProfileId>> Graph::EraseProfile(ProfileId profile) {
  ASSIGN_OR_RETURN(uint32_t root, RootOfProfile(profile));
  const ProfileId id = IdOfRoot(root);
  std::vector<uint32_t> members;
  Members(root, &members);
  std::vector<uint32_t> neighbours;
  const uint32_t tenant = nodes_[root].tenant;
  for (uint32_t n : members) EraseNode(n, &neighbours);
  neighbours.erase(std::remove_if(neighbours.begin(), neighbours.end(),
                                  [this](uint32_t n) { return (nodes_[n].flags & kErasedFlag) != 0; }),
                   neighbours.end());
  AddProfiles(tenant, -1);
  std::vector<ProfileId> changed = {id};
  if (!neighbours.empty()) {
    // Profiles refused a merge with the erased one may merge now.
    LinkResult result;
    Replay(neighbours, &result);
    for (ProfileId p : result.changed) {
      if (p != id) changed.push_back(p);
    }
  }
  operations_.push_back({AuditEntry::Action::kErased, OperatorTime(), "", "", {id}, "profile erased (GDPR)"});
  return changed;
}

IdentityStats Graph::Stats() const {
  IdentityStats s;
  s.identifiers = live_nodes_;
  s.profiles = live_profiles_;
  s.link_records = live_records_;
  s.replays = replays_;
  s.refusals = refusals_;
  s.super_nodes = super_nodes_;
  s.unknown_type_identifiers = unknown_type_identifiers_;
  return s;
}

bool Graph::ContainsStringForTesting(std::string_view needle) const {
  auto has = [&](std::string_view s) { return s.find(needle) != std::string_view::npos; };
  for (const Node& n : nodes_) {
    if (has(n.value()) || has(std::string_view(n.inline_value, Node::kInline))) return true;
  }
  bool found = false;
  values_.ForEachChunk([&](std::string_view bytes) { found = found || has(bytes); });
  raw_arena_.ForEachChunk([&](std::string_view bytes) { found = found || has(bytes); });
  if (found) return true;
  for (const Record& r : records_) {
    if (has(r.source) || has(r.event_id)) return true;
  }
  for (const Operation& op : operations_) {
    if (has(op.value) || has(op.reason) || has(op.type)) return true;
  }
  return false;
}

}  // namespace
}  // namespace internal

std::string FormatProfileId(ProfileId id) {
  return absl::StrCat("p-", absl::Hex(id, absl::kZeroPad16));
}

absl::StatusOr<ProfileId> ParseProfileId(std::string_view text) {
  if (text.size() != 18 || text.substr(0, 2) != "p-") {
    return absl::InvalidArgumentError(absl::StrCat("profile id '", internal::ToAbsl(text.substr(0, 40)),
                                                   "' is not of the form p-<16 hex digits>"));
  }
  ProfileId id = 0;
  for (char c : text.substr(2)) {
    int d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else return absl::InvalidArgumentError(absl::StrCat("profile id '", internal::ToAbsl(text), "' has a non-hex digit"));
    id = (id << 4) | static_cast<ProfileId>(d);
  }
  return id;
}

std::string AuditEntry::ToString() const {
  std::string out = FormatRfc3339(time);
  auto ident = [&] { return identifier.value.empty() ? identifier.type : absl::StrCat(identifier.type, "=", identifier.value); };
  switch (action) {
    case Action::kLinked: absl::StrAppend(&out, " linked ", ident()); break;
    case Action::kMerged: absl::StrAppend(&out, " merged ", FormatProfileId(other), " via ", ident()); break;
    case Action::kRefused:
      absl::StrAppend(&out, " refused to merge ", FormatProfileId(other), " via ", ident(), ": ", reason);
      break;
    case Action::kDropped: absl::StrAppend(&out, " dropped ", ident(), ": ", reason); break;
    case Action::kNotLinking: absl::StrAppend(&out, " did not link ", ident(), ": ", reason); break;
    case Action::kUnlinked: absl::StrAppend(&out, " unlinked ", ident(), ": ", reason); break;
    case Action::kSplit: absl::StrAppend(&out, " ", reason); break;
    case Action::kErased: absl::StrAppend(&out, " erased ", identifier.type, identifier.type.empty() ? "" : " ", "(", reason, ")"); break;
    case Action::kFolded: absl::StrAppend(&out, " ", reason); break;
  }
  if (!source.empty()) absl::StrAppend(&out, " (", source, "/", event_id, ")");
  return out;
}

// --- Snapshots ------------------------------------------------------------------------------
// Everything that decides future links is written as it is (indexes whose order or contents
// matter, like the record and id indexes, included); the node index is rebuilt from the nodes
// (its hashes are per process) and the raw-spelling cache starts empty (a cache only).

namespace internal {
namespace {
// 2: the count of unknown-type identifiers; 3: the records' renamed types (2 is read: no renames).
constexpr uint32_t kGraphFormat = 3;
}  // namespace

void Graph::Save(SerialWriter& w) const {
  w.U32(kGraphFormat);
  w.Varint(rules_->size());
  for (size_t t = 0; t < rules_->size(); ++t) w.Bytes(rules_->rule(static_cast<TypeIndex>(t)).type);
  w.Varint(tenants_.size());
  for (size_t t = 0; t < tenants_.size(); ++t) {
    w.Bytes(tenants_[t]);
    w.I64(tenant_profiles_[t]);
  }
  w.Varint(nodes_.size());
  for (size_t n = 0; n < nodes_.size(); ++n) {
    const Node& node = nodes_[n];
    w.U32(node.parent);
    w.U32(node.tenant);
    w.U32(node.attempts);
    w.U32(node.type);
    w.U8(node.flags);
    w.I64(node.first_micros);
    w.U64(node.own_id);
    w.U64(node.root_id);
    w.Bytes(node.value());
    w.U32(next_[n]);
    w.U64(first_hash_[n]);
    w.Varint(node_records_[n].size());
    for (uint32_t r : node_records_[n]) w.U32(r);
    const Comp& c = comps_[n];
    w.U32(c.size);
    w.U32(c.merges);
    w.U32(c.max_record);
    w.U32(c.anchor);
    w.Varint(c.type_counts.size());
    for (const auto& [type, count] : c.type_counts) {
      w.U32(type);
      w.U32(count);
    }
    w.Varint(c.labels.size());
    for (const auto& [split, side] : c.labels) {
      w.U32(split);
      w.U8(side);
    }
  }
  w.Varint(records_.size());
  for (const Record& rec : records_) {
    w.I64(rec.micros);
    w.U64(rec.event_hash);
    w.Bytes(rec.source);
    w.Bytes(rec.event_id);
    w.Varint(rec.nodes.size());
    for (uint32_t n : rec.nodes) w.U32(n);
    w.U32(rec.count);
    w.Bool(rec.alive);
    w.U32(rec.renamed_type);
    w.Varint(rec.decisions.size());
    for (const Decision& d : rec.decisions) {
      w.U32(d.node);
      w.U8(static_cast<uint8_t>(d.action));
      w.U8(static_cast<uint8_t>(d.reason));
      w.U32(d.type);
      w.U64(d.other);
    }
  }
  w.Varint(operations_.size());
  for (const Operation& op : operations_) {
    w.U8(static_cast<uint8_t>(op.action));
    w.Time(op.time);
    w.Bytes(op.type);
    w.Bytes(op.value);
    w.Varint(op.profiles.size());
    for (ProfileId p : op.profiles) w.U64(p);
    w.Bytes(op.reason);
  }
  w.Varint(split_labels_.size());
  for (const auto& [node, labels] : split_labels_) {
    w.U32(node);
    w.Varint(labels.size());
    for (const auto& [split, side] : labels) {
      w.U32(split);
      w.U8(side);
    }
  }
  w.Varint(id_index_.size());
  for (const auto& [id, node] : id_index_) {
    w.U64(id);
    w.U32(node);
  }
  w.Varint(record_index_.size());
  for (const auto& [hash, record] : record_index_) {
    w.U64(hash);
    w.U32(record);
  }
  w.U32(next_split_);
  for (int64_t v : {live_nodes_, live_profiles_, live_records_, replays_, refusals_, super_nodes_,
                    unknown_type_identifiers_}) {
    w.I64(v);
  }
}

absl::Status Graph::Restore(SerialReader& r) {
  ++generation_;
  const uint32_t format = r.U32();
  if (format != kGraphFormat && format != 2) return absl::DataLossError("snapshot: identity graph: unknown format");
  // Types in index order: the configured rules come first, in the same order, or the options changed.
  const size_t types = r.Count();
  for (size_t t = 0; t < types && r.ok(); ++t) {
    const std::string_view type = r.Bytes();
    if (rules_->Intern(type) != t) {
      return absl::FailedPreconditionError(
          absl::StrCat("snapshot: identity graph: identifier type '", ToAbsl(type), "' has another index (rules changed)"));
    }
  }
  const size_t tenants = r.Count();
  for (size_t t = 0; t < tenants && r.ok(); ++t) {
    const std::string_view name = r.Bytes();
    if (InternTenant(name) != t) r.Fail();
    tenant_profiles_[t] = r.I64();
  }
  const size_t nodes = r.Count(40);
  nodes_.resize(nodes);
  comps_.resize(nodes);
  next_.resize(nodes);
  first_hash_.resize(nodes);
  node_records_.resize(nodes);
  for (size_t n = 0; n < nodes && r.ok(); ++n) {
    Node& node = nodes_[n];
    node.parent = r.U32();
    node.tenant = r.U32();
    node.attempts = r.U32();
    node.type = static_cast<TypeIndex>(r.U32());
    node.flags = r.U8();
    node.first_micros = r.I64();
    node.own_id = r.U64();
    node.root_id = r.U64();
    const std::string_view value = r.Bytes();
    node.value_size = static_cast<uint32_t>(value.size());
    if (value.size() <= Node::kInline) {
      std::memcpy(node.inline_value, value.data(), value.size());
    } else {
      node.arena_value = values_.Add(value).data();
    }
    next_[n] = r.U32();
    first_hash_[n] = r.U64();
    const size_t lists = r.Count(4);
    for (size_t i = 0; i < lists; ++i) node_records_[n].push_back(r.U32());
    Comp& c = comps_[n];
    c.size = r.U32();
    c.merges = r.U32();
    c.max_record = r.U32();
    c.anchor = r.U32();
    c.type_counts.clear();
    const size_t counts = r.Count(8);
    for (size_t i = 0; i < counts; ++i) {
      const auto type = static_cast<TypeIndex>(r.U32());
      c.type_counts.emplace_back(type, r.U32());
    }
    const size_t labels = r.Count(5);
    for (size_t i = 0; i < labels; ++i) {
      const uint32_t split = r.U32();
      c.labels.emplace_back(split, r.U8());
    }
    if (node.parent >= nodes || next_[n] >= nodes || node.tenant >= tenants || node.type >= types) r.Fail();
  }
  const size_t records = r.Count(30);
  records_.resize(records);
  for (size_t i = 0; i < records && r.ok(); ++i) {
    Record& rec = records_[i];
    rec.micros = r.I64();
    rec.event_hash = r.U64();
    rec.source = std::string(r.Bytes());
    rec.event_id = std::string(r.Bytes());
    const size_t members = r.Count(4);
    for (size_t k = 0; k < members; ++k) rec.nodes.push_back(r.U32());
    rec.count = r.U32();
    rec.alive = r.Bool();
    rec.renamed_type = format >= 3 ? r.U32() : kNoRename;
    const size_t decisions = r.Count(18);
    for (size_t k = 0; k < decisions; ++k) {
      Decision d;
      d.node = r.U32();
      d.action = static_cast<AuditEntry::Action>(r.U8());
      d.reason = static_cast<Reason>(r.U8());
      d.type = static_cast<TypeIndex>(r.U32());
      d.other = r.U64();
      rec.decisions.push_back(d);
    }
    for (uint32_t n : rec.nodes) {
      if (n >= nodes) r.Fail();
    }
  }
  const size_t operations = r.Count(10);
  for (size_t i = 0; i < operations && r.ok(); ++i) {
    Operation op;
    op.action = static_cast<AuditEntry::Action>(r.U8());
    op.time = r.Time();
    op.type = std::string(r.Bytes());
    op.value = std::string(r.Bytes());
    const size_t profiles = r.Count(8);
    for (size_t k = 0; k < profiles; ++k) op.profiles.push_back(r.U64());
    op.reason = std::string(r.Bytes());
    operations_.push_back(std::move(op));
  }
  const size_t labelled = r.Count(5);
  for (size_t i = 0; i < labelled && r.ok(); ++i) {
    SplitLabels& labels = split_labels_[r.U32()];
    const size_t count = r.Count(5);
    for (size_t k = 0; k < count; ++k) {
      const uint32_t split = r.U32();
      labels.emplace_back(split, r.U8());
    }
  }
  const size_t ids = r.Count(12);
  id_index_.reserve(ids);
  for (size_t i = 0; i < ids && r.ok(); ++i) {
    const ProfileId id = r.U64();
    id_index_[id] = r.U32();
  }
  const size_t sets = r.Count(12);
  record_index_.reserve(sets);
  for (size_t i = 0; i < sets && r.ok(); ++i) {
    const uint64_t hash = r.U64();
    record_index_[hash] = r.U32();
  }
  next_split_ = r.U32();
  for (int64_t* v : {&live_nodes_, &live_profiles_, &live_records_, &replays_, &refusals_, &super_nodes_,
                     &unknown_type_identifiers_}) {
    *v = r.I64();
  }
  RETURN_IF_ERROR(r.status("identity graph"));
  node_index_.Reserve(nodes);
  for (size_t n = 0; n < nodes; ++n) {
    const Node& node = nodes_[n];
    if (node.flags & kErasedFlag) continue;
    node_index_.Insert(KeyHash(node.tenant, node.type, node.value()), static_cast<uint32_t>(n));
  }
  return absl::OkStatus();
}

void SaveIdentityGraph(const IdentityGraph& graph, SerialWriter& w) { static_cast<const Graph&>(graph).Save(w); }

absl::StatusOr<std::unique_ptr<IdentityGraph>> LoadIdentityGraph(const IdentityOptions& options, SerialReader& r) {
  ASSIGN_OR_RETURN(auto rules, RuleSet::Create(options));
  auto graph = std::make_unique<Graph>(options, std::move(rules));
  RETURN_IF_ERROR(graph->Restore(r));
  return std::unique_ptr<IdentityGraph>(std::move(graph));
}

}  // namespace internal

absl::StatusOr<std::unique_ptr<IdentityGraph>> IdentityGraph::Create(const IdentityOptions& options) {
  ASSIGN_OR_RETURN(auto rules, internal::RuleSet::Create(options));
  return std::unique_ptr<IdentityGraph>(new internal::Graph(options, std::move(rules)));
}

}  // namespace omnijourney
