// Resource limits: profiles per tenant (refused before anything is stored or changed, one at a time
// in batches, not re-checked on recovery), and every limit hit reported in Stats and tagged on the
// error (ExceededLimit).
#include <unistd.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "omnijourney/validate.h"

namespace omnijourney {
namespace {

using ::testing::HasSubstr;
using testing::At;
using testing::Ev;

Ev Visit(const std::string& id, int minute, const std::string& type, const std::string& value) {
  return Ev(id, minute, v1::EVENT_KIND_PAGE, "Home").Id(type, value).On(v1::CHANNEL_WEB);
}

struct Fixture {
  explicit Fixture(EngineOptions options) : clock(At(100000)) {
    options.clock = &clock;
    auto e = Engine::Open(options);
    EXPECT_TRUE(e.ok()) << e.status();
    if (e.ok()) engine = *std::move(e);
  }
  IngestResult Must(const Event& e) {
    auto r = engine->Ingest(e);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : IngestResult{};
  }
  // What a refusal must leave unchanged.
  std::string State() const {
    const EngineStats s = engine->Stats();
    std::string out = absl::StrCat("events=", s.events, " profiles=", s.profiles, " entries=", s.timeline_entries,
                                   " identifiers=", s.identity.identifiers, " graph_profiles=", s.identity.profiles,
                                   " records=", s.identity.link_records, " refusals=", s.identity.refusals);
    return out;
  }
  SimulatedClock clock;
  std::unique_ptr<Engine> engine;
};

EngineOptions Capped(int64_t limit) {
  EngineOptions options;
  options.max_profiles_per_tenant = limit;
  return options;
}

void ExpectProfileLimit(const absl::StatusOr<IngestResult>& r) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr("max_profiles_per_tenant = 3"));
  EXPECT_EQ(ExceededLimit(r.status()), "max_profiles_per_tenant");
}

TEST(LimitsTest, ProfilesPerTenantRefusesNewCustomersOnlyAndChangesNothing) {
  Fixture f(Capped(3));
  for (int i = 0; i < 3; ++i) f.Must(Visit(absl::StrCat("v", i), i, "cookie", absl::StrCat("c", i)));
  EXPECT_EQ(f.engine->TenantProfiles(""), 3);

  const std::string before = f.State();
  auto r = f.engine->Ingest(Visit("v3", 3, "cookie", "c3"));
  ExpectProfileLimit(r);
  EXPECT_THAT(r.status().message(), HasSubstr("holds 3 profiles"));
  EXPECT_EQ(f.State(), before);
  EXPECT_EQ(f.engine->Context({"", "cookie", "c3"}).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(f.engine->Stats().limit_hits.at("max_profiles_per_tenant"), 1);
  EXPECT_EQ(f.engine->Stats().rejected, 1);
  // Two new identifiers that cannot join each other (crm_id is unique) are two profiles, also refused.
  ExpectProfileLimit(f.engine->Ingest(Visit("v4", 4, "crm_id", "A-1").Id("crm_id", "A-2")));

  // A known customer's new identifier joins their profile: accepted at the limit.
  const IngestResult known = f.Must(Visit("v5", 5, "cookie", "c0").Id("email", "eva@example.com"));
  EXPECT_EQ(f.engine->TenantProfiles(""), 3);
  EXPECT_EQ(f.engine->Context({"", "email", "eva@example.com"})->profile, known.profile);
  // ... unless it cannot join: a second crm_id of a profile that has one would be a profile of its own.
  f.Must(Visit("v6", 6, "cookie", "c1").Id("crm_id", "B-1"));
  ExpectProfileLimit(f.engine->Ingest(Visit("v7", 7, "cookie", "c1").Id("crm_id", "B-2")));
  // An event merging two known customers frees a place for a new one.
  f.Must(Visit("v8", 8, "cookie", "c1").Id("cookie", "c2"));
  EXPECT_EQ(f.engine->TenantProfiles(""), 2);
  f.Must(Visit("v3", 9, "cookie", "c3"));  // The refused event, sent again: nothing remembered it.
  EXPECT_EQ(f.engine->TenantProfiles(""), 3);
  // Re-delivery of an accepted event is a duplicate, not a refusal.
  EXPECT_TRUE(f.Must(Visit("v3", 9, "cookie", "c3")).duplicate);

  // Tenants are counted apart.
  for (int i = 0; i < 3; ++i) f.Must(Visit(absl::StrCat("w", i), 10 + i, "cookie", absl::StrCat("c", i)).Tenant("b2b"));
  EXPECT_EQ(f.engine->TenantProfiles("b2b"), 3);
  ExpectProfileLimit(f.engine->Ingest(Visit("w3", 13, "cookie", "c3").Tenant("b2b")));
  EXPECT_EQ(f.engine->Stats().limit_hits.at("max_profiles_per_tenant"), 4);
  EXPECT_EQ(f.engine->Stats().largest_tenant_profiles, 3);
}

TEST(LimitsTest, BatchesCheckEachEventAfterTheOnesBeforeIt) {
  Fixture f(Capped(3));
  std::vector<Event> events;
  for (int i = 0; i < 5; ++i) events.push_back(Visit(absl::StrCat("v", i), i, "cookie", absl::StrCat("c", i)));
  events.push_back(Visit("v5", 5, "cookie", "c0").Id("email", "eva@example.com"));  // Known: accepted.
  events.push_back(Visit("v6", 6, "cookie", "c1").Id("cookie", "c2"));              // A merge: room for one.
  events.push_back(Visit("v7", 7, "cookie", "c7"));
  events.push_back(Visit("v8", 8, "cookie", "c8"));
  std::vector<const Event*> batch;
  for (const Event& e : events) batch.push_back(&e);
  const auto results = f.engine->IngestBatch(batch);
  ASSERT_EQ(results.size(), events.size());
  const std::vector<bool> expected = {true, true, true, false, false, true, true, true, false};
  for (size_t i = 0; i < results.size(); ++i) {
    EXPECT_EQ(results[i].ok(), expected[i]) << i << ": " << results[i].status();
    if (!expected[i]) ExpectProfileLimit(results[i]);
  }
  EXPECT_EQ(f.engine->TenantProfiles(""), 3);
  EXPECT_EQ(f.engine->Stats().events, 6);
  // A batch far from the limit takes the fast path and is not affected.
  Fixture roomy(Capped(1000));
  const auto ok = roomy.engine->IngestBatch(batch);
  for (const auto& r : ok) EXPECT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(roomy.engine->TenantProfiles(""), 6);  // 7 new cookies, one merge.
}

TEST(LimitsTest, RefusedEventsAreNotStoredAndRecoveryKeepsWhatWasAccepted) {
  const std::string dir = ::testing::TempDir() + "/omnijourney_limits_" + std::to_string(getpid());
  std::filesystem::remove_all(dir);
  EngineOptions options = Capped(3);
  options.storage.path = dir;
  {
    Fixture f(options);
    for (int i = 0; i < 3; ++i) f.Must(Visit(absl::StrCat("v", i), i, "cookie", absl::StrCat("c", i)));
    ExpectProfileLimit(f.engine->Ingest(Visit("v3", 3, "cookie", "c3")));
    std::vector<Event> events = {Visit("v4", 4, "cookie", "c4"), Visit("v5", 5, "cookie", "c0")};
    const auto results = f.engine->IngestBatch({&events[0], &events[1]});
    ExpectProfileLimit(results[0]);
    EXPECT_TRUE(results[1].ok()) << results[1].status();
  }
  {
    // Reopened with a lower limit: everything acknowledged comes back (recovery does not re-check).
    EngineOptions lower = options;
    lower.max_profiles_per_tenant = 1;
    Fixture f(lower);
    EXPECT_EQ(f.engine->Stats().recovered, 4);
    EXPECT_EQ(f.engine->Stats().events, 4);
    EXPECT_EQ(f.engine->TenantProfiles(""), 3);
    EXPECT_EQ(f.engine->Stats().rejected, 0);
  }
  {
    // Raised: the refused events were never stored, so they are new, not duplicates.
    EngineOptions higher = options;
    higher.max_profiles_per_tenant = 10;
    Fixture f(higher);
    EXPECT_FALSE(f.Must(Visit("v3", 3, "cookie", "c3")).duplicate);
    EXPECT_FALSE(f.Must(Visit("v4", 4, "cookie", "c4")).duplicate);
    EXPECT_EQ(f.engine->TenantProfiles(""), 5);
  }
  std::filesystem::remove_all(dir);
}

// Random customers over two tenants, events in time order, one at a time and in batches: no tenant
// ever holds more profiles than the limit, every refusal is the limit's and changes nothing, and
// known customers keep being accepted at the limit.
TEST(LimitsTest, RandomTrafficNeverExceedsTheLimit) {
  Fixture f(Capped(25));
  std::mt19937 rng(11);
  const std::vector<std::string> types = {"cookie", "email", "crm_id", "phone"};
  int minute = 0, refused = 0, accepted_at_limit = 0;
  auto random_event = [&](int n) {
    Ev e = Visit(absl::StrCat("e", n), minute++, "cookie", absl::StrCat("c", rng() % 60));
    e.Tenant(rng() % 3 == 0 ? "b2b" : "");
    for (int k = static_cast<int>(rng() % 3); k > 0; --k) {
      const std::string& type = types[rng() % types.size()];
      e.Id(type, type == "email"   ? absl::StrCat("u", rng() % 60, "@example.com")
                 : type == "phone" ? absl::StrCat("+42060112", 1000 + rng() % 60)
                                   : absl::StrCat(type, rng() % 60));
    }
    return Event(e);
  };
  for (int round = 0; round < 300; ++round) {
    std::vector<Event> events;
    const int size = rng() % 2 == 0 ? 1 : 1 + static_cast<int>(rng() % 20);
    for (int k = 0; k < size; ++k) events.push_back(random_event(round * 100 + k));
    std::vector<const Event*> batch;
    for (const Event& e : events) batch.push_back(&e);
    const bool full = f.engine->TenantProfiles("") == 25;
    const std::string before = f.State();
    std::vector<absl::StatusOr<IngestResult>> results;
    if (size == 1) {
      results.push_back(f.engine->Ingest(events[0]));
    } else {
      results = f.engine->IngestBatch(batch);
    }
    for (size_t k = 0; k < results.size(); ++k) {
      if (results[k].ok()) {
        accepted_at_limit += full && events[k].tenant().empty() ? 1 : 0;
        continue;
      }
      ++refused;
      EXPECT_EQ(ExceededLimit(results[k].status()), "max_profiles_per_tenant") << results[k].status();
    }
    if (size == 1 && !results[0].ok()) {
      EXPECT_EQ(f.State(), before);
    }
    ASSERT_LE(f.engine->TenantProfiles(""), 25);
    ASSERT_LE(f.engine->TenantProfiles("b2b"), 25);
  }
  EXPECT_GT(refused, 50);
  EXPECT_GT(accepted_at_limit, 50);
  EXPECT_EQ(f.engine->Stats().limit_hits.at("max_profiles_per_tenant"), refused);
}

TEST(LimitsTest, OptionIsValidated) {
  EngineOptions options;
  options.max_profiles_per_tenant = -1;
  auto e = Engine::Open(options);
  ASSERT_FALSE(e.ok());
  EXPECT_THAT(e.status().message(), HasSubstr("max_profiles_per_tenant"));
}

TEST(LimitsTest, ValidationLimitsAreTaggedAndCounted) {
  EngineOptions options;
  options.validation.max_identifiers = 2;
  options.validation.max_event_bytes = 4096;
  Fixture f(options);
  struct Case {
    Event event;
    std::string limit;
  };
  Event deep = Visit("d", 0, "cookie", "c");
  google::protobuf::Struct* s = deep.mutable_properties();
  for (int i = 0; i < 20; ++i) s = (*s->mutable_fields())["x"].mutable_struct_value();
  const std::vector<Case> cases = {
      {Visit("a", 0, "cookie", "c").Id("email", "a@x.com").Id("phone", "+420601123456"), "validation.max_identifiers"},
      {Visit("b", 0, "cookie", "c").Text(std::string(5000, 'x')), "validation.max_event_bytes"},
      {Visit("c", 0, "cookie", std::string(600, 'c')), "validation.max_identifier_bytes"},
      {Visit(std::string(200, 'e'), 0, "cookie", "c"), "validation.max_id_bytes"},
      {Visit("e", 0, "cookie", "c").Agent(std::string(3000, 'a')), "validation.max_string_bytes"},
      {deep, "validation.max_struct_depth"},
  };
  for (const Case& c : cases) {
    auto r = f.engine->Ingest(c.event);
    ASSERT_FALSE(r.ok()) << c.limit;
    EXPECT_EQ(ExceededLimit(r.status()), c.limit) << r.status();
    EXPECT_EQ(f.engine->Stats().limit_hits[c.limit], 1) << c.limit;
  }
  // Errors that are not about a limit carry no tag and are not counted as one.
  Event no_id = Visit("", 0, "cookie", "c");
  auto r = f.engine->Ingest(no_id);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(ExceededLimit(r.status()), "");
  EXPECT_EQ(f.engine->Stats().limit_hits.size(), cases.size());
  EXPECT_EQ(f.engine->Stats().rejected, static_cast<int64_t>(cases.size()) + 1);
}

TEST(LimitsTest, CutTextsAndForgottenKeysAreCounted) {
  EngineOptions options;
  options.timeline.max_text_bytes = 10;
  options.dedupe_window = 3;
  Fixture f(options);
  f.Must(Visit("v0", 0, "cookie", "c").Text("short"));
  EXPECT_FALSE(f.engine->Stats().limit_hits.contains("timeline.max_text_bytes"));
  f.Must(Visit("v1", 1, "cookie", "c").Text("a text longer than ten bytes"));
  EXPECT_EQ(f.engine->Stats().limit_hits.at("timeline.max_text_bytes"), 1);
  EXPECT_FALSE(f.engine->Stats().limit_hits.contains("dedupe_window"));
  f.Must(Visit("v2", 2, "cookie", "c"));
  f.Must(Visit("v3", 3, "cookie", "c"));
  f.Must(Visit("v4", 4, "cookie", "c"));
  EXPECT_EQ(f.engine->Stats().limit_hits.at("dedupe_window"), 2);
  // The forgotten key's event is ingested again; a remembered one is a duplicate.
  EXPECT_FALSE(f.Must(Visit("v0", 0, "cookie", "c").Text("short")).duplicate);
  EXPECT_TRUE(f.Must(Visit("v4", 4, "cookie", "c")).duplicate);
}

TEST(LimitsTest, TimelineRetentionIsCounted) {
  EngineOptions options;
  options.timeline.max_entries = 3;
  options.timeline.max_age = absl::Hours(24);
  options.time_mode = EngineOptions::TimeMode::kEventTime;
  Fixture f(options);
  for (int i = 0; i < 5; ++i) f.Must(Visit(absl::StrCat("v", i), i, "cookie", "c"));
  EXPECT_EQ(f.engine->Stats().limit_hits.at("timeline.max_entries"), 2);
  EXPECT_EQ(f.engine->Stats().timeline_entries, 3);
  // Two days later the three kept entries are past max_age: dropped when the profile next changes
  // (the oldest counts as over max_entries, which is applied first).
  f.Must(Visit("late", 48 * 60, "cookie", "c"));
  EXPECT_EQ(f.engine->Stats().limit_hits.at("timeline.max_entries"), 3);
  EXPECT_EQ(f.engine->Stats().limit_hits.at("timeline.max_age"), 2);
  EXPECT_EQ(f.engine->Stats().timeline_entries, 1);
}

}  // namespace
}  // namespace omnijourney
