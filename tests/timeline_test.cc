// The compact stored entry: every field survives packing, copying, editing and the spill encoding.
#include "timeline/timeline.h"

#include <random>
#include <string>
#include <utility>
#include <vector>

#include "context/context_builder.h"
#include "omnijourney/synth.h"
#include "engine_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace omnijourney::internal {
namespace {

using ::omnijourney::testing::At;
using ::omnijourney::testing::Ev;
using ::testing::ElementsAre;
using ::testing::Pair;

using Pairs = std::vector<std::pair<std::string, std::string>>;

Event Rich() {
  Event e = Ev("ord-7", 5, v1::EVENT_KIND_ORDER, "Order Completed")
                .Id("email", "Jana@Example.com")
                .Id("phone", "+420 601 123 456")
                .In(v1::CHANNEL_WEB)
                .Conv("conv-1")
                .Agent("agent:petr")
                .Text("Příliš žluťoučký kůň")
                .Prop("order_id", "o-1")
                .Prop("category", "sofas")
                .Trait("first_name", "Jana")
                .Trait("city", "Brno")
                .Source("shop")
                .Value(1299, "CZK")
                .event();
  e.set_provider("shoptet");
  e.set_session_id("s-9");
  auto& nested = (*e.mutable_properties()->mutable_fields())["cart"];
  (*nested.mutable_struct_value()->mutable_fields())["items"].set_number_value(3);
  e.mutable_previous_id()->set_type("cookie");
  e.mutable_previous_id()->set_value("ck-1");
  return e;
}

void ExpectRich(const StoredEntry& s) {
  EXPECT_EQ(s.time(), At(5));
  EXPECT_EQ(s.kind(), v1::EVENT_KIND_ORDER);
  EXPECT_EQ(s.channel(), v1::CHANNEL_WEB);
  EXPECT_EQ(s.direction(), v1::DIRECTION_INBOUND);
  EXPECT_EQ(s.source(), "shop");
  EXPECT_EQ(s.event_id(), "ord-7");
  EXPECT_EQ(s.name(), "Order Completed");
  EXPECT_EQ(s.provider(), "shoptet");
  EXPECT_EQ(s.agent_id(), "agent:petr");
  EXPECT_EQ(s.conversation_id(), "conv-1");
  EXPECT_EQ(s.text(), "Příliš žluťoučký kůň");
  EXPECT_EQ(s.value(), "1299.00 CZK");
  EXPECT_EQ(s.session_id(), "s-9");
  EXPECT_EQ(s.value_units(), "1299");
  EXPECT_EQ(s.currency(), "CZK");
  EXPECT_EQ(s.Property("order_id"), "o-1");
  EXPECT_EQ(s.Property("category"), "sofas");
  EXPECT_EQ(s.Property("nope"), "");
  EXPECT_THAT(s.identifiers().ToVector(),
              ElementsAre(Pair("email", "Jana@Example.com"), Pair("phone", "+420 601 123 456"), Pair("cookie", "ck-1")));
  EXPECT_THAT(s.traits().ToVector(), ElementsAre(Pair("city", "Brno"), Pair("first_name", "Jana")));
  EXPECT_THAT(s.flat_properties().ToVector(),
              ElementsAre(Pair("cart.items", "3"), Pair("category", "sofas"), Pair("order_id", "o-1")));
  EXPECT_EQ(s.identifiers().size(), 3u);
  EXPECT_EQ(s.flat_properties().Find("cart.items"), "3");
  EXPECT_FALSE(s.flat_properties().Find("cart").has_value());
}

TEST(StoredEntryTest, KeepsEveryField) {
  TimelineOptions options;
  options.key_properties = {"order_id", "category"};
  const StoredEntry s = MakeEntry(Rich(), options);
  ExpectRich(s);
  const TimelineEntry v = s.View();
  EXPECT_EQ(v.event_id, "ord-7");
  EXPECT_EQ(v.text, "Příliš žluťoučký kůň");
  EXPECT_EQ(v.Property("category"), "sofas");
  EXPECT_EQ(v.time, At(5));
  EXPECT_GT(s.BlockSize(), 0u);
}

TEST(StoredEntryTest, NestedPropertiesAndTraitsOfEveryKindSurviveReuseAcrossEntries) {
  // Long keys and values (beyond short-string storage), nested three deep, every value kind; built
  // twice in a row with different values, so that the second entry cannot show the first's strings.
  auto make = [](const std::string& tag) {
    Event e = Ev("e-" + tag, 1, v1::EVENT_KIND_TRACK, "Viewed").Id("cookie", "ck-" + tag).event();
    auto& fields = *e.mutable_properties()->mutable_fields();
    auto& outer = *fields["shipping_address_details"].mutable_struct_value()->mutable_fields();
    auto& inner = *outer["delivery_point_with_a_long_name"].mutable_struct_value()->mutable_fields();
    inner["street"].set_string_value("Long Street Name " + tag + " that does not fit inline");
    inner["floor"].set_number_value(tag == "a" ? 2.5 : 7);
    outer["express"].set_bool_value(tag == "a");
    fields["note"].set_null_value(google::protobuf::NULL_VALUE);
    fields["tags"].mutable_list_value()->add_values()->set_string_value(tag);
    auto& traits = *e.mutable_traits()->mutable_fields();
    traits["loyalty_points_balance_total"].set_number_value(tag == "a" ? 1200 : 5);
    traits["preferred_store_location_name"].set_string_value("Store of " + tag + " with a long name");
    return e;
  };
  const TimelineOptions options;
  const StoredEntry a = MakeEntry(make("a"), options);
  const StoredEntry b = MakeEntry(make("b"), options);
  auto expect = [](const StoredEntry& s, const std::string& tag, const std::string& floor,
                   const std::string& express, const std::string& points) {
    const std::string at = "shipping_address_details.delivery_point_with_a_long_name.";
    EXPECT_THAT(s.flat_properties().ToVector(),
                ElementsAre(Pair("note", "null"), Pair(at + "floor", floor),
                            Pair(at + "street", "Long Street Name " + tag + " that does not fit inline"),
                            Pair("shipping_address_details.express", express), Pair("tags", "[\"" + tag + "\"]")));
    EXPECT_THAT(s.traits().ToVector(),
                // A number is stored with its kind (kTypedTrait, 'n'), a string as is.
                ElementsAre(Pair("loyalty_points_balance_total", std::string("\xFEn") + points),
                            Pair("preferred_store_location_name", "Store of " + tag + " with a long name")));
  };
  expect(a, "a", "2.5", "true", "1200");
  expect(b, "b", "7", "false", "5");
}

TEST(StoredEntryTest, KeyPropertiesFollowTheConfiguredOrder) {
  TimelineOptions options;
  options.key_properties = {"status", "total", "path", "order_id", "absent"};
  Event e = Ev("o", 1, v1::EVENT_KIND_ORDER, "Order Completed").Prop("order_id", "o-9").Prop("status", "paid").event();
  auto& fields = *e.mutable_properties()->mutable_fields();
  fields["total"].set_number_value(12);
  fields["ignored"].set_string_value("x");
  e.mutable_context()->mutable_page()->set_path("/checkout");
  EXPECT_THAT(MakeEntry(e, options).properties().ToVector(),
              ElementsAre(Pair("status", "paid"), Pair("total", "12"), Pair("path", "/checkout"), Pair("order_id", "o-9")));
  fields["path"].set_string_value("/from-properties");  // A "path" property wins over the page's path.
  EXPECT_THAT(MakeEntry(e, options).properties().ToVector(),
              ElementsAre(Pair("status", "paid"), Pair("total", "12"), Pair("path", "/from-properties"),
                          Pair("order_id", "o-9")));
  options.key_properties.clear();
  EXPECT_TRUE(MakeEntry(e, options).properties().empty());
}

TEST(StoredEntryTest, EmptyEventHasEmptyFields) {
  Event e;
  const StoredEntry s = MakeEntry(e, TimelineOptions());
  EXPECT_EQ(s.source(), "");
  EXPECT_EQ(s.value(), "");
  EXPECT_TRUE(s.identifiers().empty());
  EXPECT_TRUE(s.traits().empty());
  EXPECT_EQ(s.identifiers().begin(), s.identifiers().end());
  const StoredEntry blank;
  EXPECT_EQ(blank.name(), "");
  EXPECT_TRUE(blank.flat_properties().empty());
  EXPECT_EQ(blank.BlockSize(), 0u);
}

TEST(StoredEntryTest, CutsTextWithoutSplittingACharacter) {
  TimelineOptions options;
  options.max_text_bytes = 4;  // "Př" is 3 bytes, "í" would end at byte 5.
  Event e = Ev("x", 0, v1::EVENT_KIND_MESSAGE, "m").Text("Příliš").event();
  EXPECT_EQ(MakeEntry(e, options).text(), "Př");
}

TEST(StoredEntryTest, CopiesAreDeepAndMovesKeepTheData) {
  TimelineOptions options;
  options.key_properties = {"order_id", "category"};
  StoredEntry a = MakeEntry(Rich(), options);
  StoredEntry b = a;
  a = MakeEntry(Ev("other", 1, v1::EVENT_KIND_PAGE, "p"), options);
  ExpectRich(b);
  StoredEntry c = std::move(b);
  ExpectRich(c);
  std::vector<StoredEntry> many;
  for (int i = 0; i < 100; ++i) many.push_back(c);  // Reallocations move entries.
  ExpectRich(many.front());
  ExpectRich(many.back());
}

TEST(StoredEntryTest, SetIdentifiersKeepsTheRest) {
  TimelineOptions options;
  options.key_properties = {"order_id", "category"};
  StoredEntry s = MakeEntry(Rich(), options);
  s.SetIdentifiers({{"phone", "+420601123456"}});
  EXPECT_THAT(s.identifiers().ToVector(), ElementsAre(Pair("phone", "+420601123456")));
  EXPECT_EQ(s.text(), "Příliš žluťoučký kůň");
  EXPECT_THAT(s.traits().ToVector(), ElementsAre(Pair("city", "Brno"), Pair("first_name", "Jana")));
  EXPECT_EQ(s.Property("order_id"), "o-1");
  EXPECT_EQ(s.currency(), "CZK");
}

TEST(ProfileTimelineTest, EncodeDecodeRoundTrip) {
  TimelineOptions options;
  options.key_properties = {"order_id", "category"};
  ProfileTimeline t("acme");
  t.Insert(MakeEntry(Rich(), options), options, At(10));
  t.Insert(MakeEntry(Ev("early", 1, v1::EVENT_KIND_PAGE, "Home").Id("cookie", "ck-1"), options), options, At(10));
  auto back = ProfileTimeline::Decode(t.Encode());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->tenant(), "acme");
  ASSERT_EQ(back->entries().size(), 2u);
  EXPECT_EQ(back->entries()[0].event_id(), "early");  // Timeline order.
  ExpectRich(back->entries()[1]);
  EXPECT_FALSE(ProfileTimeline::Decode("\xff\xff garbage").ok());
}

TEST(ProfileTimelineTest, InsertsInOrderAndRetainsTheNewest) {
  TimelineOptions options;
  options.max_entries = 3;
  ProfileTimeline t("");
  for (int minute : {5, 1, 4, 2, 3}) {
    t.Insert(MakeEntry(Ev("e" + std::to_string(minute), minute, v1::EVENT_KIND_PAGE, "p"), options), options, At(10));
  }
  std::vector<std::string> ids;
  for (const StoredEntry& e : t.entries()) ids.emplace_back(e.event_id());
  EXPECT_THAT(ids, ElementsAre("e3", "e4", "e5"));
}

// The summary kept for large timelines gives exactly the context a fresh pass gives, through
// appends, late inserts, retention, merges and rewrites, as of times before and after the events.
TEST(ContextCacheTest, CachedContextEqualsAFreshPass) {
  synth::PopulationOptions po;
  po.seed = 3;
  po.customers = 400;
  auto events = synth::Generate(po);
  ASSERT_TRUE(events.ok()) << events.status();
  EngineOptions options;
  options.timeline.max_entries = 400;  // Retention drops entries on the busiest timelines.
  std::vector<ProfileTimeline> timelines;
  for (int i = 0; i < 4; ++i) timelines.emplace_back("");
  std::mt19937_64 rng(11);
  const std::vector<IdentifierValue> ids = {{"email", "a@example.com"}};
  int compared = 0, cached = 0;
  for (size_t i = 0; i < events->size(); ++i) {
    const synth::GeneratedEvent& g = (*events)[i];
    if (g.duplicate) continue;
    ProfileTimeline& t = timelines[static_cast<size_t>(g.customer) % timelines.size()];
    const absl::Time t_event = FromTimestamp(g.event.occurred_at());
    t.Insert(MakeEntry(g.event, options.timeline), options.timeline, t_event);
    if (i % 500 == 499) {  // Now and then a merge or a rewrite changes entries in place.
      ProfileTimeline& other = timelines[(static_cast<size_t>(g.customer) + 1) % timelines.size()];
      if (rng() % 2 == 0) {
        t.Absorb(std::move(other), options.timeline, t_event);
        other = ProfileTimeline("");
      } else {
        t.Rewrite([](StoredEntry& e) {
          e.SetIdentifiers({{"cookie", "ck-rewritten"}});
          return e.kind() != v1::EVENT_KIND_PAGE;
        });
      }
    }
    if (rng() % 2 != 0) continue;
    const absl::Time now = t_event + absl::Minutes(static_cast<int64_t>(rng() % 20000)) - absl::Hours(24);
    if (t.entries().size() >= ContextAccumulator::kCacheMinEntries) ++cached;
    const std::string want = ContextToJson(BuildContext(7, t, ids, options, now));
    const std::string got = ContextToJson(BuildContextCached(7, t, ids, options, now));
    ASSERT_EQ(got, want) << "after event " << i;
    ++compared;
  }
  EXPECT_GT(compared, 1000) << cached;
  EXPECT_GT(cached, 500);  // The cached path was taken, not only the small-timeline shortcut.
}

}  // namespace
}  // namespace omnijourney::internal
