// The engine's source positions (Engine::SetSource / Source: where a change came from in the host's
// log) and state digests (Engine::StateDigest), which a host feeding engines from a distributed log
// resumes by and compares replicas with.
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "engine_test_util.h"
#include "gtest/gtest.h"

namespace omnijourney::testing {
namespace {

Event Booking(const std::string& tenant, const std::string& id, int64_t minute, const std::string& email) {
  return Ev(id, minute, v1::EVENT_KIND_ORDER, "Reservation Created").Id("email", email).Tenant(tenant);
}

TEST(SourceTest, EveryChangeCarriesItsSourceAndOpenRestoresTheLatest) {
  const std::string dir = FreshDir("source");
  {
    auto engine = Open(Durable(dir));
    ASSERT_NE(engine, nullptr);
    EXPECT_EQ(engine->Source(), SourcePosition{});
    engine->SetSource({5, 55});
    ASSERT_TRUE(engine->Ingest(Booking("acme", "b1", 0, "ann@example.com")).ok());
    EXPECT_EQ(engine->Source(), (SourcePosition{5, 55}));
    engine->SetSource({6, 66});
    ASSERT_TRUE(engine->AddJourney(Reservation()).ok());
    EXPECT_EQ(engine->Source(), (SourcePosition{6, 66}));
  }
  {
    auto engine = Open(Durable(dir));
    ASSERT_NE(engine, nullptr);
    EXPECT_EQ(engine->Source(), (SourcePosition{6, 66})) << "from the log";
    ASSERT_TRUE(engine->Checkpoint().ok());
    engine->SetSource({7, 77});
    std::vector<const Event*> batch;
    const Event a = Booking("acme", "b2", 10, "bob@example.com");
    const Event b = Booking("acme", "b3", 11, "cid@example.com");
    batch = {&a, &b};
    for (const auto& r : engine->IngestBatch(batch)) ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(engine->Source(), (SourcePosition{7, 77}));
    // A duplicate changes nothing and logs nothing: the source stays.
    engine->SetSource({8, 88});
    ASSERT_TRUE(engine->Ingest(a)->duplicate);
    EXPECT_EQ(engine->Source(), (SourcePosition{7, 77}));
  }
  {
    auto engine = Open(Durable(dir));
    ASSERT_NE(engine, nullptr);
    EXPECT_EQ(engine->Source(), (SourcePosition{7, 77})) << "from the snapshot and the log after it";
    EXPECT_GT(engine->Stats().snapshot_position, 0);
    engine->SetSource({9, 99});
    ASSERT_TRUE(engine->EraseIdentifier({.tenant = "acme", .type = "email", .value = "cid@example.com"}).ok());
    EXPECT_EQ(engine->Source(), (SourcePosition{9, 99}));
  }
  // Without any snapshot: the whole log is replayed.
  std::filesystem::remove_all(dir + "/snapshots");
  auto engine = Open(Durable(dir));
  ASSERT_NE(engine, nullptr);
  EXPECT_EQ(engine->Stats().snapshot_position, 0);
  EXPECT_EQ(engine->Source(), (SourcePosition{9, 99}));
}

TEST(SourceTest, AnEngineInMemoryKnowsItsSourceToo) {
  EngineOptions options;
  options.time_mode = EngineOptions::TimeMode::kEventTime;
  auto engine = Open(options);
  ASSERT_NE(engine, nullptr);
  engine->SetSource({3, 1});
  ASSERT_TRUE(engine->Ingest(Booking("", "b1", 0, "ann@example.com")).ok());
  EXPECT_EQ(engine->Source(), (SourcePosition{3, 1}));
}

// Feeds the same acme records to `engine` (which has the reservation journey): a reservation whose
// reminder falls due.
void FeedAcme(Engine& engine) {
  ASSERT_TRUE(engine.Ingest(Booking("acme", "a1", 0, "ann@example.com")).ok());
  ASSERT_TRUE(engine.Ingest(Ev("a2", 5, v1::EVENT_KIND_MESSAGE, "Chat")
                                .Id("email", "ann@example.com")
                                .Id("phone", "+420601123456")
                                .Text("where is my table?")
                                .Tenant("acme"))
                  .ok());
  ASSERT_TRUE(engine.AdvanceTime(At(60 * 25)).ok());
}

TEST(StateDigestTest, EqualForTheSameRecordsWhateverElseTheEngineHolds) {
  const std::string dir = FreshDir("digest");
  std::string with_others;
  {
    auto engine = Open(Durable(dir));
    ASSERT_NE(engine, nullptr);
    ASSERT_TRUE(engine->AddJourney(Reservation("email")).ok());
    ASSERT_TRUE(engine->Ingest(Booking("globex", "g1", 1, "ann@example.com")).ok());
    FeedAcme(*engine);
    ASSERT_TRUE(engine->Ingest(Booking("globex", "g2", 2, "gus@example.com")).ok());
    std::vector<JourneyAction> actions = engine->TakeActions();
    ASSERT_FALSE(actions.empty());
    std::vector<std::string> ids;
    for (const JourneyAction& a : actions) {
      EXPECT_TRUE(a.tenant == "acme" || a.tenant == "globex") << a.tenant;
      ids.push_back(a.id);
    }
    // What this process did with its actions is not state.
    ASSERT_TRUE(engine->AckActions(ids).ok());
    with_others = engine->StateDigest("acme");
  }
  EngineOptions options;
  options.time_mode = EngineOptions::TimeMode::kEventTime;
  auto alone = Open(options);
  ASSERT_NE(alone, nullptr);
  ASSERT_TRUE(alone->AddJourney(Reservation("email")).ok());
  FeedAcme(*alone);
  std::string text;
  const std::string digest = alone->StateDigest("acme", &text);
  EXPECT_EQ(digest.size(), 32u);
  EXPECT_EQ(digest, with_others);
  EXPECT_NE(text.find("entry\t"), std::string::npos);
  EXPECT_NE(text.find("where is my table?"), std::string::npos);
  EXPECT_NE(text.find("identifier\tphone\t+420601123456"), std::string::npos);
  EXPECT_NE(text.find("released\t"), std::string::npos) << text;
  std::vector<JourneyAction> actions = alone->TakeActions();
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(actions[0].tenant, "acme");
  // After a restart (snapshot and log): the same.
  {
    auto reopened = Open(Durable(dir));
    ASSERT_NE(reopened, nullptr);
    EXPECT_EQ(reopened->StateDigest("acme"), digest);
    EXPECT_NE(reopened->StateDigest("globex"), digest);
    EXPECT_EQ(reopened->StateDigest("initech"), alone->StateDigest("initech")) << "a tenant never seen";
    for (const JourneyAction& a : reopened->TakeActions()) EXPECT_NE(a.tenant, "") << a.id;
  }
  // A change of the tenant's state changes it: an event, an operator action.
  ASSERT_TRUE(alone->Ingest(Booking("acme", "a3", 30 * 60, "ann@example.com")).ok());
  const std::string after_event = alone->StateDigest("acme");
  EXPECT_NE(after_event, digest);
  ASSERT_TRUE(alone->Unlink({.tenant = "acme", .type = "phone", .value = "+420601123456"}).ok());
  EXPECT_NE(alone->StateDigest("acme"), after_event);
}

}  // namespace
}  // namespace omnijourney::testing

namespace omnijourney::testing {
namespace {

// A store whose snapshots after an erasure are lost is replayed from its log, which no longer holds
// what was erased: the state is the same, the erasure's audit entry included.
TEST(StateDigestTest, AnErasureReplayedFromTheLogLeavesTheSameState) {
  const std::string dir = FreshDir("digest_erasure");
  std::string digest;
  {
    auto engine = Open(Durable(dir));
    ASSERT_NE(engine, nullptr);
    ASSERT_TRUE(engine->Ingest(Ev("e1", 0, v1::EVENT_KIND_MESSAGE, "Chat")
                                   .Id("email", "ann@example.com")
                                   .Id("phone", "+420601123456")
                                   .Tenant("acme"))
                    .ok());
    ASSERT_TRUE(engine->Ingest(Ev("e2", 1, v1::EVENT_KIND_MESSAGE, "Chat").Id("email", "bob@example.com").Tenant("acme"))
                    .ok());
    ASSERT_TRUE(engine->EraseIdentifier({.tenant = "acme", .type = "email", .value = "ann@example.com"}).ok());
    ASSERT_TRUE(engine->Ingest(Booking("acme", "e3", 2, "bob@example.com")).ok());
    auto bob = engine->Context({.tenant = "acme", .type = "email", .value = "bob@example.com"});
    ASSERT_TRUE(bob.ok());
    ASSERT_TRUE(engine->EraseProfile("acme", bob->profile).ok());
    digest = engine->StateDigest("acme");
    auto phone = engine->Context({.tenant = "acme", .type = "phone", .value = "+420601123456"});
    ASSERT_TRUE(phone.ok());
    EXPECT_NE(engine->Explain("acme", phone->profile)->ToString().find("erased email"), std::string::npos);
  }
  std::filesystem::remove_all(dir + "/snapshots");
  auto engine = Open(Durable(dir));
  ASSERT_NE(engine, nullptr);
  EXPECT_EQ(engine->Stats().snapshot_position, 0) << "replayed from the log";
  EXPECT_EQ(engine->StateDigest("acme"), digest);
  auto phone = engine->Context({.tenant = "acme", .type = "phone", .value = "+420601123456"});
  ASSERT_TRUE(phone.ok());
  EXPECT_NE(engine->Explain("acme", phone->profile)->ToString().find("erased email (identifier erased (GDPR))"),
            std::string::npos);
}

}  // namespace
}  // namespace omnijourney::testing

namespace omnijourney::testing {
namespace {

// Event ids are per tenant: two tenants' events with the same source and event_id start journeys
// whose actions are different actions, with different ids, both handed out.
TEST(TenantActionsTest, TheSameEventIdsInTwoTenantsGiveTwoActions) {
  EngineOptions options;
  options.time_mode = EngineOptions::TimeMode::kEventTime;
  auto engine = Open(options);
  ASSERT_NE(engine, nullptr);
  ASSERT_TRUE(engine->AddJourney(Reservation("email")).ok());
  for (const char* tenant : {"acme", "globex", ""}) {
    ASSERT_TRUE(engine->Ingest(Booking(tenant, "r1", 0, "ann@example.com")).ok()) << tenant;
  }
  ASSERT_TRUE(engine->AdvanceTime(At(60 * 25)).ok());
  std::vector<JourneyAction> actions = engine->TakeActions();
  ASSERT_EQ(actions.size(), 3u);
  std::set<std::string> ids, tenants;
  for (const JourneyAction& a : actions) {
    ids.insert(a.id);
    tenants.insert(a.tenant);
    EXPECT_EQ(a.id.size(), 18u) << a.id;  // "a-" and 16 hex digits.
  }
  EXPECT_EQ(ids.size(), 3u);
  EXPECT_EQ(tenants, (std::set<std::string>{"", "acme", "globex"}));
  std::vector<std::string> all(ids.begin(), ids.end());
  ASSERT_TRUE(engine->AckActions(all).ok());
  EXPECT_TRUE(engine->TakeActions().empty());
}

}  // namespace
}  // namespace omnijourney::testing
