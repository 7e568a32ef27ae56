// omnijourney on a NATS JetStream cluster (library omnijourney_nats; docs/scale-out.md).
//
// A tenant's whole state lives in one partition: partition = PartitionOf(tenant), a stable hash
// that producers compute too. Events, operator commands and clock ticks are messages of one stream
// ("<PREFIX>_IN", subjects "<prefix>.in.<partition>.<tenant token>"); a worker owning a partition
// reads them in stream order into one engine per partition (ApplyInput), publishes the actions the
// engine hands out to the actions stream ("<PREFIX>_ACT", "<prefix>.act.<tenant token>.<action
// id>", one message per subject: a second copy is refused by the server) and answers context
// requests ("<prefix>.ctx.<partition>").
//
//   auto config = omnijourney::cluster::LoadClusterConfig("cluster.textproto");
//   auto nats = omnijourney::cluster::ConnectToCluster(*config, "my-producer");
//   omnijourney::cluster::Publisher publisher(**nats, *config, {});
//   publisher.AddEvent(event);                     // batched per tenant, with a Nats-Msg-Id
//   publisher.Finish();                            // every message acknowledged by the stream
#ifndef OMNIJOURNEY_CLUSTER_H_
#define OMNIJOURNEY_CLUSTER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "omnijourney/engine.h"
#include "omnijourney/v1/cluster.pb.h"

namespace omnijourney::cluster {

// A connection to the cluster's NATS servers (nats.c underneath); thread-safe.
class Nats;
struct NatsDeleter {
  void operator()(Nats* nats) const;
};
using NatsConnection = std::unique_ptr<Nats, NatsDeleter>;

// The configuration file (textproto of v1::ClusterConfig), with defaults filled in and checked:
// InvalidArgument naming the field.
absl::StatusOr<v1::ClusterConfig> LoadClusterConfig(const std::string& path);
absl::StatusOr<v1::ClusterConfig> ParseClusterConfig(std::string_view text, std::string_view name);
// Engine options of a partition's engine: the config's engine section, in event time (time moves
// only with the partition's records: events and ticks), with `clock` (not owned) as its clock: set
// it to the time the stream stored each message (StoredMessage::time) before applying it, so that
// every replica and replay stamps operator actions alike.
absl::StatusOr<EngineOptions> PartitionEngineOptions(const v1::ClusterConfig& config, const Clock* clock);

// The partition of a tenant: FNV-1a 32 of its subject token (TenantToken), modulo `partitions`
// (offset basis 2166136261, prime 16777619), which is what nats-server's subject mapping
// "{{partition(n,1)}}" computes: producers may compute it themselves or publish to
// "<prefix>.pub.<tenant token>" with the server mapping that subject to
// "<prefix>.in.{{partition(<partitions>,1)}}.{{wildcard(1)}}" (docs/scale-out.md).
uint32_t PartitionOf(std::string_view tenant, uint32_t partitions);
// A tenant as a subject token: itself when it is made of [A-Za-z0-9-] and does not start with "_",
// else "_x" and the hex of its bytes (the default tenant "" is "_x"). "_all": the whole partition.
std::string TenantToken(std::string_view tenant);
inline constexpr std::string_view kAllTenants = "_all";
// InvalidArgument for a token TenantToken does not make (or kAllTenants).
absl::StatusOr<std::string> TenantFromToken(std::string_view token);

// Names of the cluster's streams and subjects.
std::string InputStream(const v1::ClusterConfig& config);    // "<PREFIX>_IN"
std::string ActionStream(const v1::ClusterConfig& config);   // "<PREFIX>_ACT"
std::string InputSubject(const v1::ClusterConfig& config, uint32_t partition, std::string_view tenant_token);
std::string ActionSubject(const v1::ClusterConfig& config, std::string_view tenant, std::string_view action_id);
std::string ContextSubject(const v1::ClusterConfig& config, uint32_t partition);
std::string ControlSubject(const v1::ClusterConfig& config, std::string_view worker);
std::string HeartbeatSubject(const v1::ClusterConfig& config, std::string_view worker);

// Who replays each partition: an ordered list of workers, owner first, then standbys. A worker
// writes a partition's actions when every worker before it in the list is gone.
struct Assignment {
  std::vector<std::vector<std::string>> workers;  // By partition.
  // The partitions `worker` replays (owned or followed), ascending.
  std::vector<uint32_t> PartitionsOf(std::string_view worker) const;
};
absl::StatusOr<Assignment> AssignPartitions(const v1::ClusterConfig& config);

// A connection to the cluster's servers (config.servers), retried for `connect_for`.
absl::StatusOr<NatsConnection> ConnectToCluster(const v1::ClusterConfig& config, const std::string& name,
                                                       absl::Duration connect_for = absl::Seconds(10));
// Creates (or updates) both streams. The partition count is recorded in the input stream's
// description; FailedPrecondition when the stream exists with another count.
absl::Status CreateStreams(const Nats& nats, const v1::ClusterConfig& config);
// NotFound naming the command that creates them when a stream is missing; FailedPrecondition when the
// input stream was created with another partition count.
absl::Status CheckStreams(const Nats& nats, const v1::ClusterConfig& config);

// A stream's state now.
struct StreamInfo {
  uint64_t messages = 0;
  uint64_t first = 0;  // Sequence of the first message kept.
  uint64_t last = 0;   // Sequence of the last message.
  std::string leader;  // The server leading its replicas ("" while there is none).
};
absl::StatusOr<StreamInfo> GetStreamInfo(const Nats& nats, const std::string& stream);
// One stored message of a stream.
struct StoredMessage {
  uint64_t sequence = 0;
  std::string subject;
  std::string id;  // Nats-Msg-Id.
  std::string data;
  absl::Time time;  // When the stream stored it.
};
// Calls `fn` for every message of `stream` on subjects matching `filter`, in stream order, from
// sequence `from` through the stream's last message when the call began. `fn` may stop the read
// with an error, which is returned.
absl::Status ReadStream(const Nats& nats, const std::string& stream, const std::string& filter, uint64_t from,
                        const std::function<absl::Status(const StoredMessage&)>& fn,
                        absl::Duration timeout = absl::Seconds(30));

// The Nats-Msg-Id of an input message: "<tenant token>/<source>/<event_id>" of its first event,
// with "+<n>/<hash of the batch>" for n more events; for other records "<tenant token>/<kind>/<hash
// of the record>/<nonce>". A Publisher's nonce is the time it was created, so its retries are copies
// and the same command sent again later is not.
std::string InputMessageId(std::string_view tenant_token, const v1::InputBatch& batch, uint64_t nonce = 0);
// The check value a worker stores with a stream position (SourcePosition::check): a hash of the
// message id.
uint64_t MessageCheck(std::string_view message_id);

// What applying one input message did.
struct Applied {
  int64_t events = 0;      // Ingested.
  int64_t duplicates = 0;  // Already ingested (or a re-read message's events).
  int64_t refused = 0;     // Events and commands the engine refused (bad input: reported, not retried).
  int64_t commands = 0;    // Other records applied.
  std::vector<std::string> errors;  // Why each refused one was refused (the first few).
};
// Applies an input message of `tenant_token`'s subject in partition `partition` (of `partitions`)
// to `engine` through its public calls: its events as one IngestBatch (an event of another tenant
// than the subject's is refused), or its one other record. Refusals are counted; a storage failure
// of the engine is returned (the engine takes no more changes). InvalidArgument for a message that
// is neither, or for a tenant of another partition.
absl::StatusOr<Applied> ApplyInput(Engine& engine, uint32_t partition, uint32_t partitions, std::string_view tenant_token,
                                   const v1::InputBatch& batch);
// Whether the message is one non-event record (which must not be applied twice; events may be).
bool IsCommand(const v1::InputBatch& batch);

// Publishes input messages: events batched per tenant (in order), other records one per message,
// records of the whole partition (journeys, ticks) to every partition, each with its Nats-Msg-Id;
// a failed publish is retried with the same id until acknowledged (the stream drops a copy that
// arrived twice). At most one message per subject is in flight, so each tenant's messages are
// stored in the order they were given.
class Publisher {
 public:
  struct Options {
    size_t batch_events = 200;        // Events per message at most.
    size_t max_in_flight = 256;       // Messages awaiting acknowledgement at most.
    // One message retried this long: an error. Keep it well below the stream's duplicate window
    // (duplicate_window_seconds), so that every retry of a message is recognised as a copy.
    absl::Duration give_up_after = absl::Seconds(60);
    // Called for every acknowledged message: its id, stream sequence and whether the stream had it
    // already (a duplicate).
    std::function<void(const std::string& id, uint64_t sequence, bool duplicate)> on_ack;
  };
  Publisher(const Nats& nats, const v1::ClusterConfig& config, Options options);
  ~Publisher();
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  // An event: queued in its tenant's batch (sent when full).
  absl::Status AddEvent(const Event& event);
  // One record of a tenant (unlink, split, erasure): after the tenant's queued events.
  absl::Status AddRecord(std::string_view tenant, const v1::LogRecord& record);
  // A record for every partition (journey definition, clock tick): after everything before it.
  absl::Status AddToAllPartitions(const v1::LogRecord& record);
  // Sends what is queued and waits until every message is acknowledged.
  absl::Status Finish();

  struct Stats {
    int64_t messages = 0;    // Acknowledged.
    int64_t events = 0;      // In acknowledged messages.
    int64_t duplicates = 0;  // Acknowledged as already stored.
    int64_t retries = 0;
  };
  Stats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A worker (docs/scale-out.md): replays its partitions (owned and followed), snapshots each
// partition's engine in `data_dir`/p<partition>, publishes the actions of the partitions it
// writes, answers context and control requests. Run blocks until Stop (or a fatal error: storage
// failure, missing stream).
struct WorkerOptions {
  std::string config_path;
  std::string name;
  std::string data_dir;
  // Progress lines (one per few seconds) and events worth knowing (takeovers, discarded snapshots).
  std::function<void(const std::string&)> log;
};
class Worker {
 public:
  static absl::StatusOr<std::unique_ptr<Worker>> Create(const WorkerOptions& options);
  virtual ~Worker() = default;
  virtual absl::Status Run() = 0;
  // Asks Run to return (thread-safe, async-signal-safe).
  virtual void Stop() = 0;
  // Re-reads the configuration: partitions no longer assigned are closed (their data kept), new
  // ones opened. Thread-safe (Run does it).
  virtual void Reload() = 0;
};

// Client side of a worker's requests, answered by the owner of the tenant's partition or one of
// its standbys. JSON: CustomerContext as ContextToJson writes it, with "worker" and "applied" (the
// stream sequence the answer is as of).
absl::StatusOr<std::string> RequestContext(const Nats& nats, const v1::ClusterConfig& config,
                                           const IdentifierQuery& query, absl::Duration timeout = absl::Seconds(2));
// A worker's control requests: "status" (JSON: its partitions, roles and positions; "status
// pending" adds the actions each engine keeps pending) and
// "digest <partition> <tenant token>" (Engine::StateDigest of that tenant on that worker).
absl::StatusOr<std::string> RequestControl(const Nats& nats, const v1::ClusterConfig& config, std::string_view worker,
                                           std::string_view command, absl::Duration timeout = absl::Seconds(5));

}  // namespace omnijourney::cluster

#endif  // OMNIJOURNEY_CLUSTER_H_
