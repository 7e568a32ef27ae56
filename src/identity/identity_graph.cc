// The identity graph: interned identifiers, link records with provenance, union-find with merge
// protection, replay of the affected part on late events and operator changes.
//
// Invariant (what makes the result independent of arrival order): the partition equals applying all
// live link records in key order (event time, then source and event id) from scratch. A record that
// is newer than every record already applied to the components it touches is applied directly; an
// older one makes the graph replay its closure (all nodes reachable through records, refused or not).
#include "identity/graph.h"

namespace omnijourney {

LinkMemo::LinkMemo() : state_(std::make_unique<State>()) {}
LinkMemo::~LinkMemo() = default;
void LinkMemo::Clear() { state_->Clear(); }

namespace internal::graph {

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

Reason Graph::CheckMerge(const Comp& ca, const Comp& cb, TypeIndex* type, Rename rename) const {
  for (const auto& [t, count] : cb.type_counts) {
    const int max = rules_->rule(t).rule.max_per_profile;
    if (max <= 0) continue;
    uint32_t have = 0;
    for (const auto& [ta, ca_count] : ca.type_counts) {
      if (ta == t) have = ca_count;
    }
    const uint32_t allowed = static_cast<uint32_t>(max) + (t == rename.type ? rename.allowance : 0);
    if (have + count > allowed) {
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
  // An alias: its previous_id's side may join beyond its type's limit by its own ids, and once it is
  // in acc's profile, what else joins may not bring more than the limit allows without it.
  const uint32_t prev = rec.renamed_node != kNoRename &&
                                std::find(candidates.begin(), candidates.end(), rec.renamed_node) != candidates.end()
                            ? rec.renamed_node
                            : kNone;
  Rename rename;
  bool prev_in_acc = false;
  if (prev != kNone) rename.type = nodes_[prev].type;
  for (uint32_t n : candidates) {
    const uint32_t r = Find(n);
    if (acc == kNone || r == acc) {
      if (acc == kNone) {
        acc = r;
        if (prev != kNone && Find(prev) == r) {
          prev_in_acc = true;
          rename.allowance = CountOf(comps_[r], rename.type);
        }
      }
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
    const bool prev_joins = prev != kNone && !prev_in_acc && Find(prev) == r;
    Rename allowed;
    if (prev_joins) {
      allowed = {rename.type, CountOf(comps_[r], rename.type)};
    } else if (prev_in_acc) {
      allowed = rename;
    }
    if (Reason reason = CheckMerge(comps_[acc], comps_[r], &type, allowed); reason != Reason::kNone) {
      refuse(n, reason, type, IdOfRoot(r));
      continue;
    }
    if (prev_joins) {
      prev_in_acc = true;
      rename = allowed;
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

Reason Graph::CheckMergeAll(const std::vector<const Comp*>& parts, TypeIndex* type, Rename rename) const {
  Comp agg = *parts[0];
  for (size_t i = 1; i < parts.size(); ++i) {
    if (Reason reason = CheckMerge(agg, *parts[i], type, rename); reason != Reason::kNone) return reason;
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
    Rename rename;
    if (rec.renamed_node != kNoRename &&
        std::find(candidates.begin(), candidates.end(), rec.renamed_node) != candidates.end()) {
      rename = {nodes_[rec.renamed_node].type, CountOf(comps_[Find(rec.renamed_node)], nodes_[rec.renamed_node].type)};
    }
    const Reason reason = CheckMergeAll(parts, &type, rename);
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
  uint32_t last = kNone;  // The node of the identifier added last (kNone when dropped).
  auto add = [&](const v1::Identifier& id) {
    uint32_t n;
    last = kNone;
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
    last = n;
    if (n != kNone && std::find(ids.begin(), ids.end(), n) == ids.end()) {
      ids.push_back(n);
    }
  };
  for (const auto& id : event.identifiers()) add(id);
  uint32_t previous = kNone;  // The previous_id's node.
  if (event.has_previous_id()) {
    add(event.previous_id());
    previous = last;
  }
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
      const bool renames = previous != kNone && Renames(event) && rec.renamed_node != previous &&
                           (rec.renamed_node == kNoRename || PriorityLess(previous, rec.renamed_node));
      if (renames) rec.renamed_node = previous;
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
  if (previous != kNone && Renames(event)) rec.renamed_node = previous;
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
}  // namespace internal::graph


absl::StatusOr<std::unique_ptr<IdentityGraph>> IdentityGraph::Create(const IdentityOptions& options) {
  ASSIGN_OR_RETURN(auto rules, internal::RuleSet::Create(options));
  return std::unique_ptr<IdentityGraph>(new internal::graph::Graph(options, std::move(rules)));
}

}  // namespace omnijourney
