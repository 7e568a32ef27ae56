// Durable storage: recovery by replay, idempotence across restarts, actions taken once, erasure
// removes the data from the files.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "engine_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "omnijourney/journey.h"
#include "common/mutex.h"  // OMNIJOURNEY_TSAN
#include "rocksdb/db.h"
#include "store/log.h"

namespace omnijourney {
namespace {

using ::testing::HasSubstr;
using testing::At;
using testing::Ev;
using testing::Durable;
using testing::FreshDir;
using testing::Open;
using testing::Reservation;

Ev Msg(const std::string& id, int minute, const std::string& email, const std::string& text = "") {
  return Ev(id, minute, v1::EVENT_KIND_MESSAGE, "Message Received").Id("email", email).In(v1::CHANNEL_CHAT).Text(text);
}

TEST(StorageTest, ReopeningRecoversProfilesTimelinesJourneysAndDedupe) {
  const std::string dir = FreshDir("recover");
  std::string before;
  {
    auto engine = Open(Durable(dir));
    ASSERT_TRUE(engine->AddJourney(Reservation()).ok());
    ASSERT_TRUE(engine->Ingest(Msg("m1", 0, "eva@example.com", "hello")).ok());
    ASSERT_TRUE(engine->Ingest(Ev("c1", 1, v1::EVENT_KIND_MESSAGE, "Message Received").Id("cookie", "ck-1")
                                   .Id("email", "eva@example.com").In(v1::CHANNEL_CHAT)).ok());
    const Ev r = Ev("r1", 2, v1::EVENT_KIND_ORDER, "Reservation Created").Id("cookie", "ck-1");
    const Ev p = Ev("p1", 3, v1::EVENT_KIND_ORDER, "Other").Id("phone", "+420601123456").Id("email", "jan@example.com");
    auto batch = engine->IngestBatch({&r.event(), &p.event()});
    ASSERT_TRUE(batch[0].ok() && batch[1].ok());
    before = ContextToJson(*engine->Context({"", "email", "eva@example.com"}));
    EXPECT_THAT(before, HasSubstr("\"state\":\"reserved\""));
  }
  auto engine = Open(Durable(dir));
  EXPECT_EQ(engine->Stats().recovered, 5);
  EXPECT_EQ(ContextToJson(*engine->Context({"", "email", "eva@example.com"})), before);
  EXPECT_TRUE(engine->Context({"", "phone", "+420 601 123 456"}).ok());
  // Re-delivery after the restart is still a duplicate.
  auto again = engine->Ingest(Msg("m1", 0, "eva@example.com", "hello"));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(engine->Context({"", "email", "eva@example.com"})->timeline_size, 3);
  std::filesystem::remove_all(dir);
}

// A large batch is written on a second thread while it is applied: after reopening, every event is
// there once, and the state equals an in-memory engine's.
TEST(StorageTest, LargeBatchesWrittenWhileAppliedAreAllStored) {
  const std::string dir = FreshDir("large_batch");
  std::vector<Ev> events;
  for (int i = 0; i < 500; ++i) {
    events.push_back(Msg("b" + std::to_string(i), i, "c" + std::to_string(i % 53) + "@example.com", "m" + std::to_string(i)));
    if (i % 7 == 0) events.back().Id("cookie", "ck-" + std::to_string(i % 13));
  }
  events.push_back(events[10]);  // A duplicate inside the batch.
  std::vector<const Event*> batch;
  for (const Ev& e : events) batch.push_back(&e.event());
  EngineOptions memory;
  memory.time_mode = EngineOptions::TimeMode::kEventTime;
  auto clean = Open(memory);
  for (const auto& r : clean->IngestBatch(batch)) ASSERT_TRUE(r.ok()) << r.status();
  {
    auto engine = Open(Durable(dir));
    const auto results = engine->IngestBatch(batch);
    for (const auto& r : results) ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_TRUE(results.back()->duplicate);
  }
  auto engine = Open(Durable(dir));
  EXPECT_EQ(engine->Stats().events, 500);
  EXPECT_EQ(engine->Stats().recovered, 500);
  for (int c = 0; c < 53; ++c) {
    const std::string who = "c" + std::to_string(c) + "@example.com";
    EXPECT_EQ(ContextToJson(*engine->Context({"", "email", who})), ContextToJson(*clean->Context({"", "email", who}))) << who;
  }
  std::filesystem::remove_all(dir);
}

TEST(StorageTest, AcknowledgedActionsAreNotRepeatedAndUntakenOnesComeBack) {
  const std::string dir = FreshDir("actions");
  {
    auto engine = Open(Durable(dir));
    ASSERT_TRUE(engine->AddJourney(Reservation()).ok());
    ASSERT_TRUE(engine->Ingest(Ev("r1", 0, v1::EVENT_KIND_ORDER, "Reservation Created").Id("email", "a@example.com")).ok());
    ASSERT_TRUE(engine->Ingest(Ev("r2", 0, v1::EVENT_KIND_ORDER, "Reservation Created").Id("email", "b@example.com")).ok());
    ASSERT_TRUE(engine->AdvanceTime(At(1440)).ok());
    auto taken = engine->TakeActions();
    ASSERT_EQ(taken.size(), 2u);  // Both reminded.
    ASSERT_TRUE(engine->AckActions({taken[0].id, taken[1].id}).ok());
    ASSERT_TRUE(engine->AdvanceTime(At(2 * 1440)).ok());
    // Two "release" actions are due but the host crashes before taking them.
  }
  auto engine = Open(Durable(dir));
  auto after = engine->TakeActions();
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after[0].name, "release");
  EXPECT_EQ(after[1].name, "release");
  std::filesystem::remove_all(dir);
}

TEST(StorageTest, OperatorActionsSurviveARestart) {
  const std::string dir = FreshDir("operators");
  ProfileId merged = 0;
  {
    auto engine = Open(Durable(dir));
    ASSERT_TRUE(engine->Ingest(Msg("m1", 0, "eva@example.com").Id("cookie", "tablet")).ok());
    ASSERT_TRUE(engine->Ingest(Msg("m2", 1, "jan@example.com").Id("cookie", "tablet")).ok());
    merged = engine->Context({"", "cookie", "tablet"})->profile;
    ASSERT_TRUE(engine->Split(merged, {{"email", "jan@example.com"}}).ok());
    ASSERT_TRUE(engine->Unlink({"", "cookie", "tablet"}).ok());
  }
  auto engine = Open(Durable(dir));
  const ProfileId eva = engine->Context({"", "email", "eva@example.com"})->profile;
  const ProfileId jan = engine->Context({"", "email", "jan@example.com"})->profile;
  EXPECT_NE(eva, jan);
  // The unlinked tablet cookie belongs to neither any more (its events stay with the emails).
  for (ProfileId p : {eva, jan}) {
    auto explained = engine->Explain(p);
    ASSERT_TRUE(explained.ok());
    for (const auto& id : explained->identifiers) EXPECT_NE(id.type, "cookie");
  }
  EXPECT_EQ(engine->Context({"", "cookie", "tablet"}).status().code(), absl::StatusCode::kNotFound);
  std::filesystem::remove_all(dir);
}

TEST(StorageTest, ErasureRemovesTheDataFromTheFiles) {
  const std::string dir = FreshDir("erase");
  {
    auto engine = Open(Durable(dir));
    ASSERT_TRUE(engine->Ingest(Msg("m1", 0, "eva.secret@example.com", "first").Id("phone", "+420601999888")).ok());
    ASSERT_TRUE(engine->Ingest(Msg("m2", 1, "eva.secret@example.com", "second")).ok());
    ASSERT_TRUE(engine->Ingest(Msg("m3", 2, "jan.other@example.com", "third")).ok());
    ASSERT_TRUE(engine->ContainsStringForTesting("eva.secret@example.com"));
    ASSERT_TRUE(engine->EraseIdentifier({"", "email", "Eva.Secret@example.com"}).ok());
    EXPECT_FALSE(engine->ContainsStringForTesting("eva.secret@example.com"));
    EXPECT_TRUE(engine->ContainsStringForTesting("+420601999888"));  // Still a known phone.
    const ProfileId jan = engine->Context({"", "email", "jan.other@example.com"})->profile;
    ASSERT_TRUE(engine->EraseProfile(jan).ok());
    EXPECT_FALSE(engine->ContainsStringForTesting("jan.other@example.com"));
  }
  auto engine = Open(Durable(dir));
  EXPECT_EQ(engine->Context({"", "email", "eva.secret@example.com"}).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(engine->Context({"", "email", "jan.other@example.com"}).status().code(), absl::StatusCode::kNotFound);
  auto phone = engine->Context({"", "phone", "+420601999888"});
  ASSERT_TRUE(phone.ok()) << phone.status();
  EXPECT_EQ(phone->timeline_size, 1);  // m1 keeps its phone; m2 was only Eva's email.
  EXPECT_FALSE(engine->ContainsStringForTesting("eva.secret@example.com"));
  std::filesystem::remove_all(dir);
}

// A child process ingests a stream and reports each acknowledged event through a pipe; it is killed
// with SIGKILL at random points. Each time, the test reopens the store and checks that every
// acknowledged event is there, then restarts the child from the first unacknowledged event (as a host
// re-delivers). In the end the state equals a clean in-memory run over the whole stream.
std::vector<Ev> CrashStream() {
  std::vector<Ev> events;
  for (int i = 0; i < 400; ++i) {
    const std::string who = "c" + std::to_string(i % 37) + "@example.com";
    Ev e = Msg("e" + std::to_string(i), i, who, "message " + std::to_string(i));
    if (i % 5 == 0) e.Id("cookie", "ck-" + std::to_string(i % 11));  // Merges along the way.
    events.push_back(e);
  }
  return events;
}

int64_t StoredEvents(const std::string& dir) {
  auto engine = Open(Durable(dir));
  return engine ? engine->Stats().events : -1;
}

TEST(StorageTest, CrashAtRandomPointsLosesNoAcknowledgedEvent) {
#ifdef OMNIJOURNEY_TSAN
  GTEST_SKIP() << "forks a process with threads (RocksDB's), which ThreadSanitizer does not support";
#endif
  const std::string dir = FreshDir("crash");
  const std::vector<Ev> events = CrashStream();
  std::mt19937 rng(20261122);
  size_t next = 0;  // First event not yet acknowledged.
  int kills = 0;
  while (next < events.size()) {
    int acks[2], go[2];
    ASSERT_EQ(pipe(acks), 0);
    ASSERT_EQ(pipe(go), 0);
    const size_t start = next;
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      close(acks[0]);
      close(go[1]);
      EngineOptions options = Durable(dir);
      options.storage.cache_profiles = 5;  // Most of the 37 customers are spilled along the way.
      auto engine = Engine::Open(options);
      if (!engine.ok()) _exit(2);
      char token;
      for (size_t i = start; i < events.size(); ++i) {
        if (read(go[0], &token, 1) != 1) _exit(0);  // Paced by the parent.
        if (!(*engine)->Ingest(events[i]).ok()) _exit(3);
        const uint32_t ack = static_cast<uint32_t>(i);
        if (write(acks[1], &ack, sizeof(ack)) != sizeof(ack)) _exit(4);
      }
      _exit(0);
    }
    close(acks[1]);
    close(go[0]);
    // Let it acknowledge a random number of events, then release one more and kill it somewhere in
    // the middle of ingesting that one (or just before or after).
    const size_t run = 1 + rng() % 40;
    uint32_t ack;
    for (size_t k = 0; k < run && next < events.size(); ++k) {
      ASSERT_EQ(write(go[1], "g", 1), 1);
      ASSERT_EQ(read(acks[0], &ack, sizeof(ack)), static_cast<ssize_t>(sizeof(ack)));
      next = ack + 1;
    }
    if (next < events.size()) (void)!write(go[1], "g", 1);
    usleep(static_cast<useconds_t>(rng() % 400));
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    while (read(acks[0], &ack, sizeof(ack)) == sizeof(ack)) next = ack + 1;  // Acknowledged before the kill.
    close(acks[0]);
    close(go[1]);
    ++kills;
    // Every acknowledged event is stored; the one in flight may or may not be.
    const int64_t stored = StoredEvents(dir);
    ASSERT_GE(stored, static_cast<int64_t>(next)) << "after kill " << kills;
    ASSERT_LE(stored, static_cast<int64_t>(next) + 1) << "after kill " << kills;
  }
  EXPECT_GE(kills, 10);
  // Exactly once, and the same state as a clean in-memory run (also through a small cache).
  EngineOptions cached = Durable(dir);
  cached.storage.cache_profiles = 5;
  auto recovered = Open(cached);
  EngineOptions memory;
  memory.time_mode = EngineOptions::TimeMode::kEventTime;
  auto clean = Open(memory);
  for (const Ev& e : events) ASSERT_TRUE(clean->Ingest(e).ok());
  EXPECT_EQ(recovered->Stats().events, static_cast<int64_t>(events.size()));
  EXPECT_EQ(recovered->Stats().profiles, clean->Stats().profiles);
  EXPECT_EQ(recovered->Stats().timeline_entries, clean->Stats().timeline_entries);
  for (int c = 0; c < 37; ++c) {
    const std::string who = "c" + std::to_string(c) + "@example.com";
    EXPECT_EQ(ContextToJson(*recovered->Context({"", "email", who})), ContextToJson(*clean->Context({"", "email", who})))
        << who;
  }
  std::filesystem::remove_all(dir);
}

TEST(StorageTest, ErasingAProfileScrubsTheLogOfItsTenantOnly) {
  const std::string dir = FreshDir("erase_tenant");
  auto engine = Open(Durable(dir));
  ASSERT_TRUE(engine->Ingest(Msg("m1", 0, "same@example.com", "acme's").Tenant("acme")).ok());
  ASSERT_TRUE(engine->Ingest(Msg("m1", 0, "same@example.com", "globex's").Tenant("globex")).ok());
  const ProfileId acme = engine->Context({"acme", "email", "same@example.com"})->profile;
  ASSERT_TRUE(engine->EraseProfile("acme", acme).ok());
  EXPECT_FALSE(engine->ContainsStringForTesting("acme's"));
  EXPECT_TRUE(engine->ContainsStringForTesting("globex's"));  // The same address in another tenant stays.
  engine.reset();
  engine = Open(Durable(dir));
  EXPECT_EQ(engine->Context({"acme", "email", "same@example.com"}).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(engine->Context({"globex", "email", "same@example.com"}).ok());
  std::filesystem::remove_all(dir);
}

// A cache of 8 profiles for 60 customers whose events interleave: every customer is spilled between
// two of its events, its timers come due while it is spilled, operators split, unlink and erase
// spilled profiles. Everything must equal an engine that keeps all profiles in memory.
TEST(StorageTest, ProfilesBeyondTheCacheAreSpilledAndLoadedOnDemand) {
  const std::string dir = FreshDir("cache");
  SimulatedClock clock(At(4000));  // Stamps the operators' actions in the audit.
  EngineOptions cached_options = Durable(dir);
  cached_options.storage.cache_profiles = 8;
  cached_options.clock = &clock;
  EngineOptions memory_options;
  memory_options.time_mode = EngineOptions::TimeMode::kEventTime;
  memory_options.clock = &clock;
  auto cached = Open(cached_options);
  auto memory = Open(memory_options);
  constexpr int kCustomers = 60;
  auto email = [](int c) { return absl::StrCat("c", c, "@example.com"); };
  auto phone = [](int c) { return absl::StrCat("+42060100", 1000 + c); };
  std::vector<Ev> stream;
  for (int step = 0; step < 6; ++step) {
    for (int c = 0; c < kCustomers; ++c) {
      const std::string id = absl::StrCat("s", step, "-", c);
      const int minute = step * 60 + c;
      const std::string cookie = absl::StrCat("ck-", c);
      switch (step) {
        case 0:
          stream.push_back(Ev(id, minute, v1::EVENT_KIND_TRACK, "Page Viewed").Id("cookie", cookie)
                               .On(v1::CHANNEL_WEB).Prop("path", "/tours/" + std::to_string(c % 4)));
          break;
        case 1:
          stream.push_back(Msg(id, minute, email(c), "question " + std::to_string(c)).Id("cookie", cookie)
                               .Conv(absl::StrCat("conv-", c)).Trait("tier", c % 2 ? "gold" : "silver"));
          break;
        case 2:
          stream.push_back(Ev(id, minute, v1::EVENT_KIND_ORDER, "Reservation Created").Id("email", email(c))
                               .Value(100 + c, "EUR"));
          break;
        case 3:  // Late: before the reservation (a rebuild of the journeys).
          stream.push_back(Ev(id, minute - 150, v1::EVENT_KIND_TRACK, "Page Viewed").Id("cookie", cookie)
                               .On(v1::CHANNEL_WEB));
          break;
        case 4:
          stream.push_back(Ev(id, minute, v1::EVENT_KIND_CALL, "Call Started").Id("phone", phone(c))
                               .Id("email", email(c)).In(v1::CHANNEL_VOICE).Agent("agent-7"));
          break;
        case 5:
          if (c % 2 == 0) {
            stream.push_back(Ev(id, minute, v1::EVENT_KIND_ORDER, "Reservation Picked Up").Id("phone", phone(c)));
          }
          break;
      }
    }
  }
  for (auto* engine : {cached.get(), memory.get()}) {
    ASSERT_TRUE(engine->AddJourney(Reservation()).ok());
    for (size_t i = 0; i < stream.size(); i += 7) {  // Batches of 7 and single events.
      if (i % 2 == 0) {
        std::vector<const Event*> batch;
        for (size_t k = i; k < std::min(stream.size(), i + 7); ++k) batch.push_back(&stream[k].event());
        for (const auto& r : engine->IngestBatch(batch)) ASSERT_TRUE(r.ok()) << r.status();
      } else {
        for (size_t k = i; k < std::min(stream.size(), i + 7); ++k) ASSERT_TRUE(engine->Ingest(stream[k]).ok());
      }
    }
    ASSERT_TRUE(engine->AdvanceTime(At(1500)).ok());  // Reminders come due while most are spilled.
  }
  auto same_actions = [&](const std::string& when) {
    const auto a = cached->TakeActions(), b = memory->TakeActions();
    ASSERT_EQ(a.size(), b.size()) << when;
    std::vector<std::string> ids;
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].id, b[i].id) << when;
      EXPECT_EQ(a[i].name, b[i].name) << when;
      EXPECT_EQ(a[i].profile, b[i].profile) << when;
      ids.push_back(a[i].id);
    }
    ASSERT_TRUE(cached->AckActions(ids).ok()) << when;
    ASSERT_TRUE(memory->AckActions(ids).ok()) << when;
  };
  // After a restart the audit lacks the erasure (its record does not name the value).
  auto same_state = [&](Engine& got, const std::string& when, bool audit = true) {
    EXPECT_EQ(got.Stats().profiles, memory->Stats().profiles) << when;
    EXPECT_EQ(got.Stats().timeline_entries, memory->Stats().timeline_entries) << when;
    for (int c = 0; c < kCustomers; ++c) {
      auto want = memory->Context({"", "phone", phone(c)});
      auto have = got.Context({"", "phone", phone(c)});
      ASSERT_EQ(have.ok(), want.ok()) << when << " " << c;
      if (!want.ok()) continue;
      EXPECT_EQ(ContextToJson(*have), ContextToJson(*want)) << when << " " << c;
      if (audit) {
        EXPECT_EQ(got.Explain(have->profile)->ToString(), memory->Explain(want->profile)->ToString()) << when << " " << c;
      }
    }
  };
  same_actions("reminders");
  EXPECT_EQ(cached->Stats().profiles, kCustomers);
  EXPECT_LE(cached->Stats().cached_profiles, 8);
  EXPECT_GT(cached->Stats().cached_profiles, 0);
  same_state(*cached, "after ingest");

  // Operators act on spilled profiles.
  for (auto* engine : {cached.get(), memory.get()}) {
    ASSERT_TRUE(engine->Unlink({"", "cookie", "ck-5"}).ok());
    const ProfileId p = engine->Context({"", "email", email(9)})->profile;
    ASSERT_TRUE(engine->Split(p, {{"phone", phone(9)}}).ok());
    ASSERT_TRUE(engine->EraseIdentifier({"", "email", email(13)}).ok());
    ASSERT_TRUE(engine->AdvanceTime(At(3000)).ok());  // Releases of the reservations not picked up.
  }
  same_actions("releases");
  same_state(*cached, "after operators");
  EXPECT_LE(cached->Stats().cached_profiles, 8);
  EXPECT_FALSE(cached->ContainsStringForTesting(email(13)));

  // Reopened with the same small cache: the same state again.
  cached.reset();
  cached = Open(cached_options);
  same_state(*cached, "reopened", /*audit=*/false);
  EXPECT_LE(cached->Stats().cached_profiles, 8);
  EXPECT_TRUE(cached->TakeActions().empty());  // All were acknowledged before.
  cached.reset();
  std::filesystem::remove_all(dir);
}

// Open replays the log with up to storage.recovery_cache_profiles in memory (a replay of 120
// customers' interleaved events through a cache of 12 loaded and spilled a profile for almost every
// event), then spills down to the cache; the result is the same as with the small cache throughout.
TEST(StorageTest, RecoveryWithASmallCacheReplaysWithALargerOneThenTrims) {
  const std::string dir = FreshDir("recovery_cache");
  EngineOptions options = Durable(dir);
  options.storage.cache_profiles = 12;
  options.storage.snapshot_every_records = 0;
  std::vector<std::string> before;
  {
    auto engine = Open(options);
    for (int i = 0; i < 1200; ++i) {
      ASSERT_TRUE(engine->Ingest(Msg("m" + std::to_string(i), i, "c" + std::to_string(i % 120) + "@example.com",
                                     "text " + std::to_string(i))).ok());
    }
    for (int c = 0; c < 120; ++c) {
      before.push_back(ContextToJson(*engine->Context({"", "email", "c" + std::to_string(c) + "@example.com"})));
    }
  }
  for (const size_t recovery_cache : {size_t{100000}, size_t{12}}) {
    EngineOptions reopen = options;
    reopen.storage.recovery_cache_profiles = recovery_cache;
    auto engine = Open(reopen);
    EXPECT_EQ(engine->Stats().recovered, 1200);
    EXPECT_LE(engine->Stats().cached_profiles, 12) << recovery_cache;
    EXPECT_EQ(engine->Stats().profiles, 120);
    for (int c = 0; c < 120; ++c) {
      EXPECT_EQ(ContextToJson(*engine->Context({"", "email", "c" + std::to_string(c) + "@example.com"})), before[c])
          << recovery_cache << " " << c;
    }
  }
  std::filesystem::remove_all(dir);
}

// 20k profiles beyond a cache of 100: the spill at the end of the replay is encoded and sealed on
// several threads (at least 4096 profiles each); every profile reads back whole.
TEST(StorageTest, RecoverySpillSharedAmongThreadsKeepsEveryProfile) {
  const std::string dir = FreshDir("recovery_spill_threads");
  EngineOptions options = Durable(dir);
  options.storage.snapshot_every_records = 0;
  constexpr int kCustomers = 20000;
  std::vector<std::string> before;
  {
    auto engine = Open(options);
    std::vector<Ev> batch;
    for (int i = 0; i < 2 * kCustomers; ++i) {
      batch.push_back(Msg("m" + std::to_string(i), i, "c" + std::to_string(i % kCustomers) + "@example.com",
                          "text " + std::to_string(i)));
      if (batch.size() == 1000) {
        std::vector<const Event*> events;
        for (const Ev& e : batch) events.push_back(&e.event());
        for (const auto& r : engine->IngestBatch(events)) ASSERT_TRUE(r.ok()) << r.status();
        batch.clear();
      }
    }
    for (int c = 0; c < kCustomers; c += 97) {
      before.push_back(ContextToJson(*engine->Context({"", "email", "c" + std::to_string(c) + "@example.com"})));
    }
  }
  EngineOptions reopen = options;
  reopen.storage.cache_profiles = 100;
  auto engine = Open(reopen);
  EXPECT_EQ(engine->Stats().profiles, kCustomers);
  EXPECT_LE(engine->Stats().cached_profiles, 100);
  size_t i = 0;
  for (int c = 0; c < kCustomers; c += 97, ++i) {
    EXPECT_EQ(ContextToJson(*engine->Context({"", "email", "c" + std::to_string(c) + "@example.com"})), before[i])
        << c;
  }
  std::filesystem::remove_all(dir);
}

TEST(StorageTest, CacheWithoutAPathIsAClearError) {
  EngineOptions options;
  options.storage.cache_profiles = 10;
  auto e = Engine::Open(options);
  ASSERT_FALSE(e.ok());
  EXPECT_THAT(std::string(e.status().message()), HasSubstr("storage.cache_profiles"));
}

TEST(StorageTest, EncodedEventRecordsParseAsLogRecords) {
  for (const std::string& text : {std::string(""), std::string(300, 'x'), std::string(70000, 'y')}) {
    const Ev e = Msg("m1", 0, "eva@example.com", text);
    v1::LogRecord parsed;
    ASSERT_TRUE(parsed.ParseFromString(internal::EncodeEventRecord(e.event())));
    ASSERT_TRUE(parsed.has_event());
    EXPECT_EQ(parsed.event().SerializeAsString(), e.event().SerializeAsString());
  }
}

TEST(StorageTest, UnusablePathIsAClearError) {
  const std::string file = FreshDir("file");
  { std::ofstream(file) << "not a directory"; }
  EngineOptions options;
  options.storage.path = file + "/db";
  auto e = Engine::Open(options);
  ASSERT_FALSE(e.ok());
  EXPECT_THAT(std::string(e.status().message()), HasSubstr("storage.path"));
  std::filesystem::remove_all(file);
}

}  // namespace
}  // namespace omnijourney

namespace omnijourney {
namespace {

// A store written by format 1 kept the ids of actions handed out in a "taken" column family; opening
// it logs them as acknowledged (they are not handed out again) and records format 2.
TEST(StorageTest, FormatOneStoreUpgradesItsTakenActionsToAcknowledgements) {
  const std::string dir = FreshDir("format1");
  std::vector<std::string> taken;
  {
    auto engine = Open(Durable(dir));
    ASSERT_TRUE(engine->AddJourney(Reservation()).ok());
    ASSERT_TRUE(engine->Ingest(Ev("r1", 0, v1::EVENT_KIND_ORDER, "Reservation Created").Id("email", "a@example.com")).ok());
    ASSERT_TRUE(engine->Ingest(Ev("r2", 0, v1::EVENT_KIND_ORDER, "Reservation Created").Id("email", "b@example.com")).ok());
    ASSERT_TRUE(engine->AdvanceTime(At(1440)).ok());
    for (const auto& a : engine->TakeActions()) taken.push_back(a.id);
    ASSERT_EQ(taken.size(), 2u);
  }
  {  // Make it look like format 1: version "1" and the first action in "taken".
    rocksdb::DBOptions options;
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {
        {rocksdb::kDefaultColumnFamilyName, {}}, {"log", {}}, {"meta", {}}, {"profiles", {}}, {"keys", {}}};
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, dir, cfs, &handles, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    rocksdb::ColumnFamilyHandle* taken_cf = nullptr;
    ASSERT_TRUE(db->CreateColumnFamily({}, "taken", &taken_cf).ok());
    ASSERT_TRUE(db->Put({}, taken_cf, taken[0], "").ok());
    ASSERT_TRUE(db->Put({}, handles[2], "format_version", "1").ok());
    db->DestroyColumnFamilyHandle(taken_cf);
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  }
  {
    auto engine = Open(Durable(dir));
    const auto again = engine->TakeActions();
    ASSERT_EQ(again.size(), 1u);  // The one that was not taken.
    EXPECT_EQ(again[0].id, taken[1]);
  }
  std::vector<std::string> families;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir, &families).ok());
  EXPECT_THAT(families, ::testing::Not(::testing::Contains("taken")));
  auto engine = Open(Durable(dir));
  ASSERT_EQ(engine->TakeActions().size(), 1u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace omnijourney
