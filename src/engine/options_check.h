// Engine::Open's checks of EngineOptions: InvalidArgument naming the first inconsistent option.
#ifndef OMNIJOURNEY_SRC_ENGINE_OPTIONS_CHECK_H_
#define OMNIJOURNEY_SRC_ENGINE_OPTIONS_CHECK_H_

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "omnijourney/engine_options.h"

namespace omnijourney::internal {

// Checks every option but the identity rules (IdentityGraph::Create checks those) and loads
// actions.default_time_zone into `*zone`.
absl::Status CheckOptions(const EngineOptions& options, absl::TimeZone* zone);

}  // namespace omnijourney::internal

#endif  // OMNIJOURNEY_SRC_ENGINE_OPTIONS_CHECK_H_
