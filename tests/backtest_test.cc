// The backtest on four customers worked out by hand: a reminder after 24 h (live v1) against one
// after 2 h (candidate v2), with quiet hours 21:00-08:00 deferring actions, a frequency cap
// suppressing them, and the live engine left exactly as it was.
#include "omnijourney/backtest.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine_test_util.h"
#include "omnijourney/journey.h"

namespace omnijourney::analytics {
namespace {

using ::omnijourney::testing::At;
using ::omnijourney::testing::Ev;

constexpr int64_t kHour = 60;
constexpr int64_t kDay = 24 * 60;

// v1: browsing --order--> ordered (goal); browsing --24 h, remind by email--> reminded (exit).
JourneyDefinition V1() {
  auto j = JourneyBuilder("reminder", 1)
               .Entry(OnEvent().Kinds({v1::EVENT_KIND_PAGE}))
               .State("browsing")
               .On("ordered", OnEvent().Kinds({v1::EVENT_KIND_ORDER}))
               .After("reminded", absl::Hours(24), {MakeAction("remind", "email")})
               .Goal("ordered")
               .Exit("reminded")
               .Build();
  EXPECT_TRUE(j.ok()) << j.status();
  return *j;
}

// v2: browsing --2 h, remind (and, with `coupon`, a coupon) by email--> reminded --order--> ordered
// (goal); reminded --7 d--> lost (exit). An order while browsing is a goal too.
JourneyDefinition V2(bool coupon = false) {
  std::vector<v1::Action> actions = {MakeAction("remind", "email")};
  if (coupon) actions.push_back(MakeAction("coupon", "email"));
  auto j = JourneyBuilder("reminder", 2)
               .Entry(OnEvent().Kinds({v1::EVENT_KIND_PAGE}))
               .State("browsing")
               .On("ordered", OnEvent().Kinds({v1::EVENT_KIND_ORDER}))
               .After("reminded", absl::Hours(2), actions)
               .State("reminded")
               .On("ordered", OnEvent().Kinds({v1::EVENT_KIND_ORDER}))
               .After("lost", absl::Hours(24 * 7))
               .Goal("ordered")
               .Exit("lost")
               .Build();
  EXPECT_TRUE(j.ok()) << j.status();
  return *j;
}

class BacktestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.time_mode = EngineOptions::TimeMode::kEventTime;
    options_.actions.quiet_start_hour = 21;
    options_.actions.quiet_end_hour = 8;
    auto engine = Engine::Open(options_);
    ASSERT_TRUE(engine.ok()) << engine.status();
    live_ = *std::move(engine);
    ASSERT_TRUE(live_->AddJourney(V1()).ok());
    // Minute 0 is Monday 09:00 UTC. A orders 3 h after its visit; B never; C (visit 19:00) two days
    // later; D visits at 22:00.
    const std::vector<Event> events = {
        Ev("a1", 0, v1::EVENT_KIND_PAGE, "Product").Id("cookie", "A").On(v1::CHANNEL_WEB),
        Ev("b1", 0, v1::EVENT_KIND_PAGE, "Product").Id("cookie", "B").On(v1::CHANNEL_WEB),
        Ev("a2", 3 * kHour, v1::EVENT_KIND_ORDER, "Order Completed").Id("cookie", "A").In(v1::CHANNEL_WEB),
        Ev("c1", 10 * kHour, v1::EVENT_KIND_PAGE, "Product").Id("cookie", "C").On(v1::CHANNEL_WEB),
        Ev("d1", 13 * kHour, v1::EVENT_KIND_PAGE, "Product").Id("cookie", "D").On(v1::CHANNEL_WEB),
        Ev("c2", 2 * kDay, v1::EVENT_KIND_ORDER, "Order Completed").Id("cookie", "C").In(v1::CHANNEL_WEB),
    };
    for (const Event& e : events) ASSERT_TRUE(live_->Ingest(e).ok());
    ASSERT_TRUE(live_->AdvanceTime(At(10 * kDay)).ok());
    const std::vector<JourneyAction> taken = live_->TakeActions();
    std::vector<std::string> ids;
    for (const JourneyAction& a : taken) ids.push_back(a.id);
    ASSERT_TRUE(live_->AckActions(ids).ok());
    live_actions_ = static_cast<int64_t>(taken.size());
  }

  BacktestOptions Options() const {
    BacktestOptions o;
    o.engine = options_;
    o.from = At(0);
    o.to = At(10 * kDay);
    return o;
  }

  EngineOptions options_;
  std::unique_ptr<Engine> live_;
  int64_t live_actions_ = 0;
};

TEST_F(BacktestTest, CandidateAgainstLiveWithQuietHours) {
  const std::string digest_before = live_->StateDigest("");
  auto b = RunBacktest(*live_, {V2()}, Options());
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->profiles, 4);
  EXPECT_EQ(b->events, 6);
  EXPECT_EQ(b->rejected, 0);
  // v1 replayed: A converts; B's reminder Tuesday 09:00 and C's Tuesday 19:00 are delivered; D's
  // Tuesday 22:00 is deferred by the quiet hours. C's order on day 2 comes after its instance ended.
  ASSERT_EQ(b->live.funnels.size(), 1u);
  EXPECT_EQ(b->live.funnels[0].entered, 4);
  EXPECT_EQ(b->live.funnels[0].converted, 1);
  EXPECT_EQ(b->live.delivered, 2);
  EXPECT_EQ(b->live.deferred, 1);
  EXPECT_EQ(b->live.suppressed, 0);
  // The replay of v1 agrees with what the live engine recorded.
  ASSERT_EQ(b->recorded.size(), 1u);
  EXPECT_EQ(b->recorded[0].entered, 4);
  EXPECT_EQ(b->recorded[0].converted, 1);
  EXPECT_EQ(live_actions_, 3);
  // v2: reminders at 11:00 (A, B) delivered, 21:00 (C) and 00:00 (D) deferred; A orders after its
  // reminder and C on day 2: two conversions; B and D are lost after 7 days.
  ASSERT_EQ(b->candidate.funnels.size(), 1u);
  const JourneyFunnel& v2 = b->candidate.funnels[0];
  EXPECT_EQ(v2.entered, 4);
  EXPECT_EQ(v2.converted, 2);
  EXPECT_EQ(v2.exited, 2);
  EXPECT_EQ(v2.time_to_goal.median, absl::Hours(3));  // A after 3 h, C after 38 h: rank 1 of 2.
  EXPECT_EQ(b->candidate.delivered, 2);
  EXPECT_EQ(b->candidate.deferred, 2);
  // Per day of the transition: Monday A, B (11:00) and C (21:00, deferred); Tuesday D (00:00).
  int64_t monday = 0, tuesday = 0;
  for (const ActionCount& a : b->candidate.actions) {
    EXPECT_EQ(a.channel, "email");
    EXPECT_EQ(a.journey, "reminder");
    if (a.day == absl::CivilDay(2026, 11, 2)) monday += a.total();
    if (a.day == absl::CivilDay(2026, 11, 3)) tuesday += a.total();
  }
  EXPECT_EQ(monday, 3);
  EXPECT_EQ(tuesday, 1);
  // Nothing reached the live engine: same state, no action to hand out.
  EXPECT_EQ(live_->StateDigest(""), digest_before);
  EXPECT_TRUE(live_->TakeActions().empty());
  const std::string text = b->ToString();
  EXPECT_THAT(text, ::testing::HasSubstr("candidate v2"));
  EXPECT_THAT(text, ::testing::HasSubstr("live v1 replayed"));
  EXPECT_THAT(text, ::testing::HasSubstr("no action left the dry run"));
}

TEST_F(BacktestTest, FrequencyCapSuppressesTheSecondActionOfTheDay) {
  BacktestOptions o = Options();
  o.engine.actions.max_per_channel_per_day = 1;
  o.engine.actions.quiet_start_hour = o.engine.actions.quiet_end_hour = 0;  // No quiet hours.
  auto b = RunBacktest(*live_, {V2(/*coupon=*/true)}, o);
  ASSERT_TRUE(b.ok()) << b.status();
  // Two email actions per reminder, one per profile and day gets through.
  EXPECT_EQ(b->candidate.delivered, 4);
  EXPECT_EQ(b->candidate.suppressed, 4);
}

TEST_F(BacktestTest, PeriodAndBadInput) {
  BacktestOptions o = Options();
  o.from = At(5 * kHour);  // Only C's and D's visits and C's order.
  auto b = RunBacktest(*live_, {V2()}, o);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->events, 3);
  EXPECT_EQ(b->candidate.funnels[0].entered, 2);
  EXPECT_EQ(b->recorded[0].entered, 2);  // Instances started in the period.
  // A journey the live engine does not have: no live run to compare with.
  auto fresh = V2();
  fresh.set_name("welcome");
  auto w = RunBacktest(*live_, {fresh}, Options());
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_TRUE(w->live.journeys.empty());
  EXPECT_EQ(w->candidate.funnels[0].entered, 4);
  EXPECT_THAT(w->ToString(), ::testing::HasSubstr("no live version"));

  EXPECT_EQ(RunBacktest(*live_, {}, Options()).status().code(), absl::StatusCode::kInvalidArgument);
  JourneyDefinition bad;
  bad.set_name("bad");
  EXPECT_THAT(RunBacktest(*live_, {bad}, Options()).status().message(), ::testing::HasSubstr("candidate bad"));
  o = Options();
  o.to = o.from;
  EXPECT_THAT(RunBacktest(*live_, {V2()}, o).status().message(), ::testing::HasSubstr("from"));
  EXPECT_THAT(RunBacktest(*live_, {V2(), V2()}, Options()).status().message(), ::testing::HasSubstr("twice"));
}

}  // namespace
}  // namespace omnijourney::analytics
