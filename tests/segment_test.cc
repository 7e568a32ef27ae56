#include "omnijourney/segment.h"

#include <string>

#include "absl/time/civil_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "absl/strings/str_cat.h"
#include "omnijourney/event_json.h"
#include "omnijourney/validate.h"
#include "test_util.h"

namespace omnijourney {
namespace {

using ::omnijourney::testing::ReadTestData;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using ::testing::Pair;

absl::Time Utc(int y, int mo, int d, int h = 0, int mi = 0, int s = 0) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s), absl::UTCTimeZone());
}

std::vector<std::pair<std::string, std::string>> Ids(const Event& e) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& id : e.identifiers()) out.emplace_back(id.type(), id.value());
  return out;
}

Event ParseOne(const std::string& json, const SegmentOptions& options = {}) {
  auto parsed = ParseSegmentJson(json, options);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  if (!parsed.ok()) return Event();
  EXPECT_TRUE(parsed->errors.empty()) << parsed->errors[0].status;
  EXPECT_EQ(parsed->events.size(), 1u);
  return parsed->events.empty() ? Event() : parsed->events[0];
}

std::string ErrorOf(const std::string& json, const SegmentOptions& options = {}) {
  auto parsed = ParseSegmentJson(json, options);
  if (!parsed.ok()) return std::string(parsed.status().message());
  EXPECT_TRUE(parsed->events.empty());
  if (parsed->errors.size() != 1) return "expected one error";
  EXPECT_EQ(parsed->errors[0].status.code(), absl::StatusCode::kInvalidArgument);
  return std::string(parsed->errors[0].status.message());
}

TEST(SegmentTest, IdentifyFixture) {
  SegmentOptions options;
  options.source = "segment:web";
  options.tenant = "acme";
  Event e = ParseOne(ReadTestData("segment/identify.json"), options);
  EXPECT_EQ(e.event_id(), "022bb90c-bbac-11e4-8dfc-aa07a5b093db");
  EXPECT_EQ(e.source(), "segment:web");
  EXPECT_EQ(e.tenant(), "acme");
  EXPECT_EQ(e.kind(), v1::EVENT_KIND_IDENTIFY);
  EXPECT_EQ(e.direction(), v1::DIRECTION_INTERNAL);
  EXPECT_EQ(e.channel(), v1::CHANNEL_WEB);
  EXPECT_EQ(e.provider(), "segment");
  EXPECT_EQ(FromTimestamp(e.occurred_at()), Utc(2015, 2, 23, 22, 28, 55) + absl::Milliseconds(111));
  EXPECT_EQ(FromTimestamp(e.received_at()), Utc(2015, 2, 23, 22, 28, 55) + absl::Milliseconds(387));
  EXPECT_THAT(Ids(e), ElementsAre(Pair("user_id", "97980cfea0067"),
                                  Pair("anonymous_id", "507f191e810c19729de860ea"),
                                  Pair("email", "peter@example.com"), Pair("phone", "+420 601 123 456")));
  EXPECT_EQ(e.traits().fields().at("plan").string_value(), "premium");
  EXPECT_EQ(e.traits().fields().at("logins").number_value(), 5);
  EXPECT_EQ(e.traits().fields().at("address").struct_value().fields().at("city").string_value(),
            "San Francisco");
  EXPECT_EQ(e.context().ip(), "8.8.8.8");
  EXPECT_EQ(e.context().locale(), "cs-CZ");
  EXPECT_EQ(e.context().timezone(), "Europe/Prague");
  EXPECT_EQ(e.context().library(), "analytics.js/2.11.1");
  EXPECT_TRUE(ValidateEvent(e, {}, Utc(2026, 11, 22)).ok()) << ValidateEvent(e, {}, Utc(2026, 11, 22));
}

TEST(SegmentTest, TrackOrderFixtureCorrectsDeviceClockSkew) {
  Event e = ParseOne(ReadTestData("segment/track_order.json"));
  EXPECT_EQ(e.kind(), v1::EVENT_KIND_ORDER);
  EXPECT_EQ(e.name(), "Order Completed");
  EXPECT_EQ(e.channel(), v1::CHANNEL_APP);
  EXPECT_EQ(e.direction(), v1::DIRECTION_INBOUND);
  // The device clock ran 55 s ahead: receivedAt - (sentAt - originalTimestamp).
  EXPECT_EQ(FromTimestamp(e.occurred_at()), Utc(2026, 11, 20, 9, 59, 5));
  EXPECT_EQ(FromTimestamp(e.sent_at()), Utc(2026, 11, 20, 10, 0, 5));
  EXPECT_THAT(Ids(e), ElementsAre(Pair("user_id", "019mr8mf4r"), Pair("email", "Eva.Novak@Example.com"),
                                  Pair("device_id", "B5372DB0-C21E-11E4-8DFC-AA07A5B093DB"),
                                  Pair("push_token",
                                       "ff15bc0c20c4aa6cd50854ff165fd265c838e5405bfeb9571066395b8c9da449")));
  // An order's value is its total (the e-commerce spec: revenue leaves out shipping and tax); the
  // currency is upper-cased.
  EXPECT_EQ(e.value().currency(), "CZK");
  EXPECT_EQ(e.value().units(), 27);
  EXPECT_EQ(e.value().nanos(), 500000000);
  EXPECT_EQ(e.properties().fields().at("products").list_value().values_size(), 1);
  EXPECT_EQ(e.traits().fields().at("email").string_value(), "Eva.Novak@Example.com");
  EXPECT_EQ(e.context().device().advertising_id(), "7A3CBEA0-BDF5-11E4-8DFC-AA07A5B093DB");
  EXPECT_EQ(e.context().device().os_name(), "iPhone OS");
  EXPECT_EQ(e.context().device().model(), "iPhone7,2");
  EXPECT_EQ(e.context().app().build(), "3.0.1.545");
}

TEST(SegmentTest, PageFixtureWithEpochMillisAndCampaign) {
  Event e = ParseOne(ReadTestData("segment/page.json"));
  EXPECT_EQ(e.kind(), v1::EVENT_KIND_PAGE);
  EXPECT_EQ(e.name(), "Green Sofa");
  EXPECT_EQ(e.channel(), v1::CHANNEL_WEB);
  EXPECT_EQ(FromTimestamp(e.occurred_at()), absl::FromUnixMillis(1763632800123));
  EXPECT_THAT(Ids(e), ElementsAre(Pair("anonymous_id", "cookie-abc-123")));
  EXPECT_EQ(e.context().page().title(), "Green Sofa (context wins)");
  EXPECT_EQ(e.context().page().url(), "https://shop.example.com/sofas/green?utm_source=google");
  EXPECT_EQ(e.context().page().path(), "/sofas/green");
  EXPECT_EQ(e.context().campaign().medium(), "cpc");
  EXPECT_EQ(e.context().campaign().term(), "green sofa");
  EXPECT_EQ(e.properties().fields().at("category").string_value(), "Furniture");
}

TEST(SegmentTest, BatchEnvelopeSharesSentAtAndContextAndReportsBadItems) {
  auto parsed = ParseSegmentJson(ReadTestData("segment/batch.json"), {});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->events.size(), 5u);
  ASSERT_EQ(parsed->errors.size(), 2u);
  EXPECT_EQ(parsed->errors[0].index, 5);
  EXPECT_EQ(parsed->errors[0].line, 0);
  EXPECT_EQ(parsed->errors[0].status.message(), "batch[5].event: missing (required for track calls)");
  EXPECT_EQ(parsed->errors[1].index, 6);
  EXPECT_EQ(parsed->errors[1].status.message(), "batch[6]: expected an object, got a string");

  const auto& ev = parsed->events;
  EXPECT_EQ(ev[0].kind(), v1::EVENT_KIND_IDENTIFY);
  EXPECT_EQ(ev[1].kind(), v1::EVENT_KIND_TRACK);
  EXPECT_EQ(ev[1].name(), "Product Viewed");
  // originalTimestamp without receivedAt: taken as is.
  EXPECT_EQ(FromTimestamp(ev[1].occurred_at()), Utc(2026, 11, 20, 10, 1));
  for (const Event& e : ev) {
    EXPECT_EQ(FromTimestamp(e.sent_at()), Utc(2026, 11, 20, 10, 6)) << e.event_id();
    EXPECT_EQ(e.context().library(), "analytics-python/2.2.2") << e.event_id();
  }
  EXPECT_EQ(ev[2].kind(), v1::EVENT_KIND_SCREEN);
  EXPECT_EQ(ev[2].channel(), v1::CHANNEL_APP);
  EXPECT_EQ(FromTimestamp(ev[2].occurred_at()), Utc(2026, 11, 20, 9, 2));
  EXPECT_EQ(ev[2].context().locale(), "en-GB");  // The message's own context wins.
  EXPECT_EQ(ev[0].context().locale(), "cs-CZ");
  EXPECT_EQ(ev[3].kind(), v1::EVENT_KIND_GROUP);
  EXPECT_EQ(ev[3].group_id(), "household-7");
  EXPECT_EQ(ev[4].kind(), v1::EVENT_KIND_ALIAS);
  EXPECT_EQ(ev[4].previous_id().type(), "anonymous_id");
  EXPECT_EQ(ev[4].previous_id().value(), "cookie-abc-123");
  for (const Event& e : ev) {
    EXPECT_TRUE(ValidateEvent(e, {}, Utc(2026, 11, 22)).ok()) << ValidateEvent(e, {}, Utc(2026, 11, 22));
  }
}

TEST(SegmentTest, JsonLinesReportLineNumbersAndKeepGoodLines) {
  ParsedEvents parsed = ParseSegmentJsonLines(ReadTestData("segment/events.jsonl"), {});
  ASSERT_EQ(parsed.events.size(), 4u);
  EXPECT_EQ(parsed.events[0].event_id(), "l-1");
  EXPECT_EQ(parsed.events[1].event_id(), "l-3");
  // Line 5 has no messageId: it gets one made from its content, with a warning.
  EXPECT_THAT(parsed.events[2].event_id(), StartsWith("gen-"));
  EXPECT_EQ(parsed.events[3].event_id(), "l-4");
  ASSERT_EQ(parsed.errors.size(), 1u);
  EXPECT_EQ(parsed.errors[0].line, 3);
  EXPECT_EQ(parsed.errors[0].index, 1);
  EXPECT_THAT(std::string(parsed.errors[0].status.message()),
              HasSubstr("line 3, column 114: unexpected end of input"));
  ASSERT_EQ(parsed.warnings.size(), 1u);
  EXPECT_EQ(parsed.warnings[0].line, 5);
  EXPECT_EQ(parsed.warnings[0].index, 3);
  EXPECT_THAT(parsed.warnings[0].message, StartsWith("line 5: messageId: missing; made from the message: gen-"));
  // The same payload again is the same event.
  EXPECT_EQ(ParseSegmentJsonLines(ReadTestData("segment/events.jsonl"), {}).events[2].event_id(),
            parsed.events[2].event_id());
}

TEST(SegmentTest, MalformedDocumentIsOneErrorWithPosition) {
  auto parsed = ParseSegmentJson("{\"type\": \"track\",\n \"event\": [1, 2,, 3]}", {});
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(parsed.status().message(), "line 2, column 17: unexpected character ',', expected a value");
}

TEST(SegmentTest, TopLevelArrayOfMessages) {
  auto parsed = ParseSegmentJson(
      R"([{"type":"track","event":"A","userId":"u","messageId":"1","timestamp":"2026-01-01T00:00:00Z"},
          {"type":"track","event":"B","userId":"u","messageId":"2","timestamp":"2026-01-01T00:00:01Z"}])",
      {});
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed->events.size(), 2u);
  EXPECT_EQ(parsed->events[1].name(), "B");
}

TEST(SegmentTest, TimestampDerivationOrder) {
  const std::string base = R"({"type":"track","event":"E","userId":"u","messageId":"m")";
  EXPECT_EQ(FromTimestamp(ParseOne(base + R"(,"timestamp":"2026-01-01T00:00:00Z","originalTimestamp":"2020-01-01T00:00:00Z"})").occurred_at()),
            Utc(2026, 1, 1));
  EXPECT_EQ(FromTimestamp(ParseOne(base + R"(,"receivedAt":"2026-01-01T00:00:00Z"})").occurred_at()),
            Utc(2026, 1, 1));
  EXPECT_EQ(FromTimestamp(ParseOne(base + R"(,"sentAt":"2026-01-01T00:00:00Z"})").occurred_at()),
            Utc(2026, 1, 1));
  EXPECT_EQ(FromTimestamp(ParseOne(base + R"(,"originalTimestamp":"2026-01-01T00:00:00Z","sentAt":"2026-01-01T00:01:00Z","receivedAt":"2026-01-01T00:00:30Z"})").occurred_at()),
            Utc(2025, 12, 31, 23, 59, 30));
  // Epoch milliseconds as a digit string.
  EXPECT_EQ(FromTimestamp(ParseOne(base + R"(,"timestamp":"1767225600000"})").occurred_at()),
            Utc(2026, 1, 1));
  EXPECT_EQ(ErrorOf(base + "}"),
            "timestamp: missing (none of timestamp, originalTimestamp, receivedAt, sentAt)");
}

TEST(SegmentTest, ConversionErrorsNameTheField) {
  EXPECT_EQ(ErrorOf(R"({"userId":"u","messageId":"m","timestamp":"2026-01-01T00:00:00Z"})"), "type: missing");
  EXPECT_EQ(ErrorOf(R"({"type":"purchase","userId":"u","messageId":"m"})"),
            "type: unsupported call type 'purchase' (expected identify, track, page, screen, group, alias or delete)");
  SegmentOptions no_generated_ids;
  no_generated_ids.generate_message_id = false;
  EXPECT_EQ(ErrorOf(R"({"type":"identify","userId":"u","timestamp":"2026-01-01T00:00:00Z"})", no_generated_ids),
            "messageId: missing");
  EXPECT_EQ(ErrorOf(R"({"type":"identify","messageId":"m","timestamp":"2026-01-01T00:00:00Z"})"),
            "userId: missing (a message needs userId or anonymousId)");
  EXPECT_EQ(ErrorOf(R"({"type":"identify","userId":{"a":1},"messageId":"m","timestamp":"2026-01-01T00:00:00Z"})"),
            "userId: expected a string, got an object");
  EXPECT_EQ(ErrorOf(R"({"type":"identify","userId":"u","messageId":"m","timestamp":"yesterday"})"),
            "timestamp: 'yesterday' is not an ISO-8601 date-time: expected YYYY-MM-DD");
  EXPECT_EQ(ErrorOf(R"({"type":"identify","userId":"u","messageId":"m","timestamp":true})"),
            "timestamp: expected an ISO-8601 string or epoch milliseconds, got a boolean");
  EXPECT_EQ(ErrorOf(R"({"type":"identify","userId":"u","messageId":"m","timestamp":1e300})"),
            "timestamp: epoch milliseconds out of range");
  EXPECT_EQ(ErrorOf(R"({"type":"alias","userId":"u","messageId":"m","timestamp":"2026-01-01T00:00:00Z"})"),
            "previousId: missing (required for alias calls)");
  EXPECT_EQ(ErrorOf(R"({"type":"group","userId":"u","messageId":"m","timestamp":"2026-01-01T00:00:00Z"})"),
            "groupId: missing (required for group calls)");
  EXPECT_EQ(ErrorOf(R"("just a string")"), "message: expected an object, got a string");
  EXPECT_EQ(ErrorOf(R"({"batch":{}})"), "batch: expected an array, got an object");
}

// Defect: one field of the wrong type in what describes the event (its context, properties, traits,
// channel) rejected the whole message, where Segment keeps it and drops the field.
TEST(SegmentTest, ADescriptiveFieldOfTheWrongTypeIsDroppedWithAWarning) {
  auto parsed = ParseSegmentJson(
      R"({"type":"track","event":"E","userId":"u","messageId":"m","timestamp":"2026-01-01T00:00:00Z","channel":true,)"
      R"("properties":"x","traits":[1],"context":{"page":{"url":false,"title":"T"},"device":"phone","ip":"8.8.8.8"}})",
      {});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_TRUE(parsed->errors.empty()) << parsed->errors[0].status;
  ASSERT_EQ(parsed->events.size(), 1u);
  const Event& e = parsed->events[0];
  EXPECT_EQ(e.context().ip(), "8.8.8.8");
  EXPECT_EQ(e.context().page().title(), "T");
  EXPECT_TRUE(e.context().page().url().empty());
  EXPECT_TRUE(e.properties().fields().empty());
  std::vector<std::string> warnings;
  for (const RecordWarning& w : parsed->warnings) warnings.push_back(w.message);
  EXPECT_THAT(warnings, ::testing::UnorderedElementsAre("properties: expected an object, got a string; dropped",
                                                        "traits: expected an object, got an array; dropped",
                                                        "context.page.url: expected a string, got a boolean; dropped",
                                                        "context.device: expected an object, got a string; dropped",
                                                        "channel: expected a string, got a boolean; dropped"));
  EXPECT_EQ(parsed->warning_counts, (std::map<std::string, int64_t>{{"dropped_field", 5}}));
  // A context that is not an object is dropped whole.
  Event bare = ParseOne(R"({"type":"identify","userId":"u","messageId":"m","timestamp":"2026-01-01T00:00:00Z","context":[]})");
  EXPECT_EQ(bare.kind(), v1::EVENT_KIND_IDENTIFY);
}

TEST(SegmentTest, NumericUserIdAndNullFieldsAreTolerated) {
  Event e = ParseOne(
      R"({"type":"identify","userId":12345,"anonymousId":null,"messageId":"m","timestamp":"2026-01-01T00:00:00Z","traits":{"email":null}})");
  EXPECT_THAT(Ids(e), ElementsAre(Pair("user_id", "12345")));
}

TEST(SegmentTest, DuplicateIdentifiersAreAddedOnce) {
  Event e = ParseOne(
      R"({"type":"identify","userId":"u","messageId":"m","timestamp":"2026-01-01T00:00:00Z","traits":{"email":"a@b.c"},"context":{"traits":{"email":"a@b.c"}}})");
  EXPECT_THAT(Ids(e), ElementsAre(Pair("user_id", "u"), Pair("email", "a@b.c")));
}

TEST(SegmentTest, OptionsChangeTheMapping) {
  SegmentOptions options;
  options.channel = v1::CHANNEL_WHATSAPP;
  options.alias_previous_id_type = "user_id";
  options.trait_identifiers["loyaltyCard"] = "loyalty_card";
  options.order_events_as_orders = false;
  options.default_currency = "EUR";
  Event e = ParseOne(
      R"({"type":"track","event":"Order Completed","userId":"u","messageId":"m","timestamp":"2026-01-01T00:00:00Z","traits":{"loyaltyCard":"LC-77"},"properties":{"total":19.99}})",
      options);
  EXPECT_EQ(e.kind(), v1::EVENT_KIND_TRACK);
  EXPECT_EQ(e.channel(), v1::CHANNEL_WHATSAPP);
  EXPECT_THAT(Ids(e), ElementsAre(Pair("user_id", "u"), Pair("loyalty_card", "LC-77")));
  EXPECT_EQ(e.value().currency(), "EUR");
  EXPECT_EQ(e.value().units(), 19);
  EXPECT_EQ(e.value().nanos(), 990000000);
  Event alias = ParseOne(
      R"({"type":"alias","userId":"new","previousId":"old","messageId":"m2","timestamp":"2026-01-01T00:00:00Z"})",
      options);
  EXPECT_EQ(alias.previous_id().type(), "user_id");
}

TEST(SegmentTest, NegativeAmountsKeepOneSign) {
  Event e = ParseOne(
      R"({"type":"track","event":"Order Refunded","userId":"u","messageId":"m","timestamp":"2026-01-01T00:00:00Z","properties":{"revenue":-12.25,"currency":"EUR"}})");
  EXPECT_EQ(e.kind(), v1::EVENT_KIND_ORDER);
  EXPECT_EQ(e.value().units(), -12);
  EXPECT_EQ(e.value().nanos(), -250000000);
  EXPECT_TRUE(ValidateEvent(e, {}, Utc(2026, 11, 22)).ok());
}

TEST(SegmentTest, DeepJsonIsRejectedByDepthLimit) {
  std::string deep = R"({"type":"track","event":"E","userId":"u","messageId":"m","properties":)";
  for (int i = 0; i < 70; ++i) deep += "{\"a\":";
  deep += "1";
  for (int i = 0; i < 70; ++i) deep += "}";
  deep += "}";
  auto parsed = ParseSegmentJson(deep, {});
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(std::string(parsed.status().message()), HasSubstr("nesting deeper than 64 levels"));
}

}  // namespace
// Parses one message that must convert, with its warnings.
std::pair<Event, std::vector<std::string>> WithWarnings(const std::string& json, const SegmentOptions& options = {}) {
  auto parsed = ParseSegmentJson(json, options);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  std::vector<std::string> warnings;
  if (!parsed.ok() || parsed->events.size() != 1) {
    ADD_FAILURE() << "not one event";
    return {};
  }
  for (const RecordWarning& w : parsed->warnings) warnings.push_back(w.message);
  return {parsed->events[0], warnings};
}

// Defect: a JavaScript float just under a whole cent rejected the whole order.
TEST(SegmentTest, AmountJustUnderAWholeCentIsThatCent) {
  auto [e, warnings] = WithWarnings(
      R"({"type":"track","event":"Order Completed","userId":"u","messageId":"m","timestamp":"2026-01-01T00:00:00Z","properties":{"revenue":434.99999999999994,"currency":"usd"}})");
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(e.kind(), v1::EVENT_KIND_ORDER);
  EXPECT_EQ(e.value().currency(), "USD");
  EXPECT_EQ(e.value().units(), 435);
  EXPECT_EQ(e.value().nanos(), 0);
  EXPECT_TRUE(ValidateEvent(e, {}, Utc(2026, 1, 2)).ok());
  // A real fraction of a cent is kept to the micro-unit.
  auto [fx, none] = WithWarnings(
      R"({"type":"track","event":"Rate Quoted","userId":"u","messageId":"m","timestamp":"2026-01-01T00:00:00Z","properties":{"revenue":0.123456}})");
  EXPECT_EQ(fx.value().nanos(), 123456000);
}

// Defects: `value` became USD money; an order took revenue where total is its value; a bad amount or
// currency dropped the whole message with its identity data.
TEST(SegmentTest, OrderValueIsTotalValueStaysAPropertyAndBadAmountsOnlyWarn) {
  auto [order, w1] = WithWarnings(
      R"({"type":"track","event":"Order Completed","userId":"u","messageId":"m","timestamp":"2026-01-01T00:00:00Z","properties":{"total":30,"revenue":25,"currency":"EUR"}})");
  EXPECT_EQ(order.value().units(), 30);
  auto [scored, w2] = WithWarnings(
      R"({"type":"track","event":"Lead Scored","userId":"u","messageId":"m","timestamp":"2026-01-01T00:00:00Z","properties":{"value":42}})");
  EXPECT_FALSE(scored.has_value());
  EXPECT_EQ(scored.properties().fields().at("value").number_value(), 42);
  auto [bad, w3] = WithWarnings(
      R"({"type":"track","event":"Order Completed","userId":"u","messageId":"m","timestamp":"2026-01-01T00:00:00Z","traits":{"email":"eva@example.com"},"properties":{"revenue":"12"}})");
  EXPECT_FALSE(bad.has_value());
  EXPECT_THAT(Ids(bad), ElementsAre(Pair("user_id", "u"), Pair("email", "eva@example.com")));
  ASSERT_EQ(w3.size(), 1u);
  EXPECT_EQ(w3[0], "properties.revenue: expected a number, got a string; not used as the value");
  auto [odd, w4] = WithWarnings(
      R"({"type":"track","event":"Order Completed","userId":"u","messageId":"m","timestamp":"2026-01-01T00:00:00Z","properties":{"revenue":12,"currency":"dollars"}})");
  EXPECT_FALSE(odd.has_value());
  EXPECT_EQ(odd.properties().fields().at("revenue").number_value(), 12);
  ASSERT_EQ(w4.size(), 1u);
  EXPECT_THAT(w4[0], HasSubstr("'DOLLARS' is not an ISO 4217 code"));
}

// Defect: one bad identifier trait rejected the whole message.
TEST(SegmentTest, BadIdentifierTraitIsDroppedWithAWarning) {
  auto [e, warnings] = WithWarnings(
      R"({"type":"identify","userId":"u","messageId":"m","timestamp":"2026-01-01T00:00:00Z","traits":{"email":false,"name":"Eva"}})");
  EXPECT_THAT(Ids(e), ElementsAre(Pair("user_id", "u")));
  EXPECT_EQ(e.traits().fields().at("name").string_value(), "Eva");
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0], "traits.email: expected a string, got a boolean; not used as an identifier");
}

// Defect: raw HTTP-API payloads without messageId were all dropped.
TEST(SegmentTest, MissingMessageIdIsMadeFromTheContent) {
  const std::string a = R"({"type":"track","event":"Signed Up","userId":"u","timestamp":"2026-01-01T00:00:00Z"})";
  const std::string b = R"({"type":"track","event":"Signed Up","userId":"v","timestamp":"2026-01-01T00:00:00Z"})";
  auto [ea, wa] = WithWarnings(a);
  auto [ea2, wa2] = WithWarnings(a);
  auto [eb, wb] = WithWarnings(b);
  EXPECT_THAT(ea.event_id(), StartsWith("gen-"));
  EXPECT_EQ(ea.event_id(), ea2.event_id());
  EXPECT_NE(ea.event_id(), eb.event_id());
  EXPECT_EQ(wa.size(), 1u);
}

// Defect: a group call's traits (the company's name and address) became the person's.
TEST(SegmentTest, GroupTraitsAreTheAccountsNotThePersons) {
  auto [e, warnings] = WithWarnings(
      R"({"type":"group","groupId":"acme-inc","userId":"u","messageId":"m","timestamp":"2026-01-01T00:00:00Z","traits":{"name":"Acme Inc","email":"billing@acme.com","plan":"enterprise"}})");
  EXPECT_EQ(e.group_id(), "acme-inc");
  EXPECT_THAT(Ids(e), ElementsAre(Pair("user_id", "u")));
  EXPECT_TRUE(e.traits().fields().empty());
  EXPECT_EQ(e.properties().fields().at("name").string_value(), "Acme Inc");
  EXPECT_EQ(e.properties().fields().at("email").string_value(), "billing@acme.com");
}

// Defect: "order completed", "order_completed" and v1's "Completed Order" were not orders.
TEST(SegmentTest, OrderNamesIgnoreCaseAndSeparatorsAndV1Names) {
  for (const char* name : {"Order Completed", "order completed", "order_completed", "ORDER-COMPLETED",
                           "Completed Order", "Order Refunded", "Refunded Order", "Order Canceled"}) {
    auto [e, w] = WithWarnings(absl::StrCat(R"({"type":"track","event":")", name,
                                            R"(","userId":"u","messageId":"m","timestamp":"2026-01-01T00:00:00Z"})"));
    EXPECT_EQ(e.kind(), v1::EVENT_KIND_ORDER) << name;
    EXPECT_EQ(e.name(), name);  // The name is kept as sent.
  }
  auto [viewed, w] = WithWarnings(
      R"({"type":"track","event":"Order Viewed Page","userId":"u","messageId":"m","timestamp":"2026-01-01T00:00:00Z"})");
  EXPECT_EQ(viewed.kind(), v1::EVENT_KIND_TRACK);
}

// Defect: analytics.js's "client", the mobile SDKs' values and browser context gave OTHER or nothing.
TEST(SegmentTest, ChannelFromChannelLibraryAndContext) {
  auto channel = [](const std::string& extra) {
    auto parsed = ParseSegmentJson(absl::StrCat(R"({"type":"track","event":"x","userId":"u","messageId":"m","timestamp":"2026-01-01T00:00:00Z")",
                                                extra, "}"),
                                   {});
    return parsed.ok() && parsed->events.size() == 1 ? parsed->events[0].channel() : v1::CHANNEL_UNSPECIFIED;
  };
  EXPECT_EQ(channel(R"(,"channel":"client")"), v1::CHANNEL_WEB);
  EXPECT_EQ(channel(R"(,"channel":"android-sdk")"), v1::CHANNEL_APP);
  EXPECT_EQ(channel(R"(,"channel":"ios")"), v1::CHANNEL_APP);
  EXPECT_EQ(channel(R"(,"channel":"server")"), v1::CHANNEL_SERVER);
  EXPECT_EQ(channel(R"(,"context":{"library":{"name":"analytics.js","version":"2.11.1"}})"), v1::CHANNEL_WEB);
  EXPECT_EQ(channel(R"(,"context":{"library":{"name":"analytics-ios","version":"4.1.0"}})"), v1::CHANNEL_APP);
  EXPECT_EQ(channel(R"(,"context":{"library":{"name":"analytics-node","version":"1.0"}})"), v1::CHANNEL_SERVER);
  EXPECT_EQ(channel(R"(,"context":{"library":{"name":"RudderLabs JavaScript SDK"}})"), v1::CHANNEL_WEB);
  EXPECT_EQ(channel(R"(,"context":{"os":{"name":"Android"}})"), v1::CHANNEL_APP);
  EXPECT_EQ(channel(R"(,"context":{"page":{"url":"https://shop.example.com/"}})"), v1::CHANNEL_WEB);
  EXPECT_EQ(channel(R"js(,"context":{"userAgent":"Mozilla/5.0 (X11; Linux x86_64)"})js"), v1::CHANNEL_WEB);
  EXPECT_EQ(channel(""), v1::CHANNEL_UNSPECIFIED);
  EXPECT_EQ(channel(R"(,"channel":"kiosk")"), v1::CHANNEL_OTHER);
}

// Defects: a byte order mark rejected line 1; `timestamp: ""` beside a valid originalTimestamp
// rejected the message.
TEST(SegmentTest, ByteOrderMarkAndEmptyTimestampAreTolerated) {
  ParsedEvents parsed = ParseSegmentJsonLines(
      "\xEF\xBB\xBF" R"({"type":"track","event":"x","userId":"u","messageId":"m1","timestamp":"","originalTimestamp":"2026-01-01T00:00:00Z"})"
      "\n",
      {});
  ASSERT_EQ(parsed.events.size(), 1u) << (parsed.errors.empty() ? "" : parsed.errors[0].status.ToString());
  EXPECT_EQ(FromTimestamp(parsed.events[0].occurred_at()), Utc(2026, 1, 1));
  ParsedEvents lines = ParseEventJsonLines(
      "\xEF\xBB\xBF" R"({"event_id":"e1","source":"s","kind":"EVENT_KIND_TRACK","name":"x","occurred_at":"2026-01-01T00:00:00Z","identifiers":[{"type":"cookie","value":"c"}]})");
  EXPECT_EQ(lines.events.size(), 1u);
}

// Defect: the batch envelope's context was merged one level deep, so a message's own
// context.device replaced the envelope's and lost its device id.
TEST(SegmentTest, BatchContextIsMergedAtEveryDepth) {
  auto parsed = ParseSegmentJson(
      R"({"batch":[{"type":"track","event":"x","userId":"u","messageId":"m","timestamp":"2026-01-01T00:00:00Z","context":{"device":{"model":"Pixel 8"}}}],"context":{"device":{"id":"dev-1","model":"unknown"},"locale":"cs-CZ"}})",
      {});
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed->events.size(), 1u);
  const Event& e = parsed->events[0];
  EXPECT_EQ(e.context().device().id(), "dev-1");
  EXPECT_EQ(e.context().device().model(), "Pixel 8");  // The message's own value wins.
  EXPECT_EQ(e.context().locale(), "cs-CZ");
  EXPECT_THAT(Ids(e), ElementsAre(Pair("user_id", "u"), Pair("device_id", "dev-1")));
}

TEST(SegmentTest, LocaleGivesPhonesTheirRegionWhenAskedTo) {
  const std::string msg =
      R"({"type":"identify","userId":"u","messageId":"m","timestamp":"2026-01-01T00:00:00Z","traits":{"phone":"(650) 253-0000","email":"pat@example.com"},"context":{"locale":"en-US"}})";
  auto [plain, w1] = WithWarnings(msg);
  for (const auto& id : plain.identifiers()) EXPECT_EQ(id.region(), "") << id.type();
  SegmentOptions options;
  options.phone_region_from_locale = true;
  auto [hinted, w2] = WithWarnings(msg, options);
  for (const auto& id : hinted.identifiers()) EXPECT_EQ(id.region(), id.type() == "phone" ? "US" : "") << id.type();
  EXPECT_TRUE(ValidateEvent(hinted, {}, Utc(2026, 1, 2)).ok());
}

// RudderStack sends the same spec with a few fields of its own: request_ip (the client's address,
// set by its server), rudderId (its internal id: not a customer identifier), "channel":"web" and
// "sources", and an anonymousId on every call.
TEST(SegmentTest, RudderStackPayloadsAreReadAsTheirUsersSendThem) {
  auto [e, warnings] = WithWarnings(
      R"({"type":"track","event":"Product Added","anonymousId":"8d872292-709c-4289-8b0d-5d1c1a6c9a23","userId":"",
          "rudderId":"9e2f8a31-46a4-4a1c-8c43-1f0a8d0e6c11","messageId":"a7c1e4d0-1b7e-4d0f-9f3c-2f9b1c6d7e8a",
          "channel":"web","request_ip":"203.0.113.7","originalTimestamp":"2026-11-20T10:00:00.000Z",
          "sentAt":"2026-11-20T10:00:01.000Z","receivedAt":"2026-11-20T10:00:02.000Z",
          "context":{"library":{"name":"RudderLabs JavaScript SDK","version":"3.0.0"},"locale":"en-US"},
          "properties":{"product_id":"p-1","price":9.99}})");
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(e.channel(), v1::CHANNEL_WEB);
  EXPECT_EQ(e.context().ip(), "203.0.113.7");
  EXPECT_THAT(Ids(e), ElementsAre(Pair("anonymous_id", "8d872292-709c-4289-8b0d-5d1c1a6c9a23")));
  EXPECT_EQ(FromTimestamp(e.occurred_at()), Utc(2026, 11, 20, 10, 0, 1));  // Skew-corrected.
  auto [server, w2] = WithWarnings(
      R"({"type":"identify","userId":"u-1","messageId":"m","channel":"sources","timestamp":"2026-11-20T10:00:00Z"})");
  EXPECT_EQ(server.channel(), v1::CHANNEL_SERVER);
}

// Defect: context fields the mapping has no field for (location, network, screen, referrer,
// userAgentData, groupId) were dropped.
TEST(SegmentTest, OtherContextFieldsAreKeptAsSent) {
  auto [e, warnings] = WithWarnings(
      R"({"type":"track","event":"x","userId":"u","messageId":"m","timestamp":"2026-01-01T00:00:00Z",
          "context":{"ip":"8.8.8.8","groupId":"12345","location":{"city":"Prague","country":"CZ"},
                     "network":{"wifi":true},"screen":{"width":320,"height":568},
                     "referrer":{"id":"ABCD","type":"dataxu"},"userAgentData":{"mobile":false}}})");
  EXPECT_EQ(e.context().ip(), "8.8.8.8");
  const auto& extra = e.context().extra().fields();
  // context.groupId names the account of the event.
  EXPECT_FALSE(extra.contains("groupId"));
  EXPECT_EQ(e.group_id(), "12345");
  EXPECT_EQ(extra.at("location").struct_value().fields().at("city").string_value(), "Prague");
  EXPECT_TRUE(extra.at("network").struct_value().fields().at("wifi").bool_value());
  EXPECT_EQ(extra.at("screen").struct_value().fields().at("width").number_value(), 320);
  EXPECT_EQ(extra.at("referrer").struct_value().fields().at("type").string_value(), "dataxu");
  EXPECT_TRUE(extra.contains("userAgentData"));
  EXPECT_FALSE(extra.contains("ip"));
  EXPECT_TRUE(ValidateEvent(e, {}, Utc(2026, 1, 2)).ok());
}

// Defect: an over-long page URL, referrer or event name rejected the whole message.
TEST(SegmentTest, OverLongStringsAreCutWithAWarning) {
  const std::string url = "https://shop.example.com/?q=" + std::string(3000, 'x');
  const std::string name = std::string(255, 'n') + "\xc3\xa9";  // 257 bytes, "é" across the limit.
  auto [e, warnings] = WithWarnings(absl::StrCat(
      R"({"type":"track","event":")", name, R"(","userId":"u","messageId":"m","timestamp":"2026-01-01T00:00:00Z","context":{"page":{"url":")",
      url, R"(","referrer":")", url, R"("}}})"));
  EXPECT_EQ(e.name(), std::string(255, 'n'));  // Cut before the two-byte character.
  EXPECT_EQ(e.context().page().url().size(), 2048u);
  EXPECT_EQ(e.context().page().referrer().size(), 2048u);
  ASSERT_EQ(warnings.size(), 3u);
  EXPECT_EQ(warnings[0], "event: 257 bytes, cut to 255");
  EXPECT_EQ(warnings[1], absl::StrCat("context.page.url: ", url.size(), " bytes, cut to 2048"));
  EXPECT_TRUE(ValidateEvent(e, {}, Utc(2026, 1, 2)).ok());
}

// Defect: a time without a zone was read as UTC without a word.
TEST(SegmentTest, TimeWithoutAZoneIsUtcWithAWarning) {
  auto [e, warnings] = WithWarnings(
      R"({"type":"track","event":"x","userId":"u","messageId":"m","timestamp":"2026-01-01T10:00:00"})");
  EXPECT_EQ(FromTimestamp(e.occurred_at()), Utc(2026, 1, 1, 10));
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0], "timestamp: '2026-01-01T10:00:00' names no time zone; read as UTC");
  auto [zoned, none] = WithWarnings(
      R"({"type":"track","event":"x","userId":"u","messageId":"m","timestamp":"2026-01-01T10:00:00+01:00"})");
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(FromTimestamp(zoned.occurred_at()), Utc(2026, 1, 1, 9));
}

// Defect: Segment's and RudderStack's `delete` call (a user deletion) was rejected as an unknown
// type. It is an erasure request for the host.
TEST(SegmentTest, DeleteCallIsAnErasureRequest) {
  SegmentOptions options;
  options.tenant = "acme";
  ParsedEvents parsed = ParseSegmentJsonLines(
      R"({"type":"track","event":"x","userId":"u-9","messageId":"m1","timestamp":"2026-01-01T00:00:00Z"})"
      "\n"
      R"({"type":"delete","userId":"u-9","anonymousId":"a-9","messageId":"d1"})"
      "\n"
      R"({"type":"delete","messageId":"d2"})"
      "\n",
      options);
  ASSERT_EQ(parsed.events.size(), 1u);
  ASSERT_EQ(parsed.erasures.size(), 1u);
  EXPECT_EQ(parsed.erasures[0].line, 2);
  EXPECT_EQ(parsed.erasures[0].tenant, "acme");
  EXPECT_THAT(parsed.erasures[0].identifiers, ElementsAre(Pair("user_id", "u-9"), Pair("anonymous_id", "a-9")));
  ASSERT_EQ(parsed.errors.size(), 1u);
  EXPECT_EQ(parsed.errors[0].status.message(), "line 3: userId: missing (a delete call needs userId or anonymousId)");
}

// What a server needs of one request's document: the type its endpoint implies, the body's write
// key, and which errors are the size limit's.
TEST(SegmentTest, EndpointTypeWriteKeyAndTooLargeMessages) {
  SegmentOptions options;
  options.default_type = "track";
  options.received_at = absl::FromUnixSeconds(1764583200);
  auto parsed = ParseSegmentJson(R"({"writeKey":"wk_1","userId":"u","event":"Viewed","messageId":"m"})", options);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->events.size(), 1u) << (parsed->errors.empty() ? "" : parsed->errors[0].status.ToString());
  EXPECT_EQ(parsed->events[0].kind(), v1::EVENT_KIND_TRACK);
  EXPECT_EQ(parsed->write_key, "wk_1");
  // A message's own type wins over the endpoint's.
  parsed = ParseSegmentJson(R"({"type":"page","userId":"u","name":"Home","messageId":"m2"})", options);
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed->events.size(), 1u);
  EXPECT_EQ(parsed->events[0].kind(), v1::EVENT_KIND_PAGE);
  EXPECT_EQ(parsed->write_key, "");
  options.default_type = "";
  options.max_message_bytes = 100;
  parsed = ParseSegmentJson(absl::StrCat(R"({"batch":[{"type":"track","userId":"u","event":"A","messageId":"a"},)",
                                         R"({"type":"track","userId":"u","event":")", std::string(120, 'x'),
                                         R"("},{"userId":"u","event":"B"}]})"),
                            options);
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed->errors.size(), 2u);
  EXPECT_TRUE(parsed->errors[0].too_large);
  EXPECT_EQ(parsed->errors[0].index, 1);
  EXPECT_FALSE(parsed->errors[1].too_large) << parsed->errors[1].status;  // No type: invalid, not too large.
  EXPECT_EQ(parsed->events.size(), 1u) << parsed->errors[0].status << parsed->errors[1].status;
}

}  // namespace omnijourney
