#include "engine/dedupe_window.h"

#include <memory>
#include <string>
#include <vector>

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

// Restored from a snapshot's bytes, copied or left in the (mapped) bytes until first used, and into
// a smaller window: the same keys, the newest kept.
TEST(DedupeWindowTest, RestoresSealedOrCopiedIntoAnyCapacity) {
  DedupeWindow window(10);
  std::vector<DedupeKey> keys;
  for (int i = 0; i < 5; ++i) {
    keys.push_back(DedupeWindow::KeyOf(Key("", "s", std::to_string(i))));
    window.Remember(keys.back());
  }
  SerialWriter w;
  window.Save(w);
  auto bytes = std::make_shared<const std::string>(w.data());
  for (const bool sealed : {false, true}) {
    for (const size_t capacity : {size_t{10}, size_t{3}}) {
      DedupeWindow restored(capacity);
      SerialReader r(*bytes);
      ASSERT_TRUE(restored.Restore(r, sealed ? bytes : nullptr).ok());
      EXPECT_TRUE(r.done());
      for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(restored.Contains(keys[static_cast<size_t>(i)]), capacity == 10 || i >= 2)
            << "sealed " << sealed << " capacity " << capacity << " key " << i;
      }
      SerialWriter again;
      restored.Save(again);
      if (capacity == 10) {
        EXPECT_EQ(again.data(), w.data());
      }
    }
  }
  DedupeWindow truncated(10);
  SerialReader r(std::string_view(*bytes).substr(0, 20));
  EXPECT_EQ(truncated.Restore(r, bytes).code(), absl::StatusCode::kDataLoss);
}

TEST(StepKeysTest, FindsKeysAddedInTheStepOnlyAcrossCollisions) {
  // Keys whose first halves collide in the table (same low bits), equal first halves with other
  // second halves, and one key twice.
  std::vector<DedupeKey> keys;
  for (uint64_t k = 0; k < 40; ++k) keys.push_back({k << 20, k % 3});
  keys.push_back({5 << 20, 7});  // Same first half as keys[5], another key.
  keys.push_back(keys[8]);       // Sent twice.
  StepKeys step;
  step.Reset(keys.size());
  for (size_t i = 0; i < 40; ++i) {
    ASSERT_FALSE(step.Contains(keys, i)) << i;
    if (i % 4 != 1) step.Add(keys, i);  // Some are refused, never added.
  }
  for (size_t i = 0; i < 40; ++i) EXPECT_EQ(step.Contains(keys, i), i % 4 != 1) << i;
  EXPECT_FALSE(step.Contains(keys, 40));
  EXPECT_TRUE(step.Contains(keys, 41));
  step.Reset(2);
  EXPECT_FALSE(step.Contains(keys, 0));
  EXPECT_FALSE(step.Contains(keys, 41));
}

}  // namespace
}  // namespace omnijourney::internal
