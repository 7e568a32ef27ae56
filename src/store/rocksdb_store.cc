#include "store/rocksdb_store.h"

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <mutex>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/parallel.h"
#include "common/status_macros.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"
#include "store/crypto.h"

namespace omnijourney::internal {
namespace {

constexpr char kFormatVersion[] = "3";

// A sealed record: this byte (never the first byte of a LogRecord: field 0 does not exist), the
// distance to its group's first position (varint), then the ciphertext.
constexpr char kSealed = '\x01';

// Keys of the "keys" column family.
constexpr char kGroupKey = 'g';     // + position of the group's first record -> key + record count
constexpr char kRecordKey = 'e';    // + position -> the record's own key (its group's is gone)
constexpr char kReplaced = 's';     // + original position -> position of its scrubbed copy
constexpr char kTombstone = 't';    // + 16-byte keyed hash -> ""
constexpr char kSnapshotKey = 'n';  // + snapshot position -> the snapshot file's key
constexpr char kSecret[] = "secret";  // -> the key of keyed hashes

std::string KeyOf(uint64_t n) {
  std::string key(8, '\0');
  for (int i = 7; i >= 0; --i) {
    key[static_cast<size_t>(i)] = static_cast<char>(n & 0xff);
    n >>= 8;
  }
  return key;
}

uint64_t NumberOf(std::string_view key) {
  uint64_t n = 0;
  for (size_t i = 0; i < 8 && i < key.size(); ++i) n = (n << 8) | static_cast<unsigned char>(key[i]);
  return n;
}
uint64_t NumberOf(const rocksdb::Slice& key) { return NumberOf(std::string_view(key.data(), key.size())); }
uint64_t NumberOf(const std::string& key) { return NumberOf(std::string_view(key)); }

std::string Prefixed(char prefix, uint64_t n) { return std::string(1, prefix) + KeyOf(n); }

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

bool GetVarint(std::string_view& in, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64 && !in.empty(); shift += 7) {
    const auto b = static_cast<unsigned char>(in.front());
    in.remove_prefix(1);
    *v |= static_cast<uint64_t>(b & 0x7F) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

absl::Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return absl::OkStatus();
  if (s.IsNoSpace()) {
    return absl::ResourceExhaustedError(absl::StrCat("rocksdb ", std::string(what), ": no space left on the device (",
                                                     s.ToString(), ")"));
  }
  if (s.IsCorruption()) return absl::DataLossError(absl::StrCat("rocksdb ", std::string(what), ": ", s.ToString()));
  return absl::InternalError(absl::StrCat("rocksdb ", std::string(what), ": ", s.ToString()));
}

// RocksDB's info log (<path>/LOG), written with plain writes whose failures only stop it: Debian's
// librocksdb asserts when its own logger cannot write (a full disk aborted the process). At most
// kMaxLogBytes; then it starts again, the previous one kept as LOG.old.
class InfoLog final : public rocksdb::Logger {
 public:
  static constexpr size_t kMaxLogBytes = 16 << 20;

  explicit InfoLog(std::string path) : rocksdb::Logger(rocksdb::InfoLogLevel::INFO_LEVEL), path_(std::move(path)) {
    Reopen();
  }
  ~InfoLog() override {
    if (file_ != nullptr) std::fclose(file_);
  }

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (file_ == nullptr) return;
    char line[1024];
    const int n = std::vsnprintf(line, sizeof(line), format, ap);
    if (n < 0) return;
    const size_t len = std::min(static_cast<size_t>(n), sizeof(line) - 1);
    if (std::fwrite(line, 1, len, file_) != len || std::fputc('\n', file_) == EOF || std::fflush(file_) != 0) {
      // Out of space (or another write error): stop logging; the store reports its own errors.
      std::fclose(file_);
      file_ = nullptr;
      return;
    }
    bytes_ += len + 1;
    if (bytes_ > kMaxLogBytes) {
      std::fclose(file_);
      file_ = nullptr;
      std::error_code ec;
      std::filesystem::rename(path_, path_ + ".old", ec);
      Reopen();
    }
  }

 private:
  void Reopen() {
    file_ = std::fopen(path_.c_str(), "a");
    std::error_code ec;
    bytes_ = file_ != nullptr ? static_cast<size_t>(std::filesystem::file_size(path_, ec)) : 0;
  }

  const std::string path_;
  std::mutex mu_;
  std::FILE* file_ = nullptr;
  size_t bytes_ = 0;
};

// The write-ahead log files of a store, for messages.
std::string WalFiles(const std::string& path) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(path, ec)) {
    if (entry.path().extension() == ".log") names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names.empty() ? "none" : absl::StrJoin(names, ", ");
}

// The open database, shared by the log and the spill store.
struct Db {
  std::string path;
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> cfs;  // default, log, meta, profiles, keys[, taken]
  std::shared_ptr<rocksdb::Logger> info_log;
  ~Db() {
    if (db == nullptr) return;
    // A clean close leaves nothing in the write-ahead log: a later damage to it loses nothing. The
    // spilled profiles are written without it and made anew at the next open.
    std::vector<rocksdb::ColumnFamilyHandle*> logged;
    for (auto* cf : cfs) {
      if (cf != nullptr && cf != profiles()) logged.push_back(cf);
    }
    (void)db->Flush(rocksdb::FlushOptions(), logged);
    for (auto* cf : cfs) {
      if (cf != nullptr) (void)db->DestroyColumnFamilyHandle(cf);
    }
  }
  rocksdb::ColumnFamilyHandle* log() const { return cfs[1]; }
  rocksdb::ColumnFamilyHandle* meta() const { return cfs[2]; }
  rocksdb::ColumnFamilyHandle* profiles() const { return cfs[3]; }
  rocksdb::ColumnFamilyHandle* keys() const { return cfs[4]; }
  rocksdb::ColumnFamilyHandle* taken() const { return cfs.size() > 5 ? cfs[5] : nullptr; }

  absl::StatusOr<std::optional<std::string>> Get(rocksdb::ColumnFamilyHandle* cf, std::string_view key) const {
    std::string bytes;
    rocksdb::Status s = db->Get(rocksdb::ReadOptions(), cf, rocksdb::Slice(key.data(), key.size()), &bytes);
    if (s.IsNotFound()) return std::optional<std::string>();
    RETURN_IF_ERROR(FromRocks(s, "get"));
    return std::optional<std::string>(std::move(bytes));
  }

  // Flushes every memtable (the WAL files holding their writes are deleted then) and compacts the
  // given column families to the bottom level, so that deleted and overwritten values leave the
  // files.
  absl::Status FlushAndCompact(const std::vector<rocksdb::ColumnFamilyHandle*>& compact) const {
    RETURN_IF_ERROR(FromRocks(db->Flush(rocksdb::FlushOptions(), cfs), "flush"));
    rocksdb::CompactRangeOptions options;
    options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    for (auto* cf : compact) RETURN_IF_ERROR(FromRocks(db->CompactRange(options, cf, nullptr, nullptr), "compact"));
    return absl::OkStatus();
  }

  // An erasure's last step: the deleted keys (and the spilled profiles' stale copies) leave the
  // files, then the mark that it is pending goes.
  absl::Status Purge() const {
    RETURN_IF_ERROR(FlushAndCompact({keys(), profiles()}));
    rocksdb::WriteOptions sync;
    sync.sync = true;
    return FromRocks(db->Delete(sync, meta(), "purge_pending"), "purge");
  }
};

// A group key's stored value: the key, then the number of positions the group spans (4 bytes LE).
std::string GroupValue(const crypto::Key& key, uint64_t count) {
  std::string v(crypto::Bytes(key));
  for (int i = 0; i < 4; ++i) v.push_back(static_cast<char>(count >> (8 * i)));
  return v;
}
bool ParseGroupValue(std::string_view v, crypto::Key* key, uint64_t* count) {
  if (v.size() != crypto::kKeyBytes + 4) return false;
  *key = *crypto::KeyFrom(v.substr(0, crypto::kKeyBytes));
  *count = 0;
  for (int i = 3; i >= 0; --i) *count = (*count << 8) | static_cast<unsigned char>(v[crypto::kKeyBytes + i]);
  return true;
}

// Seals `record` as the record at `position` of the group starting at `group` with key `key`.
std::string SealRecord(const crypto::Key& key, LogPosition group, LogPosition position, std::string_view record) {
  std::string out(1, kSealed);
  PutVarint(out, position - group);
  out.reserve(out.size() + record.size() + crypto::kSealOverhead);
  crypto::SealOnce(crypto::RecordKey(key, position), record, KeyOf(position), &out);
  return out;
}

// The group a sealed record belongs to; nullopt for bytes that are not a sealed record.
std::optional<LogPosition> GroupOf(LogPosition position, std::string_view bytes, std::string_view* sealed) {
  if (bytes.empty() || bytes.front() != kSealed) return std::nullopt;
  bytes.remove_prefix(1);
  uint64_t distance = 0;
  if (!GetVarint(bytes, &distance) || distance >= position) return std::nullopt;
  if (sealed != nullptr) *sealed = bytes;
  return position - distance;
}

class RocksDbLog final : public Log {
 public:
  RocksDbLog(std::shared_ptr<Db> db, bool sync, LogPosition last, crypto::Key secret,
             absl::flat_hash_map<LogPosition, LogPosition> replaced, LogPosition last_erasure)
      : db_(std::move(db)),
        last_(last),
        secret_(secret),
        replaced_(std::move(replaced)),
        last_erasure_(last_erasure) {
    write_.sync = sync;
  }

  absl::StatusOr<LogPosition> Append(std::vector<std::string> records) override {
    rocksdb::WriteBatch batch;
    const LogPosition group = last_ + 1;
    const crypto::Key key = crypto::RandomKey();
    RETURN_IF_ERROR(FromRocks(batch.Put(db_->keys(), Prefixed(kGroupKey, group), GroupValue(key, records.size())),
                              "batch"));
    LogPosition pos = last_;
    for (const auto& r : records) {
      ++pos;
      RETURN_IF_ERROR(FromRocks(batch.Put(db_->log(), KeyOf(pos), SealRecord(key, group, pos, r)), "batch"));
    }
    RETURN_IF_ERROR(FromRocks(db_->db->Write(write_, &batch), "write"));
    last_ = pos;
    return last_;
  }

  LogPosition last() const override { return last_; }

  absl::Status Read(LogPosition after,
                    const std::function<absl::Status(LogPosition, const v1::LogRecord&)>& fn) const override {
    std::unique_ptr<rocksdb::Iterator> it(db_->db->NewIterator(rocksdb::ReadOptions(), db_->log()));
    std::unique_ptr<rocksdb::Iterator> keys(db_->db->NewIterator(rocksdb::ReadOptions(), db_->keys()));
    keys->Seek(Prefixed(kGroupKey, 0));
    std::string plain;
    for (it->Seek(KeyOf(after + 1)); it->Valid(); it->Next()) {
      const LogPosition pos = NumberOf(it->key());
      v1::LogRecord r;
      if (auto copy = replaced_.find(pos); copy != replaced_.end()) {
        // Read as its scrubbed copy.
        ASSIGN_OR_RETURN(std::optional<std::string> bytes, db_->Get(db_->log(), KeyOf(copy->second)));
        if (!bytes) return absl::DataLossError(absl::StrCat("log record ", copy->second, " (the copy of ", pos, "): missing"));
        ASSIGN_OR_RETURN(const bool readable, Unseal(copy->second, *bytes, &plain));
        if (!readable) return absl::DataLossError(absl::StrCat("log record ", copy->second, ": its key is missing"));
        if (!r.ParseFromString(plain)) return absl::DataLossError(absl::StrCat("log record ", copy->second, ": unreadable"));
        r.clear_replaces();
      } else {
        ASSIGN_OR_RETURN(const bool readable,
                         Unseal(pos, std::string_view(it->value().data(), it->value().size()), &plain, keys.get()));
        if (!readable) continue;  // Erased.
        if (!r.ParseFromString(plain)) return absl::DataLossError(absl::StrCat("log record ", pos, ": unreadable"));
        if (r.replaces() != 0) continue;  // A scrubbed copy: read at the original's position.
      }
      RETURN_IF_ERROR(fn(pos, r));
    }
    return FromRocks(it->status(), "scan");
  }

  absl::StatusOr<std::optional<std::string>> Get(LogPosition position) const override {
    return db_->Get(db_->log(), KeyOf(position));
  }

  absl::StatusOr<LogPosition> Erase(Erasure erasure) override {
    rocksdb::WriteBatch batch;
    // The erasure's record and the scrubbed copies are one new group.
    const LogPosition group = last_ + 1;
    const crypto::Key key = crypto::RandomKey();
    RETURN_IF_ERROR(FromRocks(
        batch.Put(db_->keys(), Prefixed(kGroupKey, group), GroupValue(key, 1 + erasure.replace.size())), "batch"));
    RETURN_IF_ERROR(FromRocks(batch.Put(db_->log(), KeyOf(group), SealRecord(key, group, group, erasure.record)), "batch"));
    // What becomes unreadable: the shredded and replaced records and the earlier copies of both.
    std::set<LogPosition> gone;
    auto shred = [&](LogPosition pos) {
      gone.insert(pos);
      if (auto copy = replaced_.find(pos); copy != replaced_.end()) gone.insert(copy->second);
    };
    for (LogPosition pos : erasure.shred) {
      shred(pos);
      if (replaced_.contains(pos)) {
        RETURN_IF_ERROR(FromRocks(batch.Delete(db_->keys(), Prefixed(kReplaced, pos)), "batch"));
      }
    }
    std::vector<std::pair<LogPosition, LogPosition>> copies;
    LogPosition pos = group;
    for (auto& [original, record] : erasure.replace) {
      shred(original);
      record.set_replaces(original);
      ++pos;
      RETURN_IF_ERROR(
          FromRocks(batch.Put(db_->log(), KeyOf(pos), SealRecord(key, group, pos, record.SerializeAsString())), "batch"));
      RETURN_IF_ERROR(FromRocks(batch.Put(db_->keys(), Prefixed(kReplaced, original), KeyOf(pos)), "batch"));
      copies.emplace_back(original, pos);
    }
    RETURN_IF_ERROR(ShredKeys(gone, batch));
    for (const Tombstone& t : erasure.tombstones) {
      std::string k(1, kTombstone);
      k.append(reinterpret_cast<const char*>(t.data()), t.size());
      RETURN_IF_ERROR(FromRocks(batch.Put(db_->keys(), k, ""), "batch"));
    }
    // Every snapshot so far holds what is erased: their keys go in the same write.
    {
      std::unique_ptr<rocksdb::Iterator> it(db_->db->NewIterator(rocksdb::ReadOptions(), db_->keys()));
      for (it->Seek(std::string(1, kSnapshotKey)); it->Valid() && it->key()[0] == kSnapshotKey; it->Next()) {
        RETURN_IF_ERROR(FromRocks(batch.Delete(db_->keys(), it->key()), "batch"));
      }
      RETURN_IF_ERROR(FromRocks(it->status(), "scan"));
    }
    RETURN_IF_ERROR(FromRocks(batch.Put(db_->meta(), "purge_pending", "1"), "batch"));
    RETURN_IF_ERROR(FromRocks(batch.Put(db_->meta(), "last_erasure", KeyOf(group)), "batch"));
    rocksdb::WriteOptions sync = write_;
    sync.sync = true;  // An erasure is never undone by a crash.
    RETURN_IF_ERROR(FromRocks(db_->db->Write(sync, &batch), "write"));
    for (LogPosition p : erasure.shred) replaced_.erase(p);
    for (const auto& [original, copy] : copies) replaced_[original] = copy;
    cached_group_ = 0;
    last_ = pos;
    last_erasure_ = group;
    return group;
  }

  absl::Status Purge() override { return db_->Purge(); }

  Tombstone TombstoneOf(std::string_view key) const override { return crypto::KeyedHash(secret_, key); }

  std::vector<Tombstone> Tombstones() const override {
    std::vector<Tombstone> out;
    std::unique_ptr<rocksdb::Iterator> it(db_->db->NewIterator(rocksdb::ReadOptions(), db_->keys()));
    for (it->Seek(std::string(1, kTombstone)); it->Valid() && it->key()[0] == kTombstone; it->Next()) {
      if (it->key().size() != 1 + sizeof(Tombstone)) continue;
      Tombstone t;
      std::memcpy(t.data(), it->key().data() + 1, t.size());
      out.push_back(t);
    }
    return out;
  }

  LogPosition last_erasure() const override { return last_erasure_; }

  absl::StatusOr<std::optional<crypto::Key>> SnapshotKey(LogPosition position, bool create) override {
    if (!create) {
      ASSIGN_OR_RETURN(std::optional<std::string> v, db_->Get(db_->keys(), Prefixed(kSnapshotKey, position)));
      if (!v) return std::optional<crypto::Key>();
      std::optional<crypto::Key> k = crypto::KeyFrom(*v);
      if (!k) return absl::DataLossError(absl::StrCat("the key of the snapshot at ", position, " is damaged"));
      return k;
    }
    // Always a new key: a second snapshot at the same position (the first was not usable) must not
    // reuse the first one's key stream.
    const crypto::Key key = crypto::RandomKey();
    rocksdb::WriteOptions sync;
    sync.sync = true;
    RETURN_IF_ERROR(FromRocks(db_->db->Put(sync, db_->keys(), Prefixed(kSnapshotKey, position), crypto::Bytes(key)),
                              "snapshot key"));
    return std::optional<crypto::Key>(key);
  }

  absl::Status DropSnapshotKeys(LogPosition before) override {
    rocksdb::WriteBatch batch;
    std::unique_ptr<rocksdb::Iterator> it(db_->db->NewIterator(rocksdb::ReadOptions(), db_->keys()));
    for (it->Seek(std::string(1, kSnapshotKey)); it->Valid() && it->key()[0] == kSnapshotKey; it->Next()) {
      if (it->key().size() != 9) continue;
      if (NumberOf(std::string_view(it->key().data() + 1, it->key().size() - 1)) >= before) break;
      RETURN_IF_ERROR(FromRocks(batch.Delete(db_->keys(), it->key()), "batch"));
    }
    RETURN_IF_ERROR(FromRocks(it->status(), "scan"));
    if (batch.Count() == 0) return absl::OkStatus();
    return FromRocks(db_->db->Write(write_, &batch), "write");
  }

  bool ContainsForTesting(std::string_view needle) const override {
    // Every file of the store's directory and its subdirectories (SST, WAL, manifest, snapshots),
    // byte by byte, and the plaintext of every record still readable.
    std::error_code ec;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(db_->path, ec)) {
      if (!entry.is_regular_file()) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      if (ss.str().find(needle) != std::string::npos) return true;
    }
    bool found = false;
    (void)Read(0, [&](LogPosition, const v1::LogRecord& r) {
      found = found || r.SerializeAsString().find(needle) != std::string::npos;
      return absl::OkStatus();
    });
    return found;
  }

 private:
  // The record at `position` decrypted into `*plain`; false when its key is gone (erased).
  // DataLoss for bytes that are not a sealed record or do not decrypt with their key.
  // `keys` (may be null): an iterator over the keys column family that a reader going through the
  // log in order passes to every call, so that group keys are read in sequence rather than looked
  // up one by one.
  absl::StatusOr<bool> Unseal(LogPosition position, std::string_view bytes, std::string* plain,
                              rocksdb::Iterator* keys = nullptr) const {
    std::string_view sealed;
    const std::optional<LogPosition> group = GroupOf(position, bytes, &sealed);
    if (!group) return absl::DataLossError(absl::StrCat("log record ", position, ": not a sealed record"));
    std::optional<crypto::Key> key;
    if (*group == cached_group_) {
      key = cached_key_;
    } else {
      std::optional<std::string> v;
      const std::string target = Prefixed(kGroupKey, *group);
      if (keys != nullptr) {
        // Forward by a few steps, else seek.
        int steps = 0;
        while (keys->Valid() && keys->key().compare(target) < 0 && steps++ < 8) keys->Next();
        if (!keys->Valid() || keys->key().compare(target) != 0) {
          if (!keys->Valid() || keys->key().compare(target) < 0 || steps == 0) keys->Seek(target);
        }
        RETURN_IF_ERROR(FromRocks(keys->status(), "scan"));
        if (keys->Valid() && keys->key().compare(target) == 0) v = keys->value().ToString();
      } else {
        ASSIGN_OR_RETURN(v, db_->Get(db_->keys(), target));
      }
      uint64_t count = 0;
      crypto::Key k;
      if (v && !ParseGroupValue(*v, &k, &count)) {
        return absl::DataLossError(absl::StrCat("log record ", position, ": its group key is damaged"));
      }
      if (v) key = k;
      cached_group_ = *group;
      cached_key_ = key;
    }
    crypto::Key record_key;
    if (key) {
      record_key = crypto::RecordKey(*key, position);
    } else {
      ASSIGN_OR_RETURN(std::optional<std::string> own, db_->Get(db_->keys(), Prefixed(kRecordKey, position)));
      if (!own) return false;
      std::optional<crypto::Key> k = crypto::KeyFrom(*own);
      if (!k) return absl::DataLossError(absl::StrCat("log record ", position, ": its key is damaged"));
      record_key = *k;
    }
    if (!crypto::OpenOnce(record_key, sealed, KeyOf(position), plain)) {
      return absl::DataLossError(absl::StrCat("log record ", position, ": does not decrypt (damaged)"));
    }
    return true;
  }

  // Adds to `batch` what makes the records at `gone` unreadable: their own keys are deleted; a
  // group key is deleted after each of the group's other records got its own key.
  absl::Status ShredKeys(const std::set<LogPosition>& gone, rocksdb::WriteBatch& batch) const {
    std::set<LogPosition> groups_done;
    for (LogPosition pos : gone) {
      ASSIGN_OR_RETURN(std::optional<std::string> bytes, Get(pos));
      if (!bytes) continue;
      const std::optional<LogPosition> group = GroupOf(pos, *bytes, nullptr);
      if (!group) return absl::DataLossError(absl::StrCat("log record ", pos, ": not a sealed record"));
      RETURN_IF_ERROR(FromRocks(batch.Delete(db_->keys(), Prefixed(kRecordKey, pos)), "batch"));
      if (!groups_done.insert(*group).second) continue;
      ASSIGN_OR_RETURN(std::optional<std::string> v, db_->Get(db_->keys(), Prefixed(kGroupKey, *group)));
      if (!v) continue;  // Its records have their own keys already.
      crypto::Key key;
      uint64_t count = 0;
      if (!ParseGroupValue(*v, &key, &count)) return absl::DataLossError(absl::StrCat("group key ", *group, ": damaged"));
      std::unique_ptr<rocksdb::Iterator> it(db_->db->NewIterator(rocksdb::ReadOptions(), db_->log()));
      for (it->Seek(KeyOf(*group)); it->Valid() && NumberOf(it->key()) < *group + count; it->Next()) {
        const LogPosition other = NumberOf(it->key());
        if (gone.contains(other)) continue;
        const crypto::Key own = crypto::RecordKey(key, other);
        RETURN_IF_ERROR(FromRocks(batch.Put(db_->keys(), Prefixed(kRecordKey, other), crypto::Bytes(own)), "batch"));
      }
      RETURN_IF_ERROR(FromRocks(it->status(), "scan"));
      RETURN_IF_ERROR(FromRocks(batch.Delete(db_->keys(), Prefixed(kGroupKey, *group)), "batch"));
    }
    return absl::OkStatus();
  }

  std::shared_ptr<Db> db_;
  rocksdb::WriteOptions write_;
  LogPosition last_;
  const crypto::Key secret_;
  absl::flat_hash_map<LogPosition, LogPosition> replaced_;  // Original position -> its scrubbed copy.
  LogPosition last_erasure_;
  // The last group key read (Read goes through a group's records in order).
  mutable LogPosition cached_group_ = 0;
  mutable std::optional<crypto::Key> cached_key_;
};

// Spilled profiles are sealed with a key that exists only in this process's memory: they are
// derived state, cleared at open, so no copy left in the files can be read after the process ends.
class RocksDbSpillStore final : public SpillStore {
 public:
  explicit RocksDbSpillStore(std::shared_ptr<Db> db) : db_(std::move(db)) { write_.disableWAL = true; }

  absl::Status WriteProfiles(const std::vector<std::pair<uint64_t, std::string>>& put,
                             const std::vector<uint64_t>& erase) override {
    if (put.empty() && erase.empty()) return absl::OkStatus();
    // In key order: the memtable's skip list inserts a run of ascending keys from where the last one
    // went, instead of searching from the top for each (a spill of 90k profiles took twice as long).
    std::vector<const std::pair<uint64_t, std::string>*> order;
    order.reserve(put.size());
    for (const auto& p : put) order.push_back(&p);
    std::sort(order.begin(), order.end(), [](const auto* a, const auto* b) { return a->first < b->first; });
    std::vector<std::string> sealed(order.size());
    ParallelFor(order.size(), kMinSpillPerThread, 4, [&](size_t begin, size_t end) {
      for (size_t i = begin; i < end; ++i) sealer_.Seal(order[i]->second, &sealed[i]);
    });
    rocksdb::WriteBatch batch;
    for (size_t i = 0; i < order.size(); ++i) {
      RETURN_IF_ERROR(FromRocks(batch.Put(db_->profiles(), KeyOf(order[i]->first), sealed[i]), "batch"));
    }
    for (uint64_t id : erase) {
      if (absl::Status s = FromRocks(batch.Delete(db_->profiles(), KeyOf(id)), "batch"); !s.ok()) return s;
    }
    return FromRocks(db_->db->Write(write_, &batch), "write");
  }

  absl::StatusOr<std::optional<std::string>> GetProfile(uint64_t id) const override {
    ASSIGN_OR_RETURN(std::optional<std::string> sealed, db_->Get(db_->profiles(), KeyOf(id)));
    if (!sealed) return sealed;
    std::string plain;
    if (!sealer_.Open(*sealed, &plain)) return Damaged(id);
    return std::optional<std::string>(std::move(plain));
  }

  absl::Status ForEachProfile(const std::function<absl::Status(uint64_t, std::string_view)>& fn) const override {
    std::unique_ptr<rocksdb::Iterator> it(db_->db->NewIterator(rocksdb::ReadOptions(), db_->profiles()));
    std::string plain;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const uint64_t id = NumberOf(it->key());
      if (!sealer_.Open(std::string_view(it->value().data(), it->value().size()), &plain)) {
        return Damaged(id);
      }
      RETURN_IF_ERROR(fn(id, plain));
    }
    return FromRocks(it->status(), "scan");
  }

  absl::Status ClearProfiles() override {
    {
      std::unique_ptr<rocksdb::Iterator> it(db_->db->NewIterator(rocksdb::ReadOptions(), db_->profiles()));
      it->SeekToFirst();
      if (!it->Valid()) return FromRocks(it->status(), "scan");  // Already empty.
    }
    // A range tombstone; the bytes leave the files with the next compaction (Log::Purge forces one).
    const std::string end(9, '\xff');  // After every 8-byte key.
    return FromRocks(db_->db->DeleteRange(write_, db_->profiles(), KeyOf(0), end), "clear");
  }

 private:
  static absl::Status Damaged(uint64_t id) {
    return absl::DataLossError(absl::StrCat("spilled profile ", id, ": does not decrypt (damaged)"));
  }

  std::shared_ptr<Db> db_;
  rocksdb::WriteOptions write_;
  crypto::Sealer sealer_;
};

// Stores of formats 1 and 2 kept their records in plaintext: each is sealed (in steps of up to
// kUpgradeStep records, one group each, so a crash part way leaves sealed and plain records, and
// the next open goes on), then the old bytes are compacted away.
constexpr size_t kUpgradeStep = 4096;

absl::Status SealPlainRecords(Db& db) {
  for (;;) {
    rocksdb::WriteBatch batch;
    std::vector<std::pair<LogPosition, std::string>> plain;
    {
      std::unique_ptr<rocksdb::Iterator> it(db.db->NewIterator(rocksdb::ReadOptions(), db.log()));
      for (it->SeekToFirst(); it->Valid() && plain.size() < kUpgradeStep; it->Next()) {
        const LogPosition pos = NumberOf(it->key());
        const std::string_view bytes(it->value().data(), it->value().size());
        if (GroupOf(pos, bytes, nullptr)) continue;  // Sealed already.
        plain.emplace_back(pos, std::string(bytes));
      }
      RETURN_IF_ERROR(FromRocks(it->status(), "scan"));
    }
    if (plain.empty()) return absl::OkStatus();
    const LogPosition group = plain.front().first;
    const crypto::Key key = crypto::RandomKey();
    RETURN_IF_ERROR(FromRocks(
        batch.Put(db.keys(), Prefixed(kGroupKey, group), GroupValue(key, plain.back().first - group + 1)), "batch"));
    for (const auto& [pos, bytes] : plain) {
      RETURN_IF_ERROR(FromRocks(batch.Put(db.log(), KeyOf(pos), SealRecord(key, group, pos, bytes)), "batch"));
    }
    rocksdb::WriteOptions sync;
    sync.sync = true;
    RETURN_IF_ERROR(FromRocks(db.db->Write(sync, &batch), "upgrade"));
  }
}

}  // namespace

absl::StatusOr<RocksDbStore> OpenRocksDbStore(const std::string& path, bool sync, bool recover_damaged_log) {
  rocksdb::DBOptions options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  // A damaged log is refused; only a record cut short at its very end (a write torn by a crash,
  // never acknowledged) is dropped. Closed log files are checked against their sizes in the
  // MANIFEST.
  options.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  options.track_and_verify_wals_in_manifest = true;
  options.paranoid_checks = true;
  // ~Db flushes what the WAL holds; the spilled profiles (written without it) are not kept.
  options.avoid_flush_during_shutdown = true;
  std::error_code dir_error;
  std::filesystem::create_directories(path, dir_error);  // The logger's file goes there first.
  auto info_log = std::make_shared<InfoLog>(path + "/LOG");
  options.info_log = info_log;
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors = {
      {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()},
      {"log", rocksdb::ColumnFamilyOptions()},
      {"meta", rocksdb::ColumnFamilyOptions()},
      {"profiles", rocksdb::ColumnFamilyOptions()},
      {"keys", rocksdb::ColumnFamilyOptions()},
  };
  // A format-1 store has "taken" too.
  std::vector<std::string> existing;
  if (rocksdb::DB::ListColumnFamilies(options, path, &existing).ok() &&
      std::find(existing.begin(), existing.end(), "taken") != existing.end()) {
    descriptors.push_back({"taken", rocksdb::ColumnFamilyOptions()});
  }
  auto db = std::make_shared<Db>();
  db->path = path;
  db->info_log = info_log;
  RocksDbStore store;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, path, descriptors, &db->cfs, &raw);
  if (s.IsCorruption() && recover_damaged_log) {
    const std::string strict_error = s.ToString();
    options.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
    db->cfs.clear();
    s = rocksdb::DB::Open(options, path, descriptors, &db->cfs, &raw);
    if (s.ok()) {
      store.recovery_note = absl::StrCat("the write-ahead log (", WalFiles(path), ") was damaged (", strict_error,
                                         "): opened with the records before the damage; later ones are lost");
    }
  }
  if (s.IsCorruption()) {
    return absl::DataLossError(absl::StrCat(
        "storage.path '", path, "': damaged (write-ahead log files: ", WalFiles(path), "): ", s.ToString(),
        recover_damaged_log ? ""
                            : "; storage.damaged_log = kRecoverToLastConsistentPoint opens it with the records "
                              "before the damage"));
  }
  if (s.IsNoSpace()) {
    return absl::ResourceExhaustedError(
        absl::StrCat("storage.path '", path, "': no space left on the device: ", s.ToString()));
  }
  if (!s.ok()) return absl::UnavailableError(absl::StrCat("storage.path '", path, "': ", s.ToString()));
  db->db.reset(raw);
  ASSIGN_OR_RETURN(std::optional<std::string> version, db->Get(db->meta(), "format_version"));
  rocksdb::WriteOptions synced;
  synced.sync = true;
  if (!version) {
    // A new store (older formats always have their version).
    RETURN_IF_ERROR(FromRocks(db->db->Put(synced, db->meta(), "format_version", kFormatVersion), "create"));
  } else if (*version == "1" || *version == "2") {
    RETURN_IF_ERROR(SealPlainRecords(*db));
    RETURN_IF_ERROR(db->FlushAndCompact({db->log()}));  // The plaintext leaves the files.
    if (*version == "1") {
      if (db->taken() != nullptr) {
        std::unique_ptr<rocksdb::Iterator> it(db->db->NewIterator(rocksdb::ReadOptions(), db->taken()));
        for (it->SeekToFirst(); it->Valid(); it->Next()) store.taken.push_back(it->key().ToString());
        RETURN_IF_ERROR(FromRocks(it->status(), "scan"));
      }
      store.finish_upgrade = [db]() -> absl::Status {
        rocksdb::WriteOptions sync;
        sync.sync = true;
        RETURN_IF_ERROR(FromRocks(db->db->Put(sync, db->meta(), "format_version", kFormatVersion), "upgrade"));
        if (db->taken() == nullptr) return absl::OkStatus();
        RETURN_IF_ERROR(FromRocks(db->db->DropColumnFamily(db->taken()), "upgrade"));
        db->db->DestroyColumnFamilyHandle(db->cfs.back());
        db->cfs.pop_back();
        return absl::OkStatus();
      };
    } else {
      RETURN_IF_ERROR(FromRocks(db->db->Put(synced, db->meta(), "format_version", kFormatVersion), "upgrade"));
    }
  } else if (*version != kFormatVersion) {
    return absl::FailedPreconditionError(absl::StrCat("storage.path '", path, "': format version ", *version,
                                                      ", this build reads ", kFormatVersion, " (and upgrades 1 and 2)"));
  }
  // The key of keyed hashes, made once.
  crypto::Key secret;
  ASSIGN_OR_RETURN(std::optional<std::string> stored_secret, db->Get(db->keys(), kSecret));
  if (stored_secret) {
    std::optional<crypto::Key> k = crypto::KeyFrom(*stored_secret);
    if (!k) return absl::DataLossError(absl::StrCat("storage.path '", path, "': the store's secret is damaged"));
    secret = *k;
  } else {
    secret = crypto::RandomKey();
    RETURN_IF_ERROR(FromRocks(db->db->Put(synced, db->keys(), kSecret, crypto::Bytes(secret)), "create"));
  }
  // An erasure that stopped before its old keys left the files: that is finished first.
  ASSIGN_OR_RETURN(std::optional<std::string> pending, db->Get(db->meta(), "purge_pending"));
  if (pending) RETURN_IF_ERROR(db->Purge());
  ASSIGN_OR_RETURN(std::optional<std::string> erased_at, db->Get(db->meta(), "last_erasure"));
  absl::flat_hash_map<LogPosition, LogPosition> replaced;
  {
    std::unique_ptr<rocksdb::Iterator> it(db->db->NewIterator(rocksdb::ReadOptions(), db->keys()));
    for (it->Seek(std::string(1, kReplaced)); it->Valid() && it->key()[0] == kReplaced; it->Next()) {
      if (it->key().size() != 9) continue;  // Not a position ("secret").
      replaced[NumberOf(std::string_view(it->key().data() + 1, it->key().size() - 1))] = NumberOf(it->value());
    }
    RETURN_IF_ERROR(FromRocks(it->status(), "scan"));
  }
  // The next position follows the last record.
  LogPosition last = 0;
  {
    std::unique_ptr<rocksdb::Iterator> it(db->db->NewIterator(rocksdb::ReadOptions(), db->log()));
    it->SeekToLast();
    if (it->Valid()) last = NumberOf(it->key());
    RETURN_IF_ERROR(FromRocks(it->status(), "scan"));
  }
  store.log = std::make_unique<RocksDbLog>(db, sync, last, secret, std::move(replaced),
                                           erased_at ? NumberOf(*erased_at) : 0);
  // The last process's spilled profiles cannot be read (their key died with it) and the replay
  // rebuilds them: the column family is made anew, so its files go at once, with nothing left for
  // compactions to work through beside the replay.
  RETURN_IF_ERROR(FromRocks(db->db->DropColumnFamily(db->cfs[3]), "clear spilled profiles"));
  RETURN_IF_ERROR(FromRocks(db->db->DestroyColumnFamilyHandle(db->cfs[3]), "clear spilled profiles"));
  db->cfs[3] = nullptr;
  RETURN_IF_ERROR(FromRocks(db->db->CreateColumnFamily(rocksdb::ColumnFamilyOptions(), "profiles", &db->cfs[3]),
                            "clear spilled profiles"));
  store.spill = std::make_unique<RocksDbSpillStore>(db);
  return store;
}

std::optional<std::string> OpenSealedForTesting(std::string_view key, std::string_view value,
                                                const std::multimap<uint64_t, std::string>& group_keys,
                                                const std::multimap<uint64_t, std::string>& record_keys) {
  if (key.size() != 8) return std::nullopt;
  const LogPosition pos = NumberOf(key);
  std::string_view sealed;
  const std::optional<LogPosition> group = GroupOf(pos, value, &sealed);
  if (!group) return std::nullopt;
  std::string plain;
  auto [gb, ge] = group_keys.equal_range(*group);
  for (auto it = gb; it != ge; ++it) {
    crypto::Key k;
    uint64_t count = 0;
    if (ParseGroupValue(it->second, &k, &count) && crypto::OpenOnce(crypto::RecordKey(k, pos), sealed, key, &plain)) {
      return plain;
    }
  }
  auto [rb, re] = record_keys.equal_range(pos);
  for (auto it = rb; it != re; ++it) {
    std::optional<crypto::Key> k = crypto::KeyFrom(it->second);
    if (k && crypto::OpenOnce(*k, sealed, key, &plain)) return plain;
  }
  return std::nullopt;
}

}  // namespace omnijourney::internal
