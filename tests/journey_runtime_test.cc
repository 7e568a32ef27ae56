// Journey runtime through the Engine: transitions, event-time timeouts, hold-until, guards, entry
// conditions, re-entry, splits, merges, order independence, exactly-once action ids, explain.
#include <algorithm>
#include <random>
#include <set>

#include "absl/strings/str_cat.h"
#include "engine_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "omnijourney/journey.h"

namespace omnijourney {
namespace {

using ::testing::HasSubstr;
using testing::At;
using testing::Ev;

constexpr int64_t kDay = 1440;

JourneyDefinition Reservation(v1::Reentry::Policy policy = v1::Reentry::REENTRY_NEVER) {
  auto j = JourneyBuilder("reservation", 1)
               .Entry(OnEvent().Names({"Reservation Created"}))
               .Reentry(policy)
               .State("reserved")
               .On("picked_up", OnEvent().Names({"Reservation Picked Up"}))
               .After("reminded", absl::Hours(24), {MakeAction("remind_pickup", "preferred", {{"template", "r1"}})})
               .ResetTimersOn(OnEvent().Names({"Reservation Extended"}))
               .State("reminded")
               .On("picked_up", OnEvent().Names({"Reservation Picked Up"}))
               .After("expired", absl::Hours(24), {MakeAction("release_item")})
               .Goal("picked_up", {MakeAction("thank_you", "email")})
               .Exit("expired")
               .Build();
  EXPECT_TRUE(j.ok()) << j.status();
  return *j;
}

struct Harness {
  explicit Harness(std::vector<JourneyDefinition> journeys, EngineOptions options = {}) {
    options.time_mode = EngineOptions::TimeMode::kEventTime;
    auto e = Engine::Open(options);
    EXPECT_TRUE(e.ok()) << e.status();
    engine = *std::move(e);
    for (const auto& j : journeys) EXPECT_TRUE(engine->AddJourney(j).ok());
  }
  void Ingest(const Event& e) {
    auto r = engine->Ingest(e);
    ASSERT_TRUE(r.ok()) << r.status();
  }
  std::string State(const std::string& type, const std::string& value, const std::string& journey) {
    auto ctx = engine->Context({"", type, value});
    if (!ctx.ok()) return "<" + std::string(ctx.status().message()) + ">";
    for (const auto& j : ctx->journeys) {
      if (j.journey == journey) return j.state;
    }
    return "<none>";
  }
  std::unique_ptr<Engine> engine;
};

Ev Named(const std::string& id, int64_t minute, const std::string& name, const std::string& email) {
  return Ev(id, minute, v1::EVENT_KIND_ORDER, name).Id("email", email).In(v1::CHANNEL_STORE);
}

std::vector<std::string> Names(const std::vector<JourneyAction>& actions) {
  std::vector<std::string> out;
  for (const auto& a : actions) out.push_back(a.name);
  return out;
}

TEST(JourneyRuntimeTest, EventTransitionReachesTheGoal) {
  Harness h({Reservation()});
  h.Ingest(Named("r1", 0, "Reservation Created", "eva@example.com"));
  EXPECT_EQ(h.State("email", "eva@example.com", "reservation"), "reserved");
  h.Ingest(Named("p1", 60, "Reservation Picked Up", "eva@example.com"));
  EXPECT_EQ(h.State("email", "eva@example.com", "reservation"), "<none>");  // Ended: not active.
  const auto actions = h.engine->TakeActions();
  EXPECT_EQ(Names(actions), std::vector<std::string>{"thank_you"});
  EXPECT_EQ(actions[0].channel, "email");
  EXPECT_EQ(actions[0].to_state, "picked_up");
  auto explained = h.engine->Explain(actions[0].profile);
  ASSERT_TRUE(explained.ok());
  ASSERT_EQ(explained->journeys.size(), 1u);
  EXPECT_TRUE(explained->journeys[0].ended);
  EXPECT_EQ(explained->journeys[0].steps.size(), 2u);
  EXPECT_THAT(explained->ToString(), HasSubstr("reserved -> picked_up"));
  EXPECT_THAT(explained->ToString(), HasSubstr("test/p1"));
}

TEST(JourneyRuntimeTest, TimeoutsFireInEventTimeAndOnlyWhenDue) {
  Harness h({Reservation()});
  h.Ingest(Named("r1", 0, "Reservation Created", "eva@example.com"));
  ASSERT_TRUE(h.engine->AdvanceTime(At(kDay - 1)).ok());
  EXPECT_EQ(h.State("email", "eva@example.com", "reservation"), "reserved");
  EXPECT_TRUE(h.engine->TakeActions().empty());
  ASSERT_TRUE(h.engine->AdvanceTime(At(kDay)).ok());
  EXPECT_EQ(h.State("email", "eva@example.com", "reservation"), "reminded");
  auto actions = h.engine->TakeActions();
  ASSERT_EQ(Names(actions), std::vector<std::string>{"remind_pickup"});
  EXPECT_EQ(actions[0].time, At(kDay));
  EXPECT_EQ(actions[0].parameters.at("template"), "r1");
  EXPECT_THAT(actions[0].cause, HasSubstr("timeout@"));
  // Another customer's later event moves event time on: Eva's second timeout fires too.
  h.Ingest(Named("x", 2 * kDay + 5, "Browse", "jan@example.com"));
  EXPECT_EQ(h.State("email", "eva@example.com", "reservation"), "<none>");
  EXPECT_EQ(Names(h.engine->TakeActions()), std::vector<std::string>{"release_item"});
  // Context shows time in state for running instances.
  Harness g({Reservation()});
  g.Ingest(Named("r1", 0, "Reservation Created", "eva@example.com"));
  ASSERT_TRUE(g.engine->AdvanceTime(At(90)).ok());
  auto ctx = g.engine->Context({"", "email", "eva@example.com"});
  ASSERT_EQ(ctx->journeys.size(), 1u);
  EXPECT_EQ(ctx->journeys[0].time_in_state, absl::Minutes(90));
}

TEST(JourneyRuntimeTest, ActionsOfManyProfilesComeOutInTimeOrder) {
  Harness h({Reservation()});
  for (int c = 0; c < 50; ++c) {
    h.Ingest(Named("r" + std::to_string(c), 49 - c, "Reservation Created", "c" + std::to_string(c) + "@example.com"));
  }
  ASSERT_TRUE(h.engine->AdvanceTime(At(kDay + 100)).ok());
  const auto actions = h.engine->TakeActions();
  ASSERT_EQ(actions.size(), 50u);
  EXPECT_TRUE(std::is_sorted(actions.begin(), actions.end(),
                             [](const JourneyAction& a, const JourneyAction& b) { return a.time < b.time; }));
}

TEST(JourneyRuntimeTest, HoldUntilResetsTheTimer) {
  Harness h({Reservation()});
  h.Ingest(Named("r1", 0, "Reservation Created", "eva@example.com"));
  h.Ingest(Named("x1", 20 * 60, "Reservation Extended", "eva@example.com"));
  ASSERT_TRUE(h.engine->AdvanceTime(At(kDay + 60)).ok());
  EXPECT_EQ(h.State("email", "eva@example.com", "reservation"), "reserved");  // Reset at 20h.
  ASSERT_TRUE(h.engine->AdvanceTime(At(kDay + 20 * 60)).ok());
  EXPECT_EQ(h.State("email", "eva@example.com", "reservation"), "reminded");
}

TEST(JourneyRuntimeTest, GuardsAndEntryConditionsUseProfileFacts) {
  auto vip = JourneyBuilder("vip_welcome", 1)
                 .Entry(OnEvent().Kinds({v1::EVENT_KIND_IDENTIFY}), Field("traits.tier").Eq(Str("gold")))
                 .State("welcomed")
                 .On("loyal", OnEvent().Kinds({v1::EVENT_KIND_ORDER}), {MakeAction("gift")}, Field("counters.orders").Ge(Num(2)))
                 .Goal("loyal")
                 .Build();
  ASSERT_TRUE(vip.ok()) << vip.status();
  Harness h({*vip});
  h.Ingest(Ev("i1", 0, v1::EVENT_KIND_IDENTIFY, "").Id("email", "eva@example.com").Trait("tier", "silver"));
  EXPECT_EQ(h.State("email", "eva@example.com", "vip_welcome"), "<none>");
  h.Ingest(Ev("i2", 1, v1::EVENT_KIND_IDENTIFY, "").Id("email", "eva@example.com").Trait("tier", "gold"));
  EXPECT_EQ(h.State("email", "eva@example.com", "vip_welcome"), "welcomed");
  h.Ingest(Ev("o1", 2, v1::EVENT_KIND_ORDER, "Order Completed").Id("email", "eva@example.com").Prop("order_id", "A"));
  EXPECT_EQ(h.State("email", "eva@example.com", "vip_welcome"), "welcomed");  // One order: guard fails.
  h.Ingest(Ev("o2", 3, v1::EVENT_KIND_ORDER, "Order Completed").Id("email", "eva@example.com").Prop("order_id", "B"));
  EXPECT_EQ(Names(h.engine->TakeActions()), std::vector<std::string>{"gift"});
}

TEST(JourneyRuntimeTest, ReentryPolicies) {
  auto run = [](v1::Reentry::Policy policy, absl::Duration cooldown) {
    auto j = JourneyBuilder("visit", 1)
                 .Entry(OnEvent().Names({"Start"}))
                 .Reentry(policy, cooldown)
                 .State("open", {MakeAction("hello")})
                 .On("done", OnEvent().Names({"Finish"}))
                 .Goal("done")
                 .Build();
    Harness h({*j});
    h.Ingest(Named("s1", 0, "Start", "eva@example.com"));
    h.Ingest(Named("s2", 10, "Start", "eva@example.com"));   // While running.
    h.Ingest(Named("f1", 20, "Finish", "eva@example.com"));
    h.Ingest(Named("s3", 30, "Start", "eva@example.com"));   // After the end.
    return h.engine->TakeActions().size();  // One "hello" per instance started.
  };
  EXPECT_EQ(run(v1::Reentry::REENTRY_NEVER, absl::ZeroDuration()), 1u);
  EXPECT_EQ(run(v1::Reentry::REENTRY_AFTER_EXIT, absl::ZeroDuration()), 2u);
  EXPECT_EQ(run(v1::Reentry::REENTRY_AFTER_EXIT, absl::Minutes(15)), 1u);  // s3 is 10 min after the end.
  EXPECT_EQ(run(v1::Reentry::REENTRY_ALWAYS, absl::ZeroDuration()), 3u);
}

TEST(JourneyRuntimeTest, SplitsAreDeterministicAndFollowWeights) {
  auto j = JourneyBuilder("offer", 1)
               .Entry(OnEvent().Names({"Cart Abandoned"}))
               .State("start")
               .Split(OnEvent().Names({"Cart Abandoned"}), {{"treatment", 1}, {"control", 1}})
               .After("start_done", absl::Hours(1))
               .Goal("treatment")
               .Goal("control")
               .Exit("start_done")
               .Build();
  ASSERT_TRUE(j.ok()) << j.status();
  auto run = [&] {
    Harness h({*j});
    for (int i = 0; i < 400; ++i) {
      const std::string email = "c" + std::to_string(i) + "@example.com";
      h.Ingest(Named("a" + std::to_string(i), i, "Cart Abandoned", email));
      h.Ingest(Named("b" + std::to_string(i), i, "Cart Abandoned", email));
    }
    std::vector<std::string> branches;
    for (int i = 0; i < 400; ++i) {
      auto x = h.engine->Explain(h.engine->Context({"", "email", "c" + std::to_string(i) + "@example.com"})->profile);
      branches.push_back(x->journeys.at(0).state);
    }
    return branches;
  };
  const auto first = run();
  EXPECT_EQ(run(), first);  // Another engine, the same branches.
  const auto treatment = std::count(first.begin(), first.end(), "treatment");
  EXPECT_GT(treatment, 150);
  EXPECT_LT(treatment, 250);
}

// "No order within 24h of the cart": the cart was seen on an anonymous cookie, the order on the email.
// When an event links the two, the merged timeline decides.
TEST(JourneyRuntimeTest, MergedProfilesRecomputeTheirJourneys) {
  auto j = JourneyBuilder("cart_recovery", 1)
               .Entry(OnEvent().Names({"Cart Updated"}))
               .State("carted")
               .On("bought", OnEvent().Kinds({v1::EVENT_KIND_ORDER}))
               .After("abandoned", absl::Hours(24), {MakeAction("cart_reminder", "email")})
               .Goal("bought")
               .Exit("abandoned")
               .Build();
  EngineOptions options;
  options.allowed_lateness = absl::Hours(48);
  Harness h({*j}, options);
  h.Ingest(Ev("c1", 0, v1::EVENT_KIND_TRACK, "Cart Updated").Id("cookie", "ck-1").In(v1::CHANNEL_WEB));
  h.Ingest(Ev("o1", 60, v1::EVENT_KIND_ORDER, "Order Completed").Id("email", "eva@example.com").In(v1::CHANNEL_APP));
  EXPECT_EQ(h.State("cookie", "ck-1", "cart_recovery"), "carted");
  h.Ingest(Ev("l1", 120, v1::EVENT_KIND_IDENTIFY, "").Id("cookie", "ck-1").Id("email", "eva@example.com"));
  EXPECT_EQ(h.State("cookie", "ck-1", "cart_recovery"), "<none>");  // Bought: the goal ended it.
  ASSERT_TRUE(h.engine->AdvanceTime(At(10 * kDay)).ok());
  EXPECT_TRUE(h.engine->TakeActions().empty());  // No reminder: the order was there.
}

TEST(JourneyRuntimeTest, AnyDeliveryOrderGivesTheSameStatesAndActionIds) {
  std::vector<Ev> events;
  for (int c = 0; c < 6; ++c) {
    const std::string email = "c" + std::to_string(c) + "@example.com";
    events.push_back(Named("r" + std::to_string(c), c * 100, "Reservation Created", email));
    if (c % 3 == 0) events.push_back(Named("p" + std::to_string(c), c * 100 + 2000, "Reservation Picked Up", email));
    if (c % 3 == 1) events.push_back(Named("x" + std::to_string(c), c * 100 + 1000, "Reservation Extended", email));
  }
  EngineOptions options;
  options.allowed_lateness = absl::Hours(24 * 30);  // Everything within lateness: nothing final early.
  auto run = [&](std::vector<Ev> order) {
    Harness h({Reservation()}, options);
    for (const Ev& e : order) h.Ingest(e);
    EXPECT_TRUE(h.engine->AdvanceTime(At(60 * kDay)).ok());
    std::set<std::string> ids;
    for (const auto& a : h.engine->TakeActions()) ids.insert(a.id + " " + a.name);
    // Final states and paths, per customer.
    for (int c = 0; c < 6; ++c) {
      auto ctx = h.engine->Context({"", "email", "c" + std::to_string(c) + "@example.com"});
      auto x = h.engine->Explain(ctx->profile);
      std::string path = "c" + std::to_string(c) + ":";
      for (const auto& j : x->journeys) {
        for (const auto& step : j.steps) path += " " + step.to + "@" + FormatRfc3339(step.time);
      }
      ids.insert(path);
    }
    return ids;
  };
  const auto reference = run(events);
  // Every customer is reminded after 24h (c1, c4 after their extension); c0 and c3 then pick up
  // (thank_you), the others are released: 6 + 2 + 4.
  EXPECT_EQ(reference.size(), 12u + 6u);
  std::mt19937 rng(3);
  for (int round = 0; round < 8; ++round) {
    std::vector<Ev> shuffled = events;
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    EXPECT_EQ(run(shuffled), reference) << "round " << round;
  }
}

TEST(JourneyRuntimeTest, ActionsAreHandedOutOnceAcrossReplays) {
  EngineOptions options;
  Harness h({Reservation()}, options);
  h.Ingest(Named("r1", 0, "Reservation Created", "eva@example.com"));
  ASSERT_TRUE(h.engine->AdvanceTime(At(kDay)).ok());
  ASSERT_EQ(h.engine->TakeActions().size(), 1u);
  // A late event forces a rebuild of the journey; the same reminder is not handed out again.
  h.Ingest(Named("late", 5, "Browse", "eva@example.com"));
  EXPECT_TRUE(h.engine->TakeActions().empty());
}

JourneyDefinition Pinger() {
  auto j = JourneyBuilder("pinger", 1)
               .Entry(OnEvent().Names({"Ping"}))
               .Reentry(v1::Reentry::REENTRY_ALWAYS)
               .State("pinged", {MakeAction("sms_ping", "sms"), MakeAction("create_task")})
               .On("done", OnEvent().Names({"Done"}))
               .Goal("done")
               .Build();
  EXPECT_TRUE(j.ok()) << j.status();
  return *j;
}

// 2026-11-02 21:30 UTC is 22:30 in Prague (UTC+1 in November).
constexpr int64_t kEvening = 12 * 60 + 30;

TEST(JourneyRuntimeTest, QuietHoursDeferActionsToTheMorningInTheProfilesZone) {
  EngineOptions options;
  options.actions.quiet_start_hour = 21;
  options.actions.quiet_end_hour = 8;
  options.actions.default_time_zone = "Europe/Prague";
  Harness h({Pinger()}, options);
  h.Ingest(Named("p1", kEvening, "Ping", "eva@example.com"));
  auto now = h.engine->TakeActions();
  ASSERT_THAT(Names(now), ::testing::ElementsAre("create_task"));  // Tasks have no channel: not deferred.
  ASSERT_TRUE(h.engine->AdvanceTime(At(kEvening + 9 * 60 + 29)).ok());  // 07:59 Prague.
  EXPECT_TRUE(h.engine->TakeActions().empty());
  ASSERT_TRUE(h.engine->AdvanceTime(At(kEvening + 9 * 60 + 30)).ok());  // 08:00 Prague.
  auto morning = h.engine->TakeActions();
  ASSERT_THAT(Names(morning), ::testing::ElementsAre("sms_ping"));
  EXPECT_EQ(morning[0].disposition, JourneyAction::Disposition::kDeferred);
  EXPECT_THAT(morning[0].disposition_reason, HasSubstr("quiet hours 21:00-8:00 Europe/Prague"));
  EXPECT_EQ(morning[0].handed_out, At(kEvening + 9 * 60 + 30));
  EXPECT_EQ(morning[0].time, At(kEvening));

  // 07:31 UTC: 08:31 in Prague, but 02:31 for a New York customer (their "timezone" trait): deferred
  // to 08:00 New York time (13:00 UTC).
  h.Ingest(Ev("id", kEvening + 600, v1::EVENT_KIND_IDENTIFY, "").Id("email", "joe@example.com")
               .Trait("timezone", "America/New_York"));
  h.Ingest(Named("p2", kEvening + 601, "Ping", "joe@example.com"));
  ASSERT_THAT(Names(h.engine->TakeActions()), ::testing::ElementsAre("create_task"));
  h.Ingest(Named("p3", kEvening + 602, "Ping", "eva@example.com"));  // Eva (Prague): delivered now.
  auto eva = h.engine->TakeActions();
  ASSERT_THAT(Names(eva), ::testing::ElementsAre("sms_ping", "create_task"));
  EXPECT_EQ(eva[0].disposition, JourneyAction::Disposition::kDeliver);
  ASSERT_TRUE(h.engine->AdvanceTime(At(kEvening + 15 * 60 + 30)).ok());  // 13:00 UTC.
  auto joe = h.engine->TakeActions();
  ASSERT_THAT(Names(joe), ::testing::ElementsAre("sms_ping"));
  EXPECT_THAT(joe[0].disposition_reason, HasSubstr("America/New_York"));
}

TEST(JourneyRuntimeTest, QuietHoursCanSuppressAndCapsLimitPerChannelAndDay) {
  EngineOptions options;
  options.actions.quiet_start_hour = 21;
  options.actions.quiet_end_hour = 8;
  options.actions.quiet_policy = ActionOptions::QuietPolicy::kSuppress;
  options.actions.max_per_channel_per_day = 1;
  Harness h({Pinger()}, options);
  h.Ingest(Named("p1", kEvening, "Ping", "eva@example.com"));  // 21:30 UTC: quiet.
  auto quiet = h.engine->TakeActions();
  ASSERT_EQ(quiet.size(), 2u);
  EXPECT_EQ(quiet[0].disposition, JourneyAction::Disposition::kSuppressed);
  EXPECT_THAT(quiet[0].disposition_reason, HasSubstr("quiet hours"));
  // Next day at 10:00 and 11:00 UTC: the first SMS goes, the second is over the cap; tasks are not capped.
  h.Ingest(Named("p2", kDay + 60, "Ping", "eva@example.com"));
  h.Ingest(Named("p3", kDay + 120, "Ping", "eva@example.com"));
  auto day = h.engine->TakeActions();
  ASSERT_EQ(day.size(), 4u);
  EXPECT_EQ(day[0].disposition, JourneyAction::Disposition::kDeliver);
  EXPECT_EQ(day[1].name, "create_task");
  EXPECT_EQ(day[2].disposition, JourneyAction::Disposition::kSuppressed);
  EXPECT_THAT(day[2].disposition_reason, HasSubstr("frequency cap 1 per day on sms"));
  EXPECT_EQ(day[3].disposition, JourneyAction::Disposition::kDeliver);
}

TEST(JourneyRuntimeTest, BadActionOptionsAreErrors) {
  EngineOptions a;
  a.actions.quiet_start_hour = 24;
  EXPECT_THAT(std::string(Engine::Open(a).status().message()), HasSubstr("quiet_start_hour"));
  EngineOptions b;
  b.actions.default_time_zone = "Mars/Olympus";
  EXPECT_THAT(std::string(Engine::Open(b).status().message()), HasSubstr("actions.default_time_zone"));
  EngineOptions c;
  c.actions.max_per_channel_per_day = -1;
  EXPECT_THAT(std::string(Engine::Open(c).status().message()), HasSubstr("max_per_channel_per_day"));
}

TEST(JourneyRuntimeTest, LoadingRules) {
  Harness h({Reservation()});
  EXPECT_EQ(h.engine->AddJourney(Reservation()).code(), absl::StatusCode::kAlreadyExists);
  JourneyDefinition bad = Reservation();
  bad.mutable_states(0)->mutable_transitions(0)->set_to("nowhere");
  EXPECT_EQ(h.engine->AddJourney(bad).code(), absl::StatusCode::kInvalidArgument);
  h.Ingest(Named("r1", 0, "Reservation Created", "eva@example.com"));
  JourneyDefinition v2 = Reservation();
  v2.set_version(2);
  EXPECT_TRUE(h.engine->AddJourney(v2).ok());
  JourneyDefinition v0 = Reservation();
  v0.set_version(0);
  EXPECT_EQ(h.engine->AddJourney(v0).code(), absl::StatusCode::kInvalidArgument);
}

TEST(JourneyRuntimeTest, JourneysLoadedLaterIgnoreHistoryAndMigrateRunningInstances) {
  Harness h({Reservation()});
  h.Ingest(Named("r1", 0, "Reservation Created", "eva@example.com"));
  h.Ingest(Named("r2", 1, "Reservation Created", "jan@example.com"));
  ASSERT_TRUE(h.engine->AdvanceTime(At(kDay + 1)).ok());  // Jan and Eva: reminded.
  h.Ingest(Named("x", kDay + 2, "Reservation Extended", "ola@example.com"));
  h.engine->TakeActions();
  // Version 2: "reminded" becomes "last_call" (with its own 6h timeout); "reserved" is not mapped.
  auto v2 = JourneyBuilder("reservation", 2)
                .Entry(OnEvent().Names({"Reservation Created"}))
                .State("reserved")
                .On("picked_up", OnEvent().Names({"Reservation Picked Up"}))
                .After("last_call", absl::Hours(12))
                .State("last_call")
                .On("picked_up", OnEvent().Names({"Reservation Picked Up"}))
                .After("expired", absl::Hours(6), {MakeAction("release_item_v2")})
                .Goal("picked_up")
                .Exit("expired")
                .Migrate(1, {{"reminded", "last_call"}})
                .Build();
  ASSERT_TRUE(v2.ok()) << v2.status();
  ASSERT_TRUE(h.engine->AddJourney(*v2).ok());
  // A journey loaded now does not start on Eva's old "Browse"-like history.
  auto later = JourneyBuilder("browse", 1).Entry(OnEvent().Names({"Reservation Created"})).Goal("seen").Build();
  ASSERT_TRUE(h.engine->AddJourney(*later).ok());
  // Eva's next event advances her journeys: her v1 instance (reminded) migrates to v2 last_call.
  h.Ingest(Named("e1", kDay + 3, "Browse", "eva@example.com"));
  auto eva = h.engine->Context({"", "email", "eva@example.com"});
  ASSERT_EQ(eva->journeys.size(), 1u);
  EXPECT_EQ(eva->journeys[0].version, 2);
  EXPECT_EQ(eva->journeys[0].state, "last_call");
  // A new reservation starts on v2 and also enters the journey loaded later.
  h.Ingest(Named("r3", kDay + 4, "Reservation Created", "ola@example.com"));
  auto ola = h.engine->Context({"", "email", "ola@example.com"});
  ASSERT_EQ(ola->journeys.size(), 1u);  // "browse" ended at once (goal); reservation v2 runs.
  EXPECT_EQ(ola->journeys[0].version, 2);
  auto explained = h.engine->Explain(ola->profile);
  ASSERT_EQ(explained->journeys.size(), 2u);
  // Expiry follows v2's definition for the migrated instance: 6h after entering "reminded" at 24h.
  ASSERT_TRUE(h.engine->AdvanceTime(At(kDay + 6 * 60)).ok());
  std::vector<std::string> names;
  for (const auto& a : h.engine->TakeActions()) names.push_back(a.name + ":" + a.journey + "v" + std::to_string(a.version));
  EXPECT_THAT(names, ::testing::Contains("release_item_v2:reservationv2"));
  EXPECT_EQ(h.engine->Explain(eva->profile)->journeys.size(), 1u);  // "browse" did not start on r1.
  auto steps = h.engine->Explain(eva->profile)->ToString();
  EXPECT_THAT(steps, HasSubstr("migrated v1->v2"));
  EXPECT_THAT(steps, HasSubstr("by migrated v1->v2 on migration"));
}

// Every step names its cause: the triggering event as "source/event_id", a timeout by its time,
// a restart by the event that restarted the instance; the same after a checkpoint and reopen.
TEST(JourneyRuntimeTest, StepsNameTheirCausesAlsoAfterReopening) {
  const std::string dir = testing::FreshDir("causes");
  std::vector<std::string> before;
  auto causes = [](Engine& e) {
    std::vector<std::string> out;
    auto ctx = e.Context({"", "email", "eva@example.com"});
    EXPECT_TRUE(ctx.ok()) << ctx.status();
    if (!ctx.ok()) return out;
    auto explained = e.Explain(ctx->profile);
    EXPECT_TRUE(explained.ok()) << explained.status();
    if (!explained.ok()) return out;
    for (const auto& j : explained->journeys) {
      for (const auto& s : j.steps) out.push_back(absl::StrCat(s.transition, " ", s.cause));
    }
    return out;
  };
  {
    auto engine = testing::Open(testing::Durable(dir));
    ASSERT_NE(engine, nullptr);
    ASSERT_TRUE(engine->AddJourney(Reservation(v1::Reentry::REENTRY_ALWAYS)).ok());
    ASSERT_TRUE(engine->Ingest(Named("r1", 0, "Reservation Created", "eva@example.com")).ok());
    ASSERT_TRUE(engine->AdvanceTime(At(kDay)).ok());
    ASSERT_TRUE(engine->Ingest(Named("r2", kDay + 10, "Reservation Created", "eva@example.com")).ok());
    before = causes(*engine);
    ASSERT_TRUE(engine->Checkpoint().ok());
  }
  const std::string timeout = "timeout@" + FormatRfc3339(At(kDay));
  ASSERT_EQ(before.size(), 4u) << ::testing::PrintToString(before);
  EXPECT_THAT(before[0], ::testing::MatchesRegex("entry .+/r1"));
  EXPECT_EQ(before[1], "reserved->reminded#1 " + timeout);
  EXPECT_THAT(before[2], ::testing::MatchesRegex("restarted .+/r2"));
  EXPECT_THAT(before[3], ::testing::MatchesRegex("entry .+/r2"));
  auto reopened = testing::Open(testing::Durable(dir));
  ASSERT_NE(reopened, nullptr);
  EXPECT_GT(reopened->Stats().snapshot_position, 0);
  EXPECT_EQ(causes(*reopened), before);
}

}  // namespace
}  // namespace omnijourney
