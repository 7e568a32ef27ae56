#include "engine/checkpoints.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "engine/snapshot.h"

namespace omnijourney::internal {

absl::StatusOr<std::unique_ptr<EngineState>> Checkpoints::Load() {
  if (files_ == nullptr) return nullptr;
  RETURN_IF_ERROR(files_->DeleteUnfinished());
  // Snapshots taken before the last erasure hold what it took away: an erasure that stopped before
  // it deleted them (after writing its own) leaves them, and they go now.
  if (log_->last_erasure() > 0) {
    ASSIGN_OR_RETURN(const std::vector<LogPosition> all, files_->List());
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (LogPosition pos : all) {
        if (pos >= log_->last_erasure()) continue;
        notes_.push_back(
            absl::StrCat(files_->PathOf(pos), ": deleted: taken before the erasure at record ", log_->last_erasure()));
      }
    }
    RETURN_IF_ERROR(DeleteBefore(log_->last_erasure(), 0));
  }
  ASSIGN_OR_RETURN(const std::vector<LogPosition> positions, files_->List());
  for (LogPosition pos : positions) {
    absl::StatusOr<SnapshotStore::Mapped> bytes = files_->Read(pos);
    absl::StatusOr<std::unique_ptr<EngineState>> state = absl::UnknownError("unread");
    size_t size = 0;
    if (bytes.ok()) {
      RETURN_IF_ERROR(spill_->ClearProfiles());  // A failed attempt may have written some.
      // The profiles stay sealed in the mapping until used (sealed.h).
      auto mapping = std::make_shared<SnapshotStore::Mapped>(*std::move(bytes));
      size = mapping->bytes().size();
      state = DecodeSnapshot(mapping->data(), size, mapping, *log_, options_, zone_, log_, spill_, record_clock_);
    } else {
      state = bytes.status();
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (state.ok()) {
      position_ = loaded_ = pos;
      last_bytes_ = size;
      return state;
    }
    notes_.push_back(absl::StrCat(files_->PathOf(pos), ": ignored: ", state.status().message()));
  }
  RETURN_IF_ERROR(spill_->ClearProfiles());
  return nullptr;
}

Checkpoints::Encoded Checkpoints::Encode(const EngineState& state) {
  Encoded out;
  if (files_ == nullptr) return out;
  if (!state.io_error().ok()) {
    // A failed state is not written (it may be partly applied); reopening rebuilds it.
    out.bytes =
        absl::FailedPreconditionError(absl::StrCat("no snapshot of a failed state: ", state.io_error().message()));
    return out;
  }
  const LogPosition pos = state.position();
  size_t hint = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (pos == 0 || pos <= position_) return out;
    hint = last_bytes_;
  }
  // The last snapshot's size, or for the first 512 bytes per entry and identifier (memory reserved
  // and not written costs nothing: the pages are never touched).
  if (hint == 0) {
    const EngineStats stats = state.Stats();
    hint = 512 * static_cast<size_t>(std::max<int64_t>(0, stats.timeline_entries + stats.identity.identifiers));
  }
  out.position = pos;
  out.bytes = EncodeSnapshot(state, *log_, options_, hint);
  return out;
}

absl::Status Checkpoints::Write(Encoded snapshot, bool keep_previous) {
  if (files_ == nullptr) return absl::OkStatus();
  std::lock_guard<std::mutex> lock(mu_);
  absl::Status s = snapshot.bytes.status();
  if (s.ok() && snapshot.position > position_) {
    s = files_->Write(snapshot.position, *snapshot.bytes);
    if (s.ok()) {
      position_ = snapshot.position;
      last_bytes_ = snapshot.bytes->size();
      ++written_;
    }
  }
  if (s.ok() || !keep_previous) {
    if (absl::Status d = DeleteBefore(s.ok() ? position_ : UINT64_MAX, keep_previous ? 1 : 0); s.ok()) s = d;
  }
  if (!s.ok()) error_ = std::string(s.message());
  return s;
}

void Checkpoints::DropDamaged(const EngineState& state) {
  if (files_ == nullptr) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (damaged_dropped_) return;
  damaged_dropped_ = true;
  absl::Status s = DeleteBefore(UINT64_MAX, 0);
  error_ = absl::StrCat("the snapshot at record ", loaded_, " is damaged (", state.io_error().message(), "); deleted",
                        s.ok() ? "" : absl::StrCat(" failed: ", s.message()), ", reopen to replay the log");
}

LogPosition Checkpoints::position() const {
  std::lock_guard<std::mutex> lock(mu_);
  return position_;
}

void Checkpoints::AddTo(EngineStats& stats) const {
  std::lock_guard<std::mutex> lock(mu_);
  stats.snapshot_position = static_cast<int64_t>(loaded_);
  stats.snapshot_notes = notes_;
  stats.snapshots_written = written_;
  stats.snapshot_error = error_;
}

absl::Status Checkpoints::DeleteBefore(LogPosition before, size_t keep) {
  absl::Status s = files_->DeleteBefore(before, keep);
  absl::StatusOr<std::vector<LogPosition>> left = files_->List();
  absl::Status d = left.ok() ? log_->DropSnapshotKeys(left->empty() ? before : left->back()) : left.status();
  return s.ok() ? d : s;
}

}  // namespace omnijourney::internal
