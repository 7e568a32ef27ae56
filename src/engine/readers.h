// What the engine's readers compute from its public reads: a profile explanation as text and a
// tenant's state digest (Engine::StateDigest).
#ifndef OMNIJOURNEY_SRC_ENGINE_READERS_H_
#define OMNIJOURNEY_SRC_ENGINE_READERS_H_

#include <string>
#include <string_view>
#include <vector>

#include "omnijourney/engine.h"

namespace omnijourney::internal {

// Engine::StateDigest of `engine`, with `released` the ids of the tenant's released actions (any
// order). Reads the engine through ForEachProfile and Explain: call it when nothing changes it.
std::string DigestState(const Engine& engine, std::string_view tenant, std::vector<std::string> released,
                        std::string* text);

}  // namespace omnijourney::internal

#endif  // OMNIJOURNEY_SRC_ENGINE_READERS_H_
