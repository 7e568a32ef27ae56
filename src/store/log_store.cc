#include "store/log_store.h"

#include <dirent.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"

namespace omnijourney::internal {
namespace {

constexpr char kFormatVersion[] = "1";

class MemoryLogStore final : public LogStore {
 public:
  absl::Status Append(const std::vector<const v1::LogRecord*>& records) override {
    for (const auto* r : records) log_.emplace(next_++, r->SerializeAsString());
    return absl::OkStatus();
  }
  absl::Status AppendSerialized(const std::vector<std::string>& records) override {
    for (const auto& r : records) log_.emplace(next_++, r);
    return absl::OkStatus();
  }
  absl::Status ForEach(const std::function<absl::Status(uint64_t, const v1::LogRecord&)>& fn) const override {
    for (const auto& [seq, bytes] : log_) {
      v1::LogRecord r;
      if (!r.ParseFromString(bytes)) return absl::DataLossError(absl::StrCat("log record ", seq, ": unreadable"));
      if (absl::Status s = fn(seq, r); !s.ok()) return s;
    }
    return absl::OkStatus();
  }
  absl::Status Rewrite(const std::vector<std::pair<uint64_t, std::optional<v1::LogRecord>>>& changes) override {
    for (const auto& [seq, record] : changes) {
      if (record) {
        log_[seq] = record->SerializeAsString();
      } else {
        log_.erase(seq);
      }
    }
    return absl::OkStatus();
  }
  absl::Status Purge() override { return absl::OkStatus(); }
  absl::Status WriteProfiles(const std::vector<std::pair<uint64_t, std::string>>& put,
                             const std::vector<uint64_t>& erase) override {
    for (const auto& [id, bytes] : put) profiles_[id] = bytes;
    for (uint64_t id : erase) profiles_.erase(id);
    return absl::OkStatus();
  }
  absl::StatusOr<std::optional<std::string>> GetProfile(uint64_t id) const override {
    auto it = profiles_.find(id);
    if (it == profiles_.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }
  absl::Status ForEachProfile(const std::function<absl::Status(uint64_t, std::string_view)>& fn) const override {
    for (const auto& [id, bytes] : profiles_) {
      if (absl::Status s = fn(id, bytes); !s.ok()) return s;
    }
    return absl::OkStatus();
  }
  absl::Status ClearProfiles() override {
    profiles_.clear();
    return absl::OkStatus();
  }
  absl::Status MarkTaken(const std::vector<std::string>& ids) override {
    taken_.insert(ids.begin(), ids.end());
    return absl::OkStatus();
  }
  absl::Status ForEachTaken(const std::function<void(const std::string&)>& fn) const override {
    for (const auto& id : taken_) fn(id);
    return absl::OkStatus();
  }
  bool ContainsForTesting(std::string_view needle) const override {
    for (const auto& [seq, bytes] : log_) {
      if (bytes.find(needle) != std::string::npos) return true;
    }
    for (const auto& [id, bytes] : profiles_) {
      if (bytes.find(needle) != std::string::npos) return true;
    }
    return false;
  }

 private:
  std::map<uint64_t, std::string> log_;
  std::map<uint64_t, std::string> profiles_;
  std::set<std::string> taken_;
  uint64_t next_ = 1;
};

std::string SeqKey(uint64_t seq) {
  std::string key(8, '\0');
  for (int i = 7; i >= 0; --i) {
    key[static_cast<size_t>(i)] = static_cast<char>(seq & 0xff);
    seq >>= 8;
  }
  return key;
}

uint64_t SeqOf(const rocksdb::Slice& key) {
  uint64_t seq = 0;
  for (size_t i = 0; i < 8 && i < key.size(); ++i) seq = (seq << 8) | static_cast<unsigned char>(key[i]);
  return seq;
}

absl::Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("rocksdb ", std::string(what), ": ", s.ToString()));
}

class RocksDbLogStore final : public LogStore {
 public:
  RocksDbLogStore(std::string path, std::unique_ptr<rocksdb::DB> db, std::vector<rocksdb::ColumnFamilyHandle*> cfs,
                  bool sync, uint64_t next)
      : path_(std::move(path)), db_(std::move(db)), cfs_(std::move(cfs)), next_(next) {
    write_.sync = sync;
    spill_.disableWAL = true;
  }
  ~RocksDbLogStore() override {
    for (auto* cf : cfs_) db_->DestroyColumnFamilyHandle(cf);
  }

  absl::Status Append(const std::vector<const v1::LogRecord*>& records) override {
    rocksdb::WriteBatch batch;
    uint64_t seq = next_;
    for (const auto* r : records) {
      if (absl::Status s = FromRocks(batch.Put(log(), SeqKey(seq++), r->SerializeAsString()), "batch"); !s.ok()) {
        return s;
      }
    }
    if (absl::Status s = FromRocks(db_->Write(write_, &batch), "write"); !s.ok()) return s;
    next_ = seq;
    return absl::OkStatus();
  }

  absl::Status AppendSerialized(const std::vector<std::string>& records) override {
    rocksdb::WriteBatch batch;
    uint64_t seq = next_;
    for (const auto& r : records) {
      if (absl::Status s = FromRocks(batch.Put(log(), SeqKey(seq++), r), "batch"); !s.ok()) return s;
    }
    if (absl::Status s = FromRocks(db_->Write(write_, &batch), "write"); !s.ok()) return s;
    next_ = seq;
    return absl::OkStatus();
  }

  absl::Status ForEach(const std::function<absl::Status(uint64_t, const v1::LogRecord&)>& fn) const override {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), log()));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      v1::LogRecord r;
      if (!r.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
        return absl::DataLossError(absl::StrCat("log record ", SeqOf(it->key()), ": unreadable"));
      }
      if (absl::Status s = fn(SeqOf(it->key()), r); !s.ok()) return s;
    }
    return FromRocks(it->status(), "scan");
  }

  absl::Status Rewrite(const std::vector<std::pair<uint64_t, std::optional<v1::LogRecord>>>& changes) override {
    if (changes.empty()) return absl::OkStatus();
    rocksdb::WriteBatch batch;
    for (const auto& [seq, record] : changes) {
      rocksdb::Status s = record ? batch.Put(log(), SeqKey(seq), record->SerializeAsString())
                                 : batch.Delete(log(), SeqKey(seq));
      if (absl::Status st = FromRocks(s, "batch"); !st.ok()) return st;
    }
    rocksdb::WriteOptions sync = write_;
    sync.sync = true;  // Erasure must not be undone by a crash.
    return FromRocks(db_->Write(sync, &batch), "write");
  }

  absl::Status Purge() override {
    // Flush the memtables (the WAL goes with them), then compact every column family to the bottom.
    if (absl::Status s = FromRocks(db_->Flush(rocksdb::FlushOptions(), cfs_), "flush"); !s.ok()) return s;
    rocksdb::CompactRangeOptions compact;
    compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    for (auto* cf : {log(), profiles()}) {
      if (absl::Status s = FromRocks(db_->CompactRange(compact, cf, nullptr, nullptr), "compact"); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  absl::Status WriteProfiles(const std::vector<std::pair<uint64_t, std::string>>& put,
                             const std::vector<uint64_t>& erase) override {
    if (put.empty() && erase.empty()) return absl::OkStatus();
    rocksdb::WriteBatch batch;
    for (const auto& [id, bytes] : put) {
      if (absl::Status s = FromRocks(batch.Put(profiles(), SeqKey(id), bytes), "batch"); !s.ok()) return s;
    }
    for (uint64_t id : erase) {
      if (absl::Status s = FromRocks(batch.Delete(profiles(), SeqKey(id)), "batch"); !s.ok()) return s;
    }
    return FromRocks(db_->Write(spill_, &batch), "write");
  }

  absl::StatusOr<std::optional<std::string>> GetProfile(uint64_t id) const override {
    std::string bytes;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), profiles(), SeqKey(id), &bytes);
    if (s.IsNotFound()) return std::optional<std::string>();
    if (absl::Status st = FromRocks(s, "get"); !st.ok()) return st;
    return std::optional<std::string>(std::move(bytes));
  }

  absl::Status ForEachProfile(const std::function<absl::Status(uint64_t, std::string_view)>& fn) const override {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), profiles()));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (absl::Status s = fn(SeqOf(it->key()), std::string_view(it->value().data(), it->value().size())); !s.ok()) {
        return s;
      }
    }
    return FromRocks(it->status(), "scan");
  }

  absl::Status ClearProfiles() override {
    {
      std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), profiles()));
      it->SeekToFirst();
      if (!it->Valid()) return FromRocks(it->status(), "scan");  // Already empty.
    }
    // A range tombstone; the bytes leave the files with the next compaction (Purge() forces one).
    const std::string end(9, '\xff');  // After every 8-byte key.
    return FromRocks(db_->DeleteRange(spill_, profiles(), SeqKey(0), end), "clear");
  }

  absl::Status MarkTaken(const std::vector<std::string>& ids) override {
    if (ids.empty()) return absl::OkStatus();
    rocksdb::WriteBatch batch;
    for (const auto& id : ids) {
      if (absl::Status s = FromRocks(batch.Put(cfs_[2], id, ""), "batch"); !s.ok()) return s;
    }
    return FromRocks(db_->Write(write_, &batch), "write");
  }

  absl::Status ForEachTaken(const std::function<void(const std::string&)>& fn) const override {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cfs_[2]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) fn(it->key().ToString());
    return FromRocks(it->status(), "scan");
  }

  bool ContainsForTesting(std::string_view needle) const override {
    // Every file of the database directory (SST, WAL, manifest), byte by byte.
    DIR* dir = opendir(path_.c_str());
    if (dir == nullptr) return false;
    bool found = false;
    while (dirent* e = readdir(dir)) {
      const std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      std::ifstream in(path_ + "/" + name, std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      if (ss.str().find(needle) != std::string::npos) {
        found = true;
        break;
      }
    }
    closedir(dir);
    return found;
  }

 private:
  rocksdb::ColumnFamilyHandle* log() const { return cfs_[1]; }
  rocksdb::ColumnFamilyHandle* profiles() const { return cfs_[4]; }

  std::string path_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> cfs_;  // default, log, taken, meta, profiles
  rocksdb::WriteOptions write_;
  rocksdb::WriteOptions spill_;  // Derived state: no WAL (the log rebuilds it).
  uint64_t next_;
};

}  // namespace

std::string EncodeEventRecord(const v1::Event& event) {
  // LogRecord.event is field 1, length-delimited: tag 0x0A, varint length, the event's bytes.
  const size_t size = event.ByteSizeLong();
  std::string out;
  out.reserve(size + 11);
  out.push_back('\x0A');
  for (size_t v = size;; v >>= 7) {
    if (v < 0x80) {
      out.push_back(static_cast<char>(v));
      break;
    }
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
  }
  const size_t header = out.size();
  out.resize(header + size);
  event.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(out.data() + header));
  return out;
}

std::unique_ptr<LogStore> NewMemoryLogStore() { return std::make_unique<MemoryLogStore>(); }

absl::StatusOr<std::unique_ptr<LogStore>> OpenRocksDbLogStore(const std::string& path, bool sync) {
  rocksdb::DBOptions options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors = {
      {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()},
      {"log", rocksdb::ColumnFamilyOptions()},
      {"taken", rocksdb::ColumnFamilyOptions()},
      {"meta", rocksdb::ColumnFamilyOptions()},
      {"profiles", rocksdb::ColumnFamilyOptions()},
  };
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, path, descriptors, &handles, &raw);
  if (!s.ok()) return absl::UnavailableError(absl::StrCat("storage.path '", path, "': ", s.ToString()));
  std::unique_ptr<rocksdb::DB> db(raw);
  auto fail = [&](absl::Status status) {
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
    return status;
  };
  std::string version;
  s = db->Get(rocksdb::ReadOptions(), handles[3], "format_version", &version);
  if (s.IsNotFound()) {
    s = db->Put(rocksdb::WriteOptions(), handles[3], "format_version", kFormatVersion);
    if (!s.ok()) return fail(absl::InternalError(s.ToString()));
  } else if (!s.ok()) {
    return fail(absl::InternalError(s.ToString()));
  } else if (version != kFormatVersion) {
    return fail(absl::FailedPreconditionError(
        absl::StrCat("storage.path '", path, "': format version ", version, ", this build reads ", kFormatVersion)));
  }
  // The next sequence follows the last record.
  uint64_t next = 1;
  {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), handles[1]));
    it->SeekToLast();
    if (it->Valid()) next = SeqOf(it->key()) + 1;
  }
  return std::unique_ptr<LogStore>(new RocksDbLogStore(path, std::move(db), std::move(handles), sync, next));
}

}  // namespace omnijourney::internal
