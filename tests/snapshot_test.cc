// Snapshots: Open from the newest snapshot plus the log's tail gives the same state as replaying the
// whole log, also for what happens next (links, merges, timers, actions); damaged, foreign or
// other-options snapshots are ignored with a note; erasure leaves no snapshot with the erased value.
#include <unistd.h>

#include <atomic>
#include <thread>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/serial.h"
#include "engine_test_util.h"
#include "store_forensics.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "omnijourney/journey.h"

namespace omnijourney {
namespace {

using ::testing::HasSubstr;
using testing::At;
using testing::Ev;
using testing::FreshDir;
using testing::Open;
using testing::Reservation;

EngineOptions Options(const std::string& dir, size_t cache = 0) {
  EngineOptions o;
  o.time_mode = EngineOptions::TimeMode::kEventTime;
  o.storage.path = dir;
  o.storage.cache_profiles = cache;
  o.storage.snapshot_every_records = 0;  // Checkpoint() only, unless a test says otherwise.
  o.actions.quiet_start_hour = 22;
  o.actions.quiet_end_hour = 7;
  o.actions.max_per_channel_per_day = 1;
  o.timeline.max_entries = 12;  // Retention takes part.
  return o;
}

// A stream with merges (cookies shared with emails), late events, duplicates, reservations with
// timers, pickups, shared junk identifiers and a second tenant.
std::vector<Ev> Stream(int from, int to, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<Ev> out;
  for (int i = from; i < to; ++i) {
    const int c = static_cast<int>(rng() % 40);
    const std::string email = absl::StrCat("c", c, "@example.com");
    const std::string id = absl::StrCat("e", i);
    const int minute = i * 7 - static_cast<int>(rng() % 3 == 0 ? rng() % 600 : 0);  // Some late.
    switch (rng() % 6) {
      case 0:
        out.push_back(Ev(id, minute, v1::EVENT_KIND_ORDER, "Reservation Created").Id("email", email));
        break;
      case 1:
        out.push_back(Ev(id, minute, v1::EVENT_KIND_ORDER, "Reservation Picked Up").Id("email", email));
        break;
      case 2:
        out.push_back(Ev(id, minute, v1::EVENT_KIND_TRACK, "Page Viewed")
                          .Id("cookie", absl::StrCat("ck-", c % 25)).Id("email", email).On(v1::CHANNEL_WEB));
        break;
      case 3:
        out.push_back(Ev(id, minute, v1::EVENT_KIND_MESSAGE, "Message Received").Id("phone", absl::StrCat("+42060100", 1000 + c))
                          .Id("email", email).In(v1::CHANNEL_CHAT).Text(absl::StrCat("hello ", i)).Trait("tier", i % 2 ? "gold" : "silver"));
        break;
      case 4:
        out.push_back(Ev(id, minute, v1::EVENT_KIND_TRACK, "Page Viewed").Id("cookie", "shared-tablet").Id("email", email));
        break;
      default:
        out.push_back(Ev(id, minute, v1::EVENT_KIND_TRACK, "Viewed").Id("email", email).Tenant("other"));
        break;
    }
    if (rng() % 10 == 0 && !out.empty()) out.push_back(out[rng() % out.size()]);  // Re-delivery.
  }
  return out;
}

void Feed(Engine& e, const std::vector<Ev>& events) {
  for (size_t i = 0; i < events.size(); i += 9) {
    std::vector<const Event*> batch;
    for (size_t k = i; k < std::min(events.size(), i + 9); ++k) batch.push_back(&events[k].event());
    for (const auto& r : e.IngestBatch(batch)) ASSERT_TRUE(r.ok() || r.status().code() == absl::StatusCode::kInvalidArgument) << r.status();
  }
}

// Everything observable: contexts and explanations by every customer's email, the counts, the
// pending actions.
std::string Observe(Engine& e) {
  std::string out;
  const EngineStats s = e.Stats();
  // (Duplicates are not records: they count per run.)
  absl::StrAppend(&out, "events ", s.events, " profiles ", s.profiles, " entries ",
                  s.timeline_entries, " pending ", s.pending_actions, " identity ", s.identity.identifiers, "/",
                  s.identity.profiles, "/", s.identity.link_records, "\n");
  for (const std::string tenant : {"", "other"}) {
    for (int c = 0; c < 40; ++c) {
      auto ctx = e.Context({tenant, "email", absl::StrCat("c", c, "@example.com")});
      if (!ctx.ok()) {
        absl::StrAppend(&out, tenant, c, ": ", ctx.status().message(), "\n");
        continue;
      }
      absl::StrAppend(&out, ContextToJson(*ctx), "\n", e.Explain(tenant, ctx->profile)->ToString());
    }
  }
  return out;
}

// Compares two observations line by line, reporting the first difference only.
void ExpectSame(const std::string& got, const std::string& want, const std::string& what) {
  if (got == want) return;
  std::vector<std::string> a = absl::StrSplit(got, '\n'), b = absl::StrSplit(want, '\n');
  size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  ADD_FAILURE() << what << ": first difference at line " << i << "\n  got:  " << (i < a.size() ? a[i] : "(end)")
                << "\n  want: " << (i < b.size() ? b[i] : "(end)");
}

std::string Actions(Engine& e) {
  std::string out;
  std::vector<std::string> ids;
  for (const auto& a : e.TakeActions()) {
    absl::StrAppend(&out, a.id, " ", a.name, " ", static_cast<int>(a.disposition), " ", a.disposition_reason, "\n");
    ids.push_back(a.id);
  }
  EXPECT_TRUE(e.AckActions(ids).ok());
  return out;
}

void SnapshotPlusTailEqualsFullReplay(size_t cache) {
  const std::string dir = FreshDir(absl::StrCat("equal", cache));
  const std::string replay_dir = dir + "_replay";
  const std::vector<Ev> first = Stream(0, 300, 1), second = Stream(300, 500, 2), third = Stream(500, 700, 3);
  std::string live;
  {
    auto engine = Open(Options(dir, cache));
    ASSERT_TRUE(engine->AddJourney(Reservation("sms")).ok());
    Feed(*engine, first);
    ASSERT_TRUE(engine->AdvanceTime(At(300 * 7 + 1440)).ok());
    (void)Actions(*engine);  // Some acknowledged before the snapshot, some after.
    const ProfileId tablet = engine->Context({"", "cookie", "shared-tablet"})->profile;
    (void)engine->Split(tablet, {{"email", "c3@example.com"}});
    (void)engine->Unlink({"", "cookie", "ck-7"});
    ASSERT_TRUE(engine->Checkpoint().ok());
    EXPECT_EQ(engine->Stats().snapshots_written, 1);
    Feed(*engine, second);
    ASSERT_TRUE(engine->AdvanceTime(At(500 * 7 + 2000)).ok());
    live = Observe(*engine);
  }
  std::filesystem::copy(dir, replay_dir, std::filesystem::copy_options::recursive);
  std::filesystem::remove_all(replay_dir + "/snapshots");
  auto restored = Open(Options(dir, cache));
  auto replayed = Open(Options(replay_dir, cache));
  EXPECT_GT(restored->Stats().snapshot_position, 0);
  EXPECT_EQ(replayed->Stats().snapshot_position, 0);
  EXPECT_LT(restored->Stats().recovered, replayed->Stats().recovered);
  EXPECT_TRUE(restored->Stats().snapshot_notes.empty()) << ::testing::PrintToString(restored->Stats().snapshot_notes);
  // Profiles the tail did not touch are still sealed in the snapshot; reading them decodes copies.
  const int64_t sealed = restored->Stats().sealed_profiles;
  EXPECT_GT(sealed, 0);
  EXPECT_LT(sealed, restored->Stats().profiles);
  EXPECT_EQ(replayed->Stats().sealed_profiles, 0);
  ExpectSame(Observe(*restored), live, "restored");
  EXPECT_EQ(restored->Stats().sealed_profiles, sealed);
  ExpectSame(Observe(*replayed), live, "replayed");
  ExpectSame(Actions(*restored), Actions(*replayed), "actions");
  // What happens next is the same too: new links, merges, late events, timers, actions.
  for (auto* e : {restored.get(), replayed.get()}) {
    Feed(*e, third);
    ASSERT_TRUE(e->AdvanceTime(At(700 * 7 + 3000)).ok());
  }
  ExpectSame(Observe(*restored), Observe(*replayed), "then");
  ExpectSame(Actions(*restored), Actions(*replayed), "then actions");
  // A snapshot written while profiles are still sealed holds them as they are.
  EXPECT_GT(restored->Stats().sealed_profiles, 0);
  ASSERT_TRUE(restored->Checkpoint().ok());
  const std::string before = Observe(*restored);
  restored.reset();
  restored = Open(Options(dir, cache));
  EXPECT_EQ(restored->Stats().recovered, 0);
  ExpectSame(Observe(*restored), before, "after a checkpoint of sealed profiles");
  restored.reset();
  replayed.reset();
  std::filesystem::remove_all(dir);
  std::filesystem::remove_all(replay_dir);
}

TEST(SnapshotTest, SnapshotPlusTailEqualsFullReplay) { SnapshotPlusTailEqualsFullReplay(0); }
TEST(SnapshotTest, SnapshotPlusTailEqualsFullReplayWithSpilledProfiles) { SnapshotPlusTailEqualsFullReplay(6); }

std::string OnlySnapshot(const std::string& dir) {
  std::string found;
  for (const auto& f : std::filesystem::directory_iterator(dir + "/snapshots")) found = f.path();
  return found;
}

TEST(SnapshotTest, DamagedForeignAndOtherOptionsSnapshotsAreIgnoredWithANote) {
  const std::string dir = FreshDir("ignored");
  const std::vector<Ev> events = Stream(0, 200, 4);
  std::string live;
  {
    auto engine = Open(Options(dir));
    Feed(*engine, events);
    ASSERT_TRUE(engine->Checkpoint().ok());
    live = Observe(*engine);
  }
  const std::string snapshot = OnlySnapshot(dir);
  ASSERT_FALSE(snapshot.empty());
  {  // Other options: not used.
    EngineOptions other = Options(dir);
    other.timeline.max_entries = 13;
    auto engine = Open(other);
    EXPECT_EQ(engine->Stats().snapshot_position, 0);
    ASSERT_EQ(engine->Stats().snapshot_notes.size(), 1u);
    EXPECT_THAT(engine->Stats().snapshot_notes[0], HasSubstr("other options"));
  }
  {  // One flipped byte: damaged.
    std::fstream f(snapshot, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    char c;
    f.seekg(100);
    f.get(c);
    f.seekp(100);
    f.put(static_cast<char>(c ^ 0x20));
  }
  {
    auto engine = Open(Options(dir));
    EXPECT_EQ(engine->Stats().snapshot_position, 0);
    ASSERT_EQ(engine->Stats().snapshot_notes.size(), 1u);
    EXPECT_THAT(engine->Stats().snapshot_notes[0], HasSubstr("damaged"));
    ExpectSame(Observe(*engine), live, "damaged");  // From the whole log.
  }
  // A snapshot of another store: its record at that position differs.
  const std::string foreign = FreshDir("foreign");
  {
    auto engine = Open(Options(foreign));
    Feed(*engine, Stream(0, 200, 5));
    ASSERT_TRUE(engine->Checkpoint().ok());
  }
  std::filesystem::remove(snapshot);
  const std::string theirs = OnlySnapshot(foreign);
  std::filesystem::copy(theirs, dir + "/snapshots/" + std::filesystem::path(theirs).filename().string());
  {
    auto engine = Open(Options(dir));
    EXPECT_EQ(engine->Stats().snapshot_position, 0);
    ASSERT_EQ(engine->Stats().snapshot_notes.size(), 1u);
    EXPECT_THAT(engine->Stats().snapshot_notes[0], HasSubstr("does not match the log"));
    ExpectSame(Observe(*engine), live, "foreign");
  }
  std::filesystem::remove_all(dir);
  std::filesystem::remove_all(foreign);
}

TEST(SnapshotTest, WrittenEveryNRecordsAndOpenReplaysOnlyTheTail) {
  const std::string dir = FreshDir("every");
  EngineOptions options = Options(dir);
  options.storage.snapshot_every_records = 50;
  const std::vector<Ev> events = Stream(0, 180, 6);
  {
    auto engine = Open(options);
    for (const Ev& e : events) (void)engine->Ingest(e);
    EXPECT_GE(engine->Stats().snapshots_written, 3);
    EXPECT_EQ(engine->Stats().snapshot_error, "");
  }
  size_t files = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir + "/snapshots")) files += f.is_regular_file();
  EXPECT_EQ(files, 2u);  // The newest and the one before.
  auto engine = Open(options);
  EXPECT_GT(engine->Stats().snapshot_position, 100);
  EXPECT_LT(engine->Stats().recovered, 50);
  std::filesystem::remove_all(dir);
}

TEST(SnapshotTest, ErasureLeavesNoSnapshotWithTheErasedValue) {
  const std::string dir = FreshDir("erase");
  {
    auto engine = Open(Options(dir));
    ASSERT_TRUE(engine->Ingest(Ev("m1", 0, v1::EVENT_KIND_MESSAGE, "Message").Id("email", "eva.secret@example.com")
                                   .Id("phone", "+420601999888")).ok());
    ASSERT_TRUE(engine->Ingest(Ev("m2", 1, v1::EVENT_KIND_MESSAGE, "Message").Id("email", "jan.other@example.com")).ok());
    ASSERT_TRUE(engine->Checkpoint().ok());
    ASSERT_TRUE(engine->ContainsStringForTesting("eva.secret@example.com"));  // In the snapshot too.
    ASSERT_TRUE(engine->EraseIdentifier({"", "email", "eva.secret@example.com"}).ok());
    EXPECT_FALSE(engine->ContainsStringForTesting("eva.secret@example.com"));
    const ProfileId jan = engine->Context({"", "email", "jan.other@example.com"})->profile;
    ASSERT_TRUE(engine->EraseProfile(jan).ok());
    EXPECT_FALSE(engine->ContainsStringForTesting("jan.other@example.com"));
  }
  auto engine = Open(Options(dir));
  EXPECT_GT(engine->Stats().snapshot_position, 0);  // The one written after the erasure.
  EXPECT_EQ(engine->Context({"", "email", "jan.other@example.com"}).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(engine->Context({"", "phone", "+420601999888"}).ok());
  EXPECT_FALSE(engine->ContainsStringForTesting("eva.secret@example.com"));
  std::filesystem::remove_all(dir);
}

// A profile sealed in the snapshot that does not decode (the file's checksum made to match): the
// first write that touches it fails the engine, the snapshot is deleted, and reopening replays the
// log instead of failing on it again.
TEST(SnapshotTest, ASealedPartThatDoesNotDecodeIsNotUsedAgain) {
  const std::string dir = FreshDir("damaged_part");
  const std::string tenant = "damaged-tenant-x";
  ProfileId id = 0;
  {
    auto engine = Open(Options(dir));
    ASSERT_TRUE(engine->Ingest(Ev("d1", 0, v1::EVENT_KIND_MESSAGE, "Message").Id("email", "d@example.com").Tenant(tenant)).ok());
    id = engine->Context({tenant, "email", "d@example.com"})->profile;
    ASSERT_TRUE(engine->Checkpoint().ok());
  }
  std::string path;
  for (const auto& f : std::filesystem::directory_iterator(dir + "/snapshots")) path = f.path().string();
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  // The file is encrypted: its plaintext, with the snapshot's key from the store's files.
  std::string plain;
  for (const auto& e : testing::ReadStoreFiles(dir).entries) {
    if (e.key.size() != 9 || e.key[0] != 'n') continue;
    std::optional<std::string> body = internal::DecryptSnapshotForTesting(bytes, *internal::crypto::KeyFrom(e.value));
    if (body) plain = std::string(internal::kSnapshotHeaderBytes, '\0') + *body;
  }
  ASSERT_FALSE(plain.empty());
  // The timeline's part: the profile id, the part's length, then the tenant (length-prefixed) and
  // the entry count, which is made larger than the part can hold.
  std::string id_bytes(8, '\0');
  for (int i = 0; i < 8; ++i) id_bytes[i] = static_cast<char>((id >> (8 * i)) & 0xff);
  const std::string framed_tenant = std::string(1, static_cast<char>(tenant.size())) + tenant;
  size_t at = std::string::npos;
  for (size_t p = plain.find(id_bytes); p != std::string::npos; p = plain.find(id_bytes, p + 1)) {
    for (size_t len = 1; len <= 2; ++len) {
      if (plain.compare(p + 8 + len, framed_tenant.size(), framed_tenant) == 0) at = p + 8 + len + framed_tenant.size();
    }
  }
  ASSERT_NE(at, std::string::npos);
  bytes[at] = static_cast<char>(bytes[at] ^ plain[at] ^ 0x7f);  // The plaintext byte becomes 0x7f.
  const uint64_t sum = internal::Checksum(std::string_view(bytes).substr(0, bytes.size() - 8));
  for (int i = 0; i < 8; ++i) bytes[bytes.size() - 8 + i] = static_cast<char>((sum >> (8 * i)) & 0xff);
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
  }
  {
    auto engine = Open(Options(dir));
    EXPECT_GT(engine->Stats().snapshot_position, 0);  // The checksum matches: it is used.
    EXPECT_EQ(engine->Stats().sealed_profiles, 1);
    EXPECT_EQ(engine->Context({tenant, "email", "d@example.com"}).status().code(), absl::StatusCode::kDataLoss);
    EXPECT_FALSE(engine->Ingest(Ev("d2", 1, v1::EVENT_KIND_MESSAGE, "Message").Id("email", "d@example.com").Tenant(tenant)).ok());
    EXPECT_THAT(engine->Stats().snapshot_error, HasSubstr("damaged"));
    EXPECT_FALSE(std::filesystem::exists(path));
  }
  auto engine = Open(Options(dir));
  EXPECT_EQ(engine->Stats().snapshot_position, 0);
  auto ctx = engine->Context({tenant, "email", "d@example.com"});
  ASSERT_TRUE(ctx.ok()) << ctx.status();
  // The event whose apply failed was logged first: reopening applies it (a retry is a duplicate).
  EXPECT_EQ(ctx->timeline_size, 2);
  std::filesystem::remove_all(dir);
}

// Snapshots are written to disk outside the engine's locks, while other threads ingest and
// checkpoint; an erasure in the middle leaves no snapshot file with the erased value (a snapshot
// encoded before it is not written after it).
TEST(SnapshotTest, CheckpointsWhileIngestingAndErasingLeaveNoErasedValue) {
  const std::string dir = FreshDir("concurrent_checkpoints");
  EngineOptions options = Options(dir);
  options.storage.snapshot_every_records = 40;
  auto engine = Open(options);
  ASSERT_TRUE(engine->Ingest(Ev("secret", 0, v1::EVENT_KIND_MESSAGE, "Message").Id("email", "gone.secret@example.com")
                                 .Id("phone", "+420601555444")).ok());
  std::atomic<bool> stop{false};
  std::thread ingest([&] {
    for (int i = 0; !stop.load(); ++i) {
      (void)engine->Ingest(Ev(absl::StrCat("x", i), i % 500, v1::EVENT_KIND_TRACK, "Viewed")
                               .Id("email", absl::StrCat("c", i % 60, "@example.com")));
    }
  });
  std::thread checkpoints([&] {
    while (!stop.load()) (void)engine->Checkpoint();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(engine->EraseIdentifier({"", "email", "gone.secret@example.com"}).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  stop = true;
  ingest.join();
  checkpoints.join();
  EXPECT_GE(engine->Stats().snapshots_written, 1);
  EXPECT_EQ(engine->Stats().snapshot_error, "");
  engine.reset();
  // Snapshot files are not compressed: a byte scan finds the value if it is there.
  int files = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir + "/snapshots")) {
    std::ifstream in(f.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), {});
    EXPECT_EQ(bytes.find("gone.secret@example.com"), std::string::npos) << f.path();
    ++files;
  }
  EXPECT_GT(files, 0);
  engine = Open(options);
  EXPECT_FALSE(engine->ContainsStringForTesting("gone.secret@example.com"));
  EXPECT_TRUE(engine->Context({"", "phone", "+420601555444"}).ok());
  std::filesystem::remove_all(dir);
}

// Snapshot files this process has mapped (/proc/self/maps).
int MappedSnapshots() {
  std::ifstream maps("/proc/self/maps");
  int n = 0;
  for (std::string line; std::getline(maps, line);) n += line.find("/snapshots/snapshot-") != std::string::npos;
  return n;
}

TEST(SnapshotTest, ErasureAfterOpenReachesSealedProfiles) {
  const std::string dir = FreshDir("erase_sealed");
  {
    auto engine = Open(Options(dir));
    ASSERT_TRUE(engine->AddJourney(Reservation("sms")).ok());
    ASSERT_TRUE(engine->Ingest(Ev("m1", 0, v1::EVENT_KIND_ORDER, "Reservation Created").Id("email", "eva.secret@example.com")
                                   .Id("phone", "+420601999888")).ok());
    ASSERT_TRUE(engine->Ingest(Ev("m2", 1, v1::EVENT_KIND_MESSAGE, "Message").Id("email", "jan.other@example.com")).ok());
    ASSERT_TRUE(engine->Checkpoint().ok());
  }
  auto engine = Open(Options(dir));
  EXPECT_EQ(engine->Stats().sealed_profiles, 2);
  ASSERT_TRUE(engine->ContainsStringForTesting("jan.other@example.com"));
  ASSERT_TRUE(engine->Context({"", "phone", "+420601999888"}).ok());
  EXPECT_EQ(engine->Stats().sealed_profiles, 2);  // A reader decodes a copy.
  EXPECT_EQ(MappedSnapshots(), 1);
  ASSERT_TRUE(engine->EraseIdentifier({"", "email", "eva.secret@example.com"}).ok());
  EXPECT_EQ(engine->Stats().sealed_profiles, 0);  // Everything decoded, the mapping let go:
  EXPECT_EQ(MappedSnapshots(), 0);  // the old file, deleted, keeps no disk space.
  EXPECT_FALSE(engine->ContainsStringForTesting("eva.secret@example.com"));
  auto ctx = engine->Context({"", "phone", "+420601999888"});
  ASSERT_TRUE(ctx.ok()) << ctx.status();
  EXPECT_EQ(ctx->journeys.size(), 1u);
  engine.reset();
  engine = Open(Options(dir));
  EXPECT_FALSE(engine->ContainsStringForTesting("eva.secret@example.com"));
  EXPECT_TRUE(engine->Context({"", "email", "jan.other@example.com"}).ok());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace omnijourney
