// The engine's snapshots of a store: which one Open starts from, writing new ones and deleting old
// ones (with their keys), and what EngineStats says about them. The snapshot's bytes are
// snapshot.h's; the files are SnapshotStore's.
//
// Thread-safety: every method is thread-safe; writes and deletions run one at a time (Write may
// run beside the engine's readers and writers). Encode and DropDamaged read the state: the caller
// holds the engine's write order and at least its shared state lock.
#ifndef OMNIJOURNEY_SRC_ENGINE_CHECKPOINTS_H_
#define OMNIJOURNEY_SRC_ENGINE_CHECKPOINTS_H_

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/engine_state.h"
#include "omnijourney/engine.h"
#include "omnijourney/engine_options.h"
#include "store/log.h"
#include "store/snapshot_store.h"
#include "store/spill_store.h"

namespace omnijourney::internal {

class Checkpoints {
 public:
  // `files` null: no snapshots (a memory-only engine); every method is then a no-op.
  Checkpoints(const EngineOptions& options, absl::TimeZone zone, Log* log, SpillStore* spill,
              RecordClock* record_clock, std::unique_ptr<SnapshotStore> files)
      : options_(options), zone_(zone), log_(log), spill_(spill), record_clock_(record_clock), files_(std::move(files)) {}

  bool enabled() const { return files_ != nullptr; }

  // Open: the newest snapshot that matches the log and the options, decoded (null: none, the log
  // is replayed from its start); the others are noted (EngineStats::snapshot_notes) and skipped.
  // Snapshots taken before the last erasure, and files a crash cut short, are deleted first.
  absl::StatusOr<std::unique_ptr<EngineState>> Load();

  // A snapshot is encoded under the engine's locks (the state as of its position) and written to
  // disk without them: readers and writers go on during the write and sync.
  struct Encoded {
    LogPosition position = 0;  // 0: nothing new to write.
    absl::StatusOr<std::string> bytes = std::string();
  };
  Encoded Encode(const EngineState& state);
  // Writes `snapshot` unless a newer one was written meanwhile (an erasure's, which deleted every
  // older one: this one may hold the erased value), then deletes the older ones but the previous
  // one when `keep_previous`, all of them otherwise. A failure is also kept for EngineStats.
  absl::Status Write(Encoded snapshot, bool keep_previous);
  // A profile sealed in the snapshot Open started from did not decode (`state` has failed): that
  // snapshot and the older ones are deleted (once), so that reopening replays the log instead of
  // failing on the same part again.
  void DropDamaged(const EngineState& state);

  // The newest snapshot's position (0: none).
  LogPosition position() const;
  // Fills EngineStats' snapshot fields.
  void AddTo(EngineStats& stats) const;

 private:
  // Deletes the snapshot files before `before` but the `keep` newest of them, and the keys of every
  // file no longer there (a copy of one can no longer be read).
  absl::Status DeleteBefore(LogPosition before, size_t keep);

  const EngineOptions& options_;
  const absl::TimeZone zone_;
  Log* const log_;
  SpillStore* const spill_;
  RecordClock* const record_clock_;
  const std::unique_ptr<SnapshotStore> files_;
  mutable std::mutex mu_;  // Guards what follows; held while a snapshot is written or deleted.
  LogPosition position_ = 0;
  LogPosition loaded_ = 0;
  std::vector<std::string> notes_;
  int64_t written_ = 0;
  bool damaged_dropped_ = false;
  size_t last_bytes_ = 0;  // Size of the last one written or loaded.
  std::string error_;
};

}  // namespace omnijourney::internal

#endif  // OMNIJOURNEY_SRC_ENGINE_CHECKPOINTS_H_
