// Journey actions are delivered at least once and identified exactly once: pending until the host
// acknowledges them, handed out again after a restart (also after a SIGKILL of the host), never
// again once acknowledged; and timers fire by themselves in clock mode.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/mutex.h"  // OMNIJOURNEY_TSAN
#include "engine_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "omnijourney/journey.h"

namespace omnijourney {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::At;
using testing::Ev;
using testing::FreshDir;
using testing::Open;
using testing::Reservation;

Ev Created(const std::string& id, int minute, const std::string& email) {
  return Ev(id, minute, v1::EVENT_KIND_ORDER, "Reservation Created").Id("email", email);
}

EngineOptions EventTime(const std::string& dir = "") {
  EngineOptions options;
  options.time_mode = EngineOptions::TimeMode::kEventTime;
  options.storage.path = dir;
  return options;
}

std::vector<std::string> Ids(const std::vector<JourneyAction>& actions) {
  std::vector<std::string> out;
  for (const auto& a : actions) out.push_back(a.id);
  return out;
}

TEST(ActionsTest, PendingUntilAcknowledgedAndHandedOutOncePerRun) {
  auto engine = Open(EventTime());
  ASSERT_TRUE(engine->AddJourney(Reservation()).ok());
  ASSERT_TRUE(engine->Ingest(Created("r1", 0, "a@example.com")).ok());
  ASSERT_TRUE(engine->AdvanceTime(At(1440)).ok());
  const auto taken = engine->TakeActions();
  ASSERT_EQ(taken.size(), 1u);
  EXPECT_EQ(taken[0].name, "remind");
  EXPECT_EQ(engine->Stats().pending_actions, 1);
  EXPECT_TRUE(engine->TakeActions().empty());  // Handed out once in this run.
  ASSERT_TRUE(engine->AckActions(Ids(taken)).ok());
  EXPECT_EQ(engine->Stats().pending_actions, 0);
  ASSERT_TRUE(engine->AckActions(Ids(taken)).ok());  // Twice is fine.
}

TEST(ActionsTest, AcknowledgingAnUnknownIdIsNotFoundAndAcknowledgesNothing) {
  auto engine = Open(EventTime());
  ASSERT_TRUE(engine->AddJourney(Reservation()).ok());
  ASSERT_TRUE(engine->Ingest(Created("r1", 0, "a@example.com")).ok());
  ASSERT_TRUE(engine->AdvanceTime(At(1440)).ok());
  const auto taken = engine->TakeActions();
  ASSERT_EQ(taken.size(), 1u);
  absl::Status s = engine->AckActions({taken[0].id, "no-such-action"});
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("ids[1]"));
  EXPECT_EQ(engine->Stats().pending_actions, 1);
}

TEST(ActionsTest, RedeliveredAfterTheConfiguredTimeWithoutAnAcknowledgement) {
  SimulatedClock clock(At(0));
  EngineOptions options = EventTime();
  options.clock = &clock;
  options.actions.redeliver_after = absl::Minutes(5);
  auto engine = Open(options);
  ASSERT_TRUE(engine->AddJourney(Reservation()).ok());
  ASSERT_TRUE(engine->Ingest(Created("r1", 0, "a@example.com")).ok());
  ASSERT_TRUE(engine->AdvanceTime(At(1440)).ok());
  const auto first = engine->TakeActions();
  ASSERT_EQ(first.size(), 1u);
  clock.Advance(absl::Minutes(4));
  EXPECT_TRUE(engine->TakeActions().empty());
  clock.Advance(absl::Minutes(2));
  const auto again = engine->TakeActions();
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].id, first[0].id);
  ASSERT_TRUE(engine->AckActions(Ids(again)).ok());
  clock.Advance(absl::Minutes(10));
  EXPECT_TRUE(engine->TakeActions().empty());
}

// The host takes its actions and is killed (SIGKILL) before it acknowledges them: after reopening,
// the same ids are handed out; once acknowledged, never again.
TEST(ActionsTest, HostKilledAfterTakingAndBeforeAcknowledgingGetsTheSameIdsAgain) {
#ifdef OMNIJOURNEY_TSAN
  GTEST_SKIP() << "forks a process with threads (RocksDB's), which ThreadSanitizer does not support";
#endif
  const std::string dir = FreshDir("kill");
  int ids_pipe[2];
  ASSERT_EQ(pipe(ids_pipe), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(ids_pipe[0]);
    auto engine = Engine::Open(EventTime(dir));
    if (!engine.ok()) _exit(2);
    if (!(*engine)->AddJourney(Reservation()).ok()) _exit(3);
    if (!(*engine)->Ingest(Created("r1", 0, "a@example.com")).ok()) _exit(4);
    if (!(*engine)->Ingest(Created("r2", 5, "b@example.com")).ok()) _exit(5);
    if (!(*engine)->AdvanceTime(At(1500)).ok()) _exit(6);
    std::string ids;
    for (const auto& a : (*engine)->TakeActions()) ids += a.id + "\n";
    if (write(ids_pipe[1], ids.data(), ids.size()) != static_cast<ssize_t>(ids.size())) _exit(7);
    close(ids_pipe[1]);
    pause();  // Delivering... killed here.
    _exit(0);
  }
  close(ids_pipe[1]);
  std::string got;
  char buf[256];
  for (ssize_t n; (n = read(ids_pipe[0], buf, sizeof(buf))) > 0;) got.append(buf, static_cast<size_t>(n));
  close(ids_pipe[0]);
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the host exited with " << WEXITSTATUS(status);
  std::vector<std::string> taken;
  for (size_t at = 0, nl; (nl = got.find('\n', at)) != std::string::npos; at = nl + 1) taken.push_back(got.substr(at, nl - at));
  ASSERT_EQ(taken.size(), 2u);
  {
    auto engine = Open(EventTime(dir));
    EXPECT_EQ(Ids(engine->TakeActions()), taken);
    ASSERT_TRUE(engine->AckActions(taken).ok());
  }
  auto engine = Open(EventTime(dir));
  EXPECT_TRUE(engine->TakeActions().empty());
  EXPECT_EQ(engine->Stats().pending_actions, 0);
  std::filesystem::remove_all(dir);
}

// In clock mode the engine fires due timers itself: no AdvanceTime, no event.
TEST(ActionsTest, LiveTimersFireWithoutTheHostPumpingTime) {
  SimulatedClock clock(At(0));
  EngineOptions options;
  options.clock = &clock;
  options.timer_poll_interval = absl::Milliseconds(5);
  auto engine = Open(options);
  ASSERT_TRUE(engine->AddJourney(Reservation()).ok());
  ASSERT_TRUE(engine->Ingest(Created("r1", 0, "a@example.com")).ok());
  clock.Advance(absl::Hours(24) + absl::Minutes(1));
  std::vector<JourneyAction> got;
  for (int i = 0; i < 2000 && got.empty(); ++i) {  // Up to 10 s.
    got = engine->TakeActions();
    if (got.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].name, "remind");
  EXPECT_EQ(got[0].to_state, "reminded");
}

TEST(ActionsTest, WithoutLiveTimersTimeMovesOnlyWithTheHost) {
  SimulatedClock clock(At(0));
  EngineOptions options;
  options.clock = &clock;
  options.live_timers = false;
  options.timer_poll_interval = absl::Milliseconds(5);
  auto engine = Open(options);
  ASSERT_TRUE(engine->AddJourney(Reservation()).ok());
  ASSERT_TRUE(engine->Ingest(Created("r1", 0, "a@example.com")).ok());
  clock.Advance(absl::Hours(25));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_TRUE(engine->TakeActions().empty());
  ASSERT_TRUE(engine->AdvanceTime(clock.Now()).ok());
  EXPECT_EQ(engine->TakeActions().size(), 1u);
}

// Regression: in clock mode a restart replayed every event as of the clock at reopening, so timers
// fired before events that had arrived in time (a picked-up reservation came back expired).
TEST(ActionsTest, ClockModeReplayDecidesAsTheLiveEngineDid) {
  const std::string dir = FreshDir("clock_replay");
  SimulatedClock clock(At(0));
  EngineOptions options;
  options.clock = &clock;
  options.live_timers = false;
  options.storage.path = dir;
  std::string live;
  {
    auto engine = Open(options);
    ASSERT_TRUE(engine->AddJourney(Reservation()).ok());
    ASSERT_TRUE(engine->Ingest(Created("r1", 0, "a@example.com")).ok());
    clock.Set(At(60));
    ASSERT_TRUE(engine->Ingest(Ev("p1", 60, v1::EVENT_KIND_ORDER, "Reservation Picked Up").Id("email", "a@example.com")).ok());
    live = engine->Explain(engine->Context({"", "email", "a@example.com"})->profile)->ToString();
    EXPECT_THAT(live, HasSubstr("picked_up (ended)"));
    // b's reservation: its reminder is released when the next record is applied after 24 hours.
    ASSERT_TRUE(engine->Ingest(Created("r2", 60, "b@example.com")).ok());
    clock.Set(At(60 + 1440 + 10));
    ASSERT_TRUE(engine->Ingest(Ev("v1", 60 + 1440 + 10, v1::EVENT_KIND_TRACK, "Page Viewed").Id("email", "c@example.com")).ok());
    ASSERT_EQ(engine->Stats().pending_actions, 1);
  }
  clock.Set(At(5 * 1440));  // Reopened days later.
  auto engine = Open(options);
  EXPECT_EQ(engine->Explain(engine->Context({"", "email", "a@example.com"})->profile)->ToString(), live);
  const auto pending = engine->TakeActions();  // As live: b's reminder only, not yet its release.
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].name, "remind");
  std::filesystem::remove_all(dir);
}

// A refused event is never written to the log: after reopening nothing is replayed.
TEST(ActionsTest, RefusedEventsAreNotLogged) {
  const std::string dir = FreshDir("refused");
  {
    auto engine = Open(EventTime(dir));
    auto r = engine->Ingest(Ev("x1", 0, v1::EVENT_KIND_TRACK, "Page Viewed").Id("email", "test@test.com"));
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(r.status().message(), HasSubstr("none usable"));
    EXPECT_EQ(engine->Stats().rejected, 1);
    EXPECT_EQ(engine->Stats().events, 0);
  }
  auto engine = Open(EventTime(dir));
  EXPECT_EQ(engine->Stats().recovered, 0);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace omnijourney
