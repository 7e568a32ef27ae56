#include "omnijourney/validate.h"

#include "common/utf8.h"

#include <functional>
#include <string>

#include "absl/time/civil_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace omnijourney {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

const absl::Time kNow = absl::FromCivil(absl::CivilSecond(2026, 11, 22, 12, 0, 0), absl::UTCTimeZone());

Event ValidEvent() {
  Event e;
  e.set_event_id("evt-1");
  e.set_source("livechat");
  e.set_tenant("acme-cz");
  e.set_kind(v1::EVENT_KIND_MESSAGE);
  e.set_channel(v1::CHANNEL_CHAT);
  e.set_direction(v1::DIRECTION_INBOUND);
  *e.mutable_occurred_at() = ToTimestamp(kNow - absl::Hours(1));
  auto* id = e.add_identifiers();
  id->set_type("email");
  id->set_value("eva@example.com");
  e.set_text("Where is my parcel?");
  (*e.mutable_properties()->mutable_fields())["order_id"].set_string_value("A-1");
  return e;
}

std::string Error(const Event& e, const ValidationOptions& options = {}) {
  absl::Status s = ValidateEvent(e, options, kNow);
  if (s.ok()) return "OK";
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  return std::string(s.message());
}

TEST(ValidateTest, AcceptsAValidEvent) { EXPECT_EQ(Error(ValidEvent()), "OK"); }

struct Case {
  std::string label;
  std::function<void(Event&)> mutate;
  std::string expected_prefix;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.label; }

class ValidateRuleTest : public ::testing::TestWithParam<Case> {};

TEST_P(ValidateRuleTest, RejectsWithFieldName) {
  Event e = ValidEvent();
  GetParam().mutate(e);
  EXPECT_THAT(Error(e), StartsWith(GetParam().expected_prefix));
}

std::string Big(size_t n) { return std::string(n, 'x'); }

INSTANTIATE_TEST_SUITE_P(
    Rules, ValidateRuleTest,
    ::testing::Values(
        Case{"MissingEventId", [](Event& e) { e.clear_event_id(); }, "event_id: missing"},
        Case{"LongEventId", [](Event& e) { e.set_event_id(Big(129)); }, "event_id: 129 bytes exceeds"},
        Case{"ControlInEventId", [](Event& e) { e.set_event_id("a\nb"); }, "event_id: contains a control"},
        Case{"MissingSource", [](Event& e) { e.clear_source(); }, "source: missing"},
        Case{"BadUtf8Source", [](Event& e) { e.set_source("web\xFF"); }, "source: invalid UTF-8 at byte 3"},
        Case{"BadTenant", [](Event& e) { e.set_tenant("acme cz"); }, "tenant: may only contain"},
        Case{"LongTenant", [](Event& e) { e.set_tenant(Big(65)); }, "tenant: longer than 64"},
        Case{"MissingKind", [](Event& e) { e.clear_kind(); }, "kind: missing"},
        Case{"UnknownKind", [](Event& e) { e.set_kind(static_cast<v1::EventKind>(77)); }, "kind: unknown value 77"},
        Case{"UnknownChannel", [](Event& e) { e.set_channel(static_cast<v1::Channel>(99)); },
             "channel: unknown value 99"},
        Case{"UnknownDirection", [](Event& e) { e.set_direction(static_cast<v1::Direction>(9)); },
             "direction: unknown value 9"},
        Case{"TrackWithoutName", [](Event& e) { e.set_kind(v1::EVENT_KIND_TRACK); }, "name: missing"},
        Case{"LongName", [](Event& e) { e.set_name(Big(257)); }, "name: 257 bytes"},
        Case{"MissingOccurredAt", [](Event& e) { e.clear_occurred_at(); }, "occurred_at: missing"},
        Case{"AncientOccurredAt",
             [](Event& e) { *e.mutable_occurred_at() = ToTimestamp(absl::FromUnixSeconds(-62135596800)); },
             "occurred_at: 0001-01-01T00:00:00Z is before the earliest accepted time 1990-01-01"},
        Case{"FutureOccurredAt",
             [](Event& e) { *e.mutable_occurred_at() = ToTimestamp(kNow + absl::Hours(25)); },
             "occurred_at: 2026-11-23T13:00:00Z is more than 24h after now"},
        Case{"Year9999", [](Event& e) { e.mutable_occurred_at()->set_seconds(253402300799); },
             "occurred_at: 9999-12-31T23:59:59Z is more than"},
        Case{"BadNanos", [](Event& e) { e.mutable_occurred_at()->set_nanos(-1); }, "occurred_at: nanos -1"},
        Case{"FutureSentAt", [](Event& e) { *e.mutable_sent_at() = ToTimestamp(kNow + absl::Hours(48)); },
             "sent_at:"},
        Case{"OldReceivedAt", [](Event& e) { e.mutable_received_at()->set_seconds(10); }, "received_at:"},
        Case{"NoIdentifiers", [](Event& e) { e.clear_identifiers(); },
             "identifiers: at least one identifier is required"},
        Case{"TooManyIdentifiers",
             [](Event& e) {
               for (int i = 0; i < 40; ++i) {
                 auto* id = e.add_identifiers();
                 id->set_type("cookie");
                 id->set_value("c" + std::to_string(i));
               }
             },
             "identifiers: 41 identifiers exceed the limit of 32"},
        Case{"MissingIdentifierType", [](Event& e) { e.mutable_identifiers(0)->clear_type(); },
             "identifiers[0].type: missing"},
        Case{"UppercaseIdentifierType", [](Event& e) { e.mutable_identifiers(0)->set_type("Email"); },
             "identifiers[0].type: 'Email' must be lowercase snake_case"},
        Case{"LongIdentifierType", [](Event& e) { e.mutable_identifiers(0)->set_type(Big(33)); },
             "identifiers[0].type: longer than 32"},
        Case{"EmptyIdentifierValue", [](Event& e) { e.mutable_identifiers(0)->clear_value(); },
             "identifiers[0].value: missing"},
        Case{"BlankIdentifierValue", [](Event& e) { e.mutable_identifiers(0)->set_value(" \t "); },
             "identifiers[0].value: blank"},
        Case{"HugeIdentifierValue", [](Event& e) { e.mutable_identifiers(0)->set_value(Big(513)); },
             "identifiers[0].value: 513 bytes exceeds the limit of 512"},
        Case{"BadUtf8IdentifierValue", [](Event& e) { e.mutable_identifiers(0)->set_value("eva\xC0\x80"); },
             "identifiers[0].value: invalid UTF-8 at byte 3"},
        Case{"AliasWithoutPreviousId", [](Event& e) { e.set_kind(v1::EVENT_KIND_ALIAS); },
             "previous_id: missing"},
        Case{"BadPreviousId",
             [](Event& e) {
               e.mutable_previous_id()->set_type("cookie");
               e.mutable_previous_id()->set_value("");
             },
             "previous_id.value: missing"},
        Case{"GroupWithoutGroupId", [](Event& e) { e.set_kind(v1::EVENT_KIND_GROUP); }, "group_id: missing"},
        Case{"BadUtf8Text", [](Event& e) { e.set_text("ok \xE2\x82"); }, "text: invalid UTF-8 at byte 3"},
        Case{"LongAgentId", [](Event& e) { e.set_agent_id(Big(2049)); }, "agent_id: 2049 bytes"},
        Case{"BadUtf8Property",
             [](Event& e) { (*e.mutable_properties()->mutable_fields())["note"].set_string_value("\xFF"); },
             "properties.note: invalid UTF-8"},
        Case{"NanProperty",
             [](Event& e) { (*e.mutable_properties()->mutable_fields())["score"].set_number_value(NAN); },
             "properties.score: number is not finite"},
        Case{"EmptyValueKind",
             [](Event& e) { (*e.mutable_traits()->mutable_fields())["x"]; }, "traits.x: value has no kind"},
        Case{"DeepProperties",
             [](Event& e) {
               google::protobuf::Struct* s = e.mutable_properties();
               for (int i = 0; i < 20; ++i) s = (*s->mutable_fields())["n"].mutable_struct_value();
             },
             "properties.n.n.n.n.n.n.n.n.n.n.n.n.n.n.n.n: nested deeper than 16 levels"},
        Case{"DeepList",
             [](Event& e) {
               auto* v = &(*e.mutable_properties()->mutable_fields())["l"];
               for (int i = 0; i < 20; ++i) v = v->mutable_list_value()->add_values();
             },
             "properties.l[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]: nested deeper"},
        Case{"MoneyWithoutCurrency", [](Event& e) { e.mutable_value()->set_units(5); },
             "value.currency: missing"},
        Case{"LowercaseCurrency",
             [](Event& e) {
               e.mutable_value()->set_units(5);
               e.mutable_value()->set_currency("czk");
             },
             "value.currency: 'czk' is not an ISO-4217 code"},
        Case{"MoneyNanosSign",
             [](Event& e) {
               e.mutable_value()->set_currency("EUR");
               e.mutable_value()->set_units(5);
               e.mutable_value()->set_nanos(-5);
             },
             "value.nanos: sign differs"},
        Case{"MoneyNanosRange",
             [](Event& e) {
               e.mutable_value()->set_currency("EUR");
               e.mutable_value()->set_nanos(1000000000);
             },
             "value.nanos: 1000000000 out of range"},
        Case{"BadUtf8Context", [](Event& e) { e.mutable_context()->mutable_page()->set_title("\xF5"); },
             "context.page.title: invalid UTF-8"},
        Case{"LongUserAgent", [](Event& e) { e.mutable_context()->set_user_agent(Big(3000)); },
             "context.user_agent: 3000 bytes"},
        Case{"Oversize", [](Event& e) { e.set_text(Big(40000)); }, "event: 400"}),
    [](const ::testing::TestParamInfo<Case>& info) { return info.param.label; });

TEST(ValidateTest, AliasNeedsNewIdentifierToo) {
  Event e = ValidEvent();
  e.set_kind(v1::EVENT_KIND_ALIAS);
  e.mutable_previous_id()->set_type("anonymous_id");
  e.mutable_previous_id()->set_value("cookie-1");
  EXPECT_EQ(Error(e), "OK");
  e.clear_identifiers();
  EXPECT_THAT(Error(e), StartsWith("identifiers: an alias event needs the new identifier"));
}

TEST(ValidateTest, LimitsAreConfigurable) {
  Event e = ValidEvent();
  e.set_text(std::string(40000, 'x'));
  ValidationOptions options;
  EXPECT_THAT(Error(e, options), HasSubstr("exceeds the limit of 32768"));
  options.max_event_bytes = 64 * 1024;
  EXPECT_EQ(Error(e, options), "OK");

  Event old = ValidEvent();
  old.mutable_occurred_at()->set_seconds(0);  // 1970
  EXPECT_THAT(Error(old), StartsWith("occurred_at:"));
  options.min_time = absl::UnixEpoch();
  EXPECT_EQ(Error(old, options), "OK");

  Event future = ValidEvent();
  *future.mutable_occurred_at() = ToTimestamp(kNow + absl::Hours(2));
  EXPECT_EQ(Error(future), "OK");
  options.max_future_skew = absl::Minutes(5);
  EXPECT_THAT(Error(future, options), StartsWith("occurred_at:"));
}

TEST(ValidateTest, DepthLimitCountsTopLevelAsOne) {
  ValidationOptions options;
  options.max_struct_depth = 2;
  Event e = ValidEvent();
  (*(*e.mutable_properties()->mutable_fields())["a"].mutable_struct_value()->mutable_fields())["b"]
      .set_number_value(1);
  EXPECT_EQ(Error(e, options), "OK");
  options.max_struct_depth = 1;
  EXPECT_THAT(Error(e, options), StartsWith("properties.a: nested deeper than 1 levels"));
}

TEST(Utf8Test, ControlCharacterCheckMatchesAByteByByteCheck) {
  auto slow = [](std::string_view s) {
    for (unsigned char c : s) {
      if (c < 0x20 || c == 0x7F) return true;
    }
    return false;
  };
  // Every byte value at every position of strings of 1 to 19 bytes, among printable ASCII and
  // multi-byte UTF-8 neighbours (the word-at-a-time check must not borrow across bytes).
  for (const char fill : {'a', '~', ' ', '\xC3'}) {
    for (size_t len = 1; len < 20; ++len) {
      for (size_t at = 0; at < len; ++at) {
        for (int b = 0; b < 256; ++b) {
          std::string s(len, fill);
          s[at] = static_cast<char>(b);
          ASSERT_EQ(internal::HasControlChar(s), slow(s)) << "byte " << b << " at " << at << " of " << len;
        }
      }
    }
  }
  EXPECT_FALSE(internal::HasControlChar(""));
  EXPECT_TRUE(internal::HasControlChar("0123456789abcdef\x7f"));
  EXPECT_FALSE(internal::HasControlChar("Zürich – naïve café, 東京"));
}

}  // namespace
}  // namespace omnijourney
