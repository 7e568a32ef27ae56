// The synthetic population: reproducible, valid, with the promised defects, and feedback-driven
// support outcomes.
#include "omnijourney/synth.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "omnijourney/engine.h"
#include "omnijourney/validate.h"

namespace omnijourney::synth {
namespace {

// Map fields (properties) serialise in an unspecified order unless asked to be deterministic.
std::string Bytes(const Event& e) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    e.SerializeToCodedStream(&coded);
  }
  return out;
}

PopulationOptions Small(uint64_t seed = 7) {
  PopulationOptions o;
  o.seed = seed;
  o.customers = 500;
  o.late_rate = 0.05;
  o.duplicate_rate = 0.05;
  o.junk_rate = 0.05;
  o.shared_device_rate = 0.1;
  return o;
}

std::vector<std::string> Serialized(const std::vector<GeneratedEvent>& events) {
  std::vector<std::string> out;
  for (const GeneratedEvent& g : events) out.push_back(absl::StrCat(g.customer, g.duplicate, g.late, g.contact, Bytes(g.event)));
  return out;
}

TEST(Population, SameSeedSameEventsOtherSeedOtherEvents) {
  auto a = Generate(Small());
  auto b = Generate(Small());
  auto c = Generate(Small(8));
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_GT(a->size(), 2000u);
  EXPECT_EQ(Serialized(*a), Serialized(*b));
  EXPECT_NE(Serialized(*a), Serialized(*c));
}

TEST(Population, EventsAreValidAndCarryTheDefects) {
  auto events = Generate(Small());
  ASSERT_TRUE(events.ok());
  std::set<int64_t> customers;
  std::map<std::pair<std::string, std::string>, std::string> seen;
  int duplicates = 0, late = 0, contacts = 0, junk = 0, tablets = 0;
  absl::Time last_on_time = absl::InfinitePast();
  for (const GeneratedEvent& g : *events) {
    EXPECT_TRUE(ValidateEvent(g.event, {}, absl::Now()).ok()) << DescribeEvent(g.event);
    customers.insert(g.customer);
    const auto key = std::make_pair(g.event.source(), g.event.event_id());
    if (g.duplicate) {
      ++duplicates;
      ASSERT_TRUE(seen.contains(key)) << "a duplicate comes after its original";
      EXPECT_EQ(seen[key], Bytes(g.event));
    } else {
      EXPECT_TRUE(seen.emplace(key, Bytes(g.event)).second) << "event ids are unique";
    }
    if (g.late) ++late;
    if (!g.late && !g.duplicate) {
      const absl::Time t = FromTimestamp(g.event.occurred_at());
      EXPECT_GE(t, last_on_time) << "on-time events are delivered in time order";
      last_on_time = t;
    }
    if (g.contact) {
      ++contacts;
      EXPECT_EQ(g.event.direction(), v1::DIRECTION_INBOUND);
    }
    for (const auto& id : g.event.identifiers()) {
      if (id.value() == "test@test.com" || id.value() == "null" || id.value() == "+420 800 100 200") ++junk;
      if (id.value().rfind("tablet-", 0) == 0) ++tablets;
    }
  }
  EXPECT_EQ(customers.size(), 500u);
  EXPECT_GT(duplicates, 0);
  EXPECT_GT(late, 0);
  EXPECT_GT(contacts, 50);
  EXPECT_GT(junk, 0);
  EXPECT_GT(tablets, 0);
}

TEST(Population, SupportOutcomesFollowTheReportedHistory) {
  PopulationOptions o = Small();
  o.support_rate = 1;
  o.resolve_first = 0;
  o.resolve_with_history = 1;
  o.resolve_without_history = 0;
  o.abandonment = false;  // Every contact reaches an agent.
  for (bool history : {true, false}) {
    auto p = Population::Create(o);
    ASSERT_TRUE(p.ok());
    GeneratedEvent g;
    std::map<int64_t, int> contacts;
    while ((*p)->Next(&g)) {
      if (!g.contact) continue;
      ++contacts[g.customer];
      (*p)->ReportHistory(history);
    }
    EXPECT_EQ((*p)->issues(), 500);
    if (history) {
      // The first contact never resolves, the second always does.
      EXPECT_EQ((*p)->issues_resolved(), 500);
      for (const auto& [c, n] : contacts) EXPECT_EQ(n, 2) << c;
    } else {
      EXPECT_EQ((*p)->issues_resolved(), 0);
      for (const auto& [c, n] : contacts) EXPECT_EQ(n, o.max_contacts) << c;
    }
  }
}

TEST(Population, BadOptionsNameTheField) {
  PopulationOptions o;
  o.known_rate = 1.5;
  auto p = Population::Create(o);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(p.status().message().find("known_rate"), std::string::npos);
  o = {};
  o.customers = -1;
  EXPECT_NE(Population::Create(o).status().message().find("customers"), std::string::npos);
  o = {};
  o.max_contacts = 0;
  EXPECT_NE(Population::Create(o).status().message().find("max_contacts"), std::string::npos);
}

// The engine's merge protection holds on the population: shared tablets and junk values never
// put two registered customers (distinct CRM ids) into one profile.
TEST(Population, EngineKeepsRegisteredCustomersApart) {
  auto events = Generate(Small());
  ASSERT_TRUE(events.ok());
  EngineOptions options;
  options.time_mode = EngineOptions::TimeMode::kEventTime;
  auto engine = Engine::Open(options);
  ASSERT_TRUE(engine.ok());
  for (const GeneratedEvent& g : *events) {
    auto r = (*engine)->Ingest(g.event);
    ASSERT_TRUE(r.ok()) << r.status() << " " << DescribeEvent(g.event);
    EXPECT_EQ(r->duplicate, g.duplicate);
  }
  std::map<ProfileId, int64_t> owner;
  int registered = 0;
  for (int64_t c = 0; c < 500; ++c) {
    auto ctx = (*engine)->Context({"", "crm_id", absl::StrCat("CRM-", c)});
    if (!ctx.ok()) continue;
    ++registered;
    auto [it, fresh] = owner.emplace(ctx->profile, c);
    EXPECT_TRUE(fresh) << "customers " << it->second << " and " << c << " share profile " << ctx->profile;
  }
  EXPECT_GT(registered, 250);  // known_rate 0.7
  EXPECT_LT((*engine)->Stats().profiles, 2000);
}

}  // namespace
}  // namespace omnijourney::synth
