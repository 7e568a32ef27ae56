// The cluster's configuration, partitions, names, streams and how an input message is applied.
#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "cluster/nats.h"
#include "common/stable_hash.h"
#include "common/status_macros.h"
#include "common/text_errors.h"
#include "google/protobuf/text_format.h"
#include "omnijourney/cluster.h"
#include "omnijourney/config.h"
#include "omnijourney/validate.h"

namespace omnijourney::cluster {
namespace {

using internal::ToAbsl;

using internal::FnvBytes;
using internal::kFnvOffset;

uint64_t Fnv(std::string_view bytes) { return FnvBytes(kFnvOffset, bytes); }

std::string Upper(std::string s) {
  absl::AsciiStrToUpper(&s);
  return s;
}

absl::Status CheckConfig(const v1::ClusterConfig& c) {
  if (c.servers().empty()) return absl::InvalidArgumentError("servers: none (e.g. servers: \"nats://127.0.0.1:4222\")");
  for (int i = 0; i < c.servers_size(); ++i) {
    if (!absl::StartsWith(c.servers(i), "nats://") && !absl::StartsWith(c.servers(i), "tls://")) {
      return absl::InvalidArgumentError(absl::StrCat("servers[", i, "]: '", c.servers(i), "' is not a nats:// URL"));
    }
  }
  if (c.prefix().empty() || c.prefix().find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("prefix: '", c.prefix(), "' (lower-case letters, digits and '-')"));
  }
  if (c.partitions() < 1 || c.partitions() > 4096) {
    return absl::InvalidArgumentError(absl::StrCat("partitions: ", c.partitions(), " (1 to 4096)"));
  }
  if (c.stream_replicas() != 1 && c.stream_replicas() != 3 && c.stream_replicas() != 5) {
    return absl::InvalidArgumentError(absl::StrCat("stream_replicas: ", c.stream_replicas(), " (1, 3 or 5)"));
  }
  if (c.workers().empty()) return absl::InvalidArgumentError("workers: none");
  std::set<std::string> names;
  for (int i = 0; i < c.workers_size(); ++i) {
    const std::string& name = c.workers(i).name();
    if (name.empty() || name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") !=
                            std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat("workers[", i, "].name: '", name, "' (letters, digits, '-', '_')"));
    }
    if (!names.insert(name).second) return absl::InvalidArgumentError(absl::StrCat("workers[", i, "].name: '", name, "' twice"));
    for (const auto* list : {&c.workers(i).owns(), &c.workers(i).follows()}) {
      for (const uint32_t p : *list) {
        if (p >= c.partitions()) {
          return absl::InvalidArgumentError(absl::StrCat("workers[", i, "]: partition ", p, " (there are ", c.partitions(), ")"));
        }
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::ClusterConfig> ParseClusterConfig(std::string_view text, std::string_view name) {
  v1::ClusterConfig c;
  google::protobuf::TextFormat::Parser parser;
  internal::FirstTextError errors;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(std::string(text), &c)) {
    return absl::InvalidArgumentError(absl::StrCat(ToAbsl(name), ": ", errors.first()));
  }
  if (c.prefix().empty()) c.set_prefix("oj");
  if (c.partitions() == 0) c.set_partitions(16);
  if (c.stream_replicas() == 0) c.set_stream_replicas(3);
  if (c.duplicate_window_seconds() == 0) c.set_duplicate_window_seconds(120);
  if (!c.has_standbys()) c.set_standbys(1);
  if (c.failover_ms() == 0) c.set_failover_ms(2000);
  if (c.snapshot_every_records() == 0) c.set_snapshot_every_records(20000);
  if (absl::Status s = CheckConfig(c); !s.ok()) return absl::InvalidArgumentError(absl::StrCat(ToAbsl(name), ": ", s.message()));
  return c;
}

absl::StatusOr<v1::ClusterConfig> LoadClusterConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cluster config ", path, ": cannot be read"));
  std::ostringstream text;
  text << in.rdbuf();
  return ParseClusterConfig(text.str(), path);
}

absl::StatusOr<EngineOptions> PartitionEngineOptions(const v1::ClusterConfig& config, const Clock* clock) {
  EngineOptions options;
  options.clock = clock;
  if (absl::Status s = ApplyConfig(config.engine(), &options); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("engine: ", s.message()));
  }
  // Time is the partition's: its events and ticks, the same in every replica and replay. The
  // publisher checked event times against its clock (validation.max_future_skew); a replica
  // reading the stream later must not refuse what another accepted.
  options.time_mode = EngineOptions::TimeMode::kEventTime;
  options.live_timers = false;
  options.validation.max_future_skew = absl::InfiniteDuration();
  options.storage.snapshot_every_records = config.snapshot_every_records();
  return options;
}

uint32_t PartitionOf(std::string_view tenant, uint32_t partitions) {
  if (partitions == 0) return 0;
  uint32_t h = 2166136261u;  // FNV-1a 32, as nats-server's partition mapping.
  for (const char c : TenantToken(tenant)) {
    h ^= static_cast<uint8_t>(c);
    h *= 16777619u;
  }
  return h % partitions;
}

std::string TenantToken(std::string_view tenant) {
  const bool plain = !tenant.empty() && tenant[0] != '_' &&
                     std::all_of(tenant.begin(), tenant.end(), [](char c) { return absl::ascii_isalnum(c) || c == '-'; });
  if (plain) return std::string(tenant);
  return absl::StrCat("_x", absl::BytesToHexString(absl::string_view(tenant.data(), tenant.size())));
}

absl::StatusOr<std::string> TenantFromToken(std::string_view token) {
  if (absl::StartsWith(ToAbsl(token), "_x")) {
    const std::string_view hex = token.substr(2);
    if (hex.size() % 2 == 0 && std::all_of(hex.begin(), hex.end(), [](char c) { return absl::ascii_isxdigit(c); })) {
      std::string tenant = absl::HexStringToBytes(ToAbsl(hex));
      if (TenantToken(tenant) == token) return tenant;  // The one spelling TenantToken makes.
    }
  } else if (!token.empty() && token[0] != '_' &&
             std::all_of(token.begin(), token.end(), [](char c) { return absl::ascii_isalnum(c) || c == '-'; })) {
    return std::string(token);
  }
  return absl::InvalidArgumentError(absl::StrCat("subject token '", ToAbsl(token), "' is not a tenant"));
}

std::string InputStream(const v1::ClusterConfig& c) { return Upper(absl::StrCat(c.prefix(), "_IN")); }
std::string ActionStream(const v1::ClusterConfig& c) { return Upper(absl::StrCat(c.prefix(), "_ACT")); }
std::string InputSubject(const v1::ClusterConfig& c, uint32_t partition, std::string_view tenant_token) {
  return absl::StrCat(c.prefix(), ".in.", partition, ".", ToAbsl(tenant_token));
}
std::string ActionSubject(const v1::ClusterConfig& c, std::string_view tenant, std::string_view action_id) {
  return absl::StrCat(c.prefix(), ".act.", TenantToken(tenant), ".", ToAbsl(action_id));
}
std::string ContextSubject(const v1::ClusterConfig& c, uint32_t partition) {
  return absl::StrCat(c.prefix(), ".ctx.", partition);
}
std::string ControlSubject(const v1::ClusterConfig& c, std::string_view worker) {
  return absl::StrCat(c.prefix(), ".ctl.", ToAbsl(worker));
}
std::string HeartbeatSubject(const v1::ClusterConfig& c, std::string_view worker) {
  return absl::StrCat(c.prefix(), ".hb.", ToAbsl(worker));
}

std::vector<uint32_t> Assignment::PartitionsOf(std::string_view worker) const {
  std::vector<uint32_t> out;
  for (uint32_t p = 0; p < workers.size(); ++p) {
    if (std::find(workers[p].begin(), workers[p].end(), worker) != workers[p].end()) out.push_back(p);
  }
  return out;
}

absl::StatusOr<Assignment> AssignPartitions(const v1::ClusterConfig& config) {
  Assignment a;
  const uint32_t n = config.partitions();
  a.workers.resize(n);
  const int w = config.workers_size();
  const bool explicit_lists = std::any_of(config.workers().begin(), config.workers().end(),
                                          [](const auto& wk) { return !wk.owns().empty() || !wk.follows().empty(); });
  if (!explicit_lists) {
    const int standbys = std::min<int>(static_cast<int>(config.standbys()), w - 1);
    for (uint32_t p = 0; p < n; ++p) {
      for (int k = 0; k <= standbys; ++k) a.workers[p].push_back(config.workers((static_cast<int>(p) + k) % w).name());
    }
    return a;
  }
  for (const auto& wk : config.workers()) {
    for (const uint32_t p : wk.owns()) {
      if (!a.workers[p].empty()) {
        return absl::InvalidArgumentError(absl::StrCat("partition ", p, ": owned by ", a.workers[p][0], " and ", wk.name()));
      }
      a.workers[p].push_back(wk.name());
    }
  }
  for (uint32_t p = 0; p < n; ++p) {
    if (a.workers[p].empty()) return absl::InvalidArgumentError(absl::StrCat("partition ", p, ": no worker owns it"));
  }
  for (const auto& wk : config.workers()) {  // Standbys in the order the workers are listed.
    for (const uint32_t p : wk.follows()) {
      if (std::find(a.workers[p].begin(), a.workers[p].end(), wk.name()) == a.workers[p].end()) {
        a.workers[p].push_back(wk.name());
      }
    }
  }
  return a;
}

void NatsDeleter::operator()(Nats* nats) const { delete nats; }

absl::StatusOr<NatsConnection> ConnectToCluster(const v1::ClusterConfig& config, const std::string& name,
                                                absl::Duration connect_for) {
  Nats::Options o;
  o.servers.assign(config.servers().begin(), config.servers().end());
  o.name = name;
  o.connect_for = connect_for;
  absl::StatusOr<std::unique_ptr<Nats>> n = Nats::Connect(o);
  if (!n.ok()) return n.status();
  return NatsConnection(n->release());
}

namespace {

std::string PartitionsNote(uint32_t partitions) { return absl::StrCat("omnijourney input, partitions=", partitions); }

}  // namespace

absl::Status CreateStreams(const Nats& nats, const v1::ClusterConfig& config) {
  const std::string in = InputStream(config);
  if (absl::StatusOr<Nats::StreamState> existing = nats.Stream(in); existing.ok()) {
    if (existing->description != PartitionsNote(config.partitions())) {
      return absl::FailedPreconditionError(absl::StrCat("stream ", in, " exists as '", existing->description,
                                                        "', the config has partitions: ", config.partitions()));
    }
  } else if (existing.status().code() != absl::StatusCode::kNotFound) {
    return existing.status();  // Not known whether it exists: nothing is changed.
  }
  const std::string in_subjects = absl::StrCat(config.prefix(), ".in.>");
  const std::string note = PartitionsNote(config.partitions());
  const char* in_list[] = {in_subjects.c_str()};
  jsStreamConfig c;
  jsStreamConfig_Init(&c);
  c.Name = in.c_str();
  c.Description = note.c_str();
  c.Subjects = in_list;
  c.SubjectsLen = 1;
  c.Storage = js_FileStorage;
  c.Replicas = config.stream_replicas();
  c.Duplicates = static_cast<int64_t>(config.duplicate_window_seconds()) * 1'000'000'000;
  c.AllowDirect = true;
  if (absl::Status s = nats.AddOrUpdateStream(&c); !s.ok()) return s;

  const std::string act = ActionStream(config);
  const std::string act_subjects = absl::StrCat(config.prefix(), ".act.>");
  const char* act_list[] = {act_subjects.c_str()};
  jsStreamConfig a;
  jsStreamConfig_Init(&a);
  a.Name = act.c_str();
  a.Description = "omnijourney actions: one message per action id";
  a.Subjects = act_list;
  a.SubjectsLen = 1;
  a.Storage = js_FileStorage;
  a.Replicas = config.stream_replicas();
  a.MaxMsgsPerSubject = 1;
  a.Discard = js_DiscardNew;
  a.DiscardNewPerSubject = true;
  a.Duplicates = static_cast<int64_t>(config.duplicate_window_seconds()) * 1'000'000'000;
  return nats.AddOrUpdateStream(&a);
}

absl::Status CheckStreams(const Nats& nats, const v1::ClusterConfig& config) {
  for (const std::string& name : {InputStream(config), ActionStream(config)}) {
    absl::StatusOr<Nats::StreamState> s = nats.Stream(name);
    if (!s.ok() && s.status().code() == absl::StatusCode::kNotFound) {
      return absl::NotFoundError(absl::StrCat("stream ", name, " is missing: create the streams with "
                                                           "`omnijourney cluster create-streams --config FILE`"));
    }
    if (!s.ok()) return s.status();
    if (name == InputStream(config) && s->description != PartitionsNote(config.partitions())) {
      return absl::FailedPreconditionError(absl::StrCat("stream ", name, " was created as '", s->description,
                                                        "', the config has partitions: ", config.partitions()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<StreamInfo> GetStreamInfo(const Nats& nats, const std::string& stream) {
  absl::StatusOr<Nats::StreamState> s = nats.Stream(stream);
  if (!s.ok()) return s.status();
  return StreamInfo{s->messages, s->first, s->last, s->leader};
}

absl::Status ReadStream(const Nats& nats, const std::string& stream, const std::string& filter, uint64_t from,
                        const std::function<absl::Status(const StoredMessage&)>& fn, absl::Duration timeout) {
  absl::StatusOr<Nats::StreamState> state = nats.Stream(stream);
  if (!state.ok()) return state.status();
  if (state->messages == 0 || state->last < from) return absl::OkStatus();
  absl::StatusOr<std::unique_ptr<Subscription>> sub = Subscription::Ordered(nats, stream, filter, std::max<uint64_t>(from, 1));
  if (!sub.ok()) return sub.status();
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    absl::StatusOr<std::optional<Msg>> next = (*sub)->Next(absl::Milliseconds(200));
    if (!next.ok()) return next.status();
    if (!next->has_value()) {
      // Nothing more on the filter's subjects up to the end (or the consumer is slow): done when
      // the consumer has nothing pending.
      if (absl::Now() > deadline) {
        return absl::DeadlineExceededError(absl::StrCat("reading ", stream, ": not at sequence ", state->last, " after ",
                                                        absl::FormatDuration(timeout)));
      }
      if ((*sub)->Pending() == 0) return absl::OkStatus();
      continue;
    }
    const Msg& m = **next;
    StoredMessage out;
    out.sequence = m.StreamSequence();
    out.subject = std::string(m.subject());
    out.id = m.Header("Nats-Msg-Id");
    out.data = std::string(m.data());
    out.time = m.StreamTime();
    if (out.sequence > state->last) return absl::OkStatus();
    if (absl::Status s = fn(out); !s.ok()) return s;
    if (out.sequence == state->last) return absl::OkStatus();
  }
}

std::string InputMessageId(std::string_view tenant_token, const v1::InputBatch& batch, uint64_t nonce) {
  const std::string bytes = batch.SerializeAsString();
  if (!batch.records().empty() && batch.records(0).has_event()) {
    const v1::Event& first = batch.records(0).event();
    std::string id = absl::StrCat(ToAbsl(tenant_token), "/", first.source(), "/", first.event_id());
    if (batch.records_size() > 1) {
      absl::StrAppend(&id, "+", batch.records_size() - 1, "/", absl::Hex(Fnv(bytes), absl::kZeroPad16));
    }
    return id;
  }
  std::string kind = "record";
  if (!batch.records().empty()) {
    const v1::LogRecord& r = batch.records(0);
    if (r.has_journey()) kind = "journey";
    if (r.has_unlink()) kind = "unlink";
    if (r.has_split()) kind = "split";
    if (r.has_erasure()) kind = "erasure";
    if (r.has_advance_time()) kind = "tick";
  }
  return absl::StrCat(ToAbsl(tenant_token), "/", kind, "/", absl::Hex(Fnv(bytes), absl::kZeroPad16), "/", nonce);
}

uint64_t MessageCheck(std::string_view message_id) { return Fnv(message_id); }

bool IsCommand(const v1::InputBatch& batch) {
  return batch.records_size() == 1 && !batch.records(0).has_event();
}

namespace {

// Bad input the engine refused (counted, not retried), as opposed to a failure of its storage
// (a full disk is ResourceExhausted too, but names no limit), after which the engine takes no
// more changes and the worker must stop.
bool IsRefusal(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kOutOfRange:
      return true;
    case absl::StatusCode::kResourceExhausted:
      return !ExceededLimit(s).empty();
    default:
      return false;
  }
}

void Refuse(Applied& out, const std::string& why) {
  ++out.refused;
  if (out.errors.size() < 5) out.errors.push_back(why);
}

}  // namespace

absl::StatusOr<Applied> ApplyInput(Engine& engine, uint32_t partition, uint32_t partitions, std::string_view tenant_token,
                                   const v1::InputBatch& batch) {
  Applied out;
  if (batch.records().empty()) return absl::InvalidArgumentError("records: empty");
  const bool all = tenant_token == kAllTenants;
  std::string tenant;
  if (!all) {
    absl::StatusOr<std::string> t = TenantFromToken(tenant_token);
    if (!t.ok()) return t.status();
    tenant = *std::move(t);
    if (PartitionOf(tenant, partitions) != partition) {
      return absl::InvalidArgumentError(absl::StrCat("tenant '", tenant, "' belongs in partition ",
                                                     PartitionOf(tenant, partitions), ", not ", partition));
    }
  }
  if (batch.records(0).has_event()) {
    std::vector<const Event*> events;
    for (int i = 0; i < batch.records_size(); ++i) {
      const v1::LogRecord& r = batch.records(i);
      if (!r.has_event()) return absl::InvalidArgumentError(absl::StrCat("records[", i, "]: events and other records mixed"));
      if (all || r.event().tenant() != tenant) {
        Refuse(out, absl::StrCat("records[", i, "]: event of tenant '", r.event().tenant(), "' on the subject of ",
                                 all ? "the whole partition" : absl::StrCat("tenant '", tenant, "'")));
        continue;
      }
      events.push_back(&r.event());
    }
    for (absl::StatusOr<IngestResult>& r : engine.IngestBatch(events)) {
      if (!r.ok()) {
        if (!IsRefusal(r.status())) return r.status();
        Refuse(out, std::string(r.status().message()));
      } else if (r->duplicate || r->erased) {
        ++out.duplicates;
      } else {
        ++out.events;
      }
    }
    return out;
  }
  if (batch.records_size() != 1) return absl::InvalidArgumentError("records: more than one that is not an event");
  const v1::LogRecord& r = batch.records(0);
  absl::Status s;
  if (r.has_journey()) {
    s = engine.AddJourney(r.journey().definition());
  } else if (r.has_advance_time()) {
    s = engine.AdvanceTime(absl::FromUnixSeconds(r.advance_time().seconds()) + absl::Nanoseconds(r.advance_time().nanos()));
  } else if (all) {
    return absl::InvalidArgumentError("records[0]: a tenant's record on the subject of the whole partition");
  } else if (r.has_unlink()) {
    s = engine.Unlink({.tenant = tenant, .type = r.unlink().type(), .value = r.unlink().value()}).status();
  } else if (r.has_split()) {
    std::vector<IdentifierValue> part;
    for (const auto& id : r.split().part()) part.push_back({id.type(), id.value()});
    s = engine.Split(tenant, r.split().profile(), part).status();
  } else if (r.has_erasure()) {
    const v1::LoggedErasure& e = r.erasure();
    s = e.type().empty() ? engine.EraseProfile(tenant, e.profile()).status()
                         : engine.EraseIdentifier({.tenant = tenant, .type = e.type(), .value = e.value()}).status();
  } else {
    return absl::InvalidArgumentError("records[0]: not an input record (event, journey, unlink, split, erasure, tick)");
  }
  if (!s.ok()) {
    if (!IsRefusal(s)) return s;
    Refuse(out, std::string(s.message()));
  } else {
    ++out.commands;
  }
  return out;
}

}  // namespace omnijourney::cluster
