// Erasure in the log: removing erased identifiers from the records before an erasure.
//
// The engine's erasure (EngineState::EraseIdentifier / EraseProfile) changes the graph and the
// timelines in memory, then scrubs the log so that a replay no longer sees the erased values: event
// records lose the identifiers (an event left without any is deleted), unlink records of them are
// deleted, split records lose them.
#ifndef OMNIJOURNEY_SRC_ENGINE_ERASURE_H_
#define OMNIJOURNEY_SRC_ENGINE_ERASURE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "omnijourney/identity.h"
#include "store/log.h"

namespace omnijourney::internal {

// Rewrites the records of `tenant` before `position` without the `erased` identifiers (type and
// match key; raw values are compared by their match keys under `graph`'s rules). The old bytes stay
// in the log's files until Log::Purge. Cost: one pass over the log.
absl::Status ScrubLog(Log& log, const IdentityGraph& graph, const std::string& tenant,
                      const std::vector<IdentifierValue>& erased, LogPosition position);

}  // namespace omnijourney::internal

#endif  // OMNIJOURNEY_SRC_ENGINE_ERASURE_H_
