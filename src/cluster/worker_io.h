// What a worker says and checks over NATS: the stream position of its local state, actions as
// messages of the actions stream, answers to context requests.
#ifndef OMNIJOURNEY_SRC_CLUSTER_WORKER_IO_H_
#define OMNIJOURNEY_SRC_CLUSTER_WORKER_IO_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "cluster/nats.h"
#include "omnijourney/cluster.h"

namespace omnijourney::cluster {

// Whether the input stream still holds, at `src.position`, the message the local state was built
// from (its message id's check): "" when it does (or when it can no longer tell: the message aged
// out of the stream), else why not. Errors: the stream cannot be read.
absl::StatusOr<std::string> CheckPosition(const Nats& nats, const v1::ClusterConfig& config, const SourcePosition& src);

// The action as the JSON of its message.
std::string ActionJson(const JourneyAction& action);
// Publishes the action on its subject with its id as Nats-Msg-Id: true when stored now, false
// when the stream has it already (a replica, a replay or an earlier attempt published it).
absl::StatusOr<bool> PublishAction(const Nats& nats, const v1::ClusterConfig& config, const JourneyAction& action);

// The answer to a context request `request` (JSON: {"tenant", "type", "value"} or {"tenant",
// "profile"}) from the engine of partition `partition`, as of stream sequence `applied`.
std::string AnswerContext(const v1::ClusterConfig& config, std::string_view worker, uint32_t partition, uint64_t applied,
                          const Engine& engine, std::string_view request);

}  // namespace omnijourney::cluster

#endif  // OMNIJOURNEY_SRC_CLUSTER_WORKER_IO_H_
