// The engine's store on RocksDB: the durable log and the spill store of profiles that left the
// engine's in-memory cache (EngineOptions::storage).
//
// Layout (column families; docs/storage.md):
// - "log": 8-byte big-endian position -> the sealed LogRecord (crypto.h): 0x01, the distance to its
//   group's first position (varint), the ciphertext.
// - "keys": 'g' + group position -> the group's key and the number of positions it spans;
//   'e' + position -> a record's own key (after its group's was deleted); 'n' + position -> the key
//   of the snapshot at that position (deleted by every erasure); 's' + position -> the
//   position of the record's scrubbed copy; 't' + keyed hash -> "" (an erased event's tombstone);
//   "secret" -> the key of the keyed hashes.
// - "meta": "format_version" -> "3"; "last_erasure" -> its position; "purge_pending" while an
//   erasure's old keys may still be in the files.
// - "profiles": 8-byte big-endian profile id -> a spilled profile's timeline (ProfileTimeline::
//   Encode), sealed with a key that only the process has (derived state, made anew at open).
// Formats 1 and 2 kept plaintext records (and format 1 a "taken" column family of the ids of
// actions handed out): opening one seals its records, and format 1's taken ids become one
// acknowledgement record (see OpenRocksDbStore).
#ifndef OMNIJOURNEY_SRC_STORE_ROCKSDB_STORE_H_
#define OMNIJOURNEY_SRC_STORE_ROCKSDB_STORE_H_

#include <functional>
#include <map>
#include <optional>
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
  // What opening gave up (a damaged write-ahead log recovered to its last consistent point); empty:
  // nothing.
  std::string recovery_note;
};

// Opens or creates the store in `path`. `sync`: fsync every log append (survives power loss).
// `recover_damaged_log`: open a store whose write-ahead log is damaged with the records before the
// damage (else DataLoss naming the log files). Unavailable naming storage.path when it cannot be
// opened, ResourceExhausted when its disk is full; FailedPrecondition for a format this build does
// not read. RocksDB's own LOG is written by a logger that never aborts the process (a full disk
// only stops it).
absl::StatusOr<RocksDbStore> OpenRocksDbStore(const std::string& path, bool sync, bool recover_damaged_log = false);

// For tests that read a store's files as anyone holding them could: the plaintext of a sealed log
// record stored under `key` (its 8-byte position) as `value`, when a key found in the files opens
// it. `group_keys`: by group position, every group-key value found ("keys" column family, 'g' +
// position); `record_keys`: by record position, every record-key value found ('e' + position).
std::optional<std::string> OpenSealedForTesting(std::string_view key, std::string_view value,
                                                const std::multimap<uint64_t, std::string>& group_keys,
                                                const std::multimap<uint64_t, std::string>& record_keys);

}  // namespace omnijourney::internal

#endif  // OMNIJOURNEY_SRC_STORE_ROCKSDB_STORE_H_
