#include "omnijourney/event_json.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "google/protobuf/util/message_differencer.h"
#include "omnijourney/segment.h"
#include "test_util.h"

namespace omnijourney {
namespace {

using ::testing::HasSubstr;

TEST(EventJsonTest, RoundTripsSegmentFixtures) {
  for (const char* file : {"segment/identify.json", "segment/track_order.json", "segment/page.json",
                           "segment/batch.json"}) {
    auto parsed = ParseSegmentJson(omnijourney::testing::ReadTestData(file), {});
    ASSERT_TRUE(parsed.ok()) << file;
    for (const Event& e : parsed->events) {
      const std::string json = EventToJson(e);
      EXPECT_EQ(json.find('\n'), std::string::npos) << "one line per event";
      auto back = EventFromJson(json);
      ASSERT_TRUE(back.ok()) << back.status();
      EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(e, *back)) << json;
    }
  }
}

// Defect: the short enum names that ContextToJson writes and event.h documents were rejected.
TEST(EventJsonTest, AcceptsTheShortEnumNamesContextToJsonWrites) {
  auto e = EventFromJson(
      R"({"event_id":"c-1","source":"livechat","kind":"message","channel":"chat","direction":"inbound",
          "occurred_at":"2026-11-20T18:02:11Z","identifiers":[{"type":"email","value":"eva@example.com"}]})");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->kind(), v1::EVENT_KIND_MESSAGE);
  EXPECT_EQ(e->channel(), v1::CHANNEL_CHAT);
  EXPECT_EQ(e->direction(), v1::DIRECTION_INBOUND);
  auto bad = EventFromJson(R"({"event_id":"c-1","source":"s","kind":"purchase"})");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("does not match omnijourney.v1.Event"));
}

TEST(EventJsonTest, AcceptsCamelCaseAndEnumNames) {
  auto e = EventFromJson(
      R"({"eventId":"c-1","source":"livechat","kind":"EVENT_KIND_MESSAGE","channel":"CHANNEL_CHAT",
          "occurredAt":"2026-11-20T18:02:11Z","identifiers":[{"type":"email","value":"eva@example.com"}],
          "text":"Where is my parcel?","properties":{"topic":"delivery"}})");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->event_id(), "c-1");
  EXPECT_EQ(e->channel(), v1::CHANNEL_CHAT);
  EXPECT_EQ(e->occurred_at().seconds(), 1795197731);
  EXPECT_EQ(e->properties().fields().at("topic").string_value(), "delivery");
}

TEST(EventJsonTest, ErrorsNameLineAndProblem) {
  auto malformed = EventFromJson("{\"event_id\": \"x\",\n \"kind\": }");
  ASSERT_FALSE(malformed.ok());
  EXPECT_EQ(malformed.status().message(), "line 2, column 10: unexpected character '}', expected a value");

  auto unknown = EventFromJson(R"({"event_id":"x","colour":"green"})");
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(std::string(unknown.status().message()), HasSubstr("does not match omnijourney.v1.Event"));
  EXPECT_THAT(std::string(unknown.status().message()), HasSubstr("colour"));

  auto bad_enum = EventFromJson(R"({"event_id":"x","channel":"CHANNEL_PIGEON"})");
  ASSERT_FALSE(bad_enum.ok());
}

TEST(EventJsonTest, JsonLinesSkipBlanksAndKeepGoing) {
  ParsedEvents parsed = ParseEventJsonLines(
      "{\"event_id\":\"a\"}\n\n{\"event_id\":\n{\"event_id\":\"b\"}\r\n{\"nope\":1}\n");
  ASSERT_EQ(parsed.events.size(), 2u);
  EXPECT_EQ(parsed.events[0].event_id(), "a");
  EXPECT_EQ(parsed.events[1].event_id(), "b");
  ASSERT_EQ(parsed.errors.size(), 2u);
  EXPECT_EQ(parsed.errors[0].line, 3);
  EXPECT_EQ(parsed.errors[0].index, 1);
  EXPECT_THAT(std::string(parsed.errors[0].status.message()), HasSubstr("line 3, column 13"));
  EXPECT_EQ(parsed.errors[1].line, 5);
  EXPECT_THAT(std::string(parsed.errors[1].status.message()), HasSubstr("line 5: does not match"));
}

}  // namespace
}  // namespace omnijourney
