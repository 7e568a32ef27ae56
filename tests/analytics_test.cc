// Analytics on small cases worked out by hand (the expected numbers are derived in the comments).
#include "omnijourney/analytics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine_test_util.h"
#include "omnijourney/journey.h"

namespace omnijourney::analytics {
namespace {

using ::omnijourney::testing::At;
using ::omnijourney::testing::Ev;
using ::testing::DoubleNear;
using ::testing::ElementsAre;

constexpr int64_t kHour = 60;
constexpr int64_t kDay = 24 * 60;

TimelineEntry Entry(int64_t minute, v1::Channel channel, v1::Direction direction,
                    v1::EventKind kind = v1::EVENT_KIND_TRACK, std::string conversation = "") {
  static int next_id = 0;
  TimelineEntry e;
  e.time = At(minute);
  e.source = "test";
  e.event_id = absl::StrCat("e", ++next_id);
  e.kind = kind;
  e.name = "x";
  e.channel = channel;
  e.direction = direction;
  e.conversation_id = std::move(conversation);
  return e;
}

TimelineEntry Page(int64_t minute, v1::Channel channel = v1::CHANNEL_WEB) {
  return Entry(minute, channel, v1::DIRECTION_UNSPECIFIED, v1::EVENT_KIND_PAGE);
}

TimelineEntry Contact(int64_t minute, v1::Channel channel, std::string conversation = "") {
  return Entry(minute, channel, v1::DIRECTION_INBOUND,
               channel == v1::CHANNEL_VOICE ? v1::EVENT_KIND_CALL : v1::EVENT_KIND_MESSAGE, std::move(conversation));
}

// A journey instance: entry into `states[0]` at `times[0]`, then one step per further state.
JourneyTrace Trace(const std::vector<std::string>& states, const std::vector<int64_t>& minutes, bool ended) {
  JourneyTrace t;
  t.journey = "purchase";
  t.version = 1;
  t.started = At(minutes[0]);
  std::string from;
  for (size_t i = 0; i < states.size(); ++i) {
    t.steps.push_back({from, states[i], i == 0 ? "entry" : absl::StrCat("to_", states[i]), "test", At(minutes[i])});
    from = states[i];
  }
  t.state = states.back();
  t.entered = At(minutes.back());
  t.ended = ended;
  return t;
}

JourneyDefinition Purchase() {
  auto j = JourneyBuilder("purchase", 1)
               .Entry(OnEvent().Kinds({v1::EVENT_KIND_PAGE}))
               .State("browsing")
               .On("bought", OnEvent().Kinds({v1::EVENT_KIND_ORDER}))
               .After("lost", absl::Hours(24 * 14))
               .Goal("bought")
               .Exit("lost")
               .Build();
  EXPECT_TRUE(j.ok()) << j.status();
  return *j;
}

ProfileSnapshot Profile(ProfileId id, std::vector<TimelineEntry> timeline, std::vector<JourneyTrace> journeys = {}) {
  ProfileSnapshot p;
  p.profile = id;
  p.timeline = std::move(timeline);
  p.journeys = std::move(journeys);
  return p;
}

TEST(Summarize, NearestRankMedianAndP90) {
  DurationStats s = Summarize({absl::Hours(14 * 24), absl::Hours(2), absl::Hours(6)});
  EXPECT_EQ(s.count, 3);
  EXPECT_EQ(s.median, absl::Hours(6));       // rank ceil(1.5) = 2 of {2h, 6h, 14d}
  EXPECT_EQ(s.p90, absl::Hours(14 * 24));    // rank ceil(2.7) = 3
  EXPECT_EQ(Summarize({}).count, 0);
}

TEST(Funnel, CountsOutcomesStatesAndDurations) {
  Profiles profiles = {
      Profile(1, {}, {Trace({"browsing", "bought"}, {0, 2 * kHour}, true)}),    // converted after 2h
      Profile(2, {}, {Trace({"browsing", "lost"}, {0, 14 * kDay}, true)}),      // exited after 14d
      Profile(3, {}, {Trace({"browsing"}, {0}, false)}),                       // 40d idle: dropped
      Profile(4, {}, {Trace({"browsing"}, {39 * kDay}, false),                 // 1d: active
                      Trace({"browsing", "bought"}, {0, 6 * kHour}, true)}),    // converted after 6h
  };
  FunnelOptions options;
  options.as_of = At(40 * kDay);
  auto f = Funnel(profiles, Purchase(), options);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->entered, 5);
  EXPECT_EQ(f->converted, 2);
  EXPECT_EQ(f->exited, 1);
  EXPECT_EQ(f->dropped, 1);
  EXPECT_EQ(f->active, 1);
  EXPECT_DOUBLE_EQ(f->conversion_rate(), 0.4);
  ASSERT_EQ(f->states.size(), 3u);
  EXPECT_EQ(f->states[0].state, "browsing");
  EXPECT_EQ(f->states[0].reached, 5);
  EXPECT_EQ(f->states[1].state, "bought");
  EXPECT_EQ(f->states[1].reached, 2);
  EXPECT_EQ(f->states[2].reached, 1);
  // Completed visits of browsing: 2h, 6h, 14d.
  EXPECT_EQ(f->states[0].time_in_state.count, 3);
  EXPECT_EQ(f->states[0].time_in_state.median, absl::Hours(6));
  EXPECT_EQ(f->states[0].time_in_state.p90, absl::Hours(14 * 24));
  EXPECT_EQ(f->time_to_goal.count, 2);
  EXPECT_EQ(f->time_to_goal.median, absl::Hours(2));
  EXPECT_EQ(f->time_to_goal.p90, absl::Hours(6));
  ASSERT_FALSE(f->transitions.empty());
  EXPECT_EQ(f->transitions[0].transition, "entry");
  EXPECT_EQ(f->transitions[0].count, 5);
  EXPECT_EQ(f->transitions[1].to, "bought");
  EXPECT_EQ(f->transitions[1].count, 2);
}

TEST(Funnel, RejectsAnInvalidDefinition) {
  JourneyDefinition bad;
  bad.set_name("purchase");
  auto f = Funnel({}, bad);
  EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ChannelPaths, CollapsesRepeatsCountsSwitchesAndRanksPaths) {
  const auto journey_map = [](ProfileId id) {
    return Profile(id, {Page(0, v1::CHANNEL_ADS), Page(5), Page(6), Contact(10, v1::CHANNEL_CHAT, "c1"),
                        Entry(11, v1::CHANNEL_CHAT, v1::DIRECTION_OUTBOUND, v1::EVENT_KIND_MESSAGE, "c1"),
                        Contact(12, v1::CHANNEL_CHAT, "c1"),  // same conversation: not a new touch
                        Entry(13, v1::CHANNEL_SERVER, v1::DIRECTION_INTERNAL),
                        Entry(kDay, v1::CHANNEL_STORE, v1::DIRECTION_INBOUND, v1::EVENT_KIND_VISIT)});
  };
  Profiles profiles = {journey_map(1), Profile(2, {Page(0)}), journey_map(3),
                       Profile(4, {Entry(0, v1::CHANNEL_SERVER, v1::DIRECTION_INTERNAL)})};  // no touch
  ChannelPathReport r = ChannelPaths(profiles);
  EXPECT_EQ(r.profiles, 3);
  EXPECT_EQ(r.distinct_paths, 2);
  ASSERT_EQ(r.top.size(), 2u);
  EXPECT_EQ(r.top[0].ToString(), "ads > web > chat > store");
  EXPECT_EQ(r.top[0].profiles, 2);
  EXPECT_NEAR(r.top[0].share, 2.0 / 3, 1e-12);
  EXPECT_EQ(r.top[1].ToString(), "web");
  // Per mapped profile: ads>web, web>web, web>chat, chat>store.
  EXPECT_EQ(r.transitions, 8);
  EXPECT_EQ(r.channel_switches, 6);
  EXPECT_EQ(r.multichannel_profiles, 2);
  EXPECT_EQ((r.switches[{v1::CHANNEL_WEB, v1::CHANNEL_WEB}]), 2);
  EXPECT_EQ((r.switches[{v1::CHANNEL_WEB, v1::CHANNEL_CHAT}]), 2);
  EXPECT_EQ((r.switches[{v1::CHANNEL_CHAT, v1::CHANNEL_STORE}]), 2);
  EXPECT_EQ(r.switches.count({v1::CHANNEL_CHAT, v1::CHANNEL_CHAT}), 0u);

  PathOptions shorter;
  shorter.max_length = 2;
  shorter.touches.include_outbound = true;
  ChannelPathReport t = ChannelPaths(profiles, shorter);
  EXPECT_EQ(t.top[0].ToString(), "ads > web > ...");
  EXPECT_TRUE(t.top[0].truncated);
}

// Four profiles; paths (collapsed): web>chat -> conversion, web -> null, chat -> conversion,
// ads>web -> null.
//
// Markov chain: start -> web 2/4, chat 1/4, ads 1/4; web -> chat 1/3, null 2/3; chat -> conv 1;
// ads -> web 1. P(conv | chat) = 1, P(conv | web) = 1/3, P(conv | ads) = 1/3,
// P = 2/4 * 1/3 + 1/4 * 1 + 1/4 * 1/3 = 1/2.
// Without web: P = 1/4 (only chat starts convert): removal effect 1 - (1/4)/(1/2) = 1/2.
// Without chat: nothing converts: effect 1.
// Without ads: P = 2/4 * 1/3 + 1/4 = 5/12: effect 1 - 5/6 = 1/6.
// Two converting paths share 2 credits by effect: web 2 * (1/2)/(5/3) = 0.6, chat 1.2, ads 0.2.
TEST(Attribution, RuleBasedAndMarkovRemovalOnAHandComputedCase) {
  Profiles profiles = {
      Profile(1, {Page(0), Contact(7 * kDay, v1::CHANNEL_CHAT)},
              {Trace({"browsing", "bought"}, {0, 7 * kDay}, true)}),
      Profile(2, {Page(0)}, {Trace({"browsing"}, {0}, false)}),
      Profile(3, {Contact(kDay, v1::CHANNEL_CHAT)}, {Trace({"browsing", "bought"}, {kDay, kDay}, true)}),
      Profile(4, {Page(0, v1::CHANNEL_ADS), Page(10)}),
  };
  auto a = Attribute(profiles, Purchase());
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->conversions, 2);
  EXPECT_EQ(a->converting_paths, 2);
  EXPECT_EQ(a->null_paths, 2);
  EXPECT_THAT(a->channels, ElementsAre(v1::CHANNEL_WEB, v1::CHANNEL_CHAT, v1::CHANNEL_ADS));
  auto credit = [&](Model m, v1::Channel c) { return a->credit[m][c]; };
  EXPECT_DOUBLE_EQ(credit(Model::kFirstTouch, v1::CHANNEL_WEB), 1);
  EXPECT_DOUBLE_EQ(credit(Model::kFirstTouch, v1::CHANNEL_CHAT), 1);
  EXPECT_DOUBLE_EQ(credit(Model::kLastTouch, v1::CHANNEL_CHAT), 2);
  EXPECT_DOUBLE_EQ(credit(Model::kLastTouch, v1::CHANNEL_WEB), 0);
  EXPECT_DOUBLE_EQ(credit(Model::kLinear, v1::CHANNEL_WEB), 0.5);
  EXPECT_DOUBLE_EQ(credit(Model::kLinear, v1::CHANNEL_CHAT), 1.5);
  // Time decay, half-life 7 days: the web touch 7 days before the conversion weighs 1/2 against 1.
  EXPECT_NEAR(credit(Model::kTimeDecay, v1::CHANNEL_WEB), 1.0 / 3, 1e-12);
  EXPECT_NEAR(credit(Model::kTimeDecay, v1::CHANNEL_CHAT), 5.0 / 3, 1e-12);
  EXPECT_DOUBLE_EQ(credit(Model::kPositionBased, v1::CHANNEL_WEB), 0.5);  // two touches: 50/50
  EXPECT_DOUBLE_EQ(credit(Model::kPositionBased, v1::CHANNEL_CHAT), 1.5);
  EXPECT_NEAR(a->conversion_probability, 0.5, 1e-12);
  EXPECT_NEAR(a->removal_effect[v1::CHANNEL_WEB], 0.5, 1e-12);
  EXPECT_NEAR(a->removal_effect[v1::CHANNEL_CHAT], 1.0, 1e-12);
  EXPECT_NEAR(a->removal_effect[v1::CHANNEL_ADS], 1.0 / 6, 1e-12);
  EXPECT_NEAR(credit(Model::kMarkov, v1::CHANNEL_WEB), 0.6, 1e-12);
  EXPECT_NEAR(credit(Model::kMarkov, v1::CHANNEL_CHAT), 1.2, 1e-12);
  EXPECT_NEAR(credit(Model::kMarkov, v1::CHANNEL_ADS), 0.2, 1e-12);
  for (Model m : kModels) {
    double sum = 0;
    for (const auto& [c, v] : a->credit[m]) sum += v;
    EXPECT_NEAR(sum, 2.0, 1e-12) << ModelName(m);
  }
}

TEST(Attribution, PositionBasedMiddleLookbackAndPreviousConversion) {
  // Touches: email at day -40 (outside the 30-day lookback), ads, web, email, chat, then the goal;
  // after it a store visit and a second goal: the second path holds only the store visit.
  Profiles profiles = {Profile(
      1,
      {Contact(0, v1::CHANNEL_EMAIL), Page(40 * kDay, v1::CHANNEL_ADS), Page(41 * kDay),
       Contact(42 * kDay, v1::CHANNEL_EMAIL), Contact(43 * kDay, v1::CHANNEL_CHAT),
       Entry(50 * kDay, v1::CHANNEL_STORE, v1::DIRECTION_INBOUND, v1::EVENT_KIND_VISIT)},
      {Trace({"browsing", "bought"}, {40 * kDay, 43 * kDay}, true),
       Trace({"browsing", "bought"}, {49 * kDay, 50 * kDay}, true)})};
  auto a = Attribute(profiles, Purchase());
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->conversions, 2);
  EXPECT_EQ(a->converting_paths, 2);
  EXPECT_EQ(a->null_paths, 0);
  auto& pos = a->credit[Model::kPositionBased];
  EXPECT_NEAR(pos[v1::CHANNEL_ADS], 0.4, 1e-12);
  EXPECT_NEAR(pos[v1::CHANNEL_WEB], 0.1, 1e-12);
  EXPECT_NEAR(pos[v1::CHANNEL_EMAIL], 0.1, 1e-12);  // the day-0 email is outside the lookback
  EXPECT_NEAR(pos[v1::CHANNEL_CHAT], 0.4, 1e-12);
  EXPECT_NEAR(pos[v1::CHANNEL_STORE], 1.0, 1e-12);
  EXPECT_DOUBLE_EQ(a->credit[Model::kFirstTouch][v1::CHANNEL_EMAIL], 0);
  // Every path converts: each channel's removal breaks the paths through it.
  EXPECT_NEAR(a->conversion_probability, 1.0, 1e-12);
}

TEST(Kpis, RepeatContactsAndFirstContactResolution) {
  // X: contacts at 0h (call), 10h (chat c1, two messages), day 3 (email), day 20 (call).
  // Y: a contact on day 1 and a page view on day 40 (the analysis time).
  Profiles profiles = {
      Profile(1, {Contact(0, v1::CHANNEL_VOICE), Contact(10 * kHour, v1::CHANNEL_CHAT, "c1"),
                  Contact(10 * kHour + 5, v1::CHANNEL_CHAT, "c1"), Contact(3 * kDay, v1::CHANNEL_EMAIL),
                  Contact(20 * kDay, v1::CHANNEL_VOICE)}),
      Profile(2, {Contact(kDay, v1::CHANNEL_WHATSAPP), Page(40 * kDay)}),
  };
  Kpis k = ComputeKpis(profiles);
  EXPECT_EQ(k.profiles, 2);
  EXPECT_EQ(k.contacts, 5);
  EXPECT_EQ(k.repeat_short, 1);  // 10h after the call
  EXPECT_EQ(k.repeat_long, 2);   // and the email 62h after the chat
  // First contacts: X at 0h (followed within 7d: not resolved), X day 20, Y day 1 (resolved).
  EXPECT_EQ(k.first_contacts, 3);
  EXPECT_EQ(k.resolved_at_first_contact, 2);
  EXPECT_NEAR(k.first_contact_resolution(), 2.0 / 3, 1e-12);
  EXPECT_EQ(k.contacts_with_history, -1);

  // Analysed on day 25, the day-20 contact is too recent to judge.
  KpiOptions early;
  early.as_of = At(25 * kDay);
  Kpis e = ComputeKpis(profiles, early);
  EXPECT_EQ(e.first_contacts, 2);
  EXPECT_EQ(e.resolved_at_first_contact, 1);
}

TEST(ContactMonitor, SeesHistoryOnlyWhenTheChannelsAreStitched) {
  EngineOptions options;
  SimulatedClock clock(At(0));
  options.clock = &clock;
  auto engine = Engine::Open(options);
  ASSERT_TRUE(engine.ok());
  ContactMonitor monitor;
  auto ingest = [&](const Event& e) {
    auto r = (*engine)->Ingest(e);
    EXPECT_TRUE(r.ok()) << r.status();
    return monitor.Observe(**engine, e, *r);
  };
  clock.Set(At(100));
  EXPECT_EQ(ingest(Ev("p1", 0, v1::EVENT_KIND_PAGE, "Modem").Id("cookie", "c1").Id("email", "eva@example.com")
                       .On(v1::CHANNEL_WEB)),
            std::nullopt);  // not a contact
  // A call from a number nobody knows yet: no history.
  EXPECT_EQ(ingest(Ev("call1", 10, v1::EVENT_KIND_CALL, "Call").Id("phone", "+420601123456").In(v1::CHANNEL_VOICE)),
            std::optional<bool>(false));
  // The customer gives the number in a chat; its first message sees the web visit, the second is
  // the same contact.
  EXPECT_EQ(ingest(Ev("m1", 20, v1::EVENT_KIND_MESSAGE, "Message").Id("email", "eva@example.com")
                       .Id("phone", "+420601123456").In(v1::CHANNEL_CHAT).Conv("chat-1")),
            std::optional<bool>(true));
  EXPECT_EQ(ingest(Ev("m2", 21, v1::EVENT_KIND_MESSAGE, "Message").Id("email", "eva@example.com")
                       .In(v1::CHANNEL_CHAT).Conv("chat-1")),
            std::nullopt);
  // The next call sees the web visit and the chat.
  EXPECT_EQ(ingest(Ev("call2", 30, v1::EVENT_KIND_CALL, "Call").Id("phone", "+420 601 123 456").In(v1::CHANNEL_VOICE)),
            std::optional<bool>(true));
  EXPECT_EQ(monitor.contacts(), 3);
  EXPECT_EQ(monitor.with_history(), 2);

  auto profiles = CollectProfiles(**engine);
  ASSERT_TRUE(profiles.ok());
  ASSERT_EQ(profiles->size(), 1u);
  EXPECT_EQ((*profiles)[0].timeline.size(), 5u);
  EXPECT_EQ((*profiles)[0].timeline.front().event_id, "p1");
  Kpis k = ComputeKpis(*profiles, {}, &monitor);
  EXPECT_EQ(k.contacts, 3);
  EXPECT_EQ(k.observed_contacts, 3);
  EXPECT_NEAR(k.history_rate(), 2.0 / 3, 1e-12);
}

}  // namespace
}  // namespace omnijourney::analytics
