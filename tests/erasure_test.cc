// GDPR erasure that holds: erased values leave every kept event (text, properties, traits, page URL,
// titles), erased events stay erased after restarts and re-deliveries, and nothing erased can be
// read from the store's files by anyone holding them (store_forensics.h decompresses SSTs, parses
// WAL files and decrypts every record a key found in the files opens).
#include <filesystem>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "engine_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store_forensics.h"

namespace omnijourney {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::Ev;
using testing::Durable;
using testing::FreshDir;
using testing::Open;
using testing::WhereReadable;

// Every spelling a test looks for, as stored text could hold it.
const std::vector<std::string> kEvaSpellings = {"eva.novak@example.com", "Eva.Novak@Example.com",
                                                "EVA.NOVAK@EXAMPLE.COM", "eva.novak%40example.com",
                                                "eva.novak%40Example.com"};

// A Segment-style identify with the address in its traits, text, properties, page URL, referrer
// and title; a page view of the same cookie whose text names it; another customer's chat that
// names it.
std::vector<Event> EvaEvents() {
  Event identify = Ev("id-1", 0, v1::EVENT_KIND_IDENTIFY, "Identify")
                       .Id("cookie", "ck-eva")
                       .Id("email", "Eva.Novak@Example.com")
                       .Trait("email", "eva.novak@example.com")
                       .Trait("name", "Eva Novak")
                       .Trait("Eva.Novak@example.com", "vip")  // A trait named by the address.
                       .Prop("contact", "EVA.NOVAK@EXAMPLE.COM")
                       .Text("my address is eva.novak@example.com, thanks")
                       .event();
  auto* page = identify.mutable_context()->mutable_page();
  page->set_url("https://shop.example/account?email=eva.novak%40example.com&x=1");
  page->set_referrer("https://mail.example/open?to=Eva.Novak%40Example.com");
  page->set_title("Account of eva.novak@example.com");
  Event view = Ev("pv-1", 1, v1::EVENT_KIND_PAGE, "Viewed Sofa")
                   .Id("cookie", "ck-eva")
                   .Text("newsletter for eva.novak@example.com")
                   .event();
  Event jan = Ev("chat-1", 2, v1::EVENT_KIND_MESSAGE, "Message Received")
                  .Id("email", "jan@example.com")
                  .In(v1::CHANNEL_CHAT)
                  .Text("please forward this to EVA.NOVAK@example.com")
                  .event();
  return {identify, view, jan};
}

void ExpectNoSpelling(const std::string& what, const std::string& text) {
  const std::string lower = absl::AsciiStrToLower(text);
  EXPECT_THAT(lower, Not(HasSubstr("eva.novak@example.com"))) << what;
  EXPECT_THAT(lower, Not(HasSubstr("eva.novak%40example.com"))) << what;
}

TEST(ErasureTest, ErasedEmailLeavesTheTextPropertiesTraitsAndPageUrlOfKeptEvents) {
  const std::string dir = FreshDir("erase_kept");
  std::string eva_after, jan_after;
  {
    auto engine = Open(Durable(dir));
    for (const Event& e : EvaEvents()) ASSERT_TRUE(engine->Ingest(e).ok());
    // The reader finds what is there: a sealed record opened with a key found in the files.
    EXPECT_THAT(WhereReadable(dir, "eva.novak@example.com"), HasSubstr("sealed record"));
    ASSERT_TRUE(engine->EraseIdentifier({"", "email", "eva.novak@example.com"}).ok());
    auto eva = engine->Context({"", "cookie", "ck-eva"});
    ASSERT_TRUE(eva.ok()) << eva.status();
    EXPECT_EQ(eva->timeline_size, 2);  // Both events are kept (the cookie still identifies them).
    eva_after = ContextToJson(*eva);
    EXPECT_THAT(eva_after, HasSubstr("Eva Novak"));  // What is not the address stays.
    EXPECT_THAT(eva_after, HasSubstr("[erased]"));
    ExpectNoSpelling("Eva's context", eva_after);
    auto jan = engine->Context({"", "email", "jan@example.com"});
    ASSERT_TRUE(jan.ok());
    jan_after = ContextToJson(*jan);
    EXPECT_THAT(jan_after, HasSubstr("please forward this to [erased]"));
    ExpectNoSpelling("Jan's context", jan_after);
    for (const std::string& s : kEvaSpellings) {
      EXPECT_FALSE(engine->ContainsStringForTesting(s)) << s;
      EXPECT_EQ(WhereReadable(dir, s), "") << s;
    }
  }
  for (const bool from_snapshot : {true, false}) {
    // From the snapshot the erasure wrote, then replaying the log: the same as the live engine.
    if (!from_snapshot) std::filesystem::remove_all(dir + "/snapshots");
    auto engine = Open(Durable(dir));
    EXPECT_EQ(engine->Stats().snapshot_position > 0, from_snapshot);
    EXPECT_EQ(ContextToJson(*engine->Context({"", "cookie", "ck-eva"})), eva_after) << from_snapshot;
    EXPECT_EQ(ContextToJson(*engine->Context({"", "email", "jan@example.com"})), jan_after) << from_snapshot;
    EXPECT_EQ(engine->Context({"", "email", "eva.novak@example.com"}).status().code(), absl::StatusCode::kNotFound);
  }
  for (const std::string& s : kEvaSpellings) EXPECT_EQ(WhereReadable(dir, s), "") << s;
  std::filesystem::remove_all(dir);
}

// Defect: a trait kept with its JSON type (a number) hid a short erased value from the scrubber,
// which matches short values only whole.
TEST(ErasureTest, AnErasedNumberKeptAsATypedTraitIsScrubbed) {
  auto engine = Open(EngineOptions{});
  Event e = Ev("id-1", 0, v1::EVENT_KIND_IDENTIFY, "Identify").Id("cookie", "ck-1").Id("crm_id", "4711").event();
  (*e.mutable_traits()->mutable_fields())["crm"].set_number_value(4711);
  (*e.mutable_traits()->mutable_fields())["logins"].set_number_value(5);
  (*e.mutable_traits()->mutable_fields())["ids"].mutable_list_value()->add_values()->set_string_value("4711");
  ASSERT_TRUE(engine->Ingest(e).ok());
  ASSERT_TRUE(engine->EraseIdentifier({"", "crm_id", "4711"}).ok());
  auto ctx = engine->Context({"", "cookie", "ck-1"});
  ASSERT_TRUE(ctx.ok()) << ctx.status();
  EXPECT_EQ(ctx->traits.at("crm").value, "[erased]");
  EXPECT_EQ(ctx->traits.at("crm").kind, TraitValue::Kind::kString);  // No longer a number.
  EXPECT_EQ(ctx->traits.at("logins").value, "5");
  EXPECT_EQ(ctx->traits.at("logins").kind, TraitValue::Kind::kNumber);
  ctx->as_of = absl::UnixEpoch();  // The clock's time could contain the digits.
  EXPECT_THAT(ContextToJson(*ctx), Not(HasSubstr("4711")));
}

// After an unlink, EraseProfile takes every event that was the profile's, and a restart does not
// bring any of them back.
TEST(ErasureTest, EraseProfileAfterUnlinkLeavesNothingOfThePersonAfterARestart) {
  const std::string dir = FreshDir("erase_unlinked");
  int64_t profiles = 0, events = 0;
  std::string shared_after;
  {
    auto engine = Open(Durable(dir));
    ASSERT_TRUE(engine->Ingest(Ev("e1", 0, v1::EVENT_KIND_MESSAGE, "Message Received").Id("email", "petra@example.com")
                                   .Text("petra's first secret")).ok());
    ASSERT_TRUE(engine->Ingest(Ev("e2", 1, v1::EVENT_KIND_PAGE, "Viewed").Id("cookie", "ck-shared")
                                   .Id("email", "petra@example.com").Text("petra's second secret")).ok());
    ASSERT_TRUE(engine->Ingest(Ev("e3", 2, v1::EVENT_KIND_PAGE, "Viewed").Id("cookie", "ck-shared")
                                   .Text("someone else on the shared computer")).ok());
    const ProfileId petra = engine->Context({"", "email", "petra@example.com"})->profile;
    ASSERT_TRUE(engine->Unlink({"", "cookie", "ck-shared"}).ok());
    ASSERT_EQ(engine->Context({"", "email", "petra@example.com"})->profile, petra);
    ASSERT_TRUE(engine->EraseProfile(petra).ok());
    EXPECT_EQ(engine->Context({"", "email", "petra@example.com"}).status().code(), absl::StatusCode::kNotFound);
    profiles = engine->Stats().profiles;
    events = engine->Stats().timeline_entries;
    auto shared = engine->Context({"", "cookie", "ck-shared"});
    if (shared.ok()) shared_after = ContextToJson(*shared);
    EXPECT_THAT(shared_after, Not(HasSubstr("petra")));
    EXPECT_FALSE(engine->ContainsStringForTesting("petra"));
  }
  auto engine = Open(Durable(dir));
  EXPECT_EQ(engine->Context({"", "email", "petra@example.com"}).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(engine->Stats().profiles, profiles);
  EXPECT_EQ(engine->Stats().timeline_entries, events);
  auto shared = engine->Context({"", "cookie", "ck-shared"});
  EXPECT_EQ(shared.ok() ? ContextToJson(*shared) : std::string(), shared_after);
  EXPECT_FALSE(engine->ContainsStringForTesting("petra"));
  EXPECT_EQ(WhereReadable(dir, "petra"), "");
  std::filesystem::remove_all(dir);
}

TEST(ErasureTest, ReDeliveredErasedEventsAreRefusedAfterAReopen) {
  const std::string dir = FreshDir("erase_redeliver");
  const Ev a = Ev("m1", 0, v1::EVENT_KIND_MESSAGE, "Message Received").Id("email", "olga@example.com").Text("hello");
  const Ev b = Ev("m2", 1, v1::EVENT_KIND_MESSAGE, "Message Received").Id("email", "olga@example.com").Text("again");
  const Ev other = Ev("m3", 2, v1::EVENT_KIND_MESSAGE, "Message Received").Id("email", "ivan@example.com");
  {
    auto engine = Open(Durable(dir));
    for (const Ev* e : {&a, &b, &other}) ASSERT_TRUE(engine->Ingest(*e).ok());
    ASSERT_TRUE(engine->EraseProfile(engine->Context({"", "email", "olga@example.com"})->profile).ok());
    auto again = engine->Ingest(a);
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_TRUE(again->erased);
    EXPECT_EQ(again->profile, 0u);
    EXPECT_EQ(engine->Stats().erased_redeliveries, 1);
  }
  for (int reopen = 0; reopen < 2; ++reopen) {  // From the snapshot, then with it gone.
    if (reopen == 1) std::filesystem::remove_all(dir + "/snapshots");
    auto engine = Open(Durable(dir));
    auto batch = engine->IngestBatch({&a.event(), &b.event(), &other.event()});
    ASSERT_TRUE(batch[0].ok() && batch[1].ok() && batch[2].ok());
    EXPECT_TRUE(batch[0]->erased);
    EXPECT_TRUE(batch[1]->erased);
    EXPECT_TRUE(batch[2]->duplicate);
    EXPECT_FALSE(batch[2]->erased);
    EXPECT_EQ(engine->Stats().erased_redeliveries, 2);
    EXPECT_EQ(engine->Context({"", "email", "olga@example.com"}).status().code(), absl::StatusCode::kNotFound);
  }
  std::filesystem::remove_all(dir);
}

// An event whose only identifier is erased goes whole, and is refused when re-delivered.
TEST(ErasureTest, EventsOnlyTheErasedIdentifierIdentifiedAreErasedWhole) {
  const std::string dir = FreshDir("erase_only");
  const Ev only = Ev("o1", 0, v1::EVENT_KIND_MESSAGE, "Message Received").Id("email", "lone@example.com").Text("solo text");
  {
    auto engine = Open(Durable(dir));
    ASSERT_TRUE(engine->Ingest(only).ok());
    ASSERT_TRUE(engine->Ingest(Ev("o2", 1, v1::EVENT_KIND_MESSAGE, "Message Received").Id("email", "lone@example.com")
                                   .Id("phone", "+420601555111").Text("with phone")).ok());
    ASSERT_TRUE(engine->EraseIdentifier({"", "email", "lone@example.com"}).ok());
    EXPECT_EQ(engine->Context({"", "phone", "+420601555111"})->timeline_size, 1);
    EXPECT_TRUE(engine->Ingest(only)->erased);
  }
  auto engine = Open(Durable(dir));
  EXPECT_EQ(engine->Context({"", "phone", "+420601555111"})->timeline_size, 1);
  EXPECT_TRUE(engine->Ingest(only)->erased);
  EXPECT_EQ(WhereReadable(dir, "solo text"), "");
  EXPECT_EQ(WhereReadable(dir, "lone@example.com"), "");
  EXPECT_NE(WhereReadable(dir, "with phone"), "");  // Kept, and readable with its key.
  std::filesystem::remove_all(dir);
}

// Snapshot files are encrypted under a key the erasure deletes: a copy of one taken before (a
// backup) cannot be read afterwards.
TEST(ErasureTest, ACopyOfAnOlderSnapshotCannotBeReadAfterAnErasure) {
  const std::string dir = FreshDir("erase_snapshot");
  auto engine = Open(Durable(dir));
  ASSERT_TRUE(engine->Ingest(Ev("s1", 0, v1::EVENT_KIND_MESSAGE, "Message Received").Id("email", "vera@example.com")
                                 .Text("vera's snapshot secret")).ok());
  ASSERT_TRUE(engine->Ingest(Ev("s2", 1, v1::EVENT_KIND_MESSAGE, "Message Received").Id("email", "otto@example.com")
                                 .Text("otto's words")).ok());
  ASSERT_TRUE(engine->Checkpoint().ok());
  std::filesystem::create_directories(dir + "/backup");
  int copied = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir + "/snapshots")) {
    std::filesystem::copy_file(f.path(), dir + "/backup/" + f.path().filename().string());
    EXPECT_EQ(testing::ReadFileBytes(f.path()).find("vera's snapshot secret"), std::string::npos);  // Encrypted.
    ++copied;
  }
  ASSERT_EQ(copied, 1);
  EXPECT_THAT(WhereReadable(dir, "vera's snapshot secret"), HasSubstr("snapshot decrypted"));
  ASSERT_TRUE(engine->EraseProfile(engine->Context({"", "email", "vera@example.com"})->profile).ok());
  EXPECT_EQ(WhereReadable(dir, "vera's snapshot secret"), "");
  EXPECT_EQ(WhereReadable(dir, "vera@example.com"), "");
  EXPECT_THAT(WhereReadable(dir, "otto's words"), HasSubstr("snapshot decrypted"));  // The new snapshot.
  engine.reset();
  // The new snapshot opens (its key is there); the copy of the old one is not a usable snapshot.
  auto reopened = Open(Durable(dir));
  EXPECT_GT(reopened->Stats().snapshot_position, 0);
  EXPECT_TRUE(reopened->Context({"", "email", "otto@example.com"}).ok());
  std::filesystem::remove_all(dir);
}

// The memory engine erases the same way (no files): the state and re-deliveries.
TEST(ErasureTest, InMemoryErasureScrubsKeptEventsAndRefusesReDeliveries) {
  EngineOptions options;
  options.time_mode = EngineOptions::TimeMode::kEventTime;
  auto engine = Open(options);
  const std::vector<Event> events = EvaEvents();
  for (const Event& e : events) ASSERT_TRUE(engine->Ingest(e).ok());
  ASSERT_TRUE(engine->EraseIdentifier({"", "email", "EVA.NOVAK@example.com"}).ok());
  ExpectNoSpelling("Eva", ContextToJson(*engine->Context({"", "cookie", "ck-eva"})));
  ExpectNoSpelling("Jan", ContextToJson(*engine->Context({"", "email", "jan@example.com"})));
  for (const std::string& s : kEvaSpellings) EXPECT_FALSE(engine->ContainsStringForTesting(s)) << s;
  const ProfileId jan = engine->Context({"", "email", "jan@example.com"})->profile;
  ASSERT_TRUE(engine->EraseProfile(jan).ok());
  auto again = engine->Ingest(events[2]);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->erased);
}

}  // namespace
}  // namespace omnijourney
