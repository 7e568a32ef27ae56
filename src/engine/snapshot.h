// Snapshots of the engine's derived state: what EngineState::Save writes, with the log position it
// reflects, framed so that a snapshot that does not belong to the log or to the options is refused.
//
// File layout: a header of magic "OJSNAP\r\n", u32 format version, u64 log position, u64 checksum
// of the log record at that position and u64 fingerprint of the options the state depends on; the
// state (see EngineState::Save), encrypted with ChaCha20 at its file offsets under the snapshot's
// key (Log::SnapshotKey, deleted by every erasure, so no copy of an older snapshot can be read);
// the table of the parts Open leaves encrypted until needed (u64 count, then u64 offset and size
// each); u64 offset of that table; u64 checksum of everything before it.
#ifndef OMNIJOURNEY_SRC_ENGINE_SNAPSHOT_H_
#define OMNIJOURNEY_SRC_ENGINE_SNAPSHOT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "engine/engine_state.h"
#include "omnijourney/engine_options.h"
#include "store/crypto.h"
#include "store/log.h"

namespace omnijourney::internal {

inline constexpr uint32_t kSnapshotFormat = 6;
// The clear header: magic, format, position, record checksum, options fingerprint.
inline constexpr size_t kSnapshotHeaderBytes = 8 + 4 + 8 + 8 + 8;

// A hash of the options a snapshot's state depends on (identity rules, timeline, journeys' trait
// priority, dedupe window, time mode, lateness, action policy): a snapshot taken under other options
// is not used.
uint64_t OptionsFingerprint(const EngineOptions& options);

// The snapshot of `state` (at state.position(), which `log` must hold). Cost: O(state), plus
// reading every spilled profile.
// `size_hint`: the expected size (the last snapshot's), reserved up front (0: none).
// Makes the snapshot's key (Log::SnapshotKey).
absl::StatusOr<std::string> EncodeSnapshot(const EngineState& state, Log& log, const EngineOptions& options,
                                           size_t size_hint = 0);

// A state restored from the snapshot's `size` bytes at `data`, which it decrypts in place:
// FailedPrecondition (with the reason) when the snapshot is not for this log or these options or
// its key is gone, DataLoss when it is damaged. `log`, `spill` and `options` as for EngineState's
// constructor. With `file`, the owner of `data` (the copy-on-write mapping of the file), the
// profiles stay sealed (and encrypted) in it (EngineState::Restore); without, everything is
// decrypted and decoded and the spill store receives the spilled profiles.
absl::StatusOr<std::unique_ptr<EngineState>> DecodeSnapshot(char* data, size_t size, std::shared_ptr<const void> file,
                                                            Log& log, const EngineOptions& options,
                                                            absl::TimeZone zone, Log* state_log, SpillStore* spill,
                                                            RecordClock* record_clock);

// For tests that read a store's files as anyone holding them could: the state part of a snapshot
// file decrypted with `key` (a key found in the store's files; the wrong key gives noise), or
// nullopt for bytes that are not a snapshot of this format.
std::optional<std::string> DecryptSnapshotForTesting(std::string_view file, const crypto::Key& key);

}  // namespace omnijourney::internal

#endif  // OMNIJOURNEY_SRC_ENGINE_SNAPSHOT_H_
