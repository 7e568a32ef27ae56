// The outbox: release once, dispositions (quiet hours, caps), pending until acknowledged,
// hand-outs per run and redelivery, pruning.
#include "engine/outbox.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace omnijourney::internal {
namespace {

using ::testing::HasSubstr;

absl::Time Utc(int day, int hour) { return absl::FromCivil(absl::CivilHour(2026, 11, day, hour), absl::UTCTimeZone()); }

JourneyAction Action(const std::string& id, absl::Time t, const std::string& channel = "sms") {
  JourneyAction a;
  a.id = id;
  a.profile = 7;
  a.channel = channel;
  a.time = t;
  a.handed_out = t;
  return a;
}

TEST(OutboxTest, PendingUntilAcknowledgedAndHandedOutOnce) {
  ActionOptions options;
  Outbox outbox(options, absl::UTCTimeZone());
  outbox.Release(Action("a", Utc(1, 10)), nullptr);
  outbox.Release(Action("b", Utc(1, 11)), nullptr);
  EXPECT_TRUE(outbox.released("a"));
  const auto taken = outbox.Take(Utc(1, 12), absl::ZeroDuration());
  ASSERT_EQ(taken.size(), 2u);
  EXPECT_EQ(taken[0].id, "a");
  EXPECT_TRUE(outbox.Take(Utc(2, 12), absl::ZeroDuration()).empty());
  EXPECT_TRUE(outbox.CheckAck({"a", "b"}).ok());
  EXPECT_EQ(outbox.CheckAck({"a", "zzz"}).code(), absl::StatusCode::kNotFound);
  outbox.Ack({"a"});
  EXPECT_EQ(outbox.pending(), 1);
  EXPECT_TRUE(outbox.CheckAck({"a"}).ok());  // Acknowledged before: fine.
  // Redelivery after the lease.
  const auto again = outbox.Take(Utc(1, 13), absl::Minutes(30));
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].id, "b");
}

TEST(OutboxTest, QuietHoursDeferUntilTheirEndThenTheCapApplies) {
  ActionOptions options;
  options.quiet_start_hour = 21;
  options.quiet_end_hour = 8;
  options.max_per_channel_per_day = 1;
  Outbox outbox(options, absl::UTCTimeZone());
  outbox.Release(Action("night", Utc(1, 23)), nullptr);
  EXPECT_EQ(outbox.pending(), 0);
  EXPECT_EQ(outbox.deferred(), 1);
  EXPECT_EQ(*outbox.NextDeferred(), Utc(2, 8));
  outbox.Release(Action("morning", Utc(2, 7)), nullptr);  // Deferred to 08:00 too, after "night".
  auto utc = [](ProfileId) { return absl::UTCTimeZone(); };
  outbox.ReleaseDeferred(Utc(2, 7), utc);
  EXPECT_EQ(outbox.pending(), 0);
  outbox.ReleaseDeferred(Utc(2, 8), utc);
  const auto taken = outbox.Take(Utc(2, 8), absl::ZeroDuration());
  ASSERT_EQ(taken.size(), 2u);
  EXPECT_EQ(taken[0].id, "night");
  EXPECT_EQ(taken[0].disposition, JourneyAction::Disposition::kDeferred);
  EXPECT_EQ(taken[1].disposition, JourneyAction::Disposition::kSuppressed);
  EXPECT_THAT(taken[1].disposition_reason, HasSubstr("frequency cap 1"));
  // Tasks without a channel are never deferred or capped.
  outbox.Release(Action("task", Utc(2, 23), ""), nullptr);
  EXPECT_EQ(outbox.pending(), 3);
}

TEST(OutboxTest, PruneForgetsOldReleasedIdsButNotPendingOnes) {
  ActionOptions options;
  Outbox outbox(options, absl::UTCTimeZone());
  outbox.Release(Action("old", Utc(1, 10), ""), nullptr);
  outbox.Release(Action("acked", Utc(1, 11), ""), nullptr);
  outbox.Ack({"acked"});
  outbox.Prune(Utc(20, 0));
  EXPECT_TRUE(outbox.released("old"));     // Still pending.
  EXPECT_FALSE(outbox.released("acked"));  // Too old to be emitted again.
}

}  // namespace
}  // namespace omnijourney::internal
