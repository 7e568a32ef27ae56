// The identity graph in a snapshot: written as it is and read back into an equal graph (the same
// future links, merges, refusals and audit), under the same IdentityOptions.
#ifndef OMNIJOURNEY_SRC_IDENTITY_GRAPH_SNAPSHOT_H_
#define OMNIJOURNEY_SRC_IDENTITY_GRAPH_SNAPSHOT_H_

#include <memory>

#include "absl/status/statusor.h"
#include "common/serial.h"
#include "omnijourney/identity.h"

namespace omnijourney::internal {

// REQUIRES: `graph` came from IdentityGraph::Create or LoadIdentityGraph.
void SaveIdentityGraph(const IdentityGraph& graph, SerialWriter& w);
// DataLoss for malformed input; FailedPrecondition when `options` define the identifier types in
// another order than when it was saved.
absl::StatusOr<std::unique_ptr<IdentityGraph>> LoadIdentityGraph(const IdentityOptions& options, SerialReader& r);

}  // namespace omnijourney::internal

#endif  // OMNIJOURNEY_SRC_IDENTITY_GRAPH_SNAPSHOT_H_
