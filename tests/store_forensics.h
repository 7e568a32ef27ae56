// Reads a store's directory as anyone holding its files could, for tests of erasure: every key and
// value of every SST file (decompressed, with RocksDB's SstFileReader), every write of every WAL
// file (the log format's blocks reassembled and each batch iterated with WriteBatch::Iterate, so
// deleted and overwritten values are seen too), the raw bytes of every other file (MANIFEST, LOG,
// snapshots), the plaintext of every sealed record that a key found anywhere in them opens, and every
// snapshot file (or copy of one) decrypted with every snapshot key found.
// A test built on it cannot pass while the value is on disk in a readable form. Best read with the
// store closed: an open one may write and delete files while they are read.
#ifndef OMNIJOURNEY_TESTS_STORE_FORENSICS_H_
#define OMNIJOURNEY_TESTS_STORE_FORENSICS_H_

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rocksdb/options.h"
#include "rocksdb/sst_file_reader.h"
#include "rocksdb/write_batch.h"
#include "engine/snapshot.h"
#include "store/crypto.h"
#include "store/rocksdb_store.h"

namespace omnijourney::testing {

struct StoreFiles {
  struct Entry {
    std::string file;
    std::string key;
    std::string value;
  };
  std::vector<Entry> entries;  // From SST and WAL files.
  std::vector<std::pair<std::string, std::string>> raw;  // Every file's name and bytes.
  std::vector<std::string> errors;  // Files that could not be read (a test should fail on them).
  int sst_files = 0;
  int wal_files = 0;
  int wal_writes = 0;
};

inline std::string ReadFileBytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The batches of a WAL file: 32 KiB blocks of records with a 7-byte header (checksum, length,
// type; 11 bytes for the recyclable types), FULL or FIRST/MIDDLE/LAST fragments.
inline std::vector<std::string> WalBatches(const std::string& bytes) {
  constexpr size_t kBlock = 32768;
  std::vector<std::string> out;
  std::string partial;
  size_t at = 0;
  while (at < bytes.size()) {
    const size_t left_in_block = kBlock - at % kBlock;
    if (left_in_block < 7) {
      at += left_in_block;  // Trailer padding.
      continue;
    }
    const auto* h = reinterpret_cast<const unsigned char*>(bytes.data() + at);
    if (at + 7 > bytes.size()) break;
    const size_t length = h[4] | (static_cast<size_t>(h[5]) << 8);
    const int type = h[6];
    const size_t header = type >= 5 ? 11 : 7;
    if (type == 0 && length == 0) {  // Preallocated zeros.
      at += left_in_block;
      continue;
    }
    if (at + header + length > bytes.size()) break;
    const std::string_view payload(bytes.data() + at + header, length);
    const int kind = type >= 5 ? type - 4 : type;
    if (kind == 1) {
      out.emplace_back(payload);
    } else if (kind == 2) {
      partial.assign(payload);
    } else if (kind == 3) {
      partial.append(payload);
    } else if (kind == 4) {
      partial.append(payload);
      out.push_back(std::move(partial));
      partial.clear();
    }
    at += header + length;
  }
  return out;
}

class CollectWrites : public rocksdb::WriteBatch::Handler {
 public:
  CollectWrites(StoreFiles* files, std::string file) : files_(files), file_(std::move(file)) {}
  rocksdb::Status PutCF(uint32_t, const rocksdb::Slice& key, const rocksdb::Slice& value) override {
    files_->entries.push_back({file_, key.ToString(), value.ToString()});
    return rocksdb::Status::OK();
  }
  rocksdb::Status DeleteCF(uint32_t, const rocksdb::Slice&) override { return rocksdb::Status::OK(); }
  rocksdb::Status SingleDeleteCF(uint32_t, const rocksdb::Slice&) override { return rocksdb::Status::OK(); }
  rocksdb::Status DeleteRangeCF(uint32_t, const rocksdb::Slice&, const rocksdb::Slice&) override {
    return rocksdb::Status::OK();
  }
  rocksdb::Status MergeCF(uint32_t, const rocksdb::Slice& key, const rocksdb::Slice& value) override {
    files_->entries.push_back({file_, key.ToString(), value.ToString()});
    return rocksdb::Status::OK();
  }

 private:
  StoreFiles* files_;
  std::string file_;
};

inline StoreFiles ReadStoreFiles(const std::string& dir) {
  StoreFiles out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir, ec)) {
    if (!entry.is_regular_file()) continue;
    const std::string path = entry.path().string();
    out.raw.emplace_back(path, ReadFileBytes(entry.path()));
    if (entry.path().extension() == ".sst") {
      ++out.sst_files;
      rocksdb::Options options;
      rocksdb::SstFileReader reader(options);
      if (rocksdb::Status s = reader.Open(path); !s.ok()) {
        // A store that is open may delete a file after a compaction: it is gone, not unread.
        if (!std::filesystem::exists(path)) continue;
        out.errors.push_back(path + ": " + s.ToString());
        continue;
      }
      std::unique_ptr<rocksdb::Iterator> it(reader.NewIterator(rocksdb::ReadOptions()));
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        out.entries.push_back({path, it->key().ToString(), it->value().ToString()});
      }
      if (!it->status().ok()) out.errors.push_back(path + ": " + it->status().ToString());
    } else if (entry.path().extension() == ".log" && entry.path().filename() != "LOG") {
      ++out.wal_files;
      CollectWrites collect(&out, path);
      for (const std::string& rep : WalBatches(out.raw.back().second)) {
        if (rep.size() < 12) continue;  // Not a batch (header: sequence and count).
        rocksdb::WriteBatch batch(rep);
        ++out.wal_writes;
        if (rocksdb::Status s = batch.Iterate(&collect); !s.ok()) out.errors.push_back(path + ": " + s.ToString());
      }
    }
  }
  return out;
}

// Everything the store's files give away, as strings to search: each file's raw bytes, each
// decompressed entry's key and value, and the plaintext of each sealed record a key found in the
// files opens (with where each came from).
inline std::vector<std::pair<std::string, std::string>> ReadableTexts(const std::string& dir) {
  StoreFiles files = ReadStoreFiles(dir);
  std::vector<std::pair<std::string, std::string>> out;
  for (auto& [path, bytes] : files.raw) out.emplace_back(path + " (raw bytes)", std::move(bytes));
  std::multimap<uint64_t, std::string> group_keys, record_keys;
  auto number = [](std::string_view k) {
    uint64_t n = 0;
    for (char c : k) n = (n << 8) | static_cast<unsigned char>(c);
    return n;
  };
  for (const auto& e : files.entries) {
    if (e.key.size() == 9 && e.key[0] == 'g') group_keys.emplace(number(std::string_view(e.key).substr(1)), e.value);
    if (e.key.size() == 9 && e.key[0] == 'e') record_keys.emplace(number(std::string_view(e.key).substr(1)), e.value);
  }
  // Snapshot files (also copies of them anywhere in the directory), with every snapshot key found.
  std::vector<std::string> snapshot_keys;
  for (const auto& e : files.entries) {
    if (e.key.size() == 9 && e.key[0] == 'n') snapshot_keys.push_back(e.value);
  }
  for (const auto& [path, bytes] : std::vector<std::pair<std::string, std::string>>(out.begin(), out.end())) {
    for (const std::string& k : snapshot_keys) {
      std::optional<internal::crypto::Key> key = internal::crypto::KeyFrom(k);
      if (!key) continue;
      std::optional<std::string> plain = internal::DecryptSnapshotForTesting(bytes, *key);
      if (plain) out.emplace_back(path + " (snapshot decrypted)", *std::move(plain));
    }
  }
  for (auto& e : files.entries) {
    std::optional<std::string> plain = internal::OpenSealedForTesting(e.key, e.value, group_keys, record_keys);
    if (plain) out.emplace_back(e.file + " (sealed record " + std::to_string(number(e.key)) + ")", *std::move(plain));
    out.emplace_back(e.file + " (entry)", e.key + '\0' + e.value);
  }
  for (const std::string& error : files.errors) out.emplace_back("unreadable: " + error, "");
  return out;
}

// Where `needle` can be read in the store's files ("" when nowhere).
inline std::string WhereReadable(const std::string& dir, std::string_view needle) {
  for (const auto& [where, text] : ReadableTexts(dir)) {
    if (text.find(needle) != std::string::npos) return where;
  }
  return "";
}

}  // namespace omnijourney::testing

#endif  // OMNIJOURNEY_TESTS_STORE_FORENSICS_H_
