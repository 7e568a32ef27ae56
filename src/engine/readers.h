// What the engine computes by reading alone: a profile explanation as text, a tenant's state digest
// (Engine::StateDigest) and the refusals of a split, checked before it is logged.
#ifndef OMNIJOURNEY_SRC_ENGINE_READERS_H_
#define OMNIJOURNEY_SRC_ENGINE_READERS_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "omnijourney/identity.h"
#include "omnijourney/engine.h"

namespace omnijourney::internal {

// Engine::StateDigest of `engine`, with `released` the ids of the tenant's released actions (any
// order). Reads the engine through ForEachProfile and Explain: call it when nothing changes it.
std::string DigestState(const Engine& engine, std::string_view tenant, std::vector<std::string> released,
                        std::string* text);

// IdentityGraph::Split's refusals for splitting `part` off profile `id` (a root), naming the field:
// an empty part, an identifier that is not the profile's, or the whole profile.
absl::Status CheckSplitPart(const IdentityGraph& graph, ProfileId id, const std::vector<IdentifierValue>& part);

}  // namespace omnijourney::internal

#endif  // OMNIJOURNEY_SRC_ENGINE_READERS_H_
