// The engine's store on RocksDB: the durable log and the spill store of profiles that left the
// engine's in-memory cache (EngineOptions::storage).
//
// Layout (column families): "log" (8-byte big-endian position -> LogRecord), "meta"
// ("format_version" -> "2"), "profiles" (8-byte big-endian profile id -> StoredTimeline of a spilled
// profile; derived state, cleared at open). Format 1 also had "taken" (ids of actions handed out);
// opening a format-1 store turns them into one acknowledgement record (see OpenRocksDbStore).
#ifndef OMNIJOURNEY_SRC_STORE_ROCKSDB_STORE_H_
#define OMNIJOURNEY_SRC_STORE_ROCKSDB_STORE_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "store/log.h"
#include "store/spill_store.h"

namespace omnijourney::internal {

struct RocksDbStore {
  std::unique_ptr<Log> log;
  std::unique_ptr<SpillStore> spill;
  // Format 1 only: the ids of actions handed out. The engine appends them as an ActionAcks record
  // after recovery, then calls `finish_upgrade`, which drops them and records format 2.
  std::vector<std::string> taken;
  std::function<absl::Status()> finish_upgrade;
};

// Opens or creates the store in `path`. `sync`: fsync every log append (survives power loss).
// Unavailable naming storage.path when it cannot be opened; FailedPrecondition for a format this
// build does not read.
absl::StatusOr<RocksDbStore> OpenRocksDbStore(const std::string& path, bool sync);

}  // namespace omnijourney::internal

#endif  // OMNIJOURNEY_SRC_STORE_ROCKSDB_STORE_H_
