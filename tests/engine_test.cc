// Engine behaviour: idempotence, bad input, lookups, merges and splits of timelines, erasure,
// retention, traits, JSON, time, concurrency.
#include "omnijourney/engine.h"

#include <algorithm>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/json.h"
#include "engine_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace omnijourney {
namespace {

using ::testing::HasSubstr;
using testing::At;
using testing::Ev;
using testing::Open;

struct Fixture {
  explicit Fixture(EngineOptions options = {}) : clock(At(100000)) {
    options.clock = &clock;
    auto e = Engine::Open(options);
    EXPECT_TRUE(e.ok()) << e.status();
    engine = *std::move(e);
  }
  IngestResult Must(const Event& e) {
    auto r = engine->Ingest(e);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : IngestResult{};
  }
  CustomerContext Ctx(const std::string& type, const std::string& value) {
    auto c = engine->Context({"", type, value});
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *c : CustomerContext{};
  }
  SimulatedClock clock;
  std::unique_ptr<Engine> engine;
};

// A Czech company's engine: national phone numbers are Czech.
EngineOptions Czech() {
  EngineOptions options;
  options.identity.default_phone_region = "CZ";
  return options;
}

Ev Msg(const std::string& id, int minute, const std::string& type, const std::string& value,
       const std::string& text = "") {
  return Ev(id, minute, v1::EVENT_KIND_MESSAGE, "Message Received").Id(type, value).In(v1::CHANNEL_CHAT).Text(text);
}

TEST(EngineTest, RedeliveryIsANoOp) {
  Fixture f;
  const Ev e = Msg("m1", 0, "email", "eva@example.com", "hello");
  const IngestResult first = f.Must(e);
  const IngestResult again = f.Must(e);
  EXPECT_FALSE(first.duplicate);
  EXPECT_TRUE(again.duplicate);
  EXPECT_EQ(again.profile, first.profile);
  EXPECT_EQ(f.Ctx("email", "eva@example.com").timeline_size, 1);
  EXPECT_EQ(f.engine->Stats().duplicates, 1);
  EXPECT_EQ(f.engine->Stats().events, 1);
  // The same event id from another source is another event.
  f.Must(Msg("m1", 1, "email", "eva@example.com").Source("other"));
  EXPECT_EQ(f.Ctx("email", "eva@example.com").timeline_size, 2);
}

TEST(EngineTest, BadInputIsAClearErrorAndChangesNothing) {
  Fixture f;
  Ev no_time("x", 0, v1::EVENT_KIND_MESSAGE, "m");
  Event bad = no_time.event();
  bad.clear_occurred_at();
  bad.add_identifiers()->set_type("email");
  auto r = f.engine->Ingest(bad);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("occurred_at"));
  auto junk = f.engine->Ingest(Msg("j", 0, "email", "null"));
  ASSERT_FALSE(junk.ok());
  EXPECT_THAT(std::string(junk.status().message()), HasSubstr("identifiers: none usable"));
  EXPECT_EQ(f.engine->Stats().events, 0);
  EXPECT_EQ(f.engine->Stats().rejected, 2);
  EXPECT_EQ(f.engine->Stats().profiles, 0);
  // A rejected event id may be sent again once fixed.
  f.Must(Msg("j", 0, "email", "jan@example.com"));
}

TEST(EngineTest, LookupsNeverInventProfiles) {
  Fixture f(Czech());
  f.Must(Msg("m1", 0, "phone", "+420601123456"));
  EXPECT_EQ(f.Ctx("phone", "601 123 456").profile, f.Ctx("phone", "+420 601-123-456").profile);
  EXPECT_EQ(f.engine->Context({"", "phone", "+420 777 000 000"}).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(f.engine->Context({"", "phone", "12"}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(f.engine->Context({"", "", "x"}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(f.engine->Context({"acme", "phone", "601123456"}).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(f.engine->Context(ProfileId{12345}).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(f.engine->Explain(ProfileId{12345}).status().code(), absl::StatusCode::kNotFound);
}

TEST(EngineTest, MergingProfilesMergesTimelinesAndOldIdsFollow) {
  Fixture f;
  const ProfileId a = f.Must(Msg("m1", 0, "cookie", "ck-1", "first")).profile;
  const ProfileId b = f.Must(Msg("m2", 5, "email", "eva@example.com", "second")).profile;
  ASSERT_NE(a, b);
  const IngestResult r = f.Must(Msg("m3", 10, "cookie", "ck-1").Id("email", "eva@example.com"));
  EXPECT_EQ(r.merged.size(), 1u);
  const CustomerContext ctx = f.Ctx("cookie", "ck-1");
  EXPECT_EQ(ctx.timeline_size, 3);
  EXPECT_EQ(ctx.recent.back().text, "first");  // Oldest last.
  auto via_old = f.engine->Context(r.merged[0]);
  ASSERT_TRUE(via_old.ok());
  EXPECT_EQ(via_old->profile, ctx.profile);
  EXPECT_EQ(f.engine->Stats().profiles, 1);
  auto explained = f.engine->Explain(a);
  ASSERT_TRUE(explained.ok());
  EXPECT_THAT(explained->ToString(), HasSubstr("merged"));
}

TEST(EngineTest, AnyDeliveryOrderGivesTheSameContext) {
  std::vector<Ev> events = {
      Msg("a", 0, "cookie", "ck-1", "hi"),
      Msg("b", 1, "email", "eva@example.com", "mail"),
      Msg("c", 2, "cookie", "ck-1").Id("email", "eva@example.com"),
      Msg("d", 3, "phone", "+420601123456", "call me").Id("crm_id", "C-1"),
      Msg("e", 4, "crm_id", "C-1").Id("email", "eva@example.com").Trait("name", "Eva"),
      Ev("f", 5, v1::EVENT_KIND_ORDER, "Order Completed").Id("phone", "601123456").Prop("order_id", "O-1"),
      Msg("g", 6, "crm_id", "C-2").Id("email", "eva@example.com"),  // Refused: crm_id is unique.
  };
  std::string reference;
  std::mt19937 rng(7);
  for (int round = 0; round < 12; ++round) {
    Fixture f(Czech());
    std::vector<Ev> order = events;
    if (round > 0) std::shuffle(order.begin(), order.end(), rng);
    for (const Ev& e : order) f.Must(e);
    const std::string json = ContextToJson(f.Ctx("email", "eva@example.com"));
    if (round == 0) {
      reference = json;
      EXPECT_THAT(json, HasSubstr("\"timeline_size\":6"));
    } else {
      EXPECT_EQ(json, reference) << "round " << round;
    }
    EXPECT_EQ(f.Ctx("crm_id", "C-2").timeline_size, 1);
  }
}

TEST(EngineTest, UnlinkMovesTheEventsOfTheDetachedIdentifier) {
  Fixture f;
  f.Must(Msg("m1", 0, "cookie", "shared-tablet", "browsing").Id("email", "eva@example.com"));
  f.Must(Msg("m2", 1, "email", "eva@example.com", "eva only"));
  f.Must(Msg("m3", 2, "cookie", "shared-tablet", "someone else"));
  ASSERT_EQ(f.Ctx("email", "eva@example.com").timeline_size, 3);
  auto changed = f.engine->Unlink({"", "cookie", "shared-tablet"});
  ASSERT_TRUE(changed.ok()) << changed.status();
  // m1 carries the email (higher priority): it stays with Eva; m3 goes with the tablet.
  EXPECT_EQ(f.Ctx("email", "eva@example.com").timeline_size, 2);
  const CustomerContext tablet = f.Ctx("cookie", "shared-tablet");
  EXPECT_NE(tablet.profile, f.Ctx("email", "eva@example.com").profile);
  EXPECT_EQ(tablet.timeline_size, 1);
  EXPECT_EQ(tablet.recent[0].text, "someone else");
}

TEST(EngineTest, SplitSeparatesTimelinesAndTheAuditCarriesTheClockTime) {
  Fixture f;
  f.Must(Msg("m1", 0, "email", "eva@example.com", "eva").Id("cookie", "tablet"));
  f.Must(Msg("m2", 1, "email", "jan@example.com", "jan").Id("cookie", "tablet"));
  const ProfileId merged = f.Ctx("cookie", "tablet").profile;
  ASSERT_EQ(f.Ctx("email", "jan@example.com").profile, merged);
  auto parts = f.engine->Split(merged, {{"email", "jan@example.com"}});
  ASSERT_TRUE(parts.ok()) << parts.status();
  const CustomerContext jan = f.Ctx("email", "jan@example.com");
  const CustomerContext eva = f.Ctx("email", "eva@example.com");
  EXPECT_NE(jan.profile, eva.profile);
  EXPECT_EQ(jan.timeline_size, 1);
  EXPECT_EQ(jan.recent[0].text, "jan");
  EXPECT_EQ(eva.timeline_size, 1);
  // A later event with both does not merge them again.
  f.Must(Msg("m3", 2, "email", "jan@example.com").Id("email", "eva@example.com"));
  EXPECT_NE(f.Ctx("email", "jan@example.com").profile, f.Ctx("email", "eva@example.com").profile);
  auto explained = f.engine->Explain(jan.profile);
  ASSERT_TRUE(explained.ok());
  const auto split = std::find_if(explained->audit.begin(), explained->audit.end(),
                                  [](const AuditEntry& e) { return e.action == AuditEntry::Action::kSplit; });
  ASSERT_NE(split, explained->audit.end());
  EXPECT_EQ(split->time, f.clock.Now());
  EXPECT_EQ(f.engine->Split(ProfileId{42}, {}).status().code(), absl::StatusCode::kNotFound);
}

TEST(EngineTest, ErasingAnIdentifierScrubsItFromStoredEvents) {
  Fixture f(Czech());
  f.Must(Msg("m1", 0, "email", "eva@example.com", "one").Id("phone", "+420601123456"));
  f.Must(Msg("m2", 1, "phone", "601 123 456", "phone only"));
  auto changed = f.engine->EraseIdentifier({"", "phone", "+420 601 123 456"});
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_EQ(f.engine->Context({"", "phone", "+420601123456"}).status().code(), absl::StatusCode::kNotFound);
  const CustomerContext eva = f.Ctx("email", "eva@example.com");
  EXPECT_EQ(eva.timeline_size, 1);  // The event only the phone identified is gone.
  EXPECT_FALSE(f.engine->ContainsStringForTesting("601123456"));
  EXPECT_FALSE(f.engine->ContainsStringForTesting("601 123 456"));
  EXPECT_EQ(f.engine->Stats().timeline_entries, 1);
}

TEST(EngineTest, ErasureReachesEventsFiledUnderAnotherProfile) {
  Fixture f;
  f.Must(Msg("m1", 0, "crm_id", "C-1").Id("email", "eva@example.com"));
  // crm_id allows one per profile: this event stays with C-2 but carries Eva's email.
  f.Must(Msg("m2", 1, "crm_id", "C-2", "not eva").Id("email", "eva@example.com"));
  ASSERT_THAT(ContextToJson(f.Ctx("crm_id", "C-2")), HasSubstr("not eva"));
  ASSERT_TRUE(f.engine->EraseIdentifier({"", "email", "Eva@Example.com"}).ok());
  const CustomerContext other = f.Ctx("crm_id", "C-2");
  EXPECT_EQ(other.timeline_size, 1);
  EXPECT_FALSE(f.engine->ContainsStringForTesting("eva@example.com"));
  EXPECT_FALSE(f.engine->ContainsStringForTesting("Eva@Example.com"));
  EXPECT_EQ(f.Ctx("crm_id", "C-1").timeline_size, 1);
}

TEST(EngineTest, ErasingAProfileRemovesThePerson) {
  Fixture f;
  const ProfileId eva = f.Must(Msg("m1", 0, "email", "eva@example.com", "one")).profile;
  f.Must(Msg("m2", 1, "email", "jan@example.com", "two"));
  auto erased = f.engine->EraseProfile(eva);
  ASSERT_TRUE(erased.ok());
  EXPECT_EQ(erased->front(), eva);
  EXPECT_EQ(f.engine->Context({"", "email", "eva@example.com"}).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(f.engine->Stats().profiles, 1);
  EXPECT_EQ(f.engine->Stats().timeline_entries, 1);
  EXPECT_FALSE(f.engine->ContainsStringForTesting("eva@example.com"));
  EXPECT_TRUE(f.engine->ContainsStringForTesting("jan@example.com"));
  EXPECT_EQ(f.engine->EraseProfile(eva).status().code(), absl::StatusCode::kNotFound);
}

TEST(EngineTest, RetentionByCountAndAge) {
  EngineOptions options;
  options.timeline.max_entries = 3;
  options.timeline.max_age = absl::Hours(24 * 30);
  Fixture f(options);
  for (int i = 0; i < 5; ++i) f.Must(Msg("m" + std::to_string(i), 100000 - 10 + i, "email", "eva@example.com"));
  EXPECT_EQ(f.Ctx("email", "eva@example.com").timeline_size, 3);
  EXPECT_EQ(f.Ctx("email", "eva@example.com").recent.back().event_id, "m2");
  // Older than 30 days before now: not kept.
  f.Must(Msg("old", 100000 - 31 * 1440, "email", "jan@example.com"));
  f.Must(Msg("new", 100000, "email", "jan@example.com"));
  EXPECT_EQ(f.Ctx("email", "jan@example.com").timeline_size, 1);
}

TEST(EngineTest, TraitsFollowSourcePriorityThenRecency) {
  EngineOptions options;
  options.context.trait_source_priority = {"crm"};
  Fixture f(options);
  f.Must(Ev("i1", 0, v1::EVENT_KIND_IDENTIFY, "").Id("email", "eva@example.com").Trait("city", "Brno").Source("crm"));
  f.Must(Ev("i2", 5, v1::EVENT_KIND_IDENTIFY, "").Id("email", "eva@example.com").Trait("city", "Praha")
             .Trait("nickname", "evi").Source("web"));
  f.Must(Ev("i3", 9, v1::EVENT_KIND_IDENTIFY, "").Id("email", "eva@example.com").Trait("nickname", "eve").Source("app"));
  const CustomerContext c = f.Ctx("email", "eva@example.com");
  EXPECT_EQ(c.traits.at("city").value, "Brno");  // The CRM wins although older.
  EXPECT_EQ(c.traits.at("city").source, "crm");
  EXPECT_EQ(c.traits.at("nickname").value, "eve");  // Unlisted sources: the most recent wins.
}

TEST(EngineTest, ContextJsonIsWellFormed) {
  Fixture f;
  f.Must(Msg("m1", 100000, "email", "eva@example.com", "quote \" backslash \\ newline \n tab \t ctrl \x01 end")
             .Conv("c1").Prop("category", "sofas"));
  const std::string json = ContextToJson(f.Ctx("email", "eva@example.com"));
  auto parsed = internal::ParseJson(json);
  ASSERT_TRUE(parsed.ok()) << parsed.status() << "\n" << json;
  const auto& fields = parsed->struct_value().fields();
  EXPECT_EQ(fields.at("identifiers").struct_value().fields().at("email").list_value().values(0).string_value(),
            "eva@example.com");
  EXPECT_EQ(fields.at("recent").list_value().values(0).struct_value().fields().at("text").string_value(),
            "quote \" backslash \\ newline \n tab \t ctrl \x01 end");
  EXPECT_EQ(fields.at("open_conversations").list_value().values_size(), 1);
}

TEST(EngineTest, EventTimeModeFollowsEventsAndAdvanceTime) {
  EngineOptions options;
  options.time_mode = EngineOptions::TimeMode::kEventTime;
  Fixture f(options);
  f.Must(Msg("m1", 10, "email", "eva@example.com"));
  EXPECT_EQ(f.engine->Now(), At(10));
  f.Must(Msg("m0", 5, "email", "eva@example.com"));  // Late: time does not go back.
  EXPECT_EQ(f.engine->Now(), At(10));
  ASSERT_TRUE(f.engine->AdvanceTime(At(20)).ok());
  ASSERT_TRUE(f.engine->AdvanceTime(At(15)).ok());
  EXPECT_EQ(f.engine->Now(), At(20));
  EXPECT_EQ(f.Ctx("email", "eva@example.com").as_of, At(20));
}

TEST(EngineTest, BadOptionsAreErrors) {
  EngineOptions options;
  options.timeline.max_entries = 0;
  EXPECT_THAT(std::string(Engine::Open(options).status().message()), HasSubstr("timeline.max_entries"));
  EngineOptions bad_identity;
  bad_identity.identity.default_phone_region = "XX";
  EXPECT_THAT(std::string(Engine::Open(bad_identity).status().message()), HasSubstr("identity.default_phone_region"));
  for (absl::Duration slice : {absl::Microseconds(-1), absl::Seconds(2)}) {
    EngineOptions bad_slice;
    bad_slice.writer_slice = slice;
    EXPECT_THAT(std::string(Engine::Open(bad_slice).status().message()), HasSubstr("writer_slice"));
  }
  EngineOptions no_slice;
  no_slice.writer_slice = absl::ZeroDuration();  // Readers in after every event.
  EXPECT_TRUE(Engine::Open(no_slice).ok());
  EngineOptions bad_damaged_log;
  bad_damaged_log.storage.damaged_log = static_cast<EngineOptions::Storage::DamagedLog>(7);
  EXPECT_THAT(std::string(Engine::Open(bad_damaged_log).status().message()), HasSubstr("storage.damaged_log"));
}

TEST(EngineTest, ConcurrentIngestAndContext) {
  Fixture f;
  constexpr int kWriters = 3, kPerWriter = 300;
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < kPerWriter; ++i) {
        const std::string who = "c" + std::to_string(w) + "-" + std::to_string(i % 50);
        auto r = f.engine->Ingest(Msg(who + "-" + std::to_string(i), i, "email", who + "@example.com"));
        ASSERT_TRUE(r.ok()) << r.status();
      }
    });
  }
  threads.emplace_back([&] {
    for (int i = 0; i < 500; ++i) {
      auto c = f.engine->Context({"", "email", "c0-1@example.com"});
      if (c.ok()) {
        ASSERT_GE(c->timeline_size, 1);
      }
    }
  });
  for (auto& t : threads) t.join();
  EXPECT_EQ(f.engine->Stats().events, kWriters * kPerWriter);
  EXPECT_EQ(f.engine->Stats().profiles, kWriters * 50);
  EXPECT_EQ(f.Ctx("email", "c2-7@example.com").timeline_size, kPerWriter / 50);
}

TEST(EngineTest, IngestBatchReportsPerEvent) {
  Fixture f;
  const Ev a = Msg("a", 0, "email", "eva@example.com");
  const Ev junk = Msg("b", 1, "email", "null");
  const Ev c = Msg("c", 2, "email", "eva@example.com");
  auto results = f.engine->IngestBatch({&a.event(), &junk.event(), nullptr, &c.event()});
  ASSERT_EQ(results.size(), 4u);
  EXPECT_TRUE(results[0].ok());
  EXPECT_FALSE(results[1].ok());
  EXPECT_FALSE(results[2].ok());
  EXPECT_TRUE(results[3].ok());
  EXPECT_EQ(f.Ctx("email", "eva@example.com").timeline_size, 2);
}

// One profile given thousands of distinct cookies over time: the identifiers stop at the cap, and
// Explain reads only the newest link records (the rest is one folded entry), in pages.
TEST(EngineTest, OneProfileGivenManyCookiesExplainsWithinTheAuditCap) {
  EngineOptions options;
  options.time_mode = EngineOptions::TimeMode::kEventTime;
  options.identity.max_identifiers_per_profile = 20;
  options.identity.max_audit_records = 50;
  auto engine = Open(options);
  for (int i = 0; i < 3000; ++i) {
    ASSERT_TRUE(engine->Ingest(Ev("v" + std::to_string(i), i, v1::EVENT_KIND_PAGE, "Viewed")
                                   .Id("email", "busy@example.com").Id("cookie", "ck-" + std::to_string(i))).ok());
  }
  const ProfileId busy = engine->Context({"", "email", "busy@example.com"})->profile;
  auto all = engine->Explain(busy);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->audit_folded, 3000 - 50);
  EXPECT_LE(all->audit.size(), 50u * 3 + 1);
  EXPECT_EQ(all->audit_total, all->audit.size());
  ASSERT_FALSE(all->audit.empty());
  EXPECT_EQ(all->audit.front().action, AuditEntry::Action::kFolded);
  EXPECT_THAT(all->audit.front().ToString(), HasSubstr("2950 older link records folded"));
  // The newest events are the ones shown.
  EXPECT_THAT(all->ToString(), HasSubstr("ck-2999"));
  EXPECT_THAT(all->ToString(), ::testing::Not(HasSubstr("ck-100 ")));
  EXPECT_EQ(engine->Stats().limit_hits.at("identity.max_audit_records"), 1);
  // Pages are slices of the whole.
  std::vector<std::string> paged;
  for (size_t offset = 0; offset < all->audit_total; offset += 7) {
    auto page = engine->Explain("", busy, AuditPage{offset, 7});
    ASSERT_TRUE(page.ok());
    EXPECT_EQ(page->audit_total, all->audit_total);
    EXPECT_LE(page->audit.size(), 7u);
    for (const AuditEntry& e : page->audit) paged.push_back(e.ToString());
  }
  std::vector<std::string> whole;
  for (const AuditEntry& e : all->audit) whole.push_back(e.ToString());
  EXPECT_EQ(paged, whole);
  EXPECT_TRUE(engine->Explain("", busy, AuditPage{all->audit_total + 5, 10})->audit.empty());
  // Without a cap, everything.
  options.identity.max_audit_records = 0;
  auto unlimited = Open(options);
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(unlimited->Ingest(Ev("v" + std::to_string(i), i, v1::EVENT_KIND_PAGE, "Viewed")
                                      .Id("email", "busy@example.com").Id("cookie", "ck-" + std::to_string(i))).ok());
  }
  auto full = unlimited->Explain(unlimited->Context({"", "email", "busy@example.com"})->profile);
  EXPECT_EQ(full->audit_folded, 0);
  EXPECT_GE(full->audit.size(), 300u);
  options.identity.max_audit_records = -1;
  EXPECT_THAT(Engine::Open(options).status().message(), HasSubstr("max_audit_records"));
}

// Calls by profile id are scoped to a tenant: another tenant's profile is NotFound, as an unknown
// one, for reading, explaining, splitting and erasing.
TEST(EngineTest, CallsByProfileIdAreScopedToTheirTenant) {
  EngineOptions options;
  options.time_mode = EngineOptions::TimeMode::kEventTime;
  auto engine = Open(options);
  ASSERT_TRUE(engine->Ingest(Ev("g1", 0, v1::EVENT_KIND_MESSAGE, "Message Received").Tenant("globex")
                                 .Id("email", "boss@globex.example").Id("phone", "+420601222333")).ok());
  ASSERT_TRUE(engine->Ingest(Ev("a1", 1, v1::EVENT_KIND_MESSAGE, "Message Received").Tenant("acme")
                                 .Id("email", "ann@acme.example")).ok());
  const ProfileId globex = engine->Context({"globex", "email", "boss@globex.example"})->profile;
  EXPECT_TRUE(engine->Context("globex", globex).ok());
  for (const std::string tenant : {"acme", ""}) {
    EXPECT_EQ(engine->Context(tenant, globex).status().code(), absl::StatusCode::kNotFound) << tenant;
    EXPECT_EQ(engine->Explain(tenant, globex).status().code(), absl::StatusCode::kNotFound) << tenant;
    EXPECT_EQ(engine->Split(tenant, globex, {{"phone", "+420601222333"}}).status().code(), absl::StatusCode::kNotFound)
        << tenant;
    EXPECT_EQ(engine->EraseProfile(tenant, globex).status().code(), absl::StatusCode::kNotFound) << tenant;
  }
  EXPECT_EQ(engine->Context(globex).status().code(), absl::StatusCode::kNotFound);  // The default tenant.
  EXPECT_TRUE(engine->Explain("globex", globex).ok());
  EXPECT_TRUE(engine->EraseProfile("globex", globex).ok());
  EXPECT_EQ(engine->Context({"globex", "email", "boss@globex.example"}).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(engine->Context({"acme", "email", "ann@acme.example"}).ok());
  EXPECT_EQ(engine->Timeline("acme", globex, {}).status().code(), absl::StatusCode::kNotFound);
}

// Pages of a timeline, newest first, keep their place when events arrive between them, also a
// late event older than the page already read, and events at the same time come in key order.
TEST(EngineTest, TimelinePagesAreStableWhileEventsArrive) {
  Fixture f;
  for (int i = 0; i < 7; ++i) f.Must(Msg(absl::StrCat("m", i), i, "email", "eva@example.com"));
  f.Must(Msg("m3b", 3, "email", "eva@example.com"));  // The same minute as m3.
  const ProfileId p = f.Ctx("email", "eva@example.com").profile;
  std::vector<std::string> seen;
  TimelinePage page;
  page.limit = 3;
  auto first = f.engine->Timeline("", p, page);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->total, 8);
  for (const TimelineEntry& e : first->entries) seen.push_back(e.event_id);
  ASSERT_TRUE(first->next.has_value());
  // A new event and a late one in the part not read yet.
  f.Must(Msg("m9", 9, "email", "eva@example.com"));
  f.Must(Msg("m0b", 0, "email", "eva@example.com"));
  page.after = first->next;
  while (page.after) {
    auto next = f.engine->Timeline("", p, page);
    ASSERT_TRUE(next.ok()) << next.status();
    for (const TimelineEntry& e : next->entries) seen.push_back(e.event_id);
    page.after = next->next;
  }
  EXPECT_THAT(seen, ::testing::ElementsAre("m6", "m5", "m4", "m3b", "m3", "m2", "m1", "m0b", "m0"));
  page = TimelinePage{.limit = 100};
  auto all = f.engine->Timeline("", p, page);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->entries.size(), 10u);
  EXPECT_FALSE(all->next.has_value());
  EXPECT_EQ(all->entries.front().event_id, "m9");
}

}  // namespace
// Defect: a trait set to null (Segment's way of clearing it) became the string "null".
TEST(EngineTest, NullTraitClearsIt) {
  Fixture f;
  f.Must(Msg("t1", 0, "email", "eva@example.com").Trait("plan", "gold").Trait("name", "Eva"));
  EXPECT_EQ(f.Ctx("email", "eva@example.com").traits.at("plan").value, "gold");
  f.Must(Msg("t2", 1, "email", "eva@example.com").NullTrait("plan"));
  const CustomerContext ctx = f.Ctx("email", "eva@example.com");
  EXPECT_FALSE(ctx.traits.contains("plan"));
  EXPECT_EQ(ctx.traits.at("name").value, "Eva");
  f.Must(Msg("t3", 2, "email", "eva@example.com").Trait("plan", "silver"));
  EXPECT_EQ(f.Ctx("email", "eva@example.com").traits.at("plan").value, "silver");
  // Delivered late, the null is older than the new value: the value stays.
  f.Must(Msg("t4", 1, "email", "eva@example.com").NullTrait("plan").Source("other"));
  EXPECT_EQ(f.Ctx("email", "eva@example.com").traits.at("plan").value, "silver");
}

}  // namespace omnijourney
