// Durable storage: recovery by replay, idempotence across restarts, actions taken once, erasure
// removes the data from the files.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "engine_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "omnijourney/journey.h"

namespace omnijourney {
namespace {

using ::testing::HasSubstr;
using testing::At;
using testing::Ev;

std::string FreshDir(const std::string& name) {
  const std::string dir = ::testing::TempDir() + "/omnijourney_" + name + "_" + std::to_string(getpid());
  std::filesystem::remove_all(dir);
  return dir;
}

EngineOptions Durable(const std::string& dir) {
  EngineOptions options;
  options.storage.path = dir;
  options.time_mode = EngineOptions::TimeMode::kEventTime;
  return options;
}

std::unique_ptr<Engine> Open(const EngineOptions& options) {
  auto e = Engine::Open(options);
  EXPECT_TRUE(e.ok()) << e.status();
  return e.ok() ? *std::move(e) : nullptr;
}

JourneyDefinition Reservation() {
  return *JourneyBuilder("reservation", 1)
              .Entry(OnEvent().Names({"Reservation Created"}))
              .State("reserved")
              .On("picked_up", OnEvent().Names({"Reservation Picked Up"}))
              .After("reminded", absl::Hours(24), {MakeAction("remind")})
              .State("reminded")
              .On("picked_up", OnEvent().Names({"Reservation Picked Up"}))
              .After("expired", absl::Hours(24), {MakeAction("release")})
              .Goal("picked_up")
              .Exit("expired")
              .Build();
}

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
  EXPECT_TRUE(engine->Context({"", "phone", "601 123 456"}).ok());
  // Re-delivery after the restart is still a duplicate.
  auto again = engine->Ingest(Msg("m1", 0, "eva@example.com", "hello"));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(engine->Context({"", "email", "eva@example.com"})->timeline_size, 3);
  std::filesystem::remove_all(dir);
}

TEST(StorageTest, TakenActionsAreNotRepeatedAndUntakenOnesComeBack) {
  const std::string dir = FreshDir("actions");
  {
    auto engine = Open(Durable(dir));
    ASSERT_TRUE(engine->AddJourney(Reservation()).ok());
    ASSERT_TRUE(engine->Ingest(Ev("r1", 0, v1::EVENT_KIND_ORDER, "Reservation Created").Id("email", "a@example.com")).ok());
    ASSERT_TRUE(engine->Ingest(Ev("r2", 0, v1::EVENT_KIND_ORDER, "Reservation Created").Id("email", "b@example.com")).ok());
    ASSERT_TRUE(engine->AdvanceTime(At(1440)).ok());
    auto taken = engine->TakeActions();
    ASSERT_EQ(taken.size(), 2u);  // Both reminded.
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
