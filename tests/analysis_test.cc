// The one-pass analysis on small populations worked out by hand (the expected numbers are derived
// in the comments): KPI rows by period and dimension, contact-centre measures, feedback, root causes,
// the journey map and path flows, attribution journeys, drill-down examples, bounded quantiles.
#include "omnijourney/analysis.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine_test_util.h"
#include "omnijourney/journey.h"

namespace omnijourney::analytics {
namespace {

using ::omnijourney::testing::At;
using ::omnijourney::testing::Ev;
using ::testing::ElementsAre;

constexpr int64_t kHour = 60;
constexpr int64_t kDay = 24 * 60;

using Props = std::vector<std::pair<std::string, std::string>>;

TimelineEntry Entry(int64_t minute, v1::Channel channel, v1::Direction direction, v1::EventKind kind,
                    std::string conversation = "", std::string agent = "", Props props = {}, std::string name = "x") {
  static int next_id = 0;
  TimelineEntry e;
  e.time = At(minute);
  e.source = "test";
  e.event_id = absl::StrCat("a", ++next_id);
  e.kind = kind;
  e.name = std::move(name);
  e.channel = channel;
  e.direction = direction;
  e.conversation_id = std::move(conversation);
  e.agent_id = std::move(agent);
  e.properties = std::move(props);
  return e;
}

TimelineEntry Inbound(int64_t minute, v1::Channel channel, std::string conversation = "", Props props = {},
                      std::string name = "Support Request") {
  return Entry(minute, channel, v1::DIRECTION_INBOUND,
               channel == v1::CHANNEL_VOICE ? v1::EVENT_KIND_CALL : v1::EVENT_KIND_MESSAGE, std::move(conversation), "",
               std::move(props), std::move(name));
}

// The end of a conversation as a contact-centre system reports it: agent, team, wait and handle time.
TimelineEntry Ended(int64_t minute, v1::Channel channel, std::string conversation, std::string agent, Props props) {
  return Entry(minute, channel, v1::DIRECTION_INTERNAL, v1::EVENT_KIND_CONVERSATION, std::move(conversation),
               std::move(agent), std::move(props), "Conversation Closed");
}

TimelineEntry Feedback(int64_t minute, std::string conversation, Props props, std::string name = "Survey Answered") {
  return Entry(minute, v1::CHANNEL_EMAIL, v1::DIRECTION_INBOUND, v1::EVENT_KIND_FEEDBACK, std::move(conversation), "",
               std::move(props), std::move(name));
}

ProfileSnapshot Profile(ProfileId id, std::vector<TimelineEntry> timeline, std::vector<JourneyTrace> journeys = {}) {
  ProfileSnapshot p;
  p.profile = id;
  std::stable_sort(timeline.begin(), timeline.end(),
                   [](const TimelineEntry& a, const TimelineEntry& b) { return a.time < b.time; });
  p.timeline = std::move(timeline);
  p.journeys = std::move(journeys);
  return p;
}

JourneyDefinition Support(bool attribution = false) {
  auto j = JourneyBuilder("support", 1)
               .Entry(OnEvent().Kinds({v1::EVENT_KIND_CALL}))
               .State("open")
               .On("resolved", OnEvent().Kinds({v1::EVENT_KIND_TICKET}))
               .Goal("resolved")
               .Build();
  EXPECT_TRUE(j.ok()) << j.status();
  j->mutable_reporting()->set_attribution(attribution);
  return *j;
}

JourneyTrace SupportTrace(int64_t open, std::optional<int64_t> resolved) {
  JourneyTrace t;
  t.journey = "support";
  t.version = 1;
  t.started = At(open);
  t.steps.push_back({"", "open", "entry", "test", At(open)});
  if (resolved) t.steps.push_back({"open", "resolved", "to_resolved", "test", At(*resolved)});
  t.state = resolved ? "resolved" : "open";
  t.ended = resolved.has_value();
  return t;
}

// Three customers, Monday 2026-11-02 09:00 UTC = minute 0:
//   P1: call v1 at 0 (agent-1, team voice, wait 15 s, handle 300 s); chat c1 at 10h (agent-2, mapped
//       to team digital, wait 40 s, handle 600 s); a CSAT of 2 on c1 at 11h; an email on day 3.
//       A support journey opened at 0 and resolved on day 3 + 1h.
//   P2: call v2 on day 1, abandoned after 90 s; an NPS of 10 an hour later (no conversation: it
//       follows the call); a complaint by email on day 7.
//   P3: call v3 on day 2 (agent-1, team voice, wait 10 s, handle 200 s).
// Analysed as of day 20 (every first contact can be judged).
Profiles Population() {
  return {
      Profile(1,
              {Inbound(0, v1::CHANNEL_VOICE, "v1"),
               Ended(5, v1::CHANNEL_VOICE, "v1", "agent-1", {{"team", "voice"}, {"wait_seconds", "15"}, {"handle_seconds", "300"}}),
               Inbound(10 * kHour, v1::CHANNEL_CHAT, "c1"),
               Ended(10 * kHour + 20, v1::CHANNEL_CHAT, "c1", "agent-2", {{"wait_seconds", "40"}, {"handle_seconds", "600"}}),
               Feedback(11 * kHour, "c1", {{"survey", "CSAT"}, {"score", "2"}}),
               Inbound(3 * kDay, v1::CHANNEL_EMAIL)},
              {SupportTrace(0, 3 * kDay + kHour)}),
      Profile(2, {Inbound(kDay, v1::CHANNEL_VOICE, "v2", {{"abandoned", "true"}, {"wait_seconds", "90"}}),
                  Feedback(kDay + kHour, "", {{"score", "10"}}, "NPS survey"),
                  Inbound(7 * kDay, v1::CHANNEL_EMAIL, "", {{"category", "Complaint"}}, "Ticket Opened")}),
      Profile(3, {Inbound(2 * kDay, v1::CHANNEL_VOICE, "v3"),
                  Ended(2 * kDay + 9, v1::CHANNEL_VOICE, "v3", "agent-1",
                        {{"team", "voice"}, {"wait_seconds", "10"}, {"handle_seconds", "200"}})}),
  };
}

AnalysisOptions Options() {
  AnalysisOptions o;
  o.as_of = At(20 * kDay);
  o.journeys = {Support()};
  o.teams = {{"agent-2", "digital"}};
  o.min_support = 1;
  return o;
}

TEST(Analysis, TotalsAndContactCentreMeasures) {
  auto a = Analyze(Population(), Options());
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->profiles, 3);
  const KpiRow* all = a->Row(Period::kTotal, Dimension::kAll);
  ASSERT_NE(all, nullptr);
  EXPECT_EQ(all->start, absl::CivilDay(2026, 11, 2));
  EXPECT_EQ(all->contacts, 6);
  EXPECT_EQ(all->repeat_short, 1);  // P1's chat 10 h after the call.
  EXPECT_EQ(all->repeat_long, 3);   // and P1's email (62 h after the chat), P2's complaint (6 d).
  // First contacts: P1 day 0 (the chat follows), P2 day 1 (the complaint follows), P3 day 2.
  EXPECT_EQ(all->first_contacts, 3);
  EXPECT_EQ(all->resolved_first, 1);
  // An earlier entry from another channel: P1's chat and email, P2's complaint.
  EXPECT_EQ(all->history_in_profile, 3);
  EXPECT_EQ(all->observed_contacts, -1);  // No monitor.
  EXPECT_EQ(all->complaints, 1);
  // Queued: P1's call and chat, P2's call (abandoned), P3's call; answered within 20 s: 15 s, 10 s.
  EXPECT_EQ(all->queued, 4);
  EXPECT_EQ(all->abandoned, 1);
  EXPECT_EQ(all->answered_within_sla, 2);
  EXPECT_NEAR(all->service_level(), 2.0 / 3, 1e-12);
  EXPECT_NEAR(all->abandonment_rate(), 0.25, 1e-12);
  EXPECT_EQ(all->wait.count(), 3);
  EXPECT_EQ(all->wait.Quantile(0.5), absl::Seconds(15));  // Of 10, 15, 40.
  EXPECT_EQ(all->handle.Quantile(0.5), absl::Seconds(300));  // Of 200, 300, 600.
  ASSERT_EQ(all->feedback.size(), 2u);
  EXPECT_EQ(all->feedback.at("csat").responses, 1);
  EXPECT_EQ(all->feedback.at("csat").bad, 1);
  EXPECT_DOUBLE_EQ(all->feedback.at("csat").good_share(), 0);
  EXPECT_EQ(all->feedback.at("nps").good, 1);  // The survey from the event name.
  EXPECT_DOUBLE_EQ(all->feedback.at("nps").net(), 100);
  // The older Kpis shape agrees.
  EXPECT_EQ(a->kpis.contacts, 6);
  EXPECT_EQ(a->kpis.first_contacts, 3);
}

TEST(Analysis, RowsByChannelTeamAgentJourneyAndPeriod) {
  auto a = Analyze(Population(), Options());
  ASSERT_TRUE(a.ok()) << a.status();
  const auto contacts = [&](Period p, Dimension d, std::string_view v, std::optional<absl::CivilDay> start = {}) {
    const KpiRow* r = a->Row(p, d, v, start);
    return r == nullptr ? -1 : r->contacts;
  };
  EXPECT_EQ(contacts(Period::kTotal, Dimension::kChannel, "voice"), 3);
  EXPECT_EQ(contacts(Period::kTotal, Dimension::kChannel, "chat"), 1);
  EXPECT_EQ(contacts(Period::kTotal, Dimension::kChannel, "email"), 2);
  EXPECT_EQ(contacts(Period::kTotal, Dimension::kTeam, "voice"), 2);    // The event's team property.
  EXPECT_EQ(contacts(Period::kTotal, Dimension::kTeam, "digital"), 1);  // The options' mapping.
  EXPECT_EQ(contacts(Period::kTotal, Dimension::kTeam, "(none)"), 3);
  EXPECT_EQ(contacts(Period::kTotal, Dimension::kAgent, "agent-1"), 2);
  EXPECT_EQ(contacts(Period::kTotal, Dimension::kAgent, "(none)"), 3);
  // P1's three contacts fall while its support journey is open.
  EXPECT_EQ(contacts(Period::kTotal, Dimension::kJourney, "support"), 3);
  // Days, ISO weeks (Monday) and the month.
  EXPECT_EQ(contacts(Period::kDay, Dimension::kAll, "", absl::CivilDay(2026, 11, 2)), 2);
  EXPECT_EQ(contacts(Period::kDay, Dimension::kAll, "", absl::CivilDay(2026, 11, 9)), 1);
  EXPECT_EQ(contacts(Period::kWeek, Dimension::kAll, "", absl::CivilDay(2026, 11, 2)), 5);
  EXPECT_EQ(contacts(Period::kWeek, Dimension::kAll, "", absl::CivilDay(2026, 11, 9)), 1);
  EXPECT_EQ(contacts(Period::kMonth, Dimension::kAll, "", absl::CivilDay(2026, 11, 1)), 6);
  // The voice channel's wait: 15 s and 10 s answered, one abandoned.
  const KpiRow* voice = a->Row(Period::kTotal, Dimension::kChannel, "voice");
  EXPECT_EQ(voice->queued, 3);
  EXPECT_EQ(voice->abandoned, 1);
  EXPECT_EQ(voice->answered_within_sla, 2);
  // The CSAT follows the chat: it counts for chat, agent-2, digital and the open support journey.
  EXPECT_EQ(a->Row(Period::kTotal, Dimension::kChannel, "chat")->feedback.at("csat").responses, 1);
  EXPECT_EQ(a->Row(Period::kTotal, Dimension::kAgent, "agent-2")->feedback.at("csat").bad, 1);
  EXPECT_EQ(a->Row(Period::kTotal, Dimension::kTeam, "digital")->feedback.count("nps"), 0u);
  // The NPS follows P2's call (within 7 days, no conversation).
  EXPECT_EQ(a->Row(Period::kTotal, Dimension::kChannel, "voice")->feedback.at("nps").responses, 1);
  // Journey rows: one support instance, resolved after 3 days and an hour.
  const KpiRow* support = a->Row(Period::kTotal, Dimension::kJourney, "support");
  EXPECT_EQ(support->entered, 1);
  EXPECT_EQ(support->converted, 1);
  EXPECT_EQ(support->time_to_goal.Quantile(0.5), absl::Hours(73));
  EXPECT_EQ(support->feedback.at("csat").responses, 1);
}

TEST(Analysis, PeriodFilterKeepsEarlierContactsForRepeats) {
  AnalysisOptions o = Options();
  o.from = At(kDay);
  o.to = At(5 * kDay);
  auto a = Analyze(Population(), o);
  ASSERT_TRUE(a.ok()) << a.status();
  const KpiRow* all = a->Row(Period::kTotal, Dimension::kAll);
  EXPECT_EQ(all->start, absl::CivilDay(2026, 11, 3));
  EXPECT_EQ(all->contacts, 3);     // P2 day 1, P3 day 2, P1 day 3.
  EXPECT_EQ(all->repeat_long, 1);  // P1's email still repeats the chat before the period.
  EXPECT_EQ(all->feedback.count("csat"), 0u);  // Answered on day 0.
  EXPECT_EQ(all->feedback.at("nps").responses, 1);
  EXPECT_EQ(a->Row(Period::kTotal, Dimension::kJourney, "support")->entered, 0);  // Started on day 0.
}

TEST(Analysis, RootCausesWithLiftAndCounts) {
  auto a = Analyze(Population(), Options());
  ASSERT_TRUE(a.ok()) << a.status();
  const auto find = [&](std::string_view outcome, std::string_view feature) -> const RootCause* {
    for (const RootCause& c : a->root_causes) {
      if (c.outcome == outcome && c.feature == feature) return &c;
    }
    return nullptr;
  };
  // Complaints: the 5 contacts that are not one (all 7+ days before day 20); P2's call is followed
  // by the complaint 6 days later. Voice: 3 contacts, 1 followed: 1/3 against 1/5, lift 5/3.
  const RootCause* voice = find("complaint", "channel: voice");
  ASSERT_NE(voice, nullptr);
  EXPECT_EQ(voice->cases, 3);
  EXPECT_EQ(voice->outcomes, 1);
  EXPECT_EQ(voice->base_cases, 5);
  EXPECT_EQ(voice->base_outcomes, 1);
  EXPECT_NEAR(voice->lift(), 5.0 / 3, 1e-12);
  EXPECT_THAT(voice->examples, ElementsAre(ProfileRef{"", 2}));
  const RootCause* abandoned = find("complaint", "wait: abandoned");
  ASSERT_NE(abandoned, nullptr);
  EXPECT_NEAR(abandoned->lift(), 5.0, 1e-12);
  EXPECT_EQ(find("complaint", "channel: chat")->outcomes, 0);
  // Low CSAT: the one answer follows P1's chat, the second contact in 7 days, on another channel
  // than the call before, with an over-SLA wait, in the support journey's open state.
  for (const char* f : {"channel: chat", "team: digital", "repeat: 2nd contact in 7 d",
                        "switch: another channel than the previous contact", "wait: over the service level",
                        "state: support/open", "history: cross-channel history in the profile"}) {
    const RootCause* c = find("low csat", f);
    ASSERT_NE(c, nullptr) << f;
    EXPECT_EQ(c->cases, 1) << f;
    EXPECT_EQ(c->outcomes, 1) << f;
  }
  EXPECT_EQ(find("low nps", "channel: voice")->outcomes, 0);
  // Sorted by outcome, then lift.
  for (size_t i = 1; i < a->root_causes.size(); ++i) {
    const RootCause& x = a->root_causes[i - 1];
    const RootCause& y = a->root_causes[i];
    EXPECT_TRUE(x.outcome < y.outcome || (x.outcome == y.outcome && x.lift() >= y.lift()));
  }
  // The drill-down profiles' timelines are kept.
  ASSERT_EQ(a->examples.count(ProfileRef{"", 2}), 1u);
  const ExampleProfile& p2 = a->examples.at(ProfileRef{"", 2});
  EXPECT_EQ(p2.entries, 3);
  ASSERT_EQ(p2.lines.size(), 3u);
  EXPECT_EQ(p2.lines[0], "2026-11-03 09:00 voice call in \"Support Request\"");
  EXPECT_EQ(p2.lines[1], "2026-11-03 10:00 email feedback in \"NPS survey\" score=10");

  AnalysisOptions strict = Options();
  strict.min_support = 4;  // Only features seen on 4 or more cases.
  auto s = Analyze(Population(), strict);
  ASSERT_TRUE(s.ok());
  for (const RootCause& c : s->root_causes) EXPECT_GE(c.cases, 4) << c.feature;
}

// Two instances of the support journey open at the chat count it once as a feature; a survey
// named by its event is the first scale (in the options' order) the name contains: "CSAT process"
// also contains "ces".
TEST(Analysis, FeaturesCountOncePerCaseAndSurveysByNameInOrder) {
  Profiles profiles = {Profile(1,
                               {Inbound(0, v1::CHANNEL_VOICE, "v1"), Inbound(10, v1::CHANNEL_CHAT, "c1"),
                                Feedback(20, "c1", {{"score", "1"}}, "CSAT process survey")},
                               {SupportTrace(0, std::nullopt), SupportTrace(5, std::nullopt)})};
  auto a = Analyze(profiles, Options());
  ASSERT_TRUE(a.ok()) << a.status();
  const SurveyStats& csat = a->Row(Period::kTotal, Dimension::kAll)->feedback.at("csat");
  EXPECT_EQ(csat.responses, 1);
  EXPECT_EQ(csat.bad, 1);
  EXPECT_EQ(a->Row(Period::kTotal, Dimension::kAll)->feedback.count("ces"), 0u);
  const RootCause* open = nullptr;
  for (const RootCause& c : a->root_causes) {
    if (c.outcome == "low csat" && c.feature == "state: support/open") open = &c;
  }
  ASSERT_NE(open, nullptr);
  EXPECT_EQ(open->cases, 1);
  EXPECT_EQ(open->outcomes, 1);
}

TEST(Analysis, FeedbackScalesAndBadOptions) {
  Profiles profiles = {Profile(1, {Feedback(0, "", {{"survey", "csat"}, {"score", "9"}}),     // Out of 1-5.
                                   Feedback(1, "", {{"survey", "ces"}, {"rating", "6"}}),    // Easy.
                                   Feedback(2, "", {{"survey", "ces"}, {"score", "2"}}),     // Hard.
                                   Feedback(3, "", {{"survey", "mood"}, {"score", "2"}}),    // Unknown scale.
                                   Feedback(4, "", {{"comment", "fine"}}),                   // No score.
                                   Feedback(5, "", {{"survey", "csat"}, {"score", "nan"}})})};  // Not a number.
  auto a = Analyze(profiles, Options());
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->feedback_out_of_scale, 2);
  EXPECT_EQ(a->feedback_without_score, 2);
  const SurveyStats& ces = a->Row(Period::kTotal, Dimension::kAll)->feedback.at("ces");
  EXPECT_EQ(ces.responses, 2);
  EXPECT_EQ(ces.good, 1);
  EXPECT_EQ(ces.bad, 1);
  EXPECT_DOUBLE_EQ(ces.mean(), 4);
  // The feedback is the customer's own email: it counts there, with no contact before it.
  EXPECT_EQ(a->Row(Period::kTotal, Dimension::kChannel, "email")->feedback.at("ces").responses, 2);

  AnalysisOptions bad = Options();
  bad.feedback.scales.push_back({"stars", 1, 5, 3, 3});
  EXPECT_THAT(Analyze(profiles, bad).status().message(), ::testing::HasSubstr("feedback.scales: 'stars'"));
  bad = Options();
  bad.attribution_journeys = {"nope"};
  EXPECT_THAT(Analyze(profiles, bad).status().message(), ::testing::HasSubstr("attribution_journeys"));
  bad = Options();
  bad.to = bad.from = At(0);
  EXPECT_EQ(Analyze(profiles, bad).status().code(), absl::StatusCode::kInvalidArgument);
  bad = Options();
  bad.journeys.push_back(JourneyDefinition());
  EXPECT_THAT(Analyze(profiles, bad).status().message(), ::testing::HasSubstr("journeys: "));
}

TEST(Analysis, AttributionOnlyForMarketingJourneys) {
  Profiles profiles = Population();
  AnalysisOptions o = Options();
  auto plain = Analyze(profiles, o);
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(plain->attributions.empty());  // Support resolution is not a marketing conversion.
  ASSERT_EQ(plain->funnels.size(), 1u);
  o.journeys = {Support(/*attribution=*/true)};
  auto flagged = Analyze(profiles, o);
  ASSERT_TRUE(flagged.ok());
  ASSERT_EQ(flagged->attributions.size(), 1u);
  EXPECT_EQ(flagged->attributions[0].conversions, 1);
  o.journeys = {Support()};
  o.attribution_journeys = {"support"};
  EXPECT_EQ(Analyze(profiles, o)->attributions.size(), 1u);
}

// From day 4 on: P1's resolution (day 3 + 1h) is before the period, so nothing is credited, and
// P1 and P3 touch nothing in it; P2's email on day 7 is the one path and the one sequence that did
// not convert.
TEST(Analysis, PeriodAppliesToPathsAndAttribution) {
  AnalysisOptions o = Options();
  o.journeys = {Support(/*attribution=*/true)};
  auto all = Analyze(Population(), o);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->attributions[0].conversions, 1);
  EXPECT_EQ(all->attributions[0].null_paths, 2);  // P2 and P3.
  EXPECT_EQ(all->paths.profiles, 3);
  o.from = At(4 * kDay);
  auto later = Analyze(Population(), o);
  ASSERT_TRUE(later.ok()) << later.status();
  EXPECT_EQ(later->attributions[0].conversions, 0);
  EXPECT_EQ(later->attributions[0].converting_paths, 0);
  EXPECT_EQ(later->attributions[0].null_paths, 1);
  EXPECT_EQ(later->paths.profiles, 1);
  EXPECT_EQ(later->paths.first_touches[v1::CHANNEL_EMAIL], 1);
  ASSERT_EQ(later->paths.top.size(), 1u);
  EXPECT_EQ(later->paths.top[0].ToString(), "email");
  // Up to day 3 + 30 min: the resolution is not read, the touches before it did not convert (yet).
  o.from = absl::InfinitePast();
  o.to = At(3 * kDay + 30);
  auto earlier = Analyze(Population(), o);
  ASSERT_TRUE(earlier.ok()) << earlier.status();
  EXPECT_EQ(earlier->attributions[0].conversions, 0);
  EXPECT_EQ(earlier->attributions[0].null_paths, 3);
}

TEST(Analysis, MonitorBreaksDownObservedHistory) {
  EngineOptions options;
  SimulatedClock clock(At(100));
  options.clock = &clock;
  auto engine = Engine::Open(options);
  ASSERT_TRUE(engine.ok());
  ContactMonitor monitor;
  for (const Event& e : {Ev("p1", 0, v1::EVENT_KIND_PAGE, "Modem").Id("email", "eva@example.com").On(v1::CHANNEL_WEB).event(),
                         Ev("m1", 20, v1::EVENT_KIND_MESSAGE, "Message").Id("email", "eva@example.com").In(v1::CHANNEL_CHAT).event(),
                         Ev("c1", 30, v1::EVENT_KIND_CALL, "Call").Id("phone", "+420601123456").In(v1::CHANNEL_VOICE).event()}) {
    auto r = (*engine)->Ingest(e);
    ASSERT_TRUE(r.ok()) << r.status();
    monitor.Observe(**engine, e, *r);
  }
  EXPECT_EQ(monitor.Lookup("", "test", "m1"), std::optional<bool>(true));
  EXPECT_EQ(monitor.Lookup("", "test", "c1"), std::optional<bool>(false));
  EXPECT_EQ(monitor.Lookup("", "test", "p1"), std::nullopt);
  auto a = Analyze(**engine, {}, &monitor);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->as_of, (*engine)->Now());
  const KpiRow* chat = a->Row(Period::kTotal, Dimension::kChannel, "chat");
  ASSERT_NE(chat, nullptr);
  EXPECT_EQ(chat->observed_contacts, 1);
  EXPECT_EQ(chat->observed_with_history, 1);
  const KpiRow* voice = a->Row(Period::kTotal, Dimension::kChannel, "voice");
  EXPECT_EQ(voice->observed_contacts, 1);
  EXPECT_EQ(voice->observed_with_history, 0);
  EXPECT_EQ(a->kpis.observed_contacts, 2);
  EXPECT_EQ(a->kpis.contacts_with_history, 1);
}

TEST(JourneyMap, TransitionTimesCurrentStatesAndDropOff) {
  // Instances: open -> resolved after 2 h and after 6 h; one still open (2 days idle, active);
  // one open for 40 days (dropped there).
  Profiles profiles = {Profile(1, {}, {SupportTrace(0, 2 * kHour)}), Profile(2, {}, {SupportTrace(0, 6 * kHour)}),
                       Profile(3, {}, {SupportTrace(38 * kDay, std::nullopt)}),
                       Profile(4, {}, {SupportTrace(0, std::nullopt)})};
  FunnelOptions o;
  o.as_of = At(40 * kDay);
  o.examples = 1;
  auto f = Funnel(profiles, Support(), o);
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_EQ(f->states.size(), 2u);
  EXPECT_EQ(f->states[0].current, 2);
  EXPECT_EQ(f->states[0].ended_here, 1);  // The dropped one.
  EXPECT_EQ(f->states[1].ended_here, 0);  // A goal is not a drop-off.
  EXPECT_THAT(f->states[0].examples, ElementsAre(ProfileRef{"", 1}));
  const TransitionCount* resolved = nullptr;
  for (const TransitionCount& t : f->transitions) {
    if (t.to == "resolved") resolved = &t;
  }
  ASSERT_NE(resolved, nullptr);
  EXPECT_EQ(resolved->count, 2);
  EXPECT_EQ(resolved->time.median, absl::Hours(2));
  EXPECT_EQ(resolved->time.p90, absl::Hours(6));
}

TEST(ChannelPaths, FlowsByStepWithDropOff) {
  const auto page = [](int64_t minute, v1::Channel c) {
    return Entry(minute, c, v1::DIRECTION_UNSPECIFIED, v1::EVENT_KIND_PAGE);
  };
  Profiles profiles = {Profile(1, {page(0, v1::CHANNEL_ADS), page(1, v1::CHANNEL_WEB), page(2, v1::CHANNEL_STORE)}),
                       Profile(2, {page(0, v1::CHANNEL_ADS), page(1, v1::CHANNEL_WEB)}),
                       Profile(3, {page(0, v1::CHANNEL_WEB), page(1, v1::CHANNEL_WEB)})};
  ChannelPathReport r = ChannelPaths(profiles);
  EXPECT_EQ(r.first_touches[v1::CHANNEL_ADS], 2);
  EXPECT_EQ(r.first_touches[v1::CHANNEL_WEB], 1);
  std::vector<std::tuple<size_t, v1::Channel, v1::Channel, int64_t>> flows;
  for (const PathFlow& f : r.flows) flows.emplace_back(f.step, f.from, f.to, f.profiles);
  EXPECT_THAT(flows, ElementsAre(std::tuple{0, v1::CHANNEL_WEB, v1::CHANNEL_UNSPECIFIED, 1},
                                 std::tuple{0, v1::CHANNEL_ADS, v1::CHANNEL_WEB, 2},
                                 std::tuple{1, v1::CHANNEL_WEB, v1::CHANNEL_UNSPECIFIED, 1},
                                 std::tuple{1, v1::CHANNEL_WEB, v1::CHANNEL_STORE, 1},
                                 std::tuple{2, v1::CHANNEL_STORE, v1::CHANNEL_UNSPECIFIED, 1}));
  ASSERT_FALSE(r.top.empty());
  EXPECT_EQ(r.top[0].examples.size(), 1u);
}

// 5,000 profiles, most on a path of their own: the pass lets go of the timelines of the paths that
// do not lead (it prunes after 4,096 examples). "ads > web" leads all along; nine paths of 10
// profiles each start just before the first pruning and go on after it. The ten paths listed are
// exactly those, each with examples whose timelines are kept; a path tied with thousands of others
// is not listed.
TEST(ChannelPaths, ManyDistinctPathsKeepTheLeadingOnesExamples) {
  const auto page = [](int64_t minute, int channel) {
    return Entry(minute, static_cast<v1::Channel>(channel), v1::DIRECTION_UNSPECIFIED, v1::EVENT_KIND_PAGE);
  };
  Profiles profiles;
  for (int i = 0; i < 5000; ++i) {
    std::vector<TimelineEntry> timeline;
    if (i % 100 == 99) {
      timeline = {page(0, v1::CHANNEL_ADS), page(1, v1::CHANNEL_WEB)};
    } else if (i >= 4000 && i % 100 < 9) {
      // ads > one of channels 1-9 > ads: three steps, unlike every other path.
      timeline = {page(0, v1::CHANNEL_ADS), page(1, i % 100 + 1), page(2, v1::CHANNEL_ADS)};
    } else {
      // Channels 1-12, none twice in a row: a path of 4 of them per profile, each its own.
      int channel = i % 12;
      int rest = i / 12;
      for (int step = 0; step < 4; ++step) {
        if (step > 0) {
          channel = (channel + 1 + rest % 11) % 12;
          rest /= 11;
        }
        timeline.push_back(page(step, channel + 1));
      }
    }
    profiles.push_back(Profile(static_cast<ProfileId>(i + 1), std::move(timeline)));
  }
  AnalysisOptions o = Options();
  o.journeys.clear();
  auto a = Analyze(profiles, o);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->paths.distinct_paths, 5000 - 50 - 90 + 1 + 9);
  ASSERT_EQ(a->paths.top.size(), 10u);
  EXPECT_EQ(a->paths.top[0].ToString(), "ads > web");
  EXPECT_EQ(a->paths.top[0].profiles, 50);
  for (size_t i = 1; i < a->paths.top.size(); ++i) {
    const ChannelPath& path = a->paths.top[i];
    EXPECT_EQ(path.profiles, 10) << path.ToString();
    ASSERT_EQ(path.channels.size(), 3u) << path.ToString();
    EXPECT_EQ(path.channels.front(), v1::CHANNEL_ADS);
  }
  for (const ChannelPath& path : a->paths.top) {
    EXPECT_FALSE(path.examples.empty()) << path.ToString();
    for (const ProfileRef& ref : path.examples) {
      ASSERT_EQ(a->examples.count(ref), 1u) << path.ToString() << " " << ref.profile;
      EXPECT_EQ(a->examples.at(ref).lines.size(), path.channels.size()) << path.ToString();
    }
  }
  EXPECT_LE(a->examples.size(), 10u * o.examples);
}

TEST(DurationQuantiles, ExactThenBoundedWithinItsError) {
  DurationQuantiles q;
  for (int i = 1; i <= 100; ++i) q.Add(absl::Seconds(i));
  EXPECT_EQ(q.Quantile(0.5), absl::Seconds(50));
  EXPECT_EQ(q.Quantile(0.9), absl::Seconds(90));
  DurationQuantiles big;
  for (int i = 1; i <= 100000; ++i) big.Add(absl::Seconds(i));
  EXPECT_EQ(big.count(), 100000);
  const double median = absl::ToDoubleSeconds(big.Quantile(0.5));
  EXPECT_NEAR(median, 50000, 50000 * 0.004);
  EXPECT_NEAR(absl::ToDoubleSeconds(big.Quantile(0.9)), 90000, 90000 * 0.004);
  // 100,000 values, a few hundred buckets: far below 100,000 * 8 bytes.
  EXPECT_LT(big.MemoryBytes(), 100000u);
  DurationQuantiles merged = q;
  merged.Merge(big);
  EXPECT_EQ(merged.count(), 100100);
  EXPECT_NEAR(absl::ToDoubleSeconds(merged.Quantile(0.5)), 49950, 50000 * 0.004);
  // The same values in descending and in scattered order give the same quantiles.
  DurationQuantiles descending, scattered;
  for (int i = 100000; i >= 1; --i) descending.Add(absl::Seconds(i));
  for (int i = 0; i < 100000; ++i) scattered.Add(absl::Seconds(1 + (i * 7919) % 100000));
  for (double q : {0.01, 0.5, 0.9, 0.999, 1.0}) {
    EXPECT_EQ(descending.Quantile(q), big.Quantile(q)) << q;
    EXPECT_EQ(scattered.Quantile(q), big.Quantile(q)) << q;
  }
  DurationQuantiles negative;
  negative.Add(-absl::Seconds(5));
  EXPECT_EQ(negative.Quantile(0.5), absl::ZeroDuration());
  EXPECT_EQ(DurationQuantiles().Quantile(0.5), absl::ZeroDuration());
}

}  // namespace
}  // namespace omnijourney::analytics
