// Segment and RudderStack conformance: for each call type and each documented field of the Segment
// spec (common fields, identify, track, page, screen, group, alias, e-commerce v2, live chat, email)
// and RudderStack's differences, a payload written from the spec and the Event it must become; then
// what the engine makes of them (aliases, groups, typed traits, clock skew).
//
// Spec pages: https://segment.com/docs/connections/spec/ (common, identify, track, page, screen,
// group, alias, ecommerce/v2, live-chat, email); https://www.rudderstack.com/docs/event-spec/.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "omnijourney/context.h"
#include "omnijourney/engine.h"
#include "omnijourney/event_json.h"
#include "omnijourney/segment.h"
#include "omnijourney/validate.h"

// The table leaves out the expectations it does not check (designated initializers).
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace omnijourney {
namespace {

using ::testing::HasSubstr;

absl::Time Utc(int y, int mo, int d, int h = 0, int mi = 0, int s = 0) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s), absl::UTCTimeZone());
}

// What a payload must become. Empty strings and nullopt are not checked.
struct Expect {
  std::optional<v1::EventKind> kind;
  std::optional<v1::Channel> channel;
  std::optional<v1::Direction> direction;
  std::string name;
  std::string ids;    // "type=value,..." in order; "-" for none checked.
  std::string value;  // "units.nanos CUR", e.g. "27.500000000 CZK"; "none" for no value.
  std::string time;   // occurred_at, RFC 3339.
  std::string conversation, agent, text, group, ip, previous;
  std::vector<std::string> warnings;  // Each a substring of one warning.
  std::string error;                  // A substring of the one RecordError; then no event.
};

struct Case {
  const char* what;
  std::string json;
  Expect expect;
  SegmentOptions options = {};
};

std::string IdsOf(const Event& e) {
  std::vector<std::string> parts;
  for (const auto& id : e.identifiers()) parts.push_back(absl::StrCat(id.type(), "=", id.value()));
  return absl::StrJoin(parts, ",");
}

std::string ValueOf(const Event& e) {
  if (!e.has_value()) return "none";
  return absl::StrCat(e.value().units(), ".", absl::StrFormat("%09d", e.value().nanos()), " ", e.value().currency());
}

void Check(const Case& c) {
  SCOPED_TRACE(c.what);
  auto parsed = ParseSegmentJson(c.json, c.options);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const Expect& x = c.expect;
  if (!x.error.empty()) {
    ASSERT_EQ(parsed->errors.size(), 1u);
    EXPECT_THAT(std::string(parsed->errors[0].status.message()), HasSubstr(x.error));
    EXPECT_TRUE(parsed->events.empty());
    return;
  }
  ASSERT_TRUE(parsed->errors.empty()) << parsed->errors[0].status;
  ASSERT_EQ(parsed->events.size(), 1u);
  const Event& e = parsed->events[0];
  // Every converted payload is an event the engine accepts.
  EXPECT_TRUE(ValidateEvent(e, {}, Utc(2026, 12, 1)).ok()) << ValidateEvent(e, {}, Utc(2026, 12, 1));
  if (x.kind) {
    EXPECT_EQ(KindName(e.kind()), KindName(*x.kind));
  }
  if (x.channel) {
    EXPECT_EQ(ChannelName(e.channel()), ChannelName(*x.channel));
  }
  if (x.direction) {
    EXPECT_EQ(DirectionName(e.direction()), DirectionName(*x.direction));
  }
  if (!x.name.empty()) {
    EXPECT_EQ(e.name(), x.name);
  }
  if (!x.ids.empty() && x.ids != "-") {
    EXPECT_EQ(IdsOf(e), x.ids);
  }
  if (!x.value.empty()) {
    EXPECT_EQ(ValueOf(e), x.value);
  }
  if (!x.time.empty()) {
    EXPECT_EQ(absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", FromTimestamp(e.occurred_at()), absl::UTCTimeZone()), x.time);
  }
  if (!x.conversation.empty()) {
    EXPECT_EQ(e.conversation_id(), x.conversation);
  }
  if (!x.agent.empty()) {
    EXPECT_EQ(e.agent_id(), x.agent);
  }
  if (!x.text.empty()) {
    EXPECT_EQ(e.text(), x.text);
  }
  if (!x.group.empty()) {
    EXPECT_EQ(e.group_id(), x.group);
  }
  if (!x.ip.empty()) {
    EXPECT_EQ(e.context().ip(), x.ip);
  }
  if (!x.previous.empty()) {
    EXPECT_EQ(absl::StrCat(e.previous_id().type(), "=", e.previous_id().value()), x.previous);
  }
  std::vector<std::string> warnings;
  int64_t counted = 0;
  for (const auto& [kind, n] : parsed->warning_counts) counted += n;
  EXPECT_EQ(counted, static_cast<int64_t>(parsed->warnings.size()));
  for (const RecordWarning& w : parsed->warnings) {
    warnings.push_back(w.message);
    EXPECT_FALSE(w.kind.empty()) << w.message;
  }
  EXPECT_EQ(warnings.size(), x.warnings.size()) << absl::StrJoin(warnings, "\n");
  for (const std::string& want : x.warnings) {
    EXPECT_TRUE(std::any_of(warnings.begin(), warnings.end(), [&](const std::string& w) { return w.find(want) != std::string::npos; }))
        << "no warning with '" << want << "' in:\n" << absl::StrJoin(warnings, "\n");
  }
}

// A message from the spec's common fields, with `fields` (JSON members, comma-first) added.
std::string Msg(const std::string& type, const std::string& fields) {
  return absl::StrCat(R"({"type":")", type, R"(","messageId":"m-1","userId":"u-1","timestamp":"2026-11-20T10:00:00Z")",
                      fields, "}");
}
std::string Track(const std::string& event, const std::string& fields = "") {
  return Msg("track", absl::StrCat(R"(,"event":")", event, R"(")", fields));
}

SegmentOptions ReceivedAt(absl::Time t) {
  SegmentOptions o;
  o.received_at = t;
  return o;
}

SegmentOptions NoSkewCorrection(absl::Time t) {
  SegmentOptions o = ReceivedAt(t);
  o.correct_clock_skew = false;
  return o;
}

const std::vector<Case>& Cases() {
  using v1::CHANNEL_APP, v1::CHANNEL_CHAT, v1::CHANNEL_EMAIL, v1::CHANNEL_OTHER, v1::CHANNEL_SERVER,
      v1::CHANNEL_UNSPECIFIED, v1::CHANNEL_WEB;
  using v1::DIRECTION_INBOUND, v1::DIRECTION_INTERNAL, v1::DIRECTION_OUTBOUND, v1::DIRECTION_UNSPECIFIED;
  static const auto* const kCases = new std::vector<Case>{
      // --- The call types, with the spec pages' own examples.
      {"identify (spec example)",
       R"({"anonymousId":"507f191e810c19729de860ea","channel":"browser","context":{"ip":"8.8.8.8","userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_12_5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/59.0.3071.115 Safari/537.36"},"integrations":{"All":false,"Mixpanel":true,"Salesforce":true},"messageId":"022bb90c-bbac-11e4-8dfc-aa07a5b093db","receivedAt":"2015-02-23T22:28:55.387Z","sentAt":"2015-02-23T22:28:55.111Z","timestamp":"2015-02-23T22:28:55.111Z","traits":{"name":"Peter Gibbons","email":"peter@example.com","plan":"premium","logins":5,"address":{"street":"6th St","city":"San Francisco","state":"CA","postalCode":"94103","country":"USA"}},"type":"identify","userId":"97980cfea0067","version":"1.1"})",
       {.kind = v1::EVENT_KIND_IDENTIFY, .channel = CHANNEL_WEB, .direction = DIRECTION_INTERNAL,
        .ids = "user_id=97980cfea0067,anonymous_id=507f191e810c19729de860ea,email=peter@example.com",
        .value = "none", .time = "2015-02-23T22:28:55.111Z", .ip = "8.8.8.8"}},
      {"track (spec example): a processed message keeps its corrected timestamp",
       R"({"anonymousId":"23adfd82-aa0f-45a7-a756-24f2a7a4c895","context":{"library":{"name":"analytics.js","version":"2.11.1"},"page":{"path":"/academy/","referrer":"","search":"","title":"Analytics Academy","url":"https://segment.com/academy/"},"userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_10_5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/46.0.2490.86 Safari/537.36","ip":"108.0.78.21"},"event":"Course Clicked","integrations":{},"messageId":"ajs-f8ca1e4de5024d9430b3928bd8ac6b96","properties":{"title":"Intro to Analytics"},"receivedAt":"2015-12-12T19:11:01.266Z","sentAt":"2015-12-12T19:11:01.169Z","timestamp":"2015-12-12T19:11:01.249Z","type":"track","userId":"AiUGstSDIg","originalTimestamp":"2015-12-12T19:11:01.152Z"})",
       {.kind = v1::EVENT_KIND_TRACK, .channel = CHANNEL_WEB, .direction = DIRECTION_INBOUND, .name = "Course Clicked",
        .ids = "user_id=AiUGstSDIg,anonymous_id=23adfd82-aa0f-45a7-a756-24f2a7a4c895", .value = "none",
        .time = "2015-12-12T19:11:01.249Z"}},
      {"page (spec example)",
       R"({"anonymousId":"507f191e810c19729de860ea","channel":"browser","context":{"ip":"8.8.8.8","userAgent":"Mozilla/5.0"},"integrations":{"All":true},"messageId":"022bb90c-bbac-11e4-8dfc-aa07a5b093db","name":"Home","properties":{"title":"Welcome | Initech","url":"http://www.example.com"},"receivedAt":"2015-02-23T22:28:55.387Z","sentAt":"2015-02-23T22:28:55.111Z","timestamp":"2015-02-23T22:28:55.111Z","type":"page","userId":"97980cfea0067","version":"1.1"})",
       {.kind = v1::EVENT_KIND_PAGE, .channel = CHANNEL_WEB, .direction = DIRECTION_INBOUND, .name = "Home",
        .ids = "user_id=97980cfea0067,anonymous_id=507f191e810c19729de860ea"}},
      {"screen (spec example)",
       R"({"anonymousId":"3a12eab0-bca7-11e4-8dfc-aa07a5b093db","channel":"mobile","context":{"ip":"8.8.8.8"},"messageId":"022bb90c-bbac-11e4-8dfc-aa07a5b093db","name":"Home","properties":{"Feed Type":"private"},"receivedAt":"2015-02-23T22:28:55.387Z","sentAt":"2015-02-23T22:28:55.111Z","timestamp":"2015-02-23T22:28:55.111Z","type":"screen","userId":"97980cfea0067","version":"1.1"})",
       {.kind = v1::EVENT_KIND_SCREEN, .channel = CHANNEL_APP, .direction = DIRECTION_INBOUND, .name = "Home"}},
      {"group (spec example): the account's traits are not the person's, its email is no identifier",
       R"({"anonymousId":"507f191e810c19729de860ea","channel":"browser","context":{"ip":"8.8.8.8","userAgent":"Mozilla/5.0"},"groupId":"0e8c78ea9d97a7b8185e8632","integrations":{"All":true},"messageId":"022bb90c-bbac-11e4-8dfc-aa07a5b093db","receivedAt":"2015-02-23T22:28:55.387Z","sentAt":"2015-02-23T22:28:55.111Z","timestamp":"2015-02-23T22:28:55.111Z","traits":{"name":"Initech","industry":"Technology","employees":329,"plan":"enterprise","total billed":830,"email":"billing@initech.com"},"type":"group","userId":"97980cfea0067","version":"1.1"})",
       {.kind = v1::EVENT_KIND_GROUP, .direction = DIRECTION_INTERNAL,
        .ids = "user_id=97980cfea0067,anonymous_id=507f191e810c19729de860ea", .group = "0e8c78ea9d97a7b8185e8632"}},
      {"alias (spec example)",
       R"({"anonymousId":"507f191e810c19729de860ea","channel":"browser","context":{"ip":"8.8.8.8","userAgent":"Mozilla/5.0"},"integrations":{"All":true},"messageId":"022bb90c-bbac-11e4-8dfc-aa07a5b093db","previousId":"39239-239239-239239-23923","receivedAt":"2015-02-23T22:28:55.387Z","sentAt":"2015-02-23T22:28:55.111Z","timestamp":"2015-02-23T22:28:55.111Z","type":"alias","userId":"507f191e81","version":"1.1"})",
       {.kind = v1::EVENT_KIND_ALIAS, .direction = DIRECTION_INTERNAL,
        .ids = "user_id=507f191e81,anonymous_id=507f191e810c19729de860ea",
        .previous = "anonymous_id=39239-239239-239239-23923"}},
      {"call types are case-insensitive", Msg("Track", R"(,"event":"E")"), {.kind = v1::EVENT_KIND_TRACK}},
      {"context.groupId names the account of a B2B event", Track("Report Run", R"(,"context":{"groupId":"acme"})"),
       {.kind = v1::EVENT_KIND_TRACK, .group = "acme"}},

      // --- Identity fields.
      {"anonymousId alone", R"({"type":"page","messageId":"m","anonymousId":"a-1","timestamp":"2026-11-20T10:00:00Z"})",
       {.ids = "anonymous_id=a-1"}},
      {"numeric userId is a string", R"({"type":"track","event":"E","messageId":"m","userId":42,"timestamp":"2026-11-20T10:00:00Z"})",
       {.ids = "user_id=42"}},
      {"context.traits carry identifiers too", Track("E", R"(,"context":{"traits":{"email":"a@b.cz","phone":"+420601123456"}})"),
       {.ids = "user_id=u-1,email=a@b.cz,phone=+420601123456"}},
      {"device id and push token", Track("E", R"(,"context":{"device":{"id":"d-1","token":"tok-1"}})"),
       {.ids = "user_id=u-1,device_id=d-1,push_token=tok-1"}},
      {"neither userId nor anonymousId",
       R"({"type":"track","event":"E","messageId":"m","timestamp":"2026-11-20T10:00:00Z"})",
       {.error = "userId: missing (a message needs userId or anonymousId)"}},
      {"a trait email that is not a string is dropped, the message kept",
       Msg("identify", R"(,"traits":{"email":false,"name":"Eva"})"),
       {.kind = v1::EVENT_KIND_IDENTIFY, .ids = "user_id=u-1",
        .warnings = {"traits.email: expected a string, got a boolean; not used as an identifier"}}},

      // --- Times (spec/common "Timestamps").
      {"a library's message corrected by the host's receive time",
       R"({"type":"track","event":"E","messageId":"m","userId":"u","timestamp":"2026-11-20T10:00:00Z","sentAt":"2026-11-20T10:05:00Z"})",
       {.time = "2026-11-20T09:56:00Z"}, ReceivedAt(Utc(2026, 11, 20, 10, 1))},
      {"RudderStack's SDK sends originalTimestamp: corrected the same way",
       R"({"type":"track","event":"E","messageId":"m","anonymousId":"a","originalTimestamp":"2026-11-20T10:00:00Z","sentAt":"2026-11-20T09:59:00Z"})",
       {.time = "2026-11-20T10:02:00Z"}, ReceivedAt(Utc(2026, 11, 20, 10, 1))},
      {"a server-side import without sentAt keeps its time", Track("E"), {.time = "2026-11-20T10:00:00Z"},
       ReceivedAt(Utc(2026, 11, 30))},
      {"correction off", R"({"type":"track","event":"E","messageId":"m","userId":"u","timestamp":"2026-11-20T10:00:00Z","sentAt":"2026-11-20T10:05:00Z"})",
       {.time = "2026-11-20T10:00:00Z"}, NoSkewCorrection(Utc(2026, 11, 20, 10, 1))},
      {"no time but the receive time", R"({"type":"track","event":"E","messageId":"m","userId":"u"})",
       {.time = "2026-11-20T10:01:00Z"}, ReceivedAt(Utc(2026, 11, 20, 10, 1))},
      {"processed without timestamp: receivedAt - (sentAt - originalTimestamp)",
       R"({"type":"track","event":"E","messageId":"m","userId":"u","originalTimestamp":"2026-11-20T10:00:00Z","sentAt":"2026-11-20T10:00:55Z","receivedAt":"2026-11-20T10:00:00Z"})",
       {.time = "2026-11-20T09:59:05Z"}},
      {"an empty timestamp is absent", R"({"type":"track","event":"E","messageId":"m","userId":"u","timestamp":"","originalTimestamp":"2026-11-20T10:00:00Z"})",
       {.time = "2026-11-20T10:00:00Z"}},
      {"a time without a zone is read as UTC, with a warning",
       R"({"type":"track","event":"E","messageId":"m","userId":"u","timestamp":"2026-11-20T10:00:00"})",
       {.time = "2026-11-20T10:00:00Z", .warnings = {"timestamp: '2026-11-20T10:00:00' names no time zone; read as UTC"}}},
      {"epoch milliseconds", R"({"type":"track","event":"E","messageId":"m","userId":"u","timestamp":1763632800000})",
       {.time = "2025-11-20T10:00:00Z"}},

      // --- Message ids and limits.
      {"a missing messageId is made from the message",
       R"({"type":"track","event":"E","userId":"u","timestamp":"2026-11-20T10:00:00Z"})",
       {.warnings = {"messageId: missing; made from the message: gen-"}}},
      {"a message over 32 KB of JSON",
       Track("E", absl::StrCat(R"(,"properties":{"blob":")", std::string(33000, 'x'), R"("})")),
       {.error = "bytes of JSON, over the limit of 32768 (Segment's 32 KB)"}},
      {"a chat message's body is its text, not kept twice",
       Track("Live Chat Message Sent", absl::StrCat(R"(,"properties":{"conversation_id":"c","message_body":")",
                                                    std::string(20000, 'b'), R"("})")),
       {.kind = v1::EVENT_KIND_MESSAGE, .text = std::string(20000, 'b')}},
      {"an over-long event name is cut", Track(std::string(300, 'n')),
       {.warnings = {"event: 300 bytes, cut to 256"}}},
      {"an over-long page URL is cut",
       Msg("page", absl::StrCat(R"(,"context":{"page":{"url":"https://x.cz/)", std::string(3000, 'p'), R"("}})")),
       {.kind = v1::EVENT_KIND_PAGE, .warnings = {"context.page.url: 3013 bytes, cut to 2048"}}},
      {"track without event", Msg("track", ""), {.error = "event: missing (required for track calls)"}},
      {"group without groupId", Msg("group", ""), {.error = "groupId: missing (required for group calls)"}},
      {"alias without previousId", Msg("alias", ""), {.error = "previousId: missing (required for alias calls)"}},
      {"an unknown call type", Msg("purchase", ""), {.error = "unsupported call type 'purchase'"}},

      // --- Channels (docs/events.md, "Channels").
      {"analytics.js's channel client", Track("E", R"(,"channel":"client")"), {.channel = CHANNEL_WEB}},
      {"RudderStack's channel web", Track("E", R"(,"channel":"web")"), {.channel = CHANNEL_WEB}},
      {"channel android-sdk", Track("E", R"(,"channel":"android-sdk")"), {.channel = CHANNEL_APP}},
      {"channel ios", Track("E", R"(,"channel":"ios")"), {.channel = CHANNEL_APP}},
      {"channel server", Track("E", R"(,"channel":"server")"), {.channel = CHANNEL_SERVER}},
      {"RudderStack's channel sources", Track("E", R"(,"channel":"sources")"), {.channel = CHANNEL_SERVER}},
      {"an unknown channel", Track("E", R"(,"channel":"kiosk")"), {.channel = CHANNEL_OTHER}},
      {"a server library", Track("E", R"(,"context":{"library":{"name":"analytics-python","version":"2.2.2"}})"),
       {.channel = CHANNEL_SERVER}},
      {"RudderStack's Android library",
       Track("E", R"(,"context":{"library":{"name":"com.rudderstack.android.sdk.core","version":"1.0.1"}})"),
       {.channel = CHANNEL_APP}},
      {"a mobile OS", Track("E", R"(,"context":{"os":{"name":"Android","version":"14"}})"), {.channel = CHANNEL_APP}},
      {"a page in the context", Track("E", R"(,"context":{"page":{"url":"https://x.cz/"}})"), {.channel = CHANNEL_WEB}},
      {"a browser's user agent", Track("E", R"(,"context":{"userAgent":"Mozilla/5.0"})"), {.channel = CHANNEL_WEB}},
      {"nothing to tell", Track("E"), {.channel = CHANNEL_UNSPECIFIED}},

      // --- RudderStack's differences.
      {"RudderStack track (event spec example): request_ip without its port, rudderId ignored",
       R"js({"anonymousId":"8d872292709c6fbe","channel":"mobile","context":{"app":{"build":"1","name":"RudderAndroidClient","namespace":"com.rudderlabs.android.sdk","version":"1.0"},"device":{"id":"49e4bdd1c280bc00","manufacturer":"Google","model":"Android SDK built for x86","name":"generic_x86"},"library":{"name":"com.rudderstack.android.sdk.core"},"locale":"en-US","network":{"carrier":"Android"},"screen":{"density":420,"height":1794,"width":1080},"traits":{"anonymousId":"8d872292709c6fbe"},"userAgent":"Dalvik/2.1.0 (Linux; U; Android 9; Android SDK built for x86 Build/PSR1.180720.075)"},"event":"Product Added","integrations":{"All":true},"messageId":"1578484384945-f1e2e34a-6b15-40d6-8b0b-8a3e13d6d5d9","originalTimestamp":"2020-01-08T11:53:04.945Z","properties":{"product_id":"P-1","price":20.5,"quantity":1},"receivedAt":"2020-01-08T17:23:06.002+05:30","request_ip":"[::1]:62312","rudderId":"6b5bd9ba-2ba2-4d33-9a5b-30c5bf4b4c47","sentAt":"2020-01-08T11:53:05.000Z","timestamp":"2020-01-08T17:23:05.947+05:30","type":"track","userId":"1hKOmRA4el9Zt1WSfVJIVo4GRlm"})js",
       {.kind = v1::EVENT_KIND_TRACK, .channel = CHANNEL_APP, .name = "Product Added",
        .ids = "user_id=1hKOmRA4el9Zt1WSfVJIVo4GRlm,anonymous_id=8d872292709c6fbe,device_id=49e4bdd1c280bc00",
        .value = "none", .time = "2020-01-08T11:53:05.947Z", .ip = "::1"}},
      {"RudderStack identify (event spec sample): the traits in context.traits",
       R"({"type":"identify","messageId":"r-1","originalTimestamp":"2026-11-20T10:00:00Z","context":{"traits":{"name":"Richard Hendricks","email":"rhedricks@example.com","logins":2}},"userId":"27340af5c8819"})",
       {.kind = v1::EVENT_KIND_IDENTIFY, .ids = "user_id=27340af5c8819,email=rhedricks@example.com",
        .time = "2026-11-20T10:00:00Z"}},
      {"RudderStack's SDK sends an empty userId for an anonymous visitor",
       R"({"type":"page","messageId":"r-2","originalTimestamp":"2026-11-20T10:00:00Z","userId":"","anonymousId":"a-9","channel":"web"})",
       {.kind = v1::EVENT_KIND_PAGE, .channel = CHANNEL_WEB, .ids = "anonymous_id=a-9"}},
      {"RudderStack request_ip of IPv4 with a port", Track("E", R"(,"request_ip":"203.0.113.7:51234")"),
       {.ip = "203.0.113.7"}},
      {"context.ip wins over request_ip", Track("E", R"(,"context":{"ip":"8.8.8.8"},"request_ip":"203.0.113.7")"),
       {.ip = "8.8.8.8"}},

      // --- E-commerce v2 (spec/ecommerce/v2).
      {"Products Searched", Track("Products Searched", R"(,"properties":{"query":"blue roses"})"),
       {.kind = v1::EVENT_KIND_TRACK, .value = "none"}},
      {"Product Viewed", Track("Product Viewed", R"(,"properties":{"product_id":"507f1f77bcf86cd799439011","sku":"G-32","category":"Games","name":"Monopoly: 3rd Edition","brand":"Hasbro","variant":"200 pieces","price":18.99,"quantity":1,"currency":"usd","position":3,"value":18.99})"),
       {.kind = v1::EVENT_KIND_TRACK, .value = "none"}},
      {"Product Added", Track("Product Added", R"(,"properties":{"cart_id":"skdjsidjsdkdj29j","product_id":"507f1f77bcf86cd799439011","price":18.99,"quantity":1})"),
       {.kind = v1::EVENT_KIND_TRACK, .value = "none"}},
      {"Cart Viewed", Track("Cart Viewed", R"(,"properties":{"cart_id":"d92jd29jd92jd29j92d92jd","products":[]})"),
       {.kind = v1::EVENT_KIND_TRACK}},
      {"Checkout Started: its revenue is its value",
       Track("Checkout Started", R"(,"properties":{"order_id":"50314b8e9bcf000000000000","affiliation":"Google Store","value":30,"revenue":25.00,"shipping":3,"tax":2,"discount":2.5,"coupon":"hasbros","currency":"USD","products":[]})"),
       {.kind = v1::EVENT_KIND_TRACK, .value = "25.000000000 USD"}},
      {"Order Completed: its total is the order value",
       Track("Order Completed", R"(,"properties":{"checkout_id":"fksdjfsdjfisjf9sdfjsd9f","order_id":"50314b8e9bcf000000000000","affiliation":"Google Store","total":27.50,"subtotal":22.50,"revenue":25.00,"shipping":3,"tax":2,"discount":2.5,"coupon":"hasbros","currency":"USD","products":[{"product_id":"507f1f77bcf86cd799439011","sku":"45790-32","name":"Monopoly: 3rd Edition","price":19,"quantity":1}]})"),
       {.kind = v1::EVENT_KIND_ORDER, .value = "27.500000000 USD"}},
      {"Order Completed with revenue only", Track("Order Completed", R"(,"properties":{"order_id":"o-2","revenue":434.99999999999994})"),
       {.kind = v1::EVENT_KIND_ORDER, .value = "435.000000000 USD"}},
      {"Order Refunded", Track("Order Refunded", R"(,"properties":{"order_id":"50314b8e9bcf000000000000","total":30,"currency":"USD"})"),
       {.kind = v1::EVENT_KIND_ORDER, .value = "30.000000000 USD"}},
      {"Order Cancelled", Track("Order Cancelled", R"(,"properties":{"order_id":"o-3"})"), {.kind = v1::EVENT_KIND_ORDER}},
      {"Order Updated", Track("Order Updated", R"(,"properties":{"order_id":"o-4"})"), {.kind = v1::EVENT_KIND_ORDER}},
      {"the v1 name Completed Order", Track("Completed Order", R"(,"properties":{"orderId":"o-5","total":10})"),
       {.kind = v1::EVENT_KIND_ORDER, .value = "10.000000000 USD"}},
      {"an order name in snake case", Track("order_completed"), {.kind = v1::EVENT_KIND_ORDER}},
      {"Coupon Applied", Track("Coupon Applied", R"(,"properties":{"order_id":"o-6","coupon_id":"c-1","discount":4.2})"),
       {.kind = v1::EVENT_KIND_TRACK, .value = "none"}},
      {"Product Reviewed is feedback",
       Track("Product Reviewed", R"(,"properties":{"product_id":"507f1f77bcf86cd799439011","review_id":"kdfjrj39fj39jf3","review_body":"I love this product","rating":"5"})"),
       {.kind = v1::EVENT_KIND_FEEDBACK, .direction = DIRECTION_INBOUND, .text = "I love this product"}},
      {"value is a property, not money", Track("Signed Up", R"(,"properties":{"value":12})"), {.value = "none"}},
      {"a currency that is no ISO code keeps the amount out, with a warning",
       Track("Order Completed", R"(,"properties":{"total":10,"currency":"dollars"})"),
       {.kind = v1::EVENT_KIND_ORDER, .value = "none",
        .warnings = {"properties.currency: 'DOLLARS' is not an ISO 4217 code; the amount is not used as the value"}}},
      {"a revenue that is not a number", Track("Order Completed", R"(,"properties":{"revenue":"12.5"})"),
       {.kind = v1::EVENT_KIND_ORDER, .value = "none",
        .warnings = {"properties.revenue: expected a number, got a string; not used as the value"}}},

      // --- Live chat (spec/live-chat): the partner examples, as written (action, no messageId).
      {"Live Chat Conversation Started",
       R"({"userId":"019mr8mf4r","action":"track","event":"Live Chat Conversation Started","properties":{"agent_id":"bce89acdd11901","agent_name":"Peter Gibbons","agent_username":"pgibbons","conversation_duration":0,"conversation_id":"abd627dbecffc","message_body":"But my stapler...","message_id":"beaffc193618cbe"}})",
       {.kind = v1::EVENT_KIND_CONVERSATION, .channel = CHANNEL_CHAT, .direction = DIRECTION_INBOUND,
        .time = "2026-11-20T10:00:00Z", .conversation = "abd627dbecffc", .agent = "bce89acdd11901",
        .text = "But my stapler...", .warnings = {"messageId: missing"}},
       ReceivedAt(Utc(2026, 11, 20, 10))},
      {"Live Chat Message Sent (by the customer)",
       Track("Live Chat Message Sent", R"(,"properties":{"agent_id":"bce89acdd11901","conversation_id":"abd627dbecffc","conversation_duration":45,"message_body":"But then they switched from the Swingline to the Boston stapler!","message_id":"beaffc193618cbe"})"),
       {.kind = v1::EVENT_KIND_MESSAGE, .channel = CHANNEL_CHAT, .direction = DIRECTION_INBOUND,
        .conversation = "abd627dbecffc", .agent = "bce89acdd11901",
        .text = "But then they switched from the Swingline to the Boston stapler!"}},
      {"Live Chat Message Received (from the agent), agent by username",
       Track("Live Chat Message Received", R"(,"properties":{"agent_username":"pgibbons","conversation_id":"abd627dbecffc","message_body":"Yeah, uh huh, okay, Milton"})"),
       {.kind = v1::EVENT_KIND_MESSAGE, .channel = CHANNEL_CHAT, .direction = DIRECTION_OUTBOUND, .agent = "pgibbons",
        .text = "Yeah, uh huh, okay, Milton"}},
      {"Live Chat Conversation Ended",
       Track("Live Chat Conversation Ended", R"(,"properties":{"agent_id":"bce89acdd11901","conversation_id":"abd627dbecffc","conversation_duration":203})"),
       {.kind = v1::EVENT_KIND_CONVERSATION, .channel = CHANNEL_CHAT, .direction = DIRECTION_UNSPECIFIED,
        .conversation = "abd627dbecffc"}},
      {"semantic events off", Track("Live Chat Message Sent", R"(,"properties":{"conversation_id":"c"})"),
       {.kind = v1::EVENT_KIND_TRACK, .channel = CHANNEL_UNSPECIFIED}, [] {
         SegmentOptions o;
         o.semantic_events = false;
         return o;
       }()},

      // --- Email (spec/email): the partner examples, snake-case ids and user agent as written.
      {"Email Delivered",
       R"({"user_id":"019mr8mf4r","action":"track","event":"Email Delivered","messageId":"e-1","timestamp":"2026-11-20T10:00:00Z","context":{"ip":"67.207.109.102","user_agent":"Mozilla/5.0","traits":{"email":"pgibbons@initech.com"}},"properties":{"email_id":"18vzF7u3z","email_subject":"First shirt on us!","campaign_id":"123","campaign_name":"New Customer Discount"}})",
       {.kind = v1::EVENT_KIND_NOTIFICATION, .channel = CHANNEL_EMAIL, .direction = DIRECTION_OUTBOUND,
        .ids = "user_id=019mr8mf4r,email=pgibbons@initech.com"}},
      {"Email Bounced", Track("Email Bounced", R"(,"properties":{"email_id":"18vzF7u3z"})"),
       {.kind = v1::EVENT_KIND_NOTIFICATION, .channel = CHANNEL_EMAIL, .direction = DIRECTION_OUTBOUND}},
      {"Email Opened", Track("Email Opened", R"(,"properties":{"email_id":"18vzF7u3z"})"),
       {.kind = v1::EVENT_KIND_TRACK, .channel = CHANNEL_EMAIL, .direction = DIRECTION_INBOUND}},
      {"Email Link Clicked", Track("Email Link Clicked", R"(,"properties":{"link_id":"101","link_url":"https://www.buymyshirts.com?promo=NEWCUSTOMER"})"),
       {.kind = v1::EVENT_KIND_TRACK, .channel = CHANNEL_EMAIL, .direction = DIRECTION_INBOUND}},
      {"Email Marked as Spam", Track("Email Marked as Spam"),
       {.kind = v1::EVENT_KIND_TRACK, .channel = CHANNEL_EMAIL, .direction = DIRECTION_INBOUND}},
      {"Unsubscribed", Track("Unsubscribed", R"(,"properties":{"list_id":"1425","list_name":"New customers"})"),
       {.kind = v1::EVENT_KIND_TRACK, .channel = CHANNEL_EMAIL, .direction = DIRECTION_INBOUND}},
      {"Unsubscribed without an email's properties may be any opt-out",
       Track("Unsubscribed", R"(,"channel":"server","properties":{"keyword":"STOP"})"),
       {.kind = v1::EVENT_KIND_TRACK, .channel = CHANNEL_SERVER}},
  };
  return *kCases;
}

TEST(SegmentConformanceTest, EveryPayloadBecomesTheEventTheSpecDescribes) {
  for (const Case& c : Cases()) Check(c);
}

TEST(SegmentConformanceTest, AMovedBodyLeavesThePropertiesAndTheEventFitsTheEngine) {
  auto parsed = ParseSegmentJson(Track("Live Chat Message Sent", absl::StrCat(R"(,"properties":{"conversation_id":"c","message_body":")",
                                                                      std::string(20000, 'b'), R"("})")),
                                 {});
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed->events.size(), 1u);
  EXPECT_FALSE(parsed->events[0].properties().fields().contains("message_body"));
  EXPECT_TRUE(ValidateEvent(parsed->events[0], {}, Utc(2026, 12, 1)).ok());
}

// The limit is on each message's JSON as sent, in a batch as alone: a small message in a large
// batch passes, a large one fails in either.
TEST(SegmentConformanceTest, TheSizeLimitIsOnEachMessageAsSent) {
  const std::string small = Track("Small");
  // 20 digits: 20 bytes as sent, longer once printed back as a double.
  const std::string digits = Track("Digits", R"(,"properties":{"n":12345678901234567890})");
  const std::string big = Track("Big", absl::StrCat(R"(,"properties":{"blob":")", std::string(33000, 'x'), R"("})"));
  std::string batch = R"({"batch":[)";
  for (int i = 0; i < 400; ++i) absl::StrAppend(&batch, small, ",");
  absl::StrAppend(&batch, digits, ",", big, R"(], "sentAt":"2026-11-20T10:00:00Z"})");
  ASSERT_GT(batch.size(), 32768u);
  auto parsed = ParseSegmentJson(batch, {});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->events.size(), 401u);
  ASSERT_EQ(parsed->errors.size(), 1u);
  EXPECT_EQ(parsed->errors[0].index, 401);
  EXPECT_THAT(std::string(parsed->errors[0].status.message()),
              HasSubstr(absl::StrCat("batch[401]: ", big.size(), " bytes of JSON, over the limit of 32768")));
  // The same big message alone, and as a line of JSON Lines.
  auto alone = ParseSegmentJson(big, {});
  ASSERT_TRUE(alone.ok());
  ASSERT_EQ(alone->errors.size(), 1u);
  EXPECT_THAT(std::string(alone->errors[0].status.message()), HasSubstr(absl::StrCat(big.size(), " bytes of JSON")));
  const ParsedEvents lines = ParseSegmentJsonLines(absl::StrCat(small, "\n", big, "\n"), {});
  EXPECT_EQ(lines.events.size(), 1u);
  ASSERT_EQ(lines.errors.size(), 1u);
  EXPECT_EQ(lines.errors[0].line, 2);
}

// --- What the engine makes of them.

struct Engine0 {
  Engine0(EngineOptions options = {}) : clock(Utc(2026, 11, 21)) {
    options.clock = &clock;
    auto e = Engine::Open(options);
    EXPECT_TRUE(e.ok()) << e.status();
    engine = *std::move(e);
  }
  // Ingests every message of `jsonl`, one at a time or as one batch.
  void Feed(const std::string& jsonl, bool batch = false) {
    ParsedEvents parsed = ParseSegmentJsonLines(jsonl, {});
    ASSERT_TRUE(parsed.errors.empty()) << parsed.errors[0].status;
    if (batch) {
      std::vector<const Event*> events;
      for (const Event& e : parsed.events) events.push_back(&e);
      for (const auto& r : engine->IngestBatch(events)) ASSERT_TRUE(r.ok()) << r.status();
      return;
    }
    for (const Event& e : parsed.events) {
      auto r = engine->Ingest(e);
      ASSERT_TRUE(r.ok()) << r.status();
      results.push_back(*r);
    }
  }
  CustomerContext Ctx(const std::string& type, const std::string& value) {
    auto c = engine->Context({"", type, value});
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *c : CustomerContext{};
  }
  SimulatedClock clock;
  std::unique_ptr<Engine> engine;
  std::vector<IngestResult> results;
};

const char kRename[] =
    R"({"type":"identify","messageId":"i1","userId":"crm-old-17","timestamp":"2026-11-20T10:00:00Z","traits":{"email":"eva@example.com"}}
{"type":"alias","messageId":"a1","userId":"acct-9f2","previousId":"crm-old-17","timestamp":"2026-11-20T11:00:00Z"}
{"type":"track","messageId":"t1","event":"Logged In","userId":"acct-9f2","timestamp":"2026-11-20T12:00:00Z"})";

// Defect: an alias whose previousId is an earlier userId never linked (stored as an anonymous id,
// or refused by the user_id limit of 1).
TEST(SegmentEngineTest, AliasOfAnEarlierUserIdIsTheSamePersonRenamed) {
  for (bool batch : {false, true}) {
    SCOPED_TRACE(batch ? "one batch" : "one at a time");
    Engine0 f;
    f.Feed(kRename, batch);
    const CustomerContext c = f.Ctx("user_id", "acct-9f2");
    EXPECT_THAT(c.identifiers.at("user_id"), ::testing::UnorderedElementsAre("crm-old-17", "acct-9f2"));
    EXPECT_EQ(c.identifiers.at("email"), std::vector<std::string>{"eva@example.com"});
    EXPECT_FALSE(c.identifiers.contains("anonymous_id"));
    EXPECT_EQ(f.Ctx("email", "eva@example.com").profile, c.profile);
    EXPECT_EQ(c.timeline_size, 3);
  }
}

TEST(SegmentEngineTest, WithoutAliasRenamesTheUserIdLimitRefusesTheAlias) {
  EngineOptions options;
  options.identity.alias_renames = false;
  Engine0 f(options);
  f.Feed(kRename);
  ASSERT_EQ(f.results.size(), 3u);
  ASSERT_EQ(f.results[1].refusals.size(), 1u);
  EXPECT_THAT(f.results[1].refusals[0], HasSubstr("user_id limit 1 per profile would be exceeded"));
  EXPECT_NE(f.Ctx("user_id", "acct-9f2").profile, f.Ctx("user_id", "crm-old-17").profile);
}

// An alias lets the person's old and new ids into one profile, and nothing more: a device of a third
// person with a user id of their own does not come along.
TEST(SegmentEngineTest, AnAliasAllowsTheRenameOnlyNotAThirdUserId) {
  Engine0 f;
  f.Feed(R"({"type":"identify","messageId":"i0","userId":"tablet-owner","timestamp":"2026-11-20T09:00:00Z","context":{"device":{"id":"family-tablet"}}}
{"type":"identify","messageId":"i1","userId":"crm-old-17","timestamp":"2026-11-20T10:00:00Z","traits":{"email":"eva@example.com"}}
{"type":"alias","messageId":"a1","userId":"acct-9f2","previousId":"crm-old-17","timestamp":"2026-11-20T11:00:00Z","context":{"device":{"id":"family-tablet"}}}
{"type":"alias","messageId":"a2","userId":"acct-x1","previousId":"acct-9f2","timestamp":"2026-11-20T12:00:00Z"})");
  ASSERT_EQ(f.results.size(), 4u);
  const CustomerContext eva = f.Ctx("user_id", "acct-x1");
  // Two renames: three ids of one person.
  EXPECT_THAT(eva.identifiers.at("user_id"), ::testing::UnorderedElementsAre("crm-old-17", "acct-9f2", "acct-x1"));
  EXPECT_NE(f.Ctx("user_id", "tablet-owner").profile, eva.profile);
  EXPECT_THAT(absl::StrJoin(f.results[2].refusals, "; "), HasSubstr("user_id limit 1 per profile would be exceeded"));
  // What the admission predicted (max_profiles_per_tenant) agrees with what linking did.
  EngineOptions capped;
  capped.max_profiles_per_tenant = 2;
  Engine0 g(capped);
  g.Feed(kRename);
  EXPECT_EQ(g.engine->Stats().profiles, 1);
}

TEST(SegmentEngineTest, AliasRenamesSurviveACheckpointAndReopen) {
  const std::string dir = ::testing::TempDir() + "/alias_checkpoint";
  std::filesystem::remove_all(dir);
  EngineOptions options;
  options.storage.path = dir;
  options.storage.snapshot_every_records = 0;  // Checkpoint() only.
  ProfileId profile = 0;
  {
    Engine0 f(options);
    f.Feed(kRename);
    ASSERT_TRUE(f.engine->Checkpoint().ok());
    f.Feed(R"({"type":"track","messageId":"t2","event":"Again","userId":"crm-old-17","timestamp":"2026-11-20T13:00:00Z"})");
    profile = f.Ctx("user_id", "acct-9f2").profile;
  }
  Engine0 reopened(options);
  // Restored from the snapshot, then the one event after it replayed.
  EXPECT_GT(reopened.engine->Stats().snapshot_position, 0);
  EXPECT_EQ(reopened.engine->Stats().recovered, 1);
  const CustomerContext c = reopened.Ctx("user_id", "crm-old-17");
  EXPECT_EQ(c.profile, profile);
  EXPECT_THAT(c.identifiers.at("user_id"), ::testing::UnorderedElementsAre("crm-old-17", "acct-9f2"));
  EXPECT_EQ(c.timeline_size, 4);
  std::filesystem::remove_all(dir);
}

TEST(SegmentEngineTest, AliasOfAnAnonymousIdStaysAnAnonymousId) {
  Engine0 f;
  f.Feed(R"({"type":"page","messageId":"p1","anonymousId":"anon-1","timestamp":"2026-11-20T10:00:00Z"}
{"type":"alias","messageId":"a1","userId":"u-1","previousId":"anon-1","timestamp":"2026-11-20T10:01:00Z"})");
  const CustomerContext c = f.Ctx("user_id", "u-1");
  EXPECT_EQ(c.identifiers.at("anonymous_id"), std::vector<std::string>{"anon-1"});
  EXPECT_EQ(c.timeline_size, 2);
}

// Defect: a group call's traits became the user's: two visitors of one account merged into one
// profile named after the company.
TEST(SegmentEngineTest, GroupCallsAreTheProfilesAccountsNotThePerson) {
  Engine0 f;
  f.Feed(R"({"type":"identify","messageId":"i1","userId":"eva","timestamp":"2026-11-20T10:00:00Z","traits":{"name":"Eva Novak"}}
{"type":"group","messageId":"g1","userId":"eva","groupId":"acme","timestamp":"2026-11-20T10:01:00Z","traits":{"name":"Acme s.r.o.","email":"billing@acme.cz","employees":329,"address":{"city":"Brno"}}}
{"type":"group","messageId":"g2","userId":"jan","groupId":"acme","timestamp":"2026-11-20T10:02:00Z","traits":{"name":"Acme s.r.o.","email":"billing@acme.cz","plan":"enterprise"}}
{"type":"track","messageId":"t1","event":"Report Run","userId":"eva","timestamp":"2026-11-20T10:03:00Z","context":{"groupId":"beta"}})");
  const CustomerContext eva = f.Ctx("user_id", "eva");
  const CustomerContext jan = f.Ctx("user_id", "jan");
  EXPECT_NE(eva.profile, jan.profile);
  EXPECT_FALSE(eva.identifiers.contains("email"));
  EXPECT_EQ(eva.traits.at("name").value, "Eva Novak");
  ASSERT_EQ(eva.groups.size(), 2u);
  EXPECT_EQ(eva.groups[0].id, "beta");  // Most recently seen first.
  EXPECT_EQ(eva.groups[0].events, 1);
  EXPECT_TRUE(eva.groups[0].traits.empty());
  EXPECT_EQ(eva.groups[1].id, "acme");
  EXPECT_EQ(eva.groups[1].traits.at("name").value, "Acme s.r.o.");
  EXPECT_EQ(eva.groups[1].traits.at("employees").value, "329");
  EXPECT_EQ(eva.groups[1].traits.at("address.city").value, "Brno");
  ASSERT_EQ(jan.groups.size(), 1u);
  EXPECT_EQ(jan.groups[0].traits.at("plan").value, "enterprise");
  EXPECT_THAT(RenderContext(eva), HasSubstr("Groups: beta, Acme s.r.o. (acme)"));
  EXPECT_THAT(ContextToJson(eva), HasSubstr(R"("groups":[{"id":"beta","traits":{})"));
}

// Defect: numbers, booleans and objects became strings, null the string "null".
TEST(SegmentEngineTest, TraitsKeepTheirJsonTypesAndNullClearsOne) {
  Engine0 f;
  f.Feed(R"({"type":"identify","messageId":"i1","userId":"eva","timestamp":"2026-11-20T10:00:00Z","traits":{"firstName":"Eva","lastName":"Novak","logins":5,"ltv":1234.56,"vip":true,"address":{"city":"Brno"},"tags":["a","b"],"title":"CEO"}}
{"type":"identify","messageId":"i2","userId":"eva","timestamp":"2026-11-20T10:01:00Z","traits":{"title":null}})");
  const CustomerContext c = f.Ctx("user_id", "eva");
  EXPECT_EQ(c.traits.at("logins").kind, TraitValue::Kind::kNumber);
  EXPECT_EQ(c.traits.at("logins").value, "5");
  EXPECT_EQ(c.traits.at("ltv").value, "1234.56");
  EXPECT_EQ(c.traits.at("vip").kind, TraitValue::Kind::kBoolean);
  EXPECT_EQ(c.traits.at("address").kind, TraitValue::Kind::kObject);
  EXPECT_EQ(c.traits.at("tags").kind, TraitValue::Kind::kArray);
  EXPECT_EQ(c.traits.at("firstName").kind, TraitValue::Kind::kString);
  EXPECT_FALSE(c.traits.contains("title"));
  const std::string json = ContextToJson(c);
  EXPECT_THAT(json, HasSubstr(R"("logins":{"value":5,)"));
  EXPECT_THAT(json, HasSubstr(R"("vip":{"value":true,)"));
  EXPECT_THAT(json, HasSubstr(R"("address":{"value":{"city":"Brno"},)"));
  EXPECT_THAT(json, HasSubstr(R"("tags":{"value":["a","b"],)"));
  EXPECT_THAT(json, HasSubstr(R"("firstName":{"value":"Eva",)"));
  EXPECT_THAT(RenderContext(c), ::testing::StartsWith("Eva Novak  "));
}

// Live chat from a chat tool: one open conversation with its agent and last message.
TEST(SegmentEngineTest, LiveChatEventsAreAConversation) {
  Engine0 f;
  f.Feed(R"({"type":"track","messageId":"c1","userId":"eva","event":"Live Chat Conversation Started","timestamp":"2026-11-20T10:00:00Z","properties":{"conversation_id":"conv-1","agent_id":"agent-7","message_body":"My parcel did not arrive"}}
{"type":"track","messageId":"c2","userId":"eva","event":"Live Chat Message Received","timestamp":"2026-11-20T10:01:00Z","properties":{"conversation_id":"conv-1","agent_id":"agent-7","message_body":"Let me check"}})");
  f.clock.Set(Utc(2026, 11, 20, 10, 5));
  const CustomerContext c = f.Ctx("user_id", "eva");
  ASSERT_EQ(c.open_conversations.size(), 1u);
  EXPECT_EQ(c.open_conversations[0].id, "conv-1");
  EXPECT_EQ(ChannelName(c.open_conversations[0].channel), "chat");
  EXPECT_EQ(c.open_conversations[0].agents, std::vector<std::string>{"agent-7"});
  ASSERT_TRUE(c.open_conversations[0].last_message.has_value());
  EXPECT_EQ(c.open_conversations[0].last_message->text, "Let me check");
  EXPECT_EQ(c.counters.contacts_7d, 1);
}

}  // namespace
}  // namespace omnijourney
