// Durable storage of the engine's log (proto/omnijourney/v1/store.proto) and of the ids of actions
// the host has taken. Two implementations: in memory and RocksDB.
//
// RocksDB layout (column families): "log" (8-byte big-endian sequence -> LogRecord), "taken" (action id
// -> empty), "meta" ("format_version" -> "1"), "profiles" (8-byte big-endian profile id ->
// StoredTimeline of a profile spilled out of the engine's cache; derived state, cleared on open).
// One WriteBatch per Append/MarkTaken/WriteProfiles call.
#ifndef OMNIJOURNEY_SRC_STORE_LOG_STORE_H_
#define OMNIJOURNEY_SRC_STORE_LOG_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "omnijourney/v1/store.pb.h"

namespace omnijourney::internal {

class LogStore {
 public:
  virtual ~LogStore() = default;
  // Appends records after the last one, atomically.
  virtual absl::Status Append(const std::vector<const v1::LogRecord*>& records) = 0;
  // The same for records already serialized (see EncodeEventRecord).
  virtual absl::Status AppendSerialized(const std::vector<std::string>& records) = 0;
  // Calls `fn` for every record in order; stops at the first error and returns it.
  virtual absl::Status ForEach(const std::function<absl::Status(uint64_t seq, const v1::LogRecord&)>& fn) const = 0;
  // Replaces records (nullopt: deletes them) atomically and durably (synced). The old bytes stay in
  // the files until Purge().
  virtual absl::Status Rewrite(const std::vector<std::pair<uint64_t, std::optional<v1::LogRecord>>>& changes) = 0;
  // Removes overwritten and deleted bytes from storage (flush and full compaction).
  virtual absl::Status Purge() = 0;

  // Spilled profiles: id -> encoded ProfileTimeline. Not synced: they are rebuilt from the log.
  // Stores `put` and deletes `erase` in one batch.
  virtual absl::Status WriteProfiles(const std::vector<std::pair<uint64_t, std::string>>& put,
                                     const std::vector<uint64_t>& erase) = 0;
  virtual absl::StatusOr<std::optional<std::string>> GetProfile(uint64_t id) const = 0;
  virtual absl::Status ForEachProfile(const std::function<absl::Status(uint64_t id, std::string_view bytes)>& fn) const = 0;
  virtual absl::Status ClearProfiles() = 0;

  // Records action ids the host has taken.
  virtual absl::Status MarkTaken(const std::vector<std::string>& ids) = 0;
  virtual absl::Status ForEachTaken(const std::function<void(const std::string&)>& fn) const = 0;
  // For tests of erasure: true when any stored byte sequence (after compaction) contains `needle`.
  virtual bool ContainsForTesting(std::string_view needle) const = 0;
};

// The serialized LogRecord holding `event`, without copying the event into a LogRecord first.
std::string EncodeEventRecord(const v1::Event& event);

std::unique_ptr<LogStore> NewMemoryLogStore();
// Opens or creates the store in `path`. `sync`: fsync every write (survives power loss, slower).
absl::StatusOr<std::unique_ptr<LogStore>> OpenRocksDbLogStore(const std::string& path, bool sync);

}  // namespace omnijourney::internal

#endif  // OMNIJOURNEY_SRC_STORE_LOG_STORE_H_
