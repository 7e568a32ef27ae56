// Identity graph snapshots.
#include "identity/graph.h"

// --- Snapshots ------------------------------------------------------------------------------
// Everything that decides future links is written as it is (indexes whose order or contents
// matter, like the record and id indexes, included); the node index is rebuilt from the nodes
// (its hashes are per process) and the raw-spelling cache starts empty (a cache only).

namespace omnijourney::internal {
namespace graph {

// 2: the count of unknown-type identifiers; 3: the records' renamed nodes (2 is read: no renames,
// as the builds that wrote it made none).
constexpr uint32_t kGraphFormat = 3;

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
    w.U32(rec.renamed_node);
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
    rec.renamed_node = format >= 3 ? r.U32() : kNoRename;
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
    if (rec.renamed_node != kNoRename && rec.renamed_node >= nodes) r.Fail();
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

}  // namespace graph

using graph::Graph;

void SaveIdentityGraph(const IdentityGraph& graph, SerialWriter& w) { static_cast<const Graph&>(graph).Save(w); }

absl::StatusOr<std::unique_ptr<IdentityGraph>> LoadIdentityGraph(const IdentityOptions& options, SerialReader& r) {
  ASSIGN_OR_RETURN(auto rules, RuleSet::Create(options));
  auto graph = std::make_unique<Graph>(options, std::move(rules));
  RETURN_IF_ERROR(graph->Restore(r));
  return std::unique_ptr<IdentityGraph>(std::move(graph));
}


}  // namespace omnijourney::internal
