// The Log implementations: positions, atomic appends, reads after a position, erasure (shredded and
// replaced records, tombstones), the memory log's bound, the RocksDB log across reopening and its
// format versions.
#include <unistd.h>

#include <filesystem>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "omnijourney/event.h"
#include "store/log.h"
#include "rocksdb/db.h"
#include "store/rocksdb_store.h"

namespace omnijourney::internal {
namespace {

std::string Record(const std::string& event_id) {
  v1::Event e;
  e.set_event_id(event_id);
  return EncodeEventRecord(e);
}

std::vector<std::pair<LogPosition, std::string>> All(const Log& log, LogPosition after = 0) {
  std::vector<std::pair<LogPosition, std::string>> out;
  EXPECT_TRUE(log.Read(after, [&](LogPosition pos, const v1::LogRecord& r) {
                   out.emplace_back(pos, r.event().event_id());
                   return absl::OkStatus();
                 }).ok());
  return out;
}

using Pairs = std::vector<std::pair<LogPosition, std::string>>;

// The event ids of the event records (other records, e.g. the erasure's, are left out).
Pairs Events(const Log& log, LogPosition after = 0) {
  Pairs out;
  EXPECT_TRUE(log.Read(after, [&](LogPosition pos, const v1::LogRecord& r) {
                   if (r.has_event()) out.emplace_back(pos, r.event().event_id());
                   return absl::OkStatus();
                 }).ok());
  return out;
}

Log::Erasure Erasure(std::vector<LogPosition> shred, std::vector<std::pair<LogPosition, std::string>> replace,
                     std::vector<Tombstone> tombstones = {}) {
  Log::Erasure e;
  v1::LogRecord record;
  record.mutable_erasure()->set_profile(7);
  e.record = record.SerializeAsString();
  e.shred = std::move(shred);
  for (auto& [pos, id] : replace) {
    v1::LogRecord r;
    r.mutable_event()->set_event_id(id);
    e.replace.emplace_back(pos, r);
  }
  e.tombstones = std::move(tombstones);
  return e;
}

void PositionsAndErasure(Log& log) {
  EXPECT_EQ(log.last(), 0u);
  EXPECT_EQ(*log.Append({Record("alpha-secret"), Record("b")}), 2u);
  EXPECT_EQ(*log.Append({Record("c")}), 3u);
  EXPECT_EQ(All(log), (Pairs{{1, "alpha-secret"}, {2, "b"}, {3, "c"}}));
  EXPECT_TRUE(log.ContainsForTesting("alpha-secret"));
  EXPECT_EQ(All(log, 2), (Pairs{{3, "c"}}));
  const Tombstone t = log.TombstoneOf("key of alpha");
  EXPECT_EQ(t, log.TombstoneOf("key of alpha"));
  EXPECT_NE(t, log.TombstoneOf("key of b"));
  absl::StatusOr<LogPosition> erased = log.Erase(Erasure({1}, {{2, "B"}}, {t}));
  ASSERT_TRUE(erased.ok()) << erased.status();
  EXPECT_EQ(*erased, 4u);
  EXPECT_EQ(log.last_erasure(), 4u);
  EXPECT_EQ(log.Tombstones(), std::vector<Tombstone>{t});
  // The replaced record is read at its own position; the erased one not at all.
  EXPECT_EQ(Events(log), (Pairs{{2, "B"}, {3, "c"}}));
  const LogPosition next = log.last() + 1;
  EXPECT_GT(next, 4u);  // Positions are never reused.
  EXPECT_EQ(*log.Append({Record("d")}), next);
  ASSERT_TRUE(log.Purge().ok());
  EXPECT_FALSE(log.ContainsForTesting("alpha-secret"));
  // A copy replaced again, and a replaced record erased: the earlier copies go too.
  ASSERT_TRUE(log.Erase(Erasure({}, {{2, "B2-scrubbed-copy"}})).ok());
  EXPECT_EQ(Events(log), (Pairs{{2, "B2-scrubbed-copy"}, {3, "c"}, {next, "d"}}));
  ASSERT_TRUE(log.Erase(Erasure({2}, {})).ok());
  EXPECT_EQ(Events(log), (Pairs{{3, "c"}, {next, "d"}}));
  ASSERT_TRUE(log.Purge().ok());
  EXPECT_FALSE(log.ContainsForTesting("B2-scrubbed-copy"));
}

TEST(LogTest, MemoryLogPositionsReadsAndErasure) {
  auto log = NewMemoryLog(1 << 20);
  EXPECT_TRUE(log->keeps_records());
  EXPECT_FALSE(log->durable());
  PositionsAndErasure(*log);
  EXPECT_FALSE(NewMemoryLog(0)->keeps_records());
}

TEST(LogTest, MemoryLogKeepsTheNewestRecordsWithinItsBound) {
  const size_t one = Record("x000").size();
  auto log = NewMemoryLog(3 * one);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(log->Append({Record("x00" + std::to_string(i))}).ok());
  EXPECT_EQ(log->last(), 10u);
  EXPECT_EQ(All(*log), (Pairs{{8, "x007"}, {9, "x008"}, {10, "x009"}}));
  // An append larger than the bound is kept whole.
  ASSERT_TRUE(log->Append({Record("y001"), Record("y002"), Record("y003"), Record("y004")}).ok());
  EXPECT_EQ(All(*log).size(), 4u);
  EXPECT_EQ(All(*log).front().first, 11u);
}

std::string TempStore(const std::string& name) {
  const std::string dir = ::testing::TempDir() + "/omnijourney_log_" + name + "_" + std::to_string(getpid());
  std::filesystem::remove_all(dir);
  return dir;
}

TEST(LogTest, RocksDbLogPositionsReadsErasureAndReopening) {
  const std::string dir = TempStore("erasure");
  Pairs before;
  Tombstone t;
  {
    auto store = OpenRocksDbStore(dir, /*sync=*/false);
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_TRUE(store->taken.empty());
    EXPECT_FALSE(store->finish_upgrade);  // A new store is of the current format.
    EXPECT_TRUE(store->log->durable());
    PositionsAndErasure(*store->log);
    before = Events(*store->log);
    t = store->log->TombstoneOf("key of alpha");
  }
  auto store = OpenRocksDbStore(dir, false);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(Events(*store->log), before);
  EXPECT_EQ(store->log->TombstoneOf("key of alpha"), t);  // The same secret.
  EXPECT_EQ(store->log->Tombstones(), std::vector<Tombstone>{t});
  EXPECT_GT(store->log->last_erasure(), 4u);
  const LogPosition last = store->log->last();
  EXPECT_EQ(*store->log->Append({Record("e")}), last + 1);
  // A snapshot written again at the same position gets a new key (no key stream used twice); an
  // erasure deletes every snapshot's key.
  const auto first = store->log->SnapshotKey(last + 1, /*create=*/true);
  const auto second = store->log->SnapshotKey(last + 1, /*create=*/true);
  ASSERT_TRUE(first.ok() && second.ok() && first->has_value() && second->has_value());
  EXPECT_NE(**first, **second);
  EXPECT_EQ(**store->log->SnapshotKey(last + 1, false), **second);
  ASSERT_TRUE(store->log->Erase(Erasure({}, {})).ok());
  EXPECT_FALSE(store->log->SnapshotKey(last + 1, false)->has_value());
  std::filesystem::remove_all(dir);
}

TEST(LogTest, RocksDbLogErasingOneRecordOfAnAppendKeepsTheOthersReadable) {
  const std::string dir = TempStore("group");
  {
    auto store = OpenRocksDbStore(dir, false);
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE(store->log->Append({Record("a"), Record("b-secret"), Record("c")}).ok());
    ASSERT_TRUE(store->log->Erase(Erasure({2}, {})).ok());
    ASSERT_TRUE(store->log->Purge().ok());
    ASSERT_TRUE(store->log->Erase(Erasure({3}, {})).ok());  // Now with its own key.
    ASSERT_TRUE(store->log->Purge().ok());
  }
  auto store = OpenRocksDbStore(dir, false);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(Events(*store->log), (Pairs{{1, "a"}}));
  EXPECT_FALSE(store->log->ContainsForTesting("b-secret"));
  std::filesystem::remove_all(dir);
}

// A store written by an older build (format 2: plaintext records) is sealed at open, and the
// plaintext leaves its files.
TEST(LogTest, RocksDbLogOfFormatTwoIsSealedAtOpen) {
  const std::string dir = TempStore("format2");
  {
    rocksdb::DBOptions options;
    options.create_if_missing = true;
    options.create_missing_column_families = true;
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {{rocksdb::kDefaultColumnFamilyName, {}}, {"log", {}},
                                                        {"meta", {}}, {"profiles", {}}};
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, dir, cfs, &handles, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    ASSERT_TRUE(db->Put({}, handles[2], "format_version", "2").ok());
    for (int i = 1; i <= 3; ++i) {
      ASSERT_TRUE(db->Put({}, handles[1], std::string(7, '\0') + static_cast<char>(i),
                          Record("plain-record-" + std::to_string(i))).ok());
    }
    ASSERT_TRUE(db->Flush({}, handles).ok());
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  }
  auto store = OpenRocksDbStore(dir, false);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(All(*store->log), (Pairs{{1, "plain-record-1"}, {2, "plain-record-2"}, {3, "plain-record-3"}}));
  store->log.reset();
  store->spill.reset();
  // Only the readable plaintext of the records has it, not the files.
  auto reopened = OpenRocksDbStore(dir, false);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  ASSERT_TRUE(reopened->log->Erase(Erasure({1, 2, 3}, {})).ok());
  ASSERT_TRUE(reopened->log->Purge().ok());
  EXPECT_FALSE(reopened->log->ContainsForTesting("plain-record-"));
  std::filesystem::remove_all(dir);
}

TEST(LogTest, RocksDbStoreOfAnotherFormatNamesBothVersions) {
  const std::string dir = TempStore("format9");
  {
    auto store = OpenRocksDbStore(dir, false);
    ASSERT_TRUE(store.ok());
  }
  {
    rocksdb::DBOptions options;
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {{rocksdb::kDefaultColumnFamilyName, {}}, {"log", {}},
                                                        {"meta", {}}, {"profiles", {}}, {"keys", {}}};
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, dir, cfs, &handles, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    ASSERT_TRUE(db->Put({}, handles[2], "format_version", "9").ok());
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  }
  auto store = OpenRocksDbStore(dir, false);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(store.status().message(), ::testing::HasSubstr("format version 9, this build reads 3"));
  std::filesystem::remove_all(dir);
}

TEST(LogTest, UnreadableRecordIsDataLossNamingItsPosition) {
  auto log = NewMemoryLog(1 << 20);
  ASSERT_TRUE(log->Append({Record("a"), std::string("\xff\xff\xff", 3)}).ok());
  absl::Status s = log->Read(0, [](LogPosition, const v1::LogRecord&) { return absl::OkStatus(); });
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), ::testing::HasSubstr("log record 2"));
}

TEST(LogTest, EncodedEventRecordsCarryTheirTime) {
  v1::Event e;
  e.set_event_id("a");
  v1::LogRecord r;
  ASSERT_TRUE(r.ParseFromString(EncodeEventRecord(e, absl::FromUnixSeconds(1790000000))));
  EXPECT_EQ(r.event().event_id(), "a");
  EXPECT_EQ(FromTimestamp(r.at()), absl::FromUnixSeconds(1790000000));
  ASSERT_TRUE(r.ParseFromString(EncodeEventRecord(e)));
  EXPECT_FALSE(r.has_at());
}

}  // namespace
}  // namespace omnijourney::internal
