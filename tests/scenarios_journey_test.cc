// Scenarios 3 and 5 of SCENARIOS.md end to end through Engine with journeys.
#include <algorithm>

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

constexpr char kSofaReservation[] = R"pb(
  name: "store_reservation"
  version: 1
  entry { trigger { kinds: EVENT_KIND_ORDER names: "Reservation Created" } }
  states {
    name: "awaiting_confirmation"
    transitions { to: "reserved" on { names: "Reservation Confirmed" } }
    transitions { to: "picked_up" on { names: "Reservation Picked Up" } }
    transitions {
      to: "unconfirmed" after { seconds: 7200 }
      actions { name: "escalate_unconfirmed" parameters { key: "team" value: "store-ops" } }
    }
  }
  states {
    name: "unconfirmed"
    transitions { to: "reserved" on { names: "Reservation Confirmed" } }
    transitions { to: "picked_up" on { names: "Reservation Picked Up" } }
    transitions { to: "expiring" after { seconds: 122400 } actions { name: "remind_pickup" channel: "preferred" } }
  }
  states {
    name: "reserved"
    transitions { to: "picked_up" on { names: "Reservation Picked Up" } }
    transitions { to: "expiring" after { seconds: 122400 } actions { name: "remind_pickup" channel: "preferred" } }
  }
  states {
    name: "expiring"
    transitions { to: "picked_up" on { names: "Reservation Picked Up" } }
    transitions { to: "expired" after { seconds: 43200 } actions { name: "release_sofa" } }
  }
  states { name: "picked_up" kind: STATE_KIND_GOAL }
  states { name: "expired" kind: STATE_KIND_EXIT }
)pb";

std::unique_ptr<Engine> OpenWith(const char* journey_text) {
  EngineOptions options;
  options.time_mode = EngineOptions::TimeMode::kEventTime;
  auto engine = Engine::Open(options);
  EXPECT_TRUE(engine.ok()) << engine.status();
  auto journey = ParseJourneyText(journey_text);
  EXPECT_TRUE(journey.ok()) << journey.status();
  EXPECT_TRUE((*engine)->AddJourney(*journey).ok());
  return *std::move(engine);
}

void Must(Engine& engine, const Event& e) {
  auto r = engine.Ingest(e);
  ASSERT_TRUE(r.ok()) << r.status() << " " << e.event_id();
}

std::vector<std::string> Names(const std::vector<JourneyAction>& actions) {
  std::vector<std::string> out;
  for (const auto& a : actions) out.push_back(a.name);
  return out;
}

// Scenario 3: ads, web, chat, a reservation the store never confirms, a reminder before expiry,
// pickup with the loyalty card. Nothing is lost between customer service and the store.
TEST(Scenario3Test, TheGreenSofaReservationIsFollowedUpAcrossChannels) {
  auto engine = OpenWith(kSofaReservation);
  const int64_t h = 60;
  Must(*engine, Ev("ad1", 0, v1::EVENT_KIND_PAGE, "Search Ad Click").Id("cookie", "ck-sofa").In(v1::CHANNEL_ADS));
  Must(*engine, Ev("ad2", 24 * h, v1::EVENT_KIND_PAGE, "Retargeting Ad Click").Id("cookie", "ck-sofa").In(v1::CHANNEL_ADS));
  Must(*engine, Ev("pv1", 24 * h + 1, v1::EVENT_KIND_PAGE, "Product Viewed").Id("cookie", "ck-sofa").In(v1::CHANNEL_WEB)
                    .Prop("category", "sofas").Prop("product", "Green sofa Oslo"));
  Must(*engine, Ev("ch1", 24 * h + 5, v1::EVENT_KIND_MESSAGE, "Message Received").Id("cookie", "ck-sofa")
                    .Id("email", "ola@example.com").In(v1::CHANNEL_CHAT).Conv("chat-55")
                    .Text("Is the green Oslo sofa in stock in Brno? I'd like to see it."));
  Must(*engine, Ev("rs1", 24 * h + 10, v1::EVENT_KIND_ORDER, "Reservation Created").Id("email", "ola@example.com")
                    .On(v1::CHANNEL_CHAT, v1::DIRECTION_OUTBOUND).Agent("agent:petra").Conv("chat-55")
                    .Prop("reservation_id", "R-881").Prop("store", "Brno Centrum").Prop("product", "Green sofa Oslo"));
  // The store never confirms: after 2h customer service is alerted.
  ASSERT_TRUE(engine->AdvanceTime(At(26 * h + 10)).ok());
  auto alerts = engine->TakeActions();
  ASSERT_THAT(Names(alerts), ElementsAre("escalate_unconfirmed"));
  EXPECT_EQ(alerts[0].parameters.at("team"), "store-ops");
  // 36h after the reservation, the customer is reminded on their preferred channel (they chatted).
  ASSERT_TRUE(engine->AdvanceTime(At(60 * h + 10)).ok());
  auto reminders = engine->TakeActions();
  ASSERT_THAT(Names(reminders), ElementsAre("remind_pickup"));
  EXPECT_EQ(reminders[0].channel, "chat");
  // Pickup in the store with the loyalty card.
  Must(*engine, Ev("pk1", 62 * h, v1::EVENT_KIND_ORDER, "Reservation Picked Up").Id("loyalty_card", "LC-0042 7781")
                    .Id("email", "ola@example.com").In(v1::CHANNEL_STORE).Prop("reservation_id", "R-881"));
  ASSERT_TRUE(engine->AdvanceTime(At(100 * h)).ok());
  EXPECT_TRUE(engine->TakeActions().empty());  // No release: picked up in time.
  auto ctx = engine->Context({"", "loyalty_card", "LC00427781"});
  ASSERT_TRUE(ctx.ok()) << ctx.status();
  EXPECT_EQ(ctx->timeline_size, 6);  // Ads, web, chat, reservation and pickup: one customer.
  EXPECT_TRUE(ctx->journeys.empty());  // Ended at the goal.
  auto explained = engine->Explain(ctx->profile);
  ASSERT_TRUE(explained.ok());
  ASSERT_EQ(explained->journeys.size(), 1u);
  EXPECT_EQ(explained->journeys[0].state, "picked_up");
  std::vector<std::string> path;
  for (const auto& s : explained->journeys[0].steps) path.push_back(s.to);
  EXPECT_THAT(path, ElementsAre("awaiting_confirmation", "unconfirmed", "expiring", "picked_up"));
}

constexpr char kComplaint[] = R"pb(
  name: "complaint"
  version: 1
  entry { trigger { kinds: EVENT_KIND_TICKET names: "Complaint Filed" } }
  reentry { policy: REENTRY_AFTER_EXIT }
  states {
    name: "filed"
    transitions { to: "accepted" on { names: "Complaint Accepted" } actions { name: "confirm_acceptance" channel: "preferred" } }
    transitions {
      name: "follow_up"
      to: "filed"
      on { kinds: [EVENT_KIND_MESSAGE, EVENT_KIND_CALL] directions: DIRECTION_INBOUND }
      actions { name: "notify_case_owner" }
    }
    transitions { to: "overdue" after { seconds: 1209600 } actions { name: "escalate" } }
  }
  states {
    name: "accepted"
    transitions { to: "resolved" on { names: "Complaint Resolved" } }
    transitions {
      name: "follow_up_accepted"
      to: "accepted"
      on { kinds: [EVENT_KIND_MESSAGE, EVENT_KIND_CALL] directions: DIRECTION_INBOUND }
      actions { name: "notify_case_owner" }
    }
  }
  states { name: "resolved" kind: STATE_KIND_GOAL }
  states { name: "overdue" kind: STATE_KIND_EXIT }
)pb";

// Scenario 5: bought in the app, complaint filed by phone, follow-up on Facebook Messenger: the
// complaint journey continues whatever the channel.
TEST(Scenario5Test, TheComplaintContinuesWhateverTheChannel) {
  auto engine = OpenWith(kComplaint);
  const int64_t day = 1440;
  Must(*engine, Ev("o1", 0, v1::EVENT_KIND_ORDER, "Order Completed").Id("device_id", "DEV-77").Id("email", "karel@example.com")
                    .Id("phone", "+420 603 111 222").In(v1::CHANNEL_APP).Prop("order_id", "APP-9").Prop("product", "Blender X"));
  Must(*engine, Ev("t1", 5 * day, v1::EVENT_KIND_TICKET, "Complaint Filed").Id("phone", "603111222")
                    .In(v1::CHANNEL_VOICE).Agent("agent:lucie").Conv("case-12").Prop("ticket_id", "C-12")
                    .Prop("subject", "Blender X stopped working"));
  Must(*engine, Ev("t2", 6 * day, v1::EVENT_KIND_TICKET, "Complaint Accepted").Id("email", "karel@example.com")
                    .On(v1::CHANNEL_SERVER, v1::DIRECTION_INTERNAL).Prop("ticket_id", "C-12"));
  // A week later on Messenger; the page links the Facebook id to the customer's email.
  Must(*engine, Ev("fb1", 12 * day, v1::EVENT_KIND_MESSAGE, "Message Received").Id("facebook", "karel.n")
                    .Id("email", "karel@example.com").In(v1::CHANNEL_SOCIAL).Conv("fb-3")
                    .Text("Any news about my blender complaint?"));
  // The social care bot files a complaint too: the running one continues, no new instance.
  Must(*engine, Ev("fb2", 12 * day + 1, v1::EVENT_KIND_TICKET, "Complaint Filed").Id("facebook", "karel.n")
                    .In(v1::CHANNEL_SOCIAL).Prop("ticket_id", "C-12"));
  auto ctx = engine->Context({"", "facebook", "karel.n"});
  ASSERT_TRUE(ctx.ok()) << ctx.status();
  ASSERT_EQ(ctx->journeys.size(), 1u);
  EXPECT_EQ(ctx->journeys[0].journey, "complaint");
  EXPECT_EQ(ctx->journeys[0].state, "accepted");
  ASSERT_EQ(ctx->open_tickets.size(), 1u);
  EXPECT_EQ(ctx->open_tickets[0].subject, "Blender X stopped working");
  auto explained = engine->Explain(ctx->profile);
  ASSERT_EQ(explained->journeys.size(), 1u);  // Continued, not restarted.
  std::vector<std::string> causes;
  for (const auto& s : explained->journeys[0].steps) causes.push_back(s.cause);
  EXPECT_THAT(causes, ElementsAre("test/t1", "test/t2", "test/fb1"));
  EXPECT_THAT(Names(engine->TakeActions()), ElementsAre("confirm_acceptance", "notify_case_owner"));
  Must(*engine, Ev("t3", 13 * day, v1::EVENT_KIND_TICKET, "Complaint Resolved").Id("email", "karel@example.com")
                    .On(v1::CHANNEL_SERVER, v1::DIRECTION_INTERNAL).Prop("ticket_id", "C-12"));
  EXPECT_TRUE(engine->Context({"", "email", "karel@example.com"})->journeys.empty());
}

}  // namespace
}  // namespace omnijourney
