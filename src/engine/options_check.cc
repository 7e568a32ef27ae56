#include "engine/options_check.h"

#include "absl/strings/str_cat.h"

namespace omnijourney::internal {

absl::Status CheckOptions(const EngineOptions& options, absl::TimeZone* zone) {
  if (options.max_profiles_per_tenant < 0) {
    return absl::InvalidArgumentError("max_profiles_per_tenant: must be >= 0 (0: no limit)");
  }
  if (options.timeline.max_entries == 0) return absl::InvalidArgumentError("timeline.max_entries: must be >= 1");
  if (options.timeline.max_age <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("timeline.max_age: must be positive");
  }
  if (options.timeline.conversation_idle_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("timeline.conversation_idle_timeout: must be positive");
  }
  if (options.context.preference_half_life <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("context.preference_half_life: must be positive");
  }
  const ActionOptions& a = options.actions;
  if (a.max_per_channel_per_day < 0) return absl::InvalidArgumentError("actions.max_per_channel_per_day: must be >= 0");
  if (a.quiet_start_hour < 0 || a.quiet_start_hour > 23 || a.quiet_end_hour < 0 || a.quiet_end_hour > 23) {
    return absl::InvalidArgumentError("actions.quiet_start_hour/quiet_end_hour: must be 0-23");
  }
  if (a.redeliver_after < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("actions.redeliver_after: must be >= 0 (0: only after reopening)");
  }
  if (!absl::LoadTimeZone(a.default_time_zone, zone)) {
    return absl::InvalidArgumentError(absl::StrCat("actions.default_time_zone: unknown time zone '", a.default_time_zone, "'"));
  }
  if (options.allowed_lateness < absl::ZeroDuration()) return absl::InvalidArgumentError("allowed_lateness: must be >= 0");
  if (options.timer_poll_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("timer_poll_interval: must be positive");
  }
  if (options.writer_slice < absl::ZeroDuration() || options.writer_slice > absl::Seconds(1)) {
    return absl::InvalidArgumentError("writer_slice: must be between 0 and 1 second");
  }
  using DamagedLog = EngineOptions::Storage::DamagedLog;
  if (options.storage.damaged_log != DamagedLog::kRefuse &&
      options.storage.damaged_log != DamagedLog::kRecoverToLastConsistentPoint) {
    return absl::InvalidArgumentError("storage.damaged_log: must be kRefuse or kRecoverToLastConsistentPoint");
  }
  if (options.storage.cache_profiles > 0 && options.storage.path.empty()) {
    return absl::InvalidArgumentError("storage.cache_profiles: needs storage.path (profiles are spilled there)");
  }
  return absl::OkStatus();
}

}  // namespace omnijourney::internal
