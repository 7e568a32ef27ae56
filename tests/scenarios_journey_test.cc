// Scenarios 3 and 5 of SCENARIOS.md end to end through Engine with journeys. The scripts (events,
// time steps, lookups) are the examples' (examples/scenarios.h).
#include <map>

#include "engine_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "omnijourney/journey.h"
#include "scenarios.h"

namespace omnijourney {
namespace {

using ::testing::ElementsAre;
using examples::Step;

std::unique_ptr<Engine> Open(const examples::Scenario& scenario, bool stitching = true) {
  auto engine = examples::OpenFor(scenario, stitching);
  EXPECT_TRUE(engine.ok()) << engine.status();
  return *std::move(engine);
}

std::vector<std::string> Names(const std::vector<JourneyAction>& actions) {
  std::vector<std::string> out;
  for (const auto& a : actions) out.push_back(a.name);
  return out;
}

// What the script showed: the actions handed out after each labelled step (time steps and
// lookups), and the context at each lookup.
struct Observed {
  std::map<std::string, std::vector<JourneyAction>> actions;
  std::map<std::string, CustomerContext> looks;
};

Observed RunScenario(Engine& engine, const examples::Scenario& scenario) {
  Observed out;
  absl::Status s = examples::RunScript(engine, scenario.steps, [&](const Step& step, const IngestResult*) {
    if (step.kind == Step::Kind::kEvent) return;  // Actions of events are collected at the next label.
    auto& actions = out.actions[step.label];
    for (JourneyAction& a : engine.TakeActions()) actions.push_back(std::move(a));
    if (step.kind == Step::Kind::kLook) {
      auto ctx = engine.Context(step.lookup);
      EXPECT_TRUE(ctx.ok()) << step.label << ": " << ctx.status();
      if (ctx.ok()) out.looks.emplace(step.label, *ctx);
    }
  });
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

// Scenario 3: ads, web, chat, a reservation the store never confirms, a reminder before expiry,
// pickup with the loyalty card. Nothing is lost between customer service and the store.
TEST(Scenario3Test, TheGreenSofaReservationIsFollowedUpAcrossChannels) {
  const examples::Scenario scenario = examples::GreenSofa();
  auto engine = Open(scenario);
  Observed seen = RunScenario(*engine, scenario);
  // The store never confirms: after 2h customer service is alerted.
  const auto& alerts = seen.actions["two hours later, the store has not confirmed"];
  ASSERT_THAT(Names(alerts), ElementsAre("escalate_unconfirmed"));
  EXPECT_EQ(alerts[0].parameters.at("team"), "store-ops");
  // 36h after the reservation, the customer is reminded on their preferred channel (they chatted).
  const auto& reminders = seen.actions["36 hours after the reservation"];
  ASSERT_THAT(Names(reminders), ElementsAre("remind_pickup"));
  EXPECT_EQ(reminders[0].channel, "chat");
  // Picked up in the store with the loyalty card, in time: nothing released.
  EXPECT_TRUE(seen.actions["later: nothing to release"].empty());
  ASSERT_EQ(seen.looks.size(), 1u);
  const CustomerContext& ctx = seen.looks.begin()->second;
  EXPECT_EQ(ctx.timeline_size, 6);  // Ads, web, chat, reservation and pickup: one customer.
  EXPECT_TRUE(ctx.journeys.empty());  // Ended at the goal.
  auto explained = engine->Explain(ctx.profile);
  ASSERT_TRUE(explained.ok());
  ASSERT_EQ(explained->journeys.size(), 1u);
  EXPECT_EQ(explained->journeys[0].state, "picked_up");
  std::vector<std::string> path;
  for (const auto& s : explained->journeys[0].steps) path.push_back(s.to);
  EXPECT_THAT(path, ElementsAre("awaiting_confirmation", "unconfirmed", "expiring", "picked_up"));
}

// Scenario 5: bought in the app, complaint filed by phone, follow-up on Facebook Messenger: the
// complaint journey continues whatever the channel.
TEST(Scenario5Test, TheComplaintContinuesWhateverTheChannel) {
  const examples::Scenario scenario = examples::ComplaintAnyChannel();
  auto engine = Open(scenario);
  Observed seen = RunScenario(*engine, scenario);
  const std::string social = "the social care agent looks up the Facebook id";
  ASSERT_TRUE(seen.looks.contains(social));
  const CustomerContext& ctx = seen.looks[social];
  ASSERT_EQ(ctx.journeys.size(), 1u);
  EXPECT_EQ(ctx.journeys[0].journey, "complaint");
  EXPECT_EQ(ctx.journeys[0].state, "accepted");
  ASSERT_EQ(ctx.open_tickets.size(), 1u);
  EXPECT_EQ(ctx.open_tickets[0].subject, "Blender X stopped working");
  EXPECT_THAT(Names(seen.actions[social]), ElementsAre("confirm_acceptance", "notify_case_owner"));
  auto explained = engine->Explain(ctx.profile);
  ASSERT_EQ(explained->journeys.size(), 1u);  // Continued, not restarted.
  std::vector<std::string> causes;
  for (const auto& s : explained->journeys[0].steps) causes.push_back(s.cause);
  EXPECT_THAT(causes, ElementsAre("test/t1", "test/t2", "test/fb1", "test/t3"));
  const CustomerContext& done = seen.looks["resolved: the journey reached its goal"];
  EXPECT_TRUE(done.journeys.empty());
  EXPECT_EQ(explained->journeys[0].state, "resolved");
}

}  // namespace
}  // namespace omnijourney
