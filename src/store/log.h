// The engine's log: the ordered records (proto/omnijourney/v1/store.proto) every state change goes
// through. Two implementations: in memory (bounded, the default) and on RocksDB (rocksdb_store.h).
//
// Positions number the records from 1 in append order; 0 is "before the first record". A position
// is never reused, also when records before it are dropped (MemoryLog) or erased.
//
// Erasure never rewrites a record in place: the durable log stores every record encrypted with a
// key of its own (crypto.h) and an erasure deletes keys; a scrubbed copy of a record that keeps
// some of its data is appended, and read in place of the original.
//
// Thread-safety: not thread-safe; the engine serialises its calls.
#ifndef OMNIJOURNEY_SRC_STORE_LOG_H_
#define OMNIJOURNEY_SRC_STORE_LOG_H_

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "omnijourney/v1/store.pb.h"
#include "store/crypto.h"

namespace omnijourney::internal {

using LogPosition = uint64_t;
using Tombstone = std::array<uint8_t, 16>;

class Log {
 public:
  virtual ~Log() = default;
  // Appends serialized LogRecords after the last one, atomically (all or none) and, for a durable
  // log, durably before it returns. Returns the position of the last one appended.
  // REQUIRES: `records` is not empty.
  virtual absl::StatusOr<LogPosition> Append(std::vector<std::string> records) = 0;
  // Whether appended records are kept (readable). A memory log with no room keeps none: callers may
  // then append empty strings instead of encoding records (only positions advance).
  virtual bool keeps_records() const { return true; }
  // Whether Append writes to storage (worth overlapping with other work) rather than to memory.
  virtual bool durable() const { return true; }
  // The position of the last record appended (0 when none ever was).
  virtual LogPosition last() const = 0;
  // Calls `fn` for every retained record after `after`, in order; stops at the first error and
  // returns it. DataLoss for a record that does not parse.
  virtual absl::Status Read(LogPosition after,
                            const std::function<absl::Status(LogPosition, const v1::LogRecord&)>& fn) const = 0;
  // The stored bytes of the record at `position`; nullopt when it is not retained (deleted, dropped,
  // or never appended).
  virtual absl::StatusOr<std::optional<std::string>> Get(LogPosition position) const = 0;
  // An erasure (docs/storage.md, "Erasure by crypto-shredding"): appended as one atomic, durable
  // change. Positions name records as Read gives them (a replaced record by its original position).
  struct Erasure {
    std::string record;               // The erasure's serialized LogRecord, appended.
    std::vector<LogPosition> shred;   // Records that become unreadable for good.
    // Records read from now on as the given LogRecord (a scrubbed copy) in place of the original,
    // which becomes unreadable.
    std::vector<std::pair<LogPosition, v1::LogRecord>> replace;
    std::vector<Tombstone> tombstones;  // Remembered for good (Tombstones()).
  };
  // Returns the position of the erasure's record. Afterwards Purge() removes what the erasure
  // made unreadable from storage; a durable log that stops before Purge finished does it at open.
  virtual absl::StatusOr<LogPosition> Erase(Erasure erasure) = 0;
  // Removes the bytes an erasure made unreadable (old keys, overwritten records) from storage.
  virtual absl::Status Purge() = 0;
  // The keyed hash an erased event's idempotence key is remembered by (the raw key is not): a
  // secret of the log's keys it. The same for the life of the log.
  virtual Tombstone TombstoneOf(std::string_view idempotence_key) const = 0;
  // Every tombstone of every erasure so far.
  virtual std::vector<Tombstone> Tombstones() const = 0;
  // The position of the last erasure's record (0: none): a snapshot of an earlier state holds what
  // it erased and must not be used.
  virtual LogPosition last_erasure() const = 0;
  // The key the snapshot of the state at `position` is encrypted with, kept with the records' keys
  // so that an erasure deletes it with them (every older snapshot becomes unreadable in the same
  // write). With `create`: a new one, made durably (replacing any earlier one at that position, so
  // no two snapshot files share a key stream). Else the one there is; nullopt when there is none.
  virtual absl::StatusOr<std::optional<crypto::Key>> SnapshotKey(LogPosition position, bool create) = 0;
  // Deletes the keys of the snapshots before `position` (their files were deleted). Unlike the
  // other calls, this one may run beside them (the engine writes snapshots outside its locks).
  virtual absl::Status DropSnapshotKeys(LogPosition before) = 0;
  // For tests of erasure: true when any retained record (and, for a durable log, any file of the
  // store, and the plaintext of every record it can still read) contains `needle`.
  virtual bool ContainsForTesting(std::string_view needle) const = 0;
};

// A log in memory that keeps the most recent records up to `max_bytes` (their serialized size),
// dropping the oldest first; at least the last append is always kept. With max_bytes 0 it keeps no
// record at all and only numbers them. Nothing reads a memory log after its records are applied
// but erasure (which scrubs what it keeps) and tests.
std::unique_ptr<Log> NewMemoryLog(size_t max_bytes);

// The serialized LogRecord holding `event`, without copying the event into a LogRecord first; `at`
// is the record's clock time (InfinitePast: unset).
std::string EncodeEventRecord(const v1::Event& event, absl::Time at = absl::InfinitePast());

// Appends LogRecord.source_check and source (Engine::SetSource) to a serialized LogRecord (a
// serialized message followed by fields is the message with those fields). Nothing when
// `position` is 0.
void AppendSource(std::string* record, uint64_t position, uint64_t check);
// Appends LoggedErasure.audit_profiles to a serialized LogRecord holding an erasure (as a second
// occurrence of LogRecord.erasure, which a parser merges into the first).
void AppendAuditProfiles(std::string* record, const std::vector<uint64_t>& profiles);

}  // namespace omnijourney::internal

#endif  // OMNIJOURNEY_SRC_STORE_LOG_H_
