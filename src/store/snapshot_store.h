// Snapshot files of a store: `<dir>/snapshot-<position>` (20 decimal digits), each written to a
// temporary file, synced and renamed into place, so a crash leaves either the whole file or none.
//
// Thread-safety: not thread-safe; the engine serialises its calls.
#ifndef OMNIJOURNEY_SRC_STORE_SNAPSHOT_STORE_H_
#define OMNIJOURNEY_SRC_STORE_SNAPSHOT_STORE_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "store/log.h"

namespace omnijourney::internal {

class SnapshotStore {
 public:
  // `dir` is created when missing (by the first Write).
  explicit SnapshotStore(std::string dir) : dir_(std::move(dir)) {}

  absl::Status Write(LogPosition position, std::string_view bytes);
  // Positions of the stored snapshots, newest first (none when the directory does not exist).
  absl::StatusOr<std::vector<LogPosition>> List() const;
  // A snapshot's bytes, mapped copy-on-write (valid while the returned object lives): they may be
  // changed in memory (decrypted in place); the file is not.
  class Mapped {
   public:
    Mapped(char* data, size_t size) : data_(data), size_(size) {}
    Mapped(Mapped&& o) noexcept : data_(o.data_), size_(o.size_) { o.data_ = nullptr; }
    Mapped& operator=(Mapped&&) = delete;
    ~Mapped();
    std::string_view bytes() const { return {data_, size_}; }
    char* data() { return data_; }

   private:
    char* data_;
    size_t size_;
  };
  absl::StatusOr<Mapped> Read(LogPosition position) const;
  // Deletes the temporary files of writes a crash cut short (they may hold what an erasure took
  // away since). REQUIRES: no Write runs.
  absl::Status DeleteUnfinished();
  // Deletes the snapshots before `position`, except the `keep` newest of them.
  absl::Status DeleteBefore(LogPosition position, size_t keep = 0);
  std::string PathOf(LogPosition position) const;

 private:
  std::string dir_;
};

}  // namespace omnijourney::internal

#endif  // OMNIJOURNEY_SRC_STORE_SNAPSHOT_STORE_H_
