// What an event would do to the identity graph, without doing it: CheckUsable, ProfilesAdded.
#include "identity/graph.h"

namespace omnijourney::internal::graph {

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
  size_t prev_index = SIZE_MAX;  // The previous_id's item, when it renames (Record::renamed_node).
  if (event.has_previous_id()) {
    const size_t before = items.size();
    add(event.previous_id());
    if (items.size() > before && Renames(event) && items.back().rule >= 0) prev_index = before;
  }
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
      Rename rename;
      if (prev_index != SIZE_MAX &&
          std::find(candidates.begin(), candidates.end(), &items[prev_index]) != candidates.end()) {
        const auto t = static_cast<uint32_t>(items[prev_index].rule);
        rename = {t, CountOf(comps[items[prev_index].comp], t)};
      }
      if (CheckMergeAll(parts, &type, rename) == Reason::kNone) break;
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
  // As in Apply: the previous_id's side of an alias may join beyond its type's limit by its own ids.
  const Item* prev = prev_index != SIZE_MAX &&
                             std::find(candidates.begin(), candidates.end(), &items[prev_index]) != candidates.end()
                         ? &items[prev_index]
                         : nullptr;
  Rename rename;
  bool prev_in_acc = false;
  if (prev != nullptr) rename.type = static_cast<uint32_t>(prev->rule);
  for (const Item* item : candidates) {
    const int r = root_of(item->comp);
    if (acc < 0 || r == acc) {
      if (acc < 0 && prev != nullptr && root_of(prev->comp) == r) {
        prev_in_acc = true;
        rename.allowance = CountOf(comps[r], rename.type);
      }
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
    const bool prev_joins = prev != nullptr && !prev_in_acc && root_of(prev->comp) == r;
    Rename allowed;
    if (prev_joins) {
      allowed = {rename.type, CountOf(comps[r], rename.type)};
    } else if (prev_in_acc) {
      allowed = rename;
    }
    if (CheckMerge(comps[acc], comps[r], &type, allowed) != Reason::kNone) continue;
    if (prev_joins) {
      prev_in_acc = true;
      rename = allowed;
    }
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

}  // namespace omnijourney::internal::graph
