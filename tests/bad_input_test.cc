// The bad-input corpus: each input is rejected with a clear error naming what is wrong, and the
// engine's state is the same after the rejected inputs as before them (stats, every profile's
// context, pending actions).
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "omnijourney/context.h"
#include "omnijourney/engine.h"
#include "omnijourney/event_json.h"
#include "omnijourney/journey.h"
#include "omnijourney/segment.h"

namespace omnijourney {
namespace {

using ::omnijourney::testing::Ev;
using ::testing::HasSubstr;

constexpr char kBase[] = R"({"event_id":"bad-1","source":"web","kind":"EVENT_KIND_PAGE",)";
constexpr char kCookie[] = R"("identifiers":[{"type":"cookie","value":"ck-bad"}])";

std::string WithTime(const std::string& rfc3339) {
  return absl::StrCat(kBase, R"("occurred_at":")", rfc3339, R"(",)", kCookie, "}");
}
std::string WithField(const std::string& field_json) {
  return absl::StrCat(kBase, R"("occurred_at":"2026-11-01T10:00:00Z",)", field_json, ",", kCookie, "}");
}

// Everything observable of the engine, as text.
std::string Snapshot(Engine& engine, const std::vector<IdentifierQuery>& who) {
  const EngineStats s = engine.Stats();
  std::string out = absl::StrCat("events=", s.events, " duplicates=", s.duplicates, " profiles=", s.profiles,
                                 " entries=", s.timeline_entries, " identifiers=", s.identity.identifiers,
                                 " links=", s.identity.link_records, "\n");
  for (const IdentifierQuery& q : who) {
    auto ctx = engine.Context(q);
    absl::StrAppend(&out, q.type, ":", q.value, " -> ", ctx.ok() ? ContextToJson(*ctx) : ctx.status().ToString(), "\n");
  }
  return out;
}

class BadInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EngineOptions options;
    options.time_mode = EngineOptions::TimeMode::kEventTime;  // Contexts as of the data, not the clock.
    auto opened = Engine::Open(options);
    ASSERT_TRUE(opened.ok()) << opened.status();
    engine_ = std::move(*opened);
    auto journey = ParseJourneyText(R"(
      name: "support" version: 1
      entry { trigger { names: "Support Request" } }
      states { name: "open" transitions { to: "done" on { names: "Ticket Resolved" } }
                            transitions { to: "late" after { seconds: 86400 } } }
      states { name: "done" kind: STATE_KIND_GOAL }
      states { name: "late" kind: STATE_KIND_EXIT })");
    ASSERT_TRUE(journey.ok()) << journey.status();
    ASSERT_TRUE(engine_->AddJourney(*journey).ok());
    const std::vector<Event> good = {
        Ev("g1", 0, v1::EVENT_KIND_MESSAGE, "Support Request").Id("email", "eva@example.com").In(v1::CHANNEL_CHAT).event(),
        Ev("g2", 5, v1::EVENT_KIND_CALL, "Call Started").Id("phone", "+420 601 123 456").Id("email", "eva@example.com")
            .In(v1::CHANNEL_VOICE).event(),
        Ev("g3", 9, v1::EVENT_KIND_PAGE, "Page Viewed").Id("cookie", "ck-1").In(v1::CHANNEL_WEB).event()};
    for (const Event& e : good) ASSERT_TRUE(engine_->Ingest(e).ok());
    who_ = {{"", "email", "eva@example.com"}, {"", "cookie", "ck-1"}, {"", "cookie", "ck-bad"}};
    before_ = Snapshot(*engine_, who_);
  }
  // Parses `json` as an event and ingests it: returns the first error.
  absl::Status IngestJson(const std::string& json) {
    auto e = EventFromJson(json);
    if (!e.ok()) return e.status();
    auto r = engine_->Ingest(*e);
    return r.ok() ? absl::OkStatus() : r.status();
  }
  void ExpectUnchanged() { EXPECT_EQ(Snapshot(*engine_, who_), before_); }

  std::unique_ptr<Engine> engine_;
  std::vector<IdentifierQuery> who_;
  std::string before_;
};

TEST_F(BadInputTest, EventsAreRejectedWithTheFieldNamedAndChangeNothing) {
  std::string ids;
  for (int i = 0; i < 10000; ++i) absl::StrAppend(&ids, i ? "," : "", R"({"type":"cookie","value":"c)", i, R"("})");
  std::string few;  // 40: over the limit of 32 identifiers, under the size limit.
  for (int i = 0; i < 40; ++i) absl::StrAppend(&few, i ? "," : "", R"({"type":"cookie","value":"c)", i, R"("})");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {WithField(R"("identifiers":[{"type":"cookie")"), "line 1, column"},  // Truncated.
      {R"({"event_id":7,"source":"web"})", "event_id"},           // Wrong type.
      {WithField(R"("kind":["EVENT_KIND_PAGE"])"), "kind"},
      {WithTime("0000-01-01T00:00:00Z"), "occurred_at"},
      {WithTime("9999-12-31T23:59:59Z"), "occurred_at"},
      {WithTime("2026-13-45T99:00:00Z"), "occurred_at"},
      {absl::StrCat(kBase, R"("occurred_at":"2026-11-01T10:00:00Z","identifiers":[)", ids, "]}"),
       "exceeds the limit of 32768"},  // 10,000 identifiers: the size limit comes first.
      {absl::StrCat(kBase, R"("occurred_at":"2026-11-01T10:00:00Z","identifiers":[)", few, "]}"), "identifiers"},
      {WithField(absl::StrCat(R"("text":")", std::string(100000, 'x'), R"(")")), "exceeds the limit of 32768"},
      {WithField(absl::StrCat(R"("name":")", std::string(1 << 20, 'n'), R"(")")), "exceeds the limit of 32768"},
      {WithField(absl::StrCat(R"("name":")", std::string(3000, 'n'), R"(")")), "name"},
      {WithField("\"name\":\"bad \xff\xfe\""), "UTF-8"},
      {WithField(absl::StrCat(R"("properties":{"a":)", std::string(3000, '['), std::string(3000, ']'), "}")),
       "nesting deeper than"},
      {R"({"event_id":"bad-1","source":"web","kind":"EVENT_KIND_PAGE","occurred_at":"2026-11-01T10:00:00Z","identifiers":[{"type":"email","value":"null"}]})",
       "identifiers"},
  };
  for (const auto& [json, field] : cases) {
    const absl::Status s = IngestJson(json);
    EXPECT_FALSE(s.ok()) << json.substr(0, 120);
    EXPECT_THAT(std::string(s.message()), HasSubstr(field)) << json.substr(0, 120);
  }
  ExpectUnchanged();
}

TEST_F(BadInputTest, SegmentInputIsRejectedWithTheFieldNamedAndChangesNothing) {
  const SegmentOptions options;
  const std::vector<std::pair<std::string, std::string>> documents = {
      {R"({"type":"track","event":"x","userId":"u1","properties":{"a":1)", "line 1"},  // Truncated.
      {absl::StrCat(R"({"type":"track","event":"x","userId":"u","properties":{"a":)", std::string(5000, '['),
                    std::string(5000, ']'), "}}"),
       "deep"},
      {"{\"type\":\"track\",\"event\":\"x\xc3\",\"userId\":\"u\"}", "UTF-8"},
      {"", "empty"},
  };
  for (const auto& [json, what] : documents) {
    auto parsed = ParseSegmentJson(json, options);
    ASSERT_FALSE(parsed.ok()) << json.substr(0, 120);
    EXPECT_THAT(std::string(parsed.status().message()), HasSubstr(what)) << json.substr(0, 120);
  }
  const std::vector<std::pair<std::string, std::string>> records = {
      {R"({"type":"track","event":["x"],"messageId":"m1","timestamp":"2026-11-01T10:00:00Z","userId":"u1"})",
       "event: expected a string, got an array"},
      {R"({"type":"track","messageId":"m1","timestamp":"2026-11-01T10:00:00Z","userId":"u1"})", "event"},
      {R"({"type":"teleport","messageId":"m1","timestamp":"2026-11-01T10:00:00Z","userId":"u1"})", "type"},
      {R"({"type":"track","messageId":"m1","event":"x","userId":"u1","timestamp":"year 0"})", "timestamp"},
      {R"({"type":"track","messageId":"m1","event":"x","userId":"u1"})", "timestamp: missing"},
      {R"({"type":"track","messageId":"m1","timestamp":"2026-11-01T10:00:00Z","event":"x"})", "userId"},
  };
  for (const auto& [json, field] : records) {
    auto parsed = ParseSegmentJson(json, options);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    ASSERT_EQ(parsed->errors.size(), 1u) << json;
    EXPECT_TRUE(parsed->events.empty()) << json;
    EXPECT_THAT(std::string(parsed->errors[0].status.message()), HasSubstr(field)) << json;
  }
  ExpectUnchanged();
}

TEST_F(BadInputTest, JourneyFilesAreRejectedWithThePathNamedAndChangeNothing) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"(name: "c" version: 1 entry { trigger { names: "x" } }
          states { name: "a" transitions { to: "b" after { seconds: 60 } } }
          states { name: "b" transitions { to: "a" after { seconds: 60 } } })",
       "states[1].transitions[0]: timeouts form a cycle (a -> b -> a)"},
      {R"(name: "m" version: 1 entry { trigger { names: "x" } }
          states { name: "a" transitions { to: "nowhere" on { names: "y" } } })",
       "states[0].transitions[0].to: unknown state 'nowhere'"},
      {R"(name: "e" version: 1 entry { trigger { names: "x" } state: "ghost" }
          states { name: "a" kind: STATE_KIND_GOAL })",
       "entry.state: unknown state 'ghost'"},
      {R"(name: "t" version: 1 entry { trigger { names: "x" } )", "line"},  // Truncated.
      {R"(name: 5)", "line 1, column 7"},
  };
  for (const auto& [text, message] : cases) {
    auto j = ParseJourneyText(text);
    ASSERT_FALSE(j.ok()) << text;
    EXPECT_THAT(std::string(j.status().message()), HasSubstr(message)) << text;
  }
  // An invalid definition given to the engine directly is refused too.
  JourneyDefinition broken;
  broken.set_name("broken");
  broken.set_version(1);
  EXPECT_FALSE(engine_->AddJourney(broken).ok());
  ExpectUnchanged();
  EXPECT_TRUE(engine_->TakeActions().empty());
}

}  // namespace
}  // namespace omnijourney
