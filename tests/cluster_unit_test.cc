// The cluster's pieces that need no server (docs/scale-out.md): configuration, tenant tokens,
// partitions, assignments, message ids and how an input message is applied to an engine.
#include <set>

#include "absl/strings/str_cat.h"
#include "engine_test_util.h"
#include "gtest/gtest.h"
#include "omnijourney/cluster.h"

namespace omnijourney::cluster {
namespace {

using testing::Ev;

constexpr char kConfig[] = R"(servers: ["nats://127.0.0.1:4222"]
workers { name: "w1" } workers { name: "w2" } workers { name: "w3" })";

TEST(ClusterConfigTest, DefaultsAndErrorsNamingTheField) {
  absl::StatusOr<v1::ClusterConfig> c = ParseClusterConfig(kConfig, "c.textproto");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->prefix(), "oj");
  EXPECT_EQ(c->partitions(), 16u);
  EXPECT_EQ(c->stream_replicas(), 3u);
  EXPECT_EQ(c->standbys(), 1u);
  EXPECT_EQ(InputStream(*c), "OJ_IN");
  EXPECT_EQ(ActionStream(*c), "OJ_ACT");
  EXPECT_EQ(InputSubject(*c, 3, "acme"), "oj.in.3.acme");
  EXPECT_EQ(ActionSubject(*c, "", "a-1"), "oj.act._x.a-1");
  const std::pair<const char*, const char*> bad[] = {
      {"workers { name: \"w1\" }", "servers: none"},
      {"servers: [\"127.0.0.1:4222\"] workers { name: \"w1\" }", "servers[0]: '127.0.0.1:4222' is not a nats:// URL"},
      {"servers: [\"nats://h:1\"] partitions: 5000 workers { name: \"w1\" }", "partitions: 5000"},
      {"servers: [\"nats://h:1\"] stream_replicas: 2 workers { name: \"w1\" }", "stream_replicas: 2"},
      {"servers: [\"nats://h:1\"]", "workers: none"},
      {"servers: [\"nats://h:1\"] workers { name: \"w1\" } workers { name: \"w1\" }", "workers[1].name: 'w1' twice"},
      {"servers: [\"nats://h:1\"] workers { name: \"w1\" owns: 16 }", "workers[0]: partition 16"},
      {"servers: [\"nats://h:1\"] prefix: \"A.B\" workers { name: \"w1\" }", "prefix: 'A.B'"},
      {"servers: [\"nats://h:1\"] workers { nme: \"w1\" }", "c.textproto: line 1"},
  };
  for (const auto& [text, error] : bad) {
    absl::StatusOr<v1::ClusterConfig> r = ParseClusterConfig(text, "c.textproto");
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_NE(std::string(r.status().message()).find(error), std::string::npos) << r.status();
  }
}

TEST(ClusterTokensTest, EveryTenantHasOneTokenAndBack) {
  for (const std::string tenant : {"", "acme", "Globex-EU", "_private", "dot.ted", "sp ace", "ünicode", "a>b*c"}) {
    const std::string token = TenantToken(tenant);
    EXPECT_EQ(token.find_first_of(".*> \t"), std::string::npos) << token;
    absl::StatusOr<std::string> back = TenantFromToken(token);
    ASSERT_TRUE(back.ok()) << token;
    EXPECT_EQ(*back, tenant);
  }
  EXPECT_EQ(TenantToken(""), "_x");
  EXPECT_EQ(TenantToken("acme"), "acme");
  // Only the spelling TenantToken makes: another would put a tenant's messages on a second subject.
  for (const char* other : {"_x61", "_x2E", "_all", "_", "_xZZ", "a.b", ""}) {
    EXPECT_FALSE(TenantFromToken(other).ok()) << other;
  }
}

TEST(ClusterPartitionsTest, StableAndSpread) {
  // FNV-1a 32 of the token (nats-server's partition mapping; checked against a server in
  // cluster_test): fixed values any producer can reproduce.
  EXPECT_EQ(PartitionOf("acme", 16), PartitionOf("acme", 16));
  uint32_t h = 2166136261u;
  for (const char c : std::string("acme")) {
    h ^= static_cast<uint8_t>(c);
    h *= 16777619u;
  }
  EXPECT_EQ(PartitionOf("acme", 16), h % 16);
  EXPECT_EQ(PartitionOf("acme", 7), h % 7);
  std::set<uint32_t> used;
  for (int i = 0; i < 200; ++i) used.insert(PartitionOf(absl::StrCat("t", i), 16));
  EXPECT_EQ(used.size(), 16u);
}

TEST(ClusterAssignmentTest, RoundRobinWithStandbysOrExplicitLists) {
  absl::StatusOr<v1::ClusterConfig> c = ParseClusterConfig(kConfig, "c");
  ASSERT_TRUE(c.ok());
  absl::StatusOr<Assignment> a = AssignPartitions(*c);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->workers[0], (std::vector<std::string>{"w1", "w2"}));
  EXPECT_EQ(a->workers[2], (std::vector<std::string>{"w3", "w1"}));
  EXPECT_EQ(a->PartitionsOf("w1").size(), 11u);  // Owns 6 (0, 3, ... 15), follows 5.
  c = ParseClusterConfig(R"(servers: ["nats://h:1"] partitions: 2
      workers { name: "a" owns: 0 follows: 1 } workers { name: "b" owns: 1 follows: 0 })", "c");
  ASSERT_TRUE(c.ok());
  a = AssignPartitions(*c);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->workers[0], (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(a->workers[1], (std::vector<std::string>{"b", "a"}));
  c = ParseClusterConfig(R"(servers: ["nats://h:1"] partitions: 2 workers { name: "a" owns: 0 })", "c");
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(AssignPartitions(*c).ok()) << "partition 1 has no owner";
}

v1::InputBatch Batch(const std::vector<Event>& events) {
  v1::InputBatch b;
  for (const Event& e : events) *b.add_records()->mutable_event() = e;
  return b;
}

TEST(ClusterMessageIdTest, CopiesShareAnIdOtherMessagesDoNot) {
  const Event a = Ev("e1", 0, v1::EVENT_KIND_PAGE, "Product").Id("email", "a@example.com").Tenant("acme");
  const Event b = Ev("e2", 1, v1::EVENT_KIND_PAGE, "Product").Id("email", "b@example.com").Tenant("acme");
  const Event c = Ev("e3", 2, v1::EVENT_KIND_PAGE, "Product").Id("email", "c@example.com").Tenant("acme");
  EXPECT_EQ(InputMessageId("acme", Batch({a})), "acme/test/e1");
  EXPECT_EQ(InputMessageId("acme", Batch({a, b})), InputMessageId("acme", Batch({a, b})));
  EXPECT_NE(InputMessageId("acme", Batch({a, b})), InputMessageId("acme", Batch({a, c}))) << "same first event and size";
  v1::InputBatch unlink;
  unlink.add_records()->mutable_unlink()->set_value("x");
  EXPECT_EQ(InputMessageId("acme", unlink, 7), InputMessageId("acme", unlink, 7));
  EXPECT_NE(InputMessageId("acme", unlink, 7), InputMessageId("acme", unlink, 8)) << "sent again by another publisher";
  EXPECT_TRUE(IsCommand(unlink));
  EXPECT_FALSE(IsCommand(Batch({a})));
  EXPECT_NE(MessageCheck("x"), MessageCheck("y"));
}

TEST(ClusterApplyTest, MessagesAreAppliedAsTheirKindAndWrongOnesRefused) {
  absl::StatusOr<v1::ClusterConfig> config = ParseClusterConfig(kConfig, "c");
  ASSERT_TRUE(config.ok());
  SimulatedClock clock(absl::UnixEpoch());
  absl::StatusOr<EngineOptions> options = PartitionEngineOptions(*config, &clock);
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->time_mode, EngineOptions::TimeMode::kEventTime);
  auto engine = Engine::Open(*options);
  ASSERT_TRUE(engine.ok());
  const uint32_t p = PartitionOf("acme", 16);
  const Event a = Ev("e1", 0, v1::EVENT_KIND_PAGE, "Product").Id("email", "a@example.com").Tenant("acme");
  const Event other = Ev("e2", 0, v1::EVENT_KIND_PAGE, "Product").Id("email", "z@example.com").Tenant("globex");
  absl::StatusOr<Applied> r = ApplyInput(**engine, p, 16, "acme", Batch({a, other}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->events, 1);
  EXPECT_EQ(r->refused, 1) << "an event of another tenant than its subject's";
  r = ApplyInput(**engine, p, 16, "acme", Batch({a}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->duplicates, 1);
  // An unlink of an unknown identifier is refused, counted, and changes nothing.
  v1::InputBatch unlink;
  unlink.add_records()->mutable_unlink()->set_type("email");
  unlink.mutable_records(0)->mutable_unlink()->set_value("nobody@example.com");
  r = ApplyInput(**engine, p, 16, "acme", unlink);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->refused, 1);
  // A tick for the whole partition moves its time.
  v1::InputBatch tick;
  tick.add_records()->mutable_advance_time()->set_seconds(absl::ToUnixSeconds(testing::At(600)));
  r = ApplyInput(**engine, p, 16, std::string(kAllTenants), tick);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->commands, 1);
  EXPECT_EQ((*engine)->Now(), testing::At(600));
  // Messages that are not input: errors naming why.
  EXPECT_FALSE(ApplyInput(**engine, p + 1, 16, "acme", Batch({a})).ok()) << "the tenant's partition is another";
  EXPECT_FALSE(ApplyInput(**engine, p, 16, "acme", v1::InputBatch()).ok());
  EXPECT_FALSE(ApplyInput(**engine, p, 16, std::string(kAllTenants), unlink).ok());
  v1::InputBatch mixed = Batch({a});
  *mixed.add_records() = tick.records(0);
  EXPECT_FALSE(ApplyInput(**engine, p, 16, "acme", mixed).ok());
}

}  // namespace
}  // namespace omnijourney::cluster
