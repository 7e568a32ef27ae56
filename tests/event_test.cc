#include "omnijourney/event.h"

#include <limits>
#include <random>

#include "absl/time/civil_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "omnijourney/version.h"

namespace omnijourney {
namespace {

using ::testing::HasSubstr;

absl::Time Utc(int y, int mo, int d, int h = 0, int mi = 0, int s = 0) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s), absl::UTCTimeZone());
}

TEST(VersionTest, ComesFromProjectVersion) {
  EXPECT_STRNE(OMNIJOURNEY_VERSION_STRING, "");
  EXPECT_GE(OMNIJOURNEY_VERSION_MAJOR, 0);
}

TEST(Iso8601Test, AcceptsCommonForms) {
  EXPECT_EQ(*ParseIso8601("2026-11-22T09:30:00Z"), Utc(2026, 11, 22, 9, 30));
  EXPECT_EQ(*ParseIso8601("2026-11-22T09:30:00z"), Utc(2026, 11, 22, 9, 30));
  EXPECT_EQ(*ParseIso8601("2026-11-22T10:30:00+01:00"), Utc(2026, 11, 22, 9, 30));
  EXPECT_EQ(*ParseIso8601("2026-11-22T04:00:00-0530"), Utc(2026, 11, 22, 9, 30));
  EXPECT_EQ(*ParseIso8601("2026-11-22T11:30:00+02"), Utc(2026, 11, 22, 9, 30));
  EXPECT_EQ(*ParseIso8601("2026-11-22 09:30:00"), Utc(2026, 11, 22, 9, 30));
  EXPECT_EQ(*ParseIso8601("2026-11-22T09:30"), Utc(2026, 11, 22, 9, 30));
  EXPECT_EQ(*ParseIso8601("2026-11-22"), Utc(2026, 11, 22));
  EXPECT_EQ(*ParseIso8601("2015-02-23T22:28:55.111Z"), Utc(2015, 2, 23, 22, 28, 55) + absl::Milliseconds(111));
  EXPECT_EQ(*ParseIso8601("2015-02-23T22:28:55.123456789Z"),
            Utc(2015, 2, 23, 22, 28, 55) + absl::Nanoseconds(123456789));
  // Digits past nanoseconds are dropped, not rounded into the next second.
  EXPECT_EQ(*ParseIso8601("2015-02-23T22:28:55.9999999999Z"),
            Utc(2015, 2, 23, 22, 28, 55) + absl::Nanoseconds(999999999));
  EXPECT_EQ(*ParseIso8601("2024-02-29T00:00:00Z"), Utc(2024, 2, 29));
}

TEST(Iso8601Test, RejectsMalformedDates) {
  for (const char* bad : {"", "2026", "2026-13-01", "2026-02-30", "2025-02-29", "2026-11-22T25:00:00Z",
                          "2026-11-22T10:61:00Z", "2026-11-22T10:00:60Z", "2026-11-22X10:00:00Z",
                          "2026-11-22T10:00:00.Z", "2026-11-22T10:00:00+1", "2026-11-22T10:00:00+25:00",
                          "2026-11-22T10:00:00Zjunk", "22.11.2026", "yesterday"}) {
    auto t = ParseIso8601(bad);
    EXPECT_FALSE(t.ok()) << bad;
    if (!t.ok()) {
      EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
      EXPECT_THAT(std::string(t.status().message()), HasSubstr("is not an ISO-8601 date-time"));
    }
  }
}

TEST(TimestampTest, RoundTripsAndClamps) {
  const absl::Time t = Utc(2026, 11, 22, 9, 30) + absl::Nanoseconds(5);
  EXPECT_EQ(FromTimestamp(ToTimestamp(t)), t);
  const absl::Time before_epoch = Utc(1969, 12, 31, 23, 59, 59) + absl::Milliseconds(250);
  auto ts = ToTimestamp(before_epoch);
  EXPECT_EQ(ts.seconds(), -1);
  EXPECT_EQ(ts.nanos(), 250000000);
  EXPECT_EQ(FromTimestamp(ts), before_epoch);
  EXPECT_EQ(ToTimestamp(absl::InfiniteFuture()).seconds(), 253402300799);
  EXPECT_EQ(ToTimestamp(absl::InfinitePast()).seconds(), -62135596800);
  EXPECT_EQ(FormatRfc3339(Utc(2026, 11, 22, 9, 30) + absl::Milliseconds(250)), "2026-11-22T09:30:00.25Z");
}

// FormatRfc3339 writes whole-nanosecond times itself: the same text as absl's general format.
TEST(TimestampTest, Rfc3339IsTheGeneralFormatForEveryKindOfTime) {
  auto general = [](absl::Time t) { return absl::FormatTime("%E4Y-%m-%d%ET%H:%M:%E*SZ", t, absl::UTCTimeZone()); };
  std::mt19937_64 rng(11);
  const int64_t lo = absl::ToUnixNanos(absl::FromUnixNanos(std::numeric_limits<int64_t>::min()));
  int checked = 0;
  for (int i = 0; i < 200000; ++i) {
    int64_t ns = static_cast<int64_t>(rng());
    switch (i % 5) {
      case 0: ns -= ns % 1'000'000'000; break;  // Whole seconds.
      case 1: ns -= ns % 1'000'000; break;      // Milliseconds.
      case 2: ns = ns % (int64_t{4'000'000'000} * 1'000'000'000); break;  // 1843-2096.
      default: break;
    }
    const absl::Time t = absl::FromUnixNanos(ns);
    ASSERT_EQ(FormatRfc3339(t), general(t)) << ns;
    ++checked;
  }
  for (absl::Time t : {absl::UnixEpoch(), absl::FromUnixNanos(-1), absl::FromUnixNanos(lo),
                       absl::FromUnixNanos(std::numeric_limits<int64_t>::max()), Utc(2000, 2, 29, 23, 59, 59),
                       Utc(1900, 3, 1, 0, 0, 0), Utc(2100, 2, 28, 12, 0, 0), Utc(1, 1, 1, 0, 0, 0),
                       Utc(9999, 12, 31, 23, 59, 59) + absl::Nanoseconds(999999999),
                       Utc(2026, 11, 22, 9, 30) + absl::Nanoseconds(1) / 4}) {
    EXPECT_EQ(FormatRfc3339(t), general(t));
  }
  EXPECT_EQ(checked, 200000);
}

TEST(EnumNamesTest, RoundTripEveryValue) {
  for (int i = v1::Channel_MIN; i <= v1::Channel_MAX; ++i) {
    const auto c = static_cast<v1::Channel>(i);
    auto parsed = ParseChannel(ChannelName(c));
    ASSERT_TRUE(parsed.ok()) << i;
    EXPECT_EQ(*parsed, c);
    EXPECT_EQ(*ParseChannel(v1::Channel_Name(c)), c);
  }
  for (int i = v1::EventKind_MIN; i <= v1::EventKind_MAX; ++i) {
    const auto k = static_cast<v1::EventKind>(i);
    EXPECT_EQ(*ParseKind(KindName(k)), k) << i;
    EXPECT_EQ(*ParseKind(v1::EventKind_Name(k)), k) << i;
  }
  for (int i = v1::Direction_MIN; i <= v1::Direction_MAX; ++i) {
    const auto d = static_cast<v1::Direction>(i);
    EXPECT_EQ(*ParseDirection(DirectionName(d)), d) << i;
  }
  EXPECT_EQ(ChannelName(v1::CHANNEL_WHATSAPP), "whatsapp");
  EXPECT_EQ(*ParseChannel("WhatsApp"), v1::CHANNEL_WHATSAPP);
  EXPECT_EQ(ChannelName(static_cast<v1::Channel>(999)), "unspecified");
  auto bad = ParseChannel("pigeon");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "channel: unknown value 'pigeon'");
}

TEST(DescribeEventTest, SummarisesForAnAgent) {
  Event e;
  e.set_kind(v1::EVENT_KIND_ORDER);
  e.set_name("Order Completed");
  e.set_channel(v1::CHANNEL_WEB);
  e.set_direction(v1::DIRECTION_INBOUND);
  *e.mutable_occurred_at() = ToTimestamp(Utc(2026, 11, 20, 10));
  e.mutable_value()->set_currency("CZK");
  e.mutable_value()->set_units(24990);
  e.mutable_value()->set_nanos(500000000);
  auto* id = e.add_identifiers();
  id->set_type("email");
  id->set_value("eva@example.com");
  EXPECT_EQ(DescribeEvent(e),
            "2026-11-20T10:00:00Z web inbound order 'Order Completed' 24990.50 CZK [email=eva@example.com]");
}

TEST(DescribeEventTest, CutsLongTextOnACharacterBoundary) {
  Event e;
  e.set_kind(v1::EVENT_KIND_MESSAGE);
  std::string text(59, 'a');
  text += "\xC3\xA9\xC3\xA9";  // The 60-byte cut falls inside the first 'é'.
  e.set_text(text);
  const std::string d = DescribeEvent(e);
  EXPECT_THAT(d, HasSubstr("\"" + std::string(59, 'a') + "...\""));
}

}  // namespace
}  // namespace omnijourney
