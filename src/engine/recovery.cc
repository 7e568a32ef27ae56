#include "engine/recovery.h"

namespace omnijourney::internal {

absl::Status Recover(const Log& log, EngineState& state, LogPosition after) {
  return log.Read(after, [&](LogPosition position, const v1::LogRecord& record) -> absl::Status {
    absl::StatusOr<EngineState::Applied> applied = state.Apply(record, position);
    if (!state.io_error().ok()) return state.io_error();
    if (!applied.ok() && applied.status().code() == absl::StatusCode::kDataLoss) return applied.status();
    state.CountRecovered();
    return absl::OkStatus();
  });
}

}  // namespace omnijourney::internal
