#include "engine/snapshot.h"

#include "absl/strings/str_cat.h"
#include "common/serial.h"
#include "common/stable_hash.h"
#include "common/status_macros.h"
#include "engine/sealed.h"
#include "store/crypto.h"
#include "identity/graph_snapshot.h"

namespace omnijourney::internal {
namespace {

constexpr std::string_view kMagic("OJSNAP\r\n", 8);
constexpr size_t kHeaderBytes = kSnapshotHeaderBytes;

void Rule(SerialWriter& w, const IdentifierRule& r) {
  w.U32(static_cast<uint32_t>(r.normalizer));
  w.Bool(r.links);
  w.I64(r.max_per_profile);
  w.I64(r.priority);
  w.Bool(r.personal);
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
  w.Varint(id.tenant_phone_regions.size());
  for (const auto& [tenant, region] : id.tenant_phone_regions) {
    w.Bytes(tenant);
    w.Bytes(region);
  }
  w.U32(static_cast<uint32_t>(id.phone_validation));
  w.U32(static_cast<uint32_t>(id.conflict_policy));
  w.I64(id.super_node_limit);
  w.I64(id.max_identifiers_per_profile);
  w.I64(id.max_merges_per_profile);
  w.U64(id.profile_id_seed);
  w.U32(static_cast<uint32_t>(id.unknown_types));  // kReject drops identifiers a snapshot may hold.
  w.Bool(id.alias_renames);
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

absl::StatusOr<std::string> EncodeSnapshot(const EngineState& state, Log& log, const EngineOptions& options,
                                           size_t size_hint) {
  const LogPosition position = state.position();
  ASSIGN_OR_RETURN(std::optional<std::string> record, log.Get(position));
  if (!record) return absl::FailedPreconditionError(absl::StrCat("snapshot: log record ", position, " is not retained"));
  ASSIGN_OR_RETURN(std::optional<crypto::Key> key, log.SnapshotKey(position, /*create=*/true));
  SerialWriter w;
  // Growing a string of a gigabyte by doubling copies it about twice over.
  if (size_hint > 0) w.mutable_data().reserve(size_hint + size_hint / 8);
  w.Raw(kMagic.data(), kMagic.size());
  w.U32(kSnapshotFormat);
  w.U64(position);
  w.U64(Checksum(*record));
  w.U64(OptionsFingerprint(options));
  RETURN_IF_ERROR(state.Save(w));
  const uint64_t body_end = w.data().size();
  crypto::XorAt(*key, {}, kHeaderBytes, w.mutable_data().data() + kHeaderBytes, body_end - kHeaderBytes);
  // Where the parts are that Open leaves encrypted until they are needed.
  const auto& regions = w.regions();
  SerialWriter table;
  table.U64(regions.size());
  for (const auto& [offset, size] : regions) {
    table.U64(offset);
    table.U64(size);
  }
  table.U64(body_end);
  w.Raw(table.data().data(), table.data().size());
  const uint64_t sum = Checksum(w.data());
  w.U64(sum);
  return std::move(w.mutable_data());
}

absl::StatusOr<std::unique_ptr<EngineState>> DecodeSnapshot(char* data, size_t size, std::shared_ptr<const void> file,
                                                            Log& log, const EngineOptions& options,
                                                            absl::TimeZone zone, Log* state_log, SpillStore* spill,
                                                            RecordClock* record_clock) {
  const std::string_view bytes(data, size);
  if (bytes.size() < kHeaderBytes + 24 || bytes.substr(0, kMagic.size()) != kMagic) {
    return absl::DataLossError("not a snapshot (no header)");
  }
  SerialReader trailer(bytes.substr(bytes.size() - 16));
  const uint64_t body_end = trailer.U64();
  if (trailer.U64() != Checksum(bytes.substr(0, bytes.size() - 8))) {
    return absl::DataLossError("checksum mismatch (damaged)");
  }
  SerialReader header(bytes.substr(kMagic.size(), kHeaderBytes - kMagic.size()));
  if (const uint32_t format = header.U32(); format != kSnapshotFormat) {
    return absl::FailedPreconditionError(absl::StrCat("format ", format, ", this build reads ", kSnapshotFormat));
  }
  const LogPosition position = header.U64();
  const uint64_t record_sum = header.U64();
  if (header.U64() != OptionsFingerprint(options)) {
    return absl::FailedPreconditionError("taken under other options (identity rules, timeline, actions, ...)");
  }
  ASSIGN_OR_RETURN(std::optional<std::string> record, log.Get(position));
  if (!record || Checksum(*record) != record_sum) {
    return absl::FailedPreconditionError(absl::StrCat("does not match the log (record ", position, " differs)"));
  }
  ASSIGN_OR_RETURN(std::optional<crypto::Key> key, log.SnapshotKey(position, /*create=*/false));
  if (!key) return absl::FailedPreconditionError("its key is gone (an erasure came after it)");
  if (body_end < kHeaderBytes || body_end > bytes.size() - 16) return absl::DataLossError("bad layout (damaged)");
  // The parts left encrypted (with the mapping) until they are needed; the rest is decrypted here,
  // in place (the mapping is copy-on-write).
  SerialReader table(bytes.substr(body_end, bytes.size() - 16 - body_end));
  const uint64_t count = table.U64();
  if (count > (bytes.size() - 16 - body_end) / 16) return absl::DataLossError("bad part table (damaged)");
  std::vector<std::pair<uint64_t, uint64_t>> regions(static_cast<size_t>(count));
  for (auto& [offset, n] : regions) {
    offset = table.U64();
    n = table.U64();
  }
  if (!table.ok() || !table.done()) return absl::DataLossError("bad part table (damaged)");
  uint64_t at = kHeaderBytes;
  auto decrypt = [&](uint64_t from, uint64_t to) {
    if (to > from) crypto::XorAt(*key, {}, from, data + from, to - from);
  };
  for (const auto& [offset, n] : regions) {
    if (offset < at || offset > body_end || n > body_end - offset) return absl::DataLossError("bad part table (damaged)");
    decrypt(at, offset);
    if (file == nullptr) decrypt(offset, offset + n);  // Nothing stays sealed: decoded below.
    at = offset + n;
  }
  decrypt(at, body_end);
  std::shared_ptr<const SnapshotMapping> mapping;
  if (file != nullptr) mapping = std::make_shared<const SnapshotMapping>(SnapshotMapping{std::move(file), data, key});
  SerialReader r(bytes.substr(kHeaderBytes, body_end - kHeaderBytes));
  IdentityOptions identity = options.identity;
  if (record_clock != nullptr) identity.clock = record_clock;
  ASSIGN_OR_RETURN(std::unique_ptr<IdentityGraph> graph, LoadIdentityGraph(identity, r));
  auto state = std::make_unique<EngineState>(options, std::move(graph), zone, state_log, spill, record_clock);
  RETURN_IF_ERROR(state->Restore(r, std::move(mapping)));
  if (state->position() != position) return absl::DataLossError("position mismatch inside the snapshot");
  if (!r.done()) return absl::DataLossError("trailing bytes");
  return state;
}

std::optional<std::string> DecryptSnapshotForTesting(std::string_view file, const crypto::Key& key) {
  if (file.size() < kHeaderBytes + 24 || file.substr(0, kMagic.size()) != kMagic) return std::nullopt;
  SerialReader header(file.substr(kMagic.size(), 4));
  if (header.U32() != kSnapshotFormat) return std::nullopt;
  SerialReader trailer(file.substr(file.size() - 16, 8));
  const uint64_t body_end = trailer.U64();
  if (body_end < kHeaderBytes || body_end > file.size() - 16) return std::nullopt;
  std::string body(file.substr(kHeaderBytes, body_end - kHeaderBytes));
  crypto::XorAt(key, {}, kHeaderBytes, body.data(), body.size());
  return body;
}

}  // namespace omnijourney::internal
