// The identity graph's audit trail and operator actions: explain, unlink, split, erasure; stats;
// profile ids and audit entries as text.
#include "identity/graph.h"

namespace omnijourney::internal::graph {

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

void Graph::RecordErasure(std::string_view type, const std::vector<ProfileId>& profiles) {
  operations_.push_back({AuditEntry::Action::kErased, OperatorTime(), std::string(type), "", profiles,
                         type.empty() ? "profile erased (GDPR)" : "identifier erased (GDPR)"});
}

std::vector<ProfileId> Graph::LastErasureProfiles() const {
  for (auto it = operations_.rbegin(); it != operations_.rend(); ++it) {
    if (it->action == AuditEntry::Action::kErased) return it->profiles;
  }
  return {};
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

}  // namespace omnijourney::internal::graph

namespace omnijourney {

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

}  // namespace omnijourney
