// Recovery: the engine's state rebuilt from its log at Open.
#ifndef OMNIJOURNEY_SRC_ENGINE_RECOVERY_H_
#define OMNIJOURNEY_SRC_ENGINE_RECOVERY_H_

#include "absl/status/status.h"
#include "engine/engine_state.h"
#include "store/log.h"

namespace omnijourney::internal {

// Applies every record of `log` to `state` in order, as they were applied live (a record refused
// then is refused again, with the same outcome: nothing). Fails on an unreadable record, a journey
// that no longer loads (DataLoss naming the position) and storage failures.
// `after`: the position a snapshot restored the state to (0: none).
absl::Status Recover(const Log& log, EngineState& state, LogPosition after = 0);

}  // namespace omnijourney::internal

#endif  // OMNIJOURNEY_SRC_ENGINE_RECOVERY_H_
