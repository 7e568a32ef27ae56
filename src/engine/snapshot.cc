#include "engine/snapshot.h"

#include "absl/strings/str_cat.h"
#include "common/serial.h"
#include "common/stable_hash.h"
#include "common/status_macros.h"
#include "identity/graph_snapshot.h"

namespace omnijourney::internal {
namespace {

constexpr std::string_view kMagic("OJSNAP\r\n", 8);
constexpr size_t kHeaderBytes = 8 + 4 + 8 + 8 + 8;

void Rule(SerialWriter& w, const IdentifierRule& r) {
  w.U32(static_cast<uint32_t>(r.normalizer));
  w.Bool(r.links);
  w.I64(r.max_per_profile);
  w.I64(r.priority);
  for (const auto* list : {&r.blocked_values, &r.blocked_patterns}) {
    w.Varint(list->size());
    for (const auto& v : *list) w.Bytes(v);
  }
}

void Strings(SerialWriter& w, const std::vector<std::string>& list) {
  w.Varint(list.size());
  for (const auto& v : list) w.Bytes(v);
}

}  // namespace

uint64_t OptionsFingerprint(const EngineOptions& o) {
  SerialWriter w;
  const IdentityOptions& id = o.identity;
  w.Varint(id.rules.size());
  for (const auto& [type, rule] : id.rules) {
    w.Bytes(type);
    Rule(w, rule);
  }
  Rule(w, id.default_rule);
  Strings(w, id.blocked_values);
  Strings(w, id.blocked_patterns);
  w.Bytes(id.default_phone_region);
  w.Bool(id.strict_phone_validation);
  w.U32(static_cast<uint32_t>(id.conflict_policy));
  w.I64(id.super_node_limit);
  w.I64(id.max_identifiers_per_profile);
  w.I64(id.max_merges_per_profile);
  w.U64(id.profile_id_seed);
  const TimelineOptions& t = o.timeline;
  w.U64(t.max_entries);
  w.I64(absl::ToInt64Microseconds(t.max_age));
  w.U64(t.max_text_bytes);
  Strings(w, t.key_properties);
  Strings(w, t.closing_words);
  w.I64(absl::ToInt64Microseconds(t.conversation_idle_timeout));
  Strings(w, o.context.trait_source_priority);
  w.U64(o.dedupe_window);
  w.U32(static_cast<uint32_t>(o.time_mode));
  w.I64(absl::ToInt64Microseconds(o.allowed_lateness));
  const ActionOptions& a = o.actions;
  w.I64(a.max_per_channel_per_day);
  w.I64(a.quiet_start_hour);
  w.I64(a.quiet_end_hour);
  w.U32(static_cast<uint32_t>(a.quiet_policy));
  w.Bytes(a.default_time_zone);
  return StableHash(kSnapshotFormat, w.data());
}

absl::StatusOr<std::string> EncodeSnapshot(const EngineState& state, const Log& log, const EngineOptions& options,
                                           size_t size_hint) {
  const LogPosition position = state.position();
  ASSIGN_OR_RETURN(std::optional<std::string> record, log.Get(position));
  if (!record) return absl::FailedPreconditionError(absl::StrCat("snapshot: log record ", position, " is not retained"));
  SerialWriter w;
  // Growing a string of a gigabyte by doubling copies it about twice over.
  if (size_hint > 0) w.mutable_data().reserve(size_hint + size_hint / 8);
  w.Raw(kMagic.data(), kMagic.size());
  w.U32(kSnapshotFormat);
  w.U64(position);
  w.U64(Checksum(*record));
  w.U64(OptionsFingerprint(options));
  RETURN_IF_ERROR(state.Save(w));
  const uint64_t sum = Checksum(w.data());
  w.U64(sum);
  return std::move(w.mutable_data());
}

absl::StatusOr<std::unique_ptr<EngineState>> DecodeSnapshot(std::string_view bytes,
                                                            std::shared_ptr<const void> mapping, const Log& log,
                                                            const EngineOptions& options, absl::TimeZone zone,
                                                            Log* state_log, SpillStore* spill,
                                                            RecordClock* record_clock) {
  if (bytes.size() < kHeaderBytes + 8 || bytes.substr(0, kMagic.size()) != kMagic) {
    return absl::DataLossError("not a snapshot (no header)");
  }
  SerialReader trailer(bytes.substr(bytes.size() - 8));
  if (trailer.U64() != Checksum(bytes.substr(0, bytes.size() - 8))) {
    return absl::DataLossError("checksum mismatch (damaged)");
  }
  SerialReader r(bytes.substr(kMagic.size(), bytes.size() - 8 - kMagic.size()));
  if (const uint32_t format = r.U32(); format != kSnapshotFormat) {
    return absl::FailedPreconditionError(absl::StrCat("format ", format, ", this build reads ", kSnapshotFormat));
  }
  const LogPosition position = r.U64();
  const uint64_t record_sum = r.U64();
  if (r.U64() != OptionsFingerprint(options)) {
    return absl::FailedPreconditionError("taken under other options (identity rules, timeline, actions, ...)");
  }
  ASSIGN_OR_RETURN(std::optional<std::string> record, log.Get(position));
  if (!record || Checksum(*record) != record_sum) {
    return absl::FailedPreconditionError(absl::StrCat("does not match the log (record ", position, " differs)"));
  }
  IdentityOptions identity = options.identity;
  if (record_clock != nullptr) identity.clock = record_clock;
  ASSIGN_OR_RETURN(std::unique_ptr<IdentityGraph> graph, LoadIdentityGraph(identity, r));
  auto state = std::make_unique<EngineState>(options, std::move(graph), zone, state_log, spill, record_clock);
  RETURN_IF_ERROR(state->Restore(r, std::move(mapping)));
  if (state->position() != position) return absl::DataLossError("position mismatch inside the snapshot");
  if (!r.done()) return absl::DataLossError("trailing bytes");
  return state;
}

}  // namespace omnijourney::internal
