#include "store/rocksdb_store.h"

#include <algorithm>
#include <filesystem>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"

namespace omnijourney::internal {
namespace {

constexpr char kFormatVersion[] = "2";

std::string KeyOf(uint64_t n) {
  std::string key(8, '\0');
  for (int i = 7; i >= 0; --i) {
    key[static_cast<size_t>(i)] = static_cast<char>(n & 0xff);
    n >>= 8;
  }
  return key;
}

uint64_t NumberOf(const rocksdb::Slice& key) {
  uint64_t n = 0;
  for (size_t i = 0; i < 8 && i < key.size(); ++i) n = (n << 8) | static_cast<unsigned char>(key[i]);
  return n;
}

absl::Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("rocksdb ", std::string(what), ": ", s.ToString()));
}

// The open database, shared by the log and the spill store.
struct Db {
  std::string path;
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> cfs;  // default, log, meta, profiles[, taken]
  ~Db() {
    for (auto* cf : cfs) db->DestroyColumnFamilyHandle(cf);
  }
  rocksdb::ColumnFamilyHandle* log() const { return cfs[1]; }
  rocksdb::ColumnFamilyHandle* meta() const { return cfs[2]; }
  rocksdb::ColumnFamilyHandle* profiles() const { return cfs[3]; }
  rocksdb::ColumnFamilyHandle* taken() const { return cfs.size() > 4 ? cfs[4] : nullptr; }
};

class RocksDbLog final : public Log {
 public:
  RocksDbLog(std::shared_ptr<Db> db, bool sync, LogPosition last) : db_(std::move(db)), last_(last) {
    write_.sync = sync;
  }

  absl::StatusOr<LogPosition> Append(std::vector<std::string> records) override {
    rocksdb::WriteBatch batch;
    LogPosition pos = last_;
    for (const auto& r : records) {
      if (absl::Status s = FromRocks(batch.Put(db_->log(), KeyOf(++pos), r), "batch"); !s.ok()) return s;
    }
    if (absl::Status s = FromRocks(db_->db->Write(write_, &batch), "write"); !s.ok()) return s;
    last_ = pos;
    return last_;
  }

  LogPosition last() const override { return last_; }

  absl::Status Read(LogPosition after,
                    const std::function<absl::Status(LogPosition, const v1::LogRecord&)>& fn) const override {
    std::unique_ptr<rocksdb::Iterator> it(db_->db->NewIterator(rocksdb::ReadOptions(), db_->log()));
    for (it->Seek(KeyOf(after + 1)); it->Valid(); it->Next()) {
      v1::LogRecord r;
      if (!r.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
        return absl::DataLossError(absl::StrCat("log record ", NumberOf(it->key()), ": unreadable"));
      }
      if (absl::Status s = fn(NumberOf(it->key()), r); !s.ok()) return s;
    }
    return FromRocks(it->status(), "scan");
  }

  absl::StatusOr<std::optional<std::string>> Get(LogPosition position) const override {
    std::string bytes;
    rocksdb::Status s = db_->db->Get(rocksdb::ReadOptions(), db_->log(), KeyOf(position), &bytes);
    if (s.IsNotFound()) return std::optional<std::string>();
    if (absl::Status st = FromRocks(s, "get"); !st.ok()) return st;
    return std::optional<std::string>(std::move(bytes));
  }

  absl::Status Rewrite(const std::vector<std::pair<LogPosition, std::optional<v1::LogRecord>>>& changes) override {
    if (changes.empty()) return absl::OkStatus();
    rocksdb::WriteBatch batch;
    for (const auto& [pos, record] : changes) {
      rocksdb::Status s = record ? batch.Put(db_->log(), KeyOf(pos), record->SerializeAsString())
                                 : batch.Delete(db_->log(), KeyOf(pos));
      if (absl::Status st = FromRocks(s, "batch"); !st.ok()) return st;
    }
    rocksdb::WriteOptions sync = write_;
    sync.sync = true;  // Erasure must not be undone by a crash.
    return FromRocks(db_->db->Write(sync, &batch), "write");
  }

  absl::Status Purge() override {
    // Flush the memtables (the WAL goes with them), then compact the log and the spill store to the
    // bottom level.
    if (absl::Status s = FromRocks(db_->db->Flush(rocksdb::FlushOptions(), db_->cfs), "flush"); !s.ok()) return s;
    rocksdb::CompactRangeOptions compact;
    compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    for (auto* cf : {db_->log(), db_->profiles()}) {
      if (absl::Status s = FromRocks(db_->db->CompactRange(compact, cf, nullptr, nullptr), "compact"); !s.ok()) {
        return s;
      }
    }
    return absl::OkStatus();
  }

  bool ContainsForTesting(std::string_view needle) const override {
    // Every file of the store's directory and its subdirectories (SST, WAL, manifest, snapshots),
    // byte by byte.
    std::error_code ec;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(db_->path, ec)) {
      if (!entry.is_regular_file()) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      if (ss.str().find(needle) != std::string::npos) return true;
    }
    return false;
  }

 private:
  std::shared_ptr<Db> db_;
  rocksdb::WriteOptions write_;
  LogPosition last_;
};

class RocksDbSpillStore final : public SpillStore {
 public:
  explicit RocksDbSpillStore(std::shared_ptr<Db> db) : db_(std::move(db)) { write_.disableWAL = true; }

  absl::Status WriteProfiles(const std::vector<std::pair<uint64_t, std::string>>& put,
                             const std::vector<uint64_t>& erase) override {
    if (put.empty() && erase.empty()) return absl::OkStatus();
    rocksdb::WriteBatch batch;
    for (const auto& [id, bytes] : put) {
      if (absl::Status s = FromRocks(batch.Put(db_->profiles(), KeyOf(id), bytes), "batch"); !s.ok()) return s;
    }
    for (uint64_t id : erase) {
      if (absl::Status s = FromRocks(batch.Delete(db_->profiles(), KeyOf(id)), "batch"); !s.ok()) return s;
    }
    return FromRocks(db_->db->Write(write_, &batch), "write");
  }

  absl::StatusOr<std::optional<std::string>> GetProfile(uint64_t id) const override {
    std::string bytes;
    rocksdb::Status s = db_->db->Get(rocksdb::ReadOptions(), db_->profiles(), KeyOf(id), &bytes);
    if (s.IsNotFound()) return std::optional<std::string>();
    if (absl::Status st = FromRocks(s, "get"); !st.ok()) return st;
    return std::optional<std::string>(std::move(bytes));
  }

  absl::Status ForEachProfile(const std::function<absl::Status(uint64_t, std::string_view)>& fn) const override {
    std::unique_ptr<rocksdb::Iterator> it(db_->db->NewIterator(rocksdb::ReadOptions(), db_->profiles()));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (absl::Status s = fn(NumberOf(it->key()), std::string_view(it->value().data(), it->value().size()));
          !s.ok()) {
        return s;
      }
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
  std::shared_ptr<Db> db_;
  rocksdb::WriteOptions write_;
};

}  // namespace

absl::StatusOr<RocksDbStore> OpenRocksDbStore(const std::string& path, bool sync) {
  rocksdb::DBOptions options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors = {
      {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()},
      {"log", rocksdb::ColumnFamilyOptions()},
      {"meta", rocksdb::ColumnFamilyOptions()},
      {"profiles", rocksdb::ColumnFamilyOptions()},
  };
  // A format-1 store has "taken" too.
  std::vector<std::string> existing;
  if (rocksdb::DB::ListColumnFamilies(options, path, &existing).ok() &&
      std::find(existing.begin(), existing.end(), "taken") != existing.end()) {
    descriptors.push_back({"taken", rocksdb::ColumnFamilyOptions()});
  }
  auto db = std::make_shared<Db>();
  db->path = path;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, path, descriptors, &db->cfs, &raw);
  if (!s.ok()) return absl::UnavailableError(absl::StrCat("storage.path '", path, "': ", s.ToString()));
  db->db.reset(raw);
  RocksDbStore store;
  std::string version;
  s = db->db->Get(rocksdb::ReadOptions(), db->meta(), "format_version", &version);
  if (s.IsNotFound()) {
    // A new store (a format-1 store always has its version).
    s = db->db->Put(rocksdb::WriteOptions(), db->meta(), "format_version", kFormatVersion);
    if (!s.ok()) return absl::InternalError(s.ToString());
  } else if (!s.ok()) {
    return absl::InternalError(s.ToString());
  } else if (version == "1") {
    if (db->taken() != nullptr) {
      std::unique_ptr<rocksdb::Iterator> it(db->db->NewIterator(rocksdb::ReadOptions(), db->taken()));
      for (it->SeekToFirst(); it->Valid(); it->Next()) store.taken.push_back(it->key().ToString());
      if (absl::Status st = FromRocks(it->status(), "scan"); !st.ok()) return st;
    }
    store.finish_upgrade = [db]() -> absl::Status {
      rocksdb::WriteOptions sync;
      sync.sync = true;
      if (absl::Status st = FromRocks(db->db->Put(sync, db->meta(), "format_version", kFormatVersion), "upgrade");
          !st.ok()) {
        return st;
      }
      if (db->taken() == nullptr) return absl::OkStatus();
      if (absl::Status st = FromRocks(db->db->DropColumnFamily(db->taken()), "upgrade"); !st.ok()) return st;
      db->db->DestroyColumnFamilyHandle(db->cfs.back());
      db->cfs.pop_back();
      return absl::OkStatus();
    };
  } else if (version != kFormatVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("storage.path '", path, "': format version ", version, ", this build reads ", kFormatVersion));
  }
  // The next position follows the last record.
  LogPosition last = 0;
  {
    std::unique_ptr<rocksdb::Iterator> it(db->db->NewIterator(rocksdb::ReadOptions(), db->log()));
    it->SeekToLast();
    if (it->Valid()) last = NumberOf(it->key());
    if (absl::Status st = FromRocks(it->status(), "scan"); !st.ok()) return st;
  }
  store.log = std::make_unique<RocksDbLog>(db, sync, last);
  store.spill = std::make_unique<RocksDbSpillStore>(db);
  return store;
}

}  // namespace omnijourney::internal
