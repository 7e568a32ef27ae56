#include "engine/dedupe_window.h"

#include "gtest/gtest.h"

namespace omnijourney::internal {
namespace {

Event Key(const std::string& tenant, const std::string& source, const std::string& id) {
  Event e;
  e.set_tenant(tenant);
  e.set_source(source);
  e.set_event_id(id);
  return e;
}

TEST(DedupeWindowTest, KeysSeparateTenantSourceAndId) {
  const DedupeKey k = DedupeWindow::KeyOf(Key("t", "web", "1"));
  EXPECT_EQ(k, DedupeWindow::KeyOf(Key("t", "web", "1")));
  EXPECT_NE(k, DedupeWindow::KeyOf(Key("", "web", "1")));
  EXPECT_NE(k, DedupeWindow::KeyOf(Key("t", "app", "1")));
  EXPECT_NE(DedupeWindow::KeyOf(Key("t", "ab", "c")), DedupeWindow::KeyOf(Key("t", "a", "bc")));
}

constexpr uint64_t kStableFirst = 16707932042081207615ULL, kStableSecond = 13218186100570042127ULL;

// Snapshots keep the keys: they must be the same in every process and build (absl::Hash is not).
TEST(DedupeWindowTest, KeysAreStableAcrossProcesses) {
  const DedupeKey k = DedupeWindow::KeyOf(Key("tenant", "web", "event-1"));
  EXPECT_EQ(k.first, kStableFirst);
  EXPECT_EQ(k.second, kStableSecond);
}

TEST(DedupeWindowTest, ForgetsTheOldestBeyondItsCapacity) {
  DedupeWindow window(2);
  const DedupeKey a = DedupeWindow::KeyOf(Key("", "s", "a")), b = DedupeWindow::KeyOf(Key("", "s", "b")),
                  c = DedupeWindow::KeyOf(Key("", "s", "c"));
  window.Remember(a);
  window.Remember(b);
  EXPECT_TRUE(window.Contains(a));
  window.Remember(c);
  EXPECT_FALSE(window.Contains(a));
  EXPECT_TRUE(window.Contains(b));
  EXPECT_TRUE(window.Contains(c));
  EXPECT_EQ(window.forgotten(), 1);
}

TEST(DedupeWindowTest, ZeroCapacityRemembersNothing) {
  DedupeWindow window(0);
  const DedupeKey a = DedupeWindow::KeyOf(Key("", "s", "a"));
  window.Remember(a);
  EXPECT_FALSE(window.Contains(a));
}

}  // namespace
}  // namespace omnijourney::internal
