// The Log implementations: positions, atomic appends, reads after a position, rewrites, the memory
// log's bound, and the RocksDB log across reopening.
#include <unistd.h>

#include <filesystem>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "omnijourney/event.h"
#include "store/log.h"
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

void PositionsAndRewrites(Log& log) {
  EXPECT_EQ(log.last(), 0u);
  EXPECT_EQ(*log.Append({Record("alpha-secret"), Record("b")}), 2u);
  EXPECT_EQ(*log.Append({Record("c")}), 3u);
  EXPECT_EQ(All(log), (Pairs{{1, "alpha-secret"}, {2, "b"}, {3, "c"}}));
  EXPECT_TRUE(log.ContainsForTesting("alpha-secret"));
  EXPECT_EQ(All(log, 2), (Pairs{{3, "c"}}));
  v1::LogRecord changed;
  changed.mutable_event()->set_event_id("B");
  ASSERT_TRUE(log.Rewrite({{2, changed}, {1, std::nullopt}}).ok());
  EXPECT_EQ(All(log), (Pairs{{2, "B"}, {3, "c"}}));
  EXPECT_EQ(*log.Append({Record("d")}), 4u);  // Positions are never reused.
  ASSERT_TRUE(log.Purge().ok());
  EXPECT_FALSE(log.ContainsForTesting("alpha-secret"));
}

TEST(LogTest, MemoryLogPositionsReadsAndRewrites) {
  auto log = NewMemoryLog(1 << 20);
  EXPECT_TRUE(log->keeps_records());
  EXPECT_FALSE(log->durable());
  PositionsAndRewrites(*log);
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

TEST(LogTest, RocksDbLogPositionsReadsRewritesAndReopening) {
  const std::string dir = ::testing::TempDir() + "/omnijourney_log_" + std::to_string(getpid());
  std::filesystem::remove_all(dir);
  {
    auto store = OpenRocksDbStore(dir, /*sync=*/false);
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_TRUE(store->taken.empty());
    EXPECT_FALSE(store->finish_upgrade);  // A new store is format 2.
    EXPECT_TRUE(store->log->durable());
    PositionsAndRewrites(*store->log);
  }
  auto store = OpenRocksDbStore(dir, false);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(store->log->last(), 4u);
  EXPECT_EQ(*store->log->Append({Record("e")}), 5u);
  EXPECT_EQ(All(*store->log), (Pairs{{2, "B"}, {3, "c"}, {4, "d"}, {5, "e"}}));
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
