// Durable storage of the engine's log (proto/omnijourney/v1/store.proto) and of the ids of actions
// the host has taken. Two implementations: in memory and RocksDB.
//
// RocksDB layout (column families): "log" (8-byte big-endian sequence -> LogRecord), "taken" (action id
// -> empty), "meta" ("format_version" -> "1"). One WriteBatch per Append/MarkTaken call.
#ifndef OMNIJOURNEY_SRC_STORE_LOG_STORE_H_
#define OMNIJOURNEY_SRC_STORE_LOG_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
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
  // Replaces records (nullopt: deletes them) atomically, then purges the old bytes from storage.
  virtual absl::Status Rewrite(const std::vector<std::pair<uint64_t, std::optional<v1::LogRecord>>>& changes) = 0;
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
