// Scenarios 1, 2 and 4 of SCENARIOS.md end to end through Engine: what the operator sees.
#include <algorithm>

#include "engine_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace omnijourney {
namespace {

using ::testing::HasSubstr;
using testing::At;
using testing::Ev;

// Live operation: the clock reaches each event as it happens.
SimulatedClock* g_clock = nullptr;

std::unique_ptr<Engine> Open(SimulatedClock* clock, bool stitching = true) {
  g_clock = clock;
  EngineOptions options;
  options.clock = clock;
  if (!stitching) {
    // The multichannel baseline: every identifier stays on its own.
    for (auto& [type, rule] : options.identity.rules) rule.links = false;
    options.identity.default_rule.links = false;
  }
  auto engine = Engine::Open(options);
  EXPECT_TRUE(engine.ok()) << engine.status();
  return *std::move(engine);
}


void MustIngest(Engine& engine, const Event& e) {
  const absl::Time t = FromTimestamp(e.occurred_at());
  if (g_clock != nullptr && g_clock->Now() < t) g_clock->Set(t);
  auto r = engine.Ingest(e);
  ASSERT_TRUE(r.ok()) << r.status() << " for " << e.event_id();
}

bool RecentHasText(const CustomerContext& c, std::string_view needle) {
  return std::any_of(c.recent.begin(), c.recent.end(),
                     [&](const TimelineEntry& e) { return e.text.find(needle) != std::string::npos; });
}

// Scenario 1: a chat about a delayed parcel, then a call from the number on an earlier order.
std::vector<Ev> ChatThenCall() {
  return {
      Ev("o1", 0, v1::EVENT_KIND_ORDER, "Order Completed")
          .Id("email", "eva@example.com").Id("phone", "+420 601 123 456").In(v1::CHANNEL_WEB)
          .Prop("order_id", "A-1001").Value(1299, "CZK"),
      Ev("c1", 3 * 1440, v1::EVENT_KIND_MESSAGE, "Message Received")
          .Id("chat_handle", "@Eva_N").Id("email", "Eva@Example.com").In(v1::CHANNEL_CHAT).Conv("chat-7")
          .Text("Where is my parcel A-1001? It was due yesterday."),
      Ev("c2", 3 * 1440 + 1, v1::EVENT_KIND_MESSAGE, "Message Sent")
          .Id("chat_handle", "@eva_n").Out(v1::CHANNEL_CHAT).Conv("chat-7").Agent("bot:faq")
          .Text("Sorry, the carrier reports a delay. I opened a case for you."),
      Ev("t1", 3 * 1440 + 2, v1::EVENT_KIND_TICKET, "Ticket Opened")
          .Id("chat_handle", "@eva_n").On(v1::CHANNEL_CHAT, v1::DIRECTION_INTERNAL).Conv("chat-7")
          .Prop("ticket_id", "T-77").Prop("subject", "Delayed delivery of A-1001"),
      Ev("v1", 4 * 1440, v1::EVENT_KIND_CALL, "Call Started")
          .Id("phone", "601123456").In(v1::CHANNEL_VOICE).Conv("call-1").Agent("agent:jana"),
  };
}

TEST(Scenario1Test, TheCallSeesTheChatTheOrderAndTheOpenIssue) {
  SimulatedClock clock(At(4 * 1440 + 1));
  auto engine = Open(&clock);
  for (const Ev& e : ChatThenCall()) MustIngest(*engine, e);

  auto ctx = engine->Context({"", "phone", "+420 601 123 456"});
  ASSERT_TRUE(ctx.ok()) << ctx.status();
  auto by_chat = engine->Context({"", "chat_handle", "eva_n"});
  ASSERT_TRUE(by_chat.ok());
  EXPECT_EQ(ctx->profile, by_chat->profile);
  EXPECT_EQ(ctx->timeline_size, 5);
  EXPECT_TRUE(RecentHasText(*ctx, "Where is my parcel"));
  EXPECT_EQ(ctx->counters.orders, 1);
  ASSERT_EQ(ctx->open_tickets.size(), 1u);
  EXPECT_EQ(ctx->open_tickets[0].id, "T-77");
  EXPECT_EQ(ctx->open_tickets[0].subject, "Delayed delivery of A-1001");
  ASSERT_FALSE(ctx->open_conversations.empty());
  EXPECT_EQ(ctx->open_conversations[0].id, "call-1");  // Most recent activity first.
  auto chat = std::find_if(ctx->open_conversations.begin(), ctx->open_conversations.end(),
                           [](const ConversationSummary& c) { return c.id == "chat-7"; });
  ASSERT_NE(chat, ctx->open_conversations.end());
  ASSERT_TRUE(chat->last_message.has_value());
  EXPECT_THAT(chat->last_message->text, HasSubstr("opened a case"));
  EXPECT_EQ(chat->agents, std::vector<std::string>{"bot:faq"});
  ASSERT_TRUE(ctx->last_contact.has_value());
  EXPECT_EQ(ctx->last_contact->channel, v1::CHANNEL_VOICE);
  EXPECT_EQ(ctx->last_contact->agent_id, "agent:jana");
  EXPECT_EQ(ctx->identifiers["email"], std::vector<std::string>{"eva@example.com"});
  EXPECT_EQ(ctx->identifiers["phone"], std::vector<std::string>{"+420601123456"});
  EXPECT_TRUE(ctx->journeys.empty());  // No journeys defined here.
  const std::string screen = RenderContext(*ctx);
  EXPECT_THAT(screen, HasSubstr("Open ticket T-77"));
  EXPECT_THAT(screen, HasSubstr("Where is my parcel"));
}

TEST(Scenario1Test, WithoutStitchingTheOperatorSeesNoChat) {
  SimulatedClock clock(At(4 * 1440 + 1));
  auto engine = Open(&clock, /*stitching=*/false);
  for (const Ev& e : ChatThenCall()) MustIngest(*engine, e);
  auto ctx = engine->Context({"", "phone", "+420 601 123 456"});
  ASSERT_TRUE(ctx.ok()) << ctx.status();
  EXPECT_FALSE(RecentHasText(*ctx, "Where is my parcel"));
  EXPECT_TRUE(ctx->open_tickets.empty());
  EXPECT_EQ(ctx->counters.orders, 0);  // The order went to the email's profile.
  EXPECT_EQ(ctx->timeline_size, 1);    // Only the call itself.
}

// Scenario 2: the broken modem: two calls and an email about one issue.
TEST(Scenario2Test, RepeatContactsSeeTheFirstAndJoinOneIssue) {
  SimulatedClock clock(At(0));
  auto engine = Open(&clock);
  const int64_t day = 1440;
  MustIngest(*engine, Ev("w1", 0, v1::EVENT_KIND_TRACK, "Callback Requested")
                          .Id("cookie", "ck-9").Id("phone", "+420 777 555 111").In(v1::CHANNEL_WEB));
  MustIngest(*engine, Ev("s1", 30, v1::EVENT_KIND_CALL, "Call Ended")
                          .Id("phone", "777555111").Out(v1::CHANNEL_VOICE).Agent("agent:sales-1").Conv("call-0"));
  MustIngest(*engine, Ev("o1", 60, v1::EVENT_KIND_ORDER, "Order Completed")
                          .Id("crm_id", "C-42").Id("phone", "+420777555111").Id("email", "petr@example.com")
                          .On(v1::CHANNEL_SERVER).Prop("order_id", "INT-1").Prop("product", "Internet 500 + modem"));
  // Ten days later the modem breaks: a call to the general line opens a ticket.
  MustIngest(*engine, Ev("c1", 10 * day, v1::EVENT_KIND_CALL, "Call Started")
                          .Id("phone", "+420 777 555 111").In(v1::CHANNEL_VOICE).Conv("call-1").Agent("agent:eva")
                          .Text("Modem shows a red light, no internet."));
  MustIngest(*engine, Ev("k1", 10 * day + 5, v1::EVENT_KIND_TICKET, "Ticket Opened")
                          .Id("crm_id", "C-42").On(v1::CHANNEL_VOICE, v1::DIRECTION_INTERNAL)
                          .Prop("ticket_id", "T-1").Prop("subject", "Modem broken"));
  // The second call, the next morning: the operator sees the first call and the open ticket.
  clock.Set(At(11 * day));
  MustIngest(*engine, Ev("c2", 11 * day, v1::EVENT_KIND_CALL, "Call Started")
                          .Id("phone", "+420777555111").In(v1::CHANNEL_VOICE).Conv("call-2").Agent("agent:tom"));
  auto second = engine->Context({"", "phone", "777 555 111"});
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE(RecentHasText(*second, "red light"));
  ASSERT_EQ(second->open_tickets.size(), 1u);
  EXPECT_EQ(second->open_tickets[0].subject, "Modem broken");
  EXPECT_EQ(second->counters.contacts_7d, 2);
  EXPECT_TRUE(second->counters.last_contact_is_repeat_24h);
  EXPECT_EQ(second->counters.repeat_contacts_24h_30d, 1);
  // Then an email from the address on the contract: the same profile, a third contact.
  clock.Set(At(11 * day + 120));
  MustIngest(*engine, Ev("m1", 11 * day + 120, v1::EVENT_KIND_MESSAGE, "Email Received")
                          .Id("email", "Petr@example.com").In(v1::CHANNEL_EMAIL).Conv("mail-1")
                          .Text("Still no internet, please send a technician."));
  auto third = engine->Context({"", "email", "petr@example.com"});
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->profile, second->profile);
  EXPECT_EQ(third->counters.contacts_7d, 3);
  EXPECT_EQ(third->counters.repeat_contacts_24h_30d, 2);
  EXPECT_EQ(third->counters.orders, 1);
  // Resolved: no open ticket any more.
  MustIngest(*engine, Ev("k2", 12 * day, v1::EVENT_KIND_TICKET, "Ticket Resolved")
                          .Id("crm_id", "C-42").On(v1::CHANNEL_SERVER, v1::DIRECTION_INTERNAL)
                          .Prop("ticket_id", "T-1"));
  clock.Set(At(12 * day + 60));
  auto done = engine->Context({"", "crm_id", "C-42"});
  ASSERT_TRUE(done.ok());
  EXPECT_TRUE(done->open_tickets.empty());
  // Idle conversations closed themselves after 24h; the email is the only one still open.
  ASSERT_EQ(done->open_conversations.size(), 1u);
  EXPECT_EQ(done->open_conversations[0].id, "mail-1");
}

// Scenario 4: lead to contract; the preferred channel is learned from the replies.
TEST(Scenario4Test, OneProfileFromAdToContractAndPreferredChannelFromReplies) {
  SimulatedClock clock(At(0));
  auto engine = Open(&clock);
  const int64_t day = 1440;
  std::vector<Ev> events = {
      Ev("a1", 0, v1::EVENT_KIND_PAGE, "Landing").Id("cookie", "ck-lead").In(v1::CHANNEL_ADS)
          .Prop("category", "mortgages"),
      Ev("l1", 5, v1::EVENT_KIND_TRACK, "Lead Submitted").Id("cookie", "ck-lead").Id("email", "ana@example.com")
          .Id("phone", "+420 602 000 333").In(v1::CHANNEL_WEB).Prop("category", "mortgages")
          .Trait("first_name", "Ana").Trait("last_name", "Novak"),
      Ev("k1", 120, v1::EVENT_KIND_CALL, "Call Ended").Id("phone", "602000333").Out(v1::CHANNEL_VOICE)
          .Agent("agent:broker"),
      Ev("w1", day, v1::EVENT_KIND_MESSAGE, "Message Received").Id("whatsapp", "+420602000333").Id("phone", "+420602000333")
          .In(v1::CHANNEL_WHATSAPP).Conv("wa-1").Text("Can we meet on Friday?"),
      Ev("w2", day + 10, v1::EVENT_KIND_MESSAGE, "Message Sent").Id("whatsapp", "+420602000333").Id("phone", "+420602000333")
          .Out(v1::CHANNEL_WHATSAPP).Conv("wa-1").Agent("agent:broker").Text("Friday 10:00 at the office."),
      Ev("s1", 4 * day, v1::EVENT_KIND_ORDER, "Contract Signed").Id("crm_id", "CRM-5001").Id("email", "ana@example.com")
          .In(v1::CHANNEL_OFFICE).Prop("contract_id", "M-88").Value(250000, "EUR"),
      Ev("n1", 5 * day, v1::EVENT_KIND_NOTIFICATION, "Onboarding Email").Id("email", "ana@example.com")
          .Out(v1::CHANNEL_EMAIL),
      Ev("n2", 6 * day, v1::EVENT_KIND_NOTIFICATION, "Onboarding Push").Id("crm_id", "CRM-5001").Out(v1::CHANNEL_PUSH),
      Ev("n3", 7 * day, v1::EVENT_KIND_NOTIFICATION, "Onboarding SMS").Id("phone", "+420602000333")
          .Out(v1::CHANNEL_SMS),
      Ev("n4", 8 * day, v1::EVENT_KIND_MESSAGE, "Onboarding Viber").Id("viber", "+420 602 000 333").Id("phone", "+420602000333")
          .Out(v1::CHANNEL_VIBER).Conv("vb-1"),
      Ev("r1", 8 * day + 30, v1::EVENT_KIND_MESSAGE, "Message Received").Id("viber", "+420602000333").Id("phone", "+420602000333")
          .In(v1::CHANNEL_VIBER).Conv("vb-1").Text("Thanks, all clear!"),
      Ev("n5", 12 * day, v1::EVENT_KIND_MESSAGE, "Rate Reminder").Id("viber", "+420602000333").Id("phone", "+420602000333")
          .Out(v1::CHANNEL_VIBER).Conv("vb-2"),
      Ev("r2", 12 * day + 60, v1::EVENT_KIND_MESSAGE, "Message Received").Id("viber", "+420602000333").Id("phone", "+420602000333")
          .In(v1::CHANNEL_VIBER).Conv("vb-2").Text("Got it."),
  };
  // The messaging connectors know the number behind a WhatsApp or Viber id and send it as a phone.
  ProfileId profile = 0;
  for (const Ev& e : events) {
    MustIngest(*engine, e);
    if (profile == 0) profile = engine->Context({"", "cookie", "ck-lead"})->profile;
  }
  clock.Set(At(12 * day + 61));
  auto ctx = engine->Context({"", "crm_id", "CRM-5001"});
  ASSERT_TRUE(ctx.ok()) << ctx.status();
  EXPECT_EQ(ctx->timeline_size, static_cast<int>(events.size()));  // One profile holds everything.
  for (const char* type : {"cookie", "email", "phone", "whatsapp", "viber", "crm_id"}) {
    EXPECT_EQ(ctx->identifiers.count(type), 1u) << type;
  }
  // The first anonymous profile id (the ad click's cookie) survives every merge.
  EXPECT_EQ(ctx->profile, profile);
  ASSERT_TRUE(ctx->preferred_channel.has_value());
  EXPECT_EQ(*ctx->preferred_channel, v1::CHANNEL_VIBER);  // Two replies beat one WhatsApp contact.
  ASSERT_GE(ctx->channel_scores.size(), 2u);
  EXPECT_GT(ctx->channel_scores[0].score, ctx->channel_scores[1].score);
  EXPECT_EQ(ctx->traits["first_name"].value, "Ana");
  ASSERT_FALSE(ctx->interests.empty());
  EXPECT_EQ(ctx->interests[0].value, "mortgages");
  EXPECT_EQ(ctx->interests[0].count, 2);
  EXPECT_THAT(RenderContext(*ctx), HasSubstr("Ana Novak"));
}

}  // namespace
}  // namespace omnijourney
