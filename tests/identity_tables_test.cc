// The identity graph's storage helpers: the hash index (with deletions) against a reference map,
// the value arena's wiping, and the stable hashes' concatenation form.
#include <map>
#include <random>
#include <set>
#include <string>

#include "gtest/gtest.h"
#include "identity/hash.h"
#include "identity/key_table.h"
#include "identity/string_arena.h"

namespace omnijourney::internal {
namespace {

TEST(KeyTableTest, MatchesAReferenceUnderInsertsAndErases) {
  for (uint32_t seed = 1; seed <= 5; ++seed) {
    std::mt19937_64 rng(seed);
    KeyTable table;
    std::map<uint32_t, uint64_t> reference;  // id -> hash
    // Few distinct hashes (collisions and long probe chains) and a growing table.
    for (int step = 0; step < 20000; ++step) {
      const uint32_t id = static_cast<uint32_t>(rng() % 3000);
      const uint64_t hash = (seed == 1) ? rng() % 64 : rng();
      if (auto it = reference.find(id); it != reference.end()) {
        table.Erase(it->second, id);
        reference.erase(it);
      } else {
        table.Insert(hash, id);
        reference[id] = hash;
      }
      if (step % 997 == 0 || step == 19999) {
        ASSERT_EQ(table.size(), reference.size());
        for (const auto& [rid, rhash] : reference) {
          const uint32_t id = rid;  // clang 14 cannot capture a structured binding.
          ASSERT_EQ(table.Find(rhash, [id](uint32_t x) { return x == id; }), id) << "seed " << seed;
        }
        std::set<uint32_t> seen;
        table.ForEach([&](uint32_t x) { seen.insert(x); });
        ASSERT_EQ(seen.size(), reference.size());
      }
    }
    // Erased ids are gone; a predicate that rejects everything finds nothing.
    EXPECT_EQ(table.Find(12345, [](uint32_t) { return false; }), KeyTable::kEmpty);
  }
}

TEST(KeyTableTest, PeekAndPrefetchOnEmptyAndClearedTables) {
  KeyTable table;
  EXPECT_EQ(table.Peek(7), KeyTable::kEmpty);
  table.Prefetch(7);
  table.Insert(7, 1);
  EXPECT_EQ(table.Peek(7), 1u);
  table.Clear();
  EXPECT_EQ(table.size(), 0u);
  EXPECT_EQ(table.Peek(7), KeyTable::kEmpty);
  EXPECT_EQ(table.Find(7, [](uint32_t) { return true; }), KeyTable::kEmpty);
}

TEST(StringArenaTest, KeepsValuesAndWipesThem) {
  StringArena arena;
  std::vector<std::string_view> views;
  for (int i = 0; i < 100000; ++i) views.push_back(arena.Add("value-" + std::to_string(i)));  // Several chunks.
  const std::string big(StringArena::kChunk, 'x');  // A value larger than a chunk share.
  const std::string_view big_view = arena.Add(big);
  for (int i = 0; i < 100000; i += 9973) EXPECT_EQ(views[i], "value-" + std::to_string(i));
  EXPECT_EQ(big_view, big);
  auto contains = [&](std::string_view needle) {
    bool found = false;
    arena.ForEachChunk([&](std::string_view bytes) { found = found || bytes.find(needle) != std::string_view::npos; });
    return found;
  };
  // Values are stored back to back; "value-4242" alone would also match "value-42420".
  EXPECT_TRUE(contains("value-4242value-"));
  StringArena::Wipe(views[4242]);
  EXPECT_FALSE(contains("value-4242value-"));
  EXPECT_TRUE(contains("value-4243value-"));
  arena.Clear();
  EXPECT_FALSE(contains("value-"));
}

// HashConcat is HashBytes of the concatenation (journey splits pick their branch by it, so that
// every replay and every version picks the same one), at every cut of random strings.
TEST(StableHashTest, HashConcatIsTheHashOfTheConcatenation) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 200; ++round) {
    std::string text(rng() % 40, ' ');
    for (char& c : text) c = static_cast<char>(rng() % 256);
    const uint64_t seed = rng();
    for (size_t cut = 0; cut <= text.size(); ++cut) {
      const std::string_view all(text);
      EXPECT_EQ(HashConcat(seed, all.substr(0, cut), all.substr(cut)), HashBytes(seed, all)) << round << " " << cut;
    }
  }
}

}  // namespace
}  // namespace omnijourney::internal
