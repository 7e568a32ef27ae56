// The engine under concurrent use: writers ingest the same customers' events from several threads
// (so merges race), re-send some (duplicates), while readers ask for contexts, explanations and
// stats. Run in every build; under ThreadSanitizer (`./omnijourney.sh test --tsan`) it also checks
// for data races.
#include <atomic>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine_test_util.h"
#include "gtest/gtest.h"
#include "omnijourney/engine.h"

namespace omnijourney {
namespace {

using ::omnijourney::testing::Ev;

constexpr int kCustomers = 300;
constexpr int kEventsPer = 6;
constexpr int kWriters = 3;
constexpr int kReaders = 2;

std::string Email(int c) { return absl::StrCat("customer", c, "@example.com"); }
std::string Cookie(int c, int k) { return absl::StrCat("ck-", c, "-", k); }

// Event k of customer c: event 0 is anonymous (a cookie); the others carry the e-mail, their own
// cookie and (event 1) the first cookie, which links the anonymous visit to the customer.
Event MakeEvent(int c, int k) {
  Ev e(absl::StrCat(c, "-", k), c % 50 + k, k % 2 ? v1::EVENT_KIND_MESSAGE : v1::EVENT_KIND_PAGE, "Visit");
  e.Id("cookie", Cookie(c, k));
  if (k > 0) e.Id("email", Email(c));
  if (k == 1) e.Id("cookie", Cookie(c, 0));
  return e.event();
}

void CheckParallelIngestAndContexts(absl::Duration writer_slice) {
  EngineOptions options;
  options.writer_slice = writer_slice;
  auto opened = Engine::Open(options);
  ASSERT_TRUE(opened.ok()) << opened.status();
  Engine& engine = **opened;

  std::atomic<int> writers_left{kWriters};
  std::atomic<int> failures{0};
  std::atomic<int64_t> resent{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      std::mt19937 rng(static_cast<unsigned>(w));
      std::vector<Event> batch;
      // Writer w takes events k with k % kWriters == w, of every customer: one customer's events
      // arrive on several threads, in any order.
      for (int c = 0; c < kCustomers; ++c) {
        for (int k = w; k < kEventsPer; k += kWriters) {
          batch.push_back(MakeEvent(c, k));
          if (rng() % 10 == 0) {
            batch.push_back(MakeEvent(c, k));  // Re-delivered.
            resent.fetch_add(1);
          }
        }
        if (batch.size() >= 16 || c == kCustomers - 1) {
          std::vector<const Event*> pointers;
          for (const Event& e : batch) pointers.push_back(&e);
          if (rng() % 2 == 0) {
            for (const auto& r : engine.IngestBatch(pointers)) {
              if (!r.ok()) failures.fetch_add(1);
            }
          } else {
            for (const Event* e : pointers) {
              if (!engine.Ingest(*e).ok()) failures.fetch_add(1);
            }
          }
          batch.clear();
        }
      }
      writers_left.fetch_sub(1);
    });
  }
  std::atomic<int64_t> contexts{0};
  std::atomic<int64_t> explains{0};
  for (int r = 0; r < kReaders; ++r) {
    threads.emplace_back([&, r] {
      std::mt19937 rng(static_cast<unsigned>(100 + r));
      while (writers_left.load() > 0) {
        const int c = static_cast<int>(rng() % kCustomers);
        auto ctx = engine.Context({"", "email", Email(c)});
        if (ctx.ok()) {
          contexts.fetch_add(1);
          if (ctx->timeline_size < 1 || ctx->timeline_size > kEventsPer) failures.fetch_add(1);
        } else if (!absl::IsNotFound(ctx.status())) {
          failures.fetch_add(1);
        }
        (void)engine.Stats();
        // The second reader also explains (its audit is read in steps, between which writers apply):
        // every entry concerns this customer's identifiers.
        if (r == 1 && ctx.ok()) {
          auto explained = engine.Explain(ctx->profile);
          if (!explained.ok()) {
            if (!absl::IsNotFound(explained.status())) failures.fetch_add(1);  // Merged away since.
            continue;
          }
          for (const AuditEntry& e : explained->audit) {
            if (e.identifier.value != Email(c) && !absl::StartsWith(e.identifier.value, absl::StrCat("ck-", c, "-"))) {
              failures.fetch_add(1);
            }
          }
          explains.fetch_add(1);
        }
      }
    });
  }
  for (auto& t : threads) t.join();

  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(contexts.load(), 0);
  EXPECT_GT(explains.load(), 0);
  const EngineStats stats = engine.Stats();
  EXPECT_EQ(stats.events, int64_t{kCustomers} * kEventsPer);
  EXPECT_EQ(stats.duplicates, resent.load());
  EXPECT_EQ(stats.profiles, kCustomers);
  for (int c = 0; c < kCustomers; ++c) {
    auto ctx = engine.Context({"", "cookie", Cookie(c, 0)});
    ASSERT_TRUE(ctx.ok()) << c << ": " << ctx.status();
    EXPECT_EQ(ctx->timeline_size, kEventsPer) << c;
    EXPECT_EQ(ctx->identifiers["email"], std::vector<std::string>{Email(c)}) << c;
    EXPECT_EQ(ctx->identifiers["cookie"].size(), static_cast<size_t>(kEventsPer)) << c;
  }
}

TEST(ConcurrencyTest, ParallelIngestAndContextsAgreeWithTheSerialResult) {
  CheckParallelIngestAndContexts(EngineOptions().writer_slice);
}

// Batches hand the state over to waiting readers after every event.
TEST(ConcurrencyTest, ReadersLetInAfterEveryEventChangeNothing) {
  CheckParallelIngestAndContexts(absl::ZeroDuration());
}

}  // namespace
}  // namespace omnijourney
