// Snapshots of the engine's derived state: what EngineState::Save writes, with the log position it
// reflects, framed so that a snapshot that does not belong to the log or to the options is refused.
//
// File layout: magic "OJSNAP\r\n", u32 format version, u64 log position, u64 checksum of the log
// record at that position, u64 fingerprint of the options the state depends on, the state (see
// EngineState::Save), u64 checksum of everything before it.
#ifndef OMNIJOURNEY_SRC_ENGINE_SNAPSHOT_H_
#define OMNIJOURNEY_SRC_ENGINE_SNAPSHOT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "engine/engine_state.h"
#include "omnijourney/engine_options.h"
#include "store/log.h"

namespace omnijourney::internal {

inline constexpr uint32_t kSnapshotFormat = 2;

// A hash of the options a snapshot's state depends on (identity rules, timeline, journeys' trait
// priority, dedupe window, time mode, lateness, action policy): a snapshot taken under other options
// is not used.
uint64_t OptionsFingerprint(const EngineOptions& options);

// The snapshot of `state` (at state.position(), which `log` must hold). Cost: O(state), plus
// reading every spilled profile.
// `size_hint`: the expected size (the last snapshot's), reserved up front (0: none).
absl::StatusOr<std::string> EncodeSnapshot(const EngineState& state, const Log& log, const EngineOptions& options,
                                           size_t size_hint = 0);

// A state restored from `bytes`: FailedPrecondition (with the reason) when the snapshot is not
// for this log or these options, DataLoss when it is damaged. `log`, `spill` and `options` as for
// EngineState's constructor. With `mapping`, the owner of `bytes` (the mapped file), the profiles
// stay sealed in it (EngineState::Restore); without, they are decoded and the spill store receives
// the spilled ones.
absl::StatusOr<std::unique_ptr<EngineState>> DecodeSnapshot(std::string_view bytes,
                                                            std::shared_ptr<const void> mapping, const Log& log,
                                                            const EngineOptions& options, absl::TimeZone zone,
                                                            Log* state_log, SpillStore* spill,
                                                            RecordClock* record_clock);

}  // namespace omnijourney::internal

#endif  // OMNIJOURNEY_SRC_ENGINE_SNAPSHOT_H_
