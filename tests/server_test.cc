// The HTTP server, started for real on 127.0.0.1 and called over HTTP: the Segment-compatible
// tracking API (keys, tenants, gzip, size limits, messageIds), the context endpoint, health,
// errors, and the configuration's checks.
#include "omnijourney/server.h"

#include <httplib.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "omnijourney/engine.h"
#include "omnijourney/journey.h"
#include "re2/re2.h"

namespace omnijourney::server {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

constexpr char kAcmeWrite[] = "wk_acme";
constexpr char kAcmeRead[] = "rk_acme";
constexpr char kGlobexWrite[] = "wk_globex";
constexpr char kGlobexRead[] = "rk_globex";

void AddKey(v1::ServerConfig* config, const std::string& tenant, const std::string& key,
            std::initializer_list<v1::ApiKey::Scope> scopes) {
  v1::ApiKey* k = config->add_keys();
  k->set_tenant(tenant);
  k->set_name(key);
  k->set_hash(HashKey(key));
  for (auto s : scopes) k->add_scopes(s);
}

httplib::Headers Basic(const std::string& key) {
  return {{"Authorization", "Basic " + absl::Base64Escape(key + ":")}};
}
httplib::Headers Bearer(const std::string& key) { return {{"Authorization", "Bearer " + key}}; }

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override { Start({}); }

  void Start(const v1::ServerLimits& limits) {
    server_.reset();
    auto engine = Engine::Open(EngineOptions{});
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = *std::move(engine);
    v1::ServerConfig config;
    config.set_port(0);
    *config.mutable_limits() = limits;
    AddKey(&config, "acme", kAcmeWrite, {v1::ApiKey::SCOPE_WRITE});
    AddKey(&config, "acme", kAcmeRead, {v1::ApiKey::SCOPE_READ});
    AddKey(&config, "globex", kGlobexWrite, {v1::ApiKey::SCOPE_WRITE});
    AddKey(&config, "globex", kGlobexRead, {v1::ApiKey::SCOPE_READ});
    AddKey(&config, "", "ak_admin", {v1::ApiKey::SCOPE_ADMIN});
    auto server = Server::Start(engine_.get(), config);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
  }

  httplib::Result Post(const std::string& path, const std::string& body,
                       const httplib::Headers& headers) {
    return client_->Post(path, headers, body, "application/json");
  }
  // The context of user_id `user` as seen by `key`: the status, and the body.
  std::pair<int, std::string> Context(const std::string& user, const std::string& key) {
    auto res = client_->Get(absl::StrCat("/v1/profiles/user_id:", user, "/context"), Bearer(key));
    if (!res) return {0, ""};
    return {res->status, res->body};
  }

  std::unique_ptr<Engine> engine_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(ServerTest, TrackIsIngestedUnderTheKeysTenantAndReadBack) {
  auto res = Post(
      "/v1/track",
      R"({"userId":"u-1","event":"Order Completed","messageId":"m-1","properties":{"total":42}})",
      Basic(kAcmeWrite));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(json::parse(res->body), json({{"success", true}}));
  EXPECT_FALSE(res->get_header_value("X-Request-Id").empty());
  EXPECT_EQ(engine_->Stats().events, 1);
  auto [status, body] = Context("u-1", kAcmeRead);
  ASSERT_EQ(status, 200) << body;
  json context = json::parse(body);
  EXPECT_EQ(context["tenant"], "acme");
  EXPECT_THAT(body, HasSubstr("u-1"));
  // The other tenant's keys see nothing of it.
  EXPECT_EQ(Context("u-1", kGlobexRead).first, 404);
}

TEST_F(ServerTest, EveryCallTypeAndTheBatchEndpoints) {
  for (const auto& [path, body] : std::vector<std::pair<std::string, std::string>>{
           {"/v1/identify",
            R"({"userId":"u-2","traits":{"email":"pat@example.com"},"messageId":"i-1"})"},
           {"/v1/page", R"({"userId":"u-2","name":"Pricing","messageId":"p-1"})"},
           {"/v1/screen", R"({"userId":"u-2","name":"Home","messageId":"s-1"})"},
           {"/v1/group", R"({"userId":"u-2","groupId":"g-1","messageId":"g-1"})"},
           {"/v1/alias", R"({"userId":"u-2","previousId":"anon-2","messageId":"a-1"})"},
           {"/v1/batch", R"({"batch":[{"type":"track","userId":"u-2","event":"A","messageId":"b-1"},
                                      {"type":"track","userId":"u-2","event":"B","messageId":"b-2"}]})"},
           {"/v1/b",
            R"({"batch":[{"type":"track","userId":"u-2","event":"C","messageId":"b-3"}]})"}}) {
    auto res = Post(path, body, Basic(kAcmeWrite));
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 200) << path << " " << res->body;
  }
  EXPECT_EQ(engine_->Stats().events, 8);
  auto [status, body] = Context("u-2", kAcmeRead);
  ASSERT_EQ(status, 200);
  EXPECT_THAT(body, HasSubstr("pat@example.com"));
  // The alias joined anon-2 to the profile.
  auto by_anon = client_->Get("/v1/profiles/anonymous_id:anon-2/context", Bearer(kAcmeRead));
  ASSERT_TRUE(by_anon);
  EXPECT_EQ(by_anon->status, 200);
  EXPECT_EQ(json::parse(by_anon->body)["profile"], json::parse(body)["profile"]);
}

TEST_F(ServerTest, KeysAreCheckedAndScoped) {
  const std::string track = R"({"userId":"u-3","event":"A","messageId":"k-1"})";
  auto none = Post("/v1/track", track, {});
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401);
  auto unknown = Post("/v1/track", track, Basic("wk_nobody"));
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 401);
  EXPECT_EQ(json::parse(unknown->body)["success"], false);
  // A read key cannot write, a write key cannot read.
  auto read_key = Post("/v1/track", track, Basic(kAcmeRead));
  ASSERT_TRUE(read_key);
  EXPECT_EQ(read_key->status, 403);
  EXPECT_EQ(engine_->Stats().events, 0);
  ASSERT_EQ(Post("/v1/track", track, Bearer(kAcmeWrite))->status, 200);
  auto [status, body] = Context("u-3", kAcmeWrite);
  EXPECT_EQ(status, 403);
  EXPECT_THAT(body, HasSubstr("read scope"));
  EXPECT_EQ(Context("u-3", "rk_nobody").first, 401);
  EXPECT_EQ(Context("u-3", kAcmeRead).first, 200);
}

TEST_F(ServerTest, TheSameUserIdInTwoTenantsIsTwoCustomers) {
  ASSERT_EQ(
      Post("/v1/identify", R"({"userId":"u-4","traits":{"name":"Acme Pat"},"messageId":"t-1"})",
           Basic(kAcmeWrite))
          ->status,
      200);
  ASSERT_EQ(
      Post("/v1/identify", R"({"userId":"u-4","traits":{"name":"Globex Pat"},"messageId":"t-1"})",
           Basic(kGlobexWrite))
          ->status,
      200);
  // The same messageId in another tenant is another event, not a duplicate.
  EXPECT_EQ(engine_->Stats().events, 2);
  auto acme = Context("u-4", kAcmeRead);
  auto globex = Context("u-4", kGlobexRead);
  ASSERT_EQ(acme.first, 200);
  ASSERT_EQ(globex.first, 200);
  EXPECT_THAT(acme.second, HasSubstr("Acme Pat"));
  EXPECT_THAT(acme.second, ::testing::Not(HasSubstr("Globex Pat")));
  EXPECT_THAT(globex.second, HasSubstr("Globex Pat"));
  EXPECT_THAT(globex.second, ::testing::Not(HasSubstr("Acme Pat")));
}

TEST_F(ServerTest, TheWriteKeyMayComeInTheBody) {
  // analytics.js posts as text/plain with the write key in the body, and no Authorization header.
  auto res = client_->Post("/v1/t", R"({"writeKey":"wk_acme"})", "text/plain");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  res = client_->Post("/v1/track",
                      absl::StrCat(R"({"writeKey":")", kAcmeWrite,
                                   R"(","userId":"u-5","event":"A","messageId":"w-1"})"),
                      "text/plain");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("Access-Control-Allow-Origin"), "*");
  EXPECT_EQ(Context("u-5", kAcmeRead).first, 200);
  auto wrong =
      client_->Post("/v1/track", R"({"writeKey":"nope","userId":"u-6","event":"A"})", "text/plain");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  EXPECT_EQ(Context("u-6", kAcmeRead).first, 404);
  // The browser's preflight for a request with an Authorization header.
  auto preflight = client_->Options("/v1/batch");
  ASSERT_TRUE(preflight);
  EXPECT_EQ(preflight->status, 204);
  EXPECT_THAT(preflight->get_header_value("Access-Control-Allow-Headers"),
              HasSubstr("Authorization"));
}

TEST_F(ServerTest, GzipBodiesAreAccepted) {
  client_->set_compress(true);
  std::string batch = R"({"batch":[)";
  for (int i = 0; i < 50; ++i) {
    if (i > 0) batch += ",";
    batch += absl::StrCat(R"({"type":"track","userId":"u-7","event":"Viewed","messageId":"z-)", i,
                          R"(","properties":{"text":")", std::string(200, 'x'), R"("}})");
  }
  batch += "]}";
  auto res = Post("/v1/batch", batch, Basic(kAcmeWrite));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(engine_->Stats().events, 50);
}

TEST_F(ServerTest, SegmentsSizeLimitsAnswer400AndIngestNothing) {
  const std::string big(33 * 1024, 'x');
  auto one = Post("/v1/track",
                  absl::StrCat(R"({"userId":"u-8","event":"A","properties":{"t":")", big, R"("}})"),
                  Basic(kAcmeWrite));
  ASSERT_TRUE(one);
  EXPECT_EQ(one->status, 400);
  EXPECT_EQ(json::parse(one->body)["success"], false);
  // A batch within 500 KB with one message over 32 KB: the whole request is refused.
  auto mixed = Post(
      "/v1/batch",
      absl::StrCat(
          R"({"batch":[{"type":"track","userId":"u-8","event":"small","messageId":"l-1"},)",
          R"({"type":"track","userId":"u-8","event":"A","properties":{"t":")", big, R"("}}]})"),
      Basic(kAcmeWrite));
  ASSERT_TRUE(mixed);
  EXPECT_EQ(mixed->status, 400);
  EXPECT_THAT(mixed->body, HasSubstr("batch[1]"));
  // A batch over 500 KB.
  std::string batch = R"({"batch":[)";
  for (int i = 0; i < 20; ++i) {
    if (i > 0) batch += ",";
    batch += absl::StrCat(R"({"type":"track","userId":"u-8","event":"A","messageId":"m-)", i,
                          R"(","properties":{"t":")", std::string(30 * 1024, 'y'), R"("}})");
  }
  batch += "]}";
  auto large = Post("/v1/batch", batch, Basic(kAcmeWrite));
  ASSERT_TRUE(large);
  EXPECT_EQ(large->status, 400);
  EXPECT_EQ(engine_->Stats().events, 0);
}

TEST_F(ServerTest, MalformedJsonIs400AndAnInvalidMessageIsDroppedWith200) {
  auto bad = Post("/v1/track", R"({"userId":"u-9",)", Basic(kAcmeWrite));
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_THAT(json::parse(bad->body)["message"].get<std::string>(), HasSubstr("line 1"));
  // No userId nor anonymousId: Segment answers 200 and drops the message.
  auto invalid = Post("/v1/track", R"({"event":"A","messageId":"n-1"})", Basic(kAcmeWrite));
  ASSERT_TRUE(invalid);
  EXPECT_EQ(invalid->status, 200);
  EXPECT_EQ(engine_->Stats().events, 0);
}

TEST_F(ServerTest, AMessageWithoutMessageIdGetsOneAndARedeliveryIsADuplicate) {
  const std::string track = R"({"userId":"u-10","event":"A","timestamp":"2026-11-30T10:00:00Z"})";
  ASSERT_EQ(Post("/v1/track", track, Basic(kAcmeWrite))->status, 200);
  ASSERT_EQ(Post("/v1/track", track, Basic(kAcmeWrite))->status, 200);
  EXPECT_EQ(engine_->Stats().events, 1);
  EXPECT_EQ(engine_->Stats().duplicates, 1);
}

TEST_F(ServerTest, HealthReadinessAndErrorsAsJson) {
  auto health = client_->Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(json::parse(health->body)["status"], "ok");
  auto ready = client_->Get("/ready");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200);
  auto missing = client_->Get("/v1/nothing");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(json::parse(missing->body)["error"]["code"], "not_found");
  auto bad_id = client_->Get("/v1/profiles/no-colon/context", Bearer(kAcmeRead));
  ASSERT_TRUE(bad_id);
  EXPECT_EQ(bad_id->status, 400);
  EXPECT_THAT(json::parse(bad_id->body)["error"]["message"].get<std::string>(), HasSubstr("type"));
}

TEST_F(ServerTest, ARateLimitedKeyGets429) {
  v1::ServerLimits limits;
  limits.set_requests_per_second(0.01);
  limits.set_burst(3);
  Start(limits);
  int ok = 0, limited = 0;
  for (int i = 0; i < 5; ++i) {
    auto res = Post("/v1/track",
                    absl::StrCat(R"({"userId":"u-11","event":"A","messageId":"r-)", i, R"("})"),
                    Basic(kAcmeWrite));
    ASSERT_TRUE(res);
    if (res->status == 200) ++ok;
    if (res->status == 429) {
      ++limited;
      EXPECT_FALSE(res->get_header_value("Retry-After").empty());
    }
  }
  EXPECT_EQ(ok, 3);
  EXPECT_EQ(limited, 2);
  // Another key has its own bucket.
  EXPECT_EQ(
      Post("/v1/track", R"({"userId":"u-12","event":"A","messageId":"r-9"})", Basic(kGlobexWrite))
          ->status,
      200);
}

TEST_F(ServerTest, TraitsEventsJourneysAndExplain) {
  ASSERT_EQ(
      Post("/v1/identify",
           R"({"userId":"u-20","traits":{"name":"Eva","age":41,"vip":true},"messageId":"e-0",)"
           R"("timestamp":"2026-11-30T10:00:00Z"})",
           Basic(kAcmeWrite))
          ->status,
      200);
  for (int i = 1; i <= 5; ++i) {
    ASSERT_EQ(Post("/v1/track",
                   absl::StrCat(R"({"userId":"u-20","event":"Viewed )", i, R"(","messageId":"e-)",
                                i, R"(","timestamp":"2026-11-30T10:0)", i, R"(:00Z"})"),
                   Basic(kAcmeWrite))
                  ->status,
              200);
  }
  auto traits = client_->Get("/v1/profiles/user_id:u-20/traits", Bearer(kAcmeRead));
  ASSERT_TRUE(traits);
  ASSERT_EQ(traits->status, 200) << traits->body;
  json t = json::parse(traits->body);
  EXPECT_EQ(t["traits"]["name"]["value"], "Eva");
  EXPECT_EQ(t["traits"]["age"]["value"], 41);
  EXPECT_EQ(t["traits"]["vip"]["value"], true);
  EXPECT_EQ(t["identifiers"]["user_id"][0], "u-20");
  // The timeline in pages of 4, newest first, then by the profile id.
  std::vector<std::string> names;
  std::string cursor;
  const std::string profile = t["profile"];
  for (int round = 0; round < 5; ++round) {
    std::string path = absl::StrCat("/v1/profiles/profile:", profile, "/events?limit=4");
    if (!cursor.empty()) path += "&cursor=" + cursor;
    auto page = client_->Get(path, Bearer(kAcmeRead));
    ASSERT_TRUE(page);
    ASSERT_EQ(page->status, 200) << page->body;
    json p = json::parse(page->body);
    EXPECT_EQ(p["total"], 6);
    for (const json& e : p["events"])
      names.push_back(e["kind"] == "identify" ? "identify" : e["name"]);
    if (p["next_cursor"].is_null()) break;
    cursor = p["next_cursor"];
  }
  EXPECT_THAT(names, ::testing::ElementsAre("Viewed 5", "Viewed 4", "Viewed 3", "Viewed 2",
                                            "Viewed 1", "identify"));
  auto bad_cursor =
      client_->Get("/v1/profiles/user_id:u-20/events?cursor=nonsense", Bearer(kAcmeRead));
  ASSERT_TRUE(bad_cursor);
  EXPECT_EQ(bad_cursor->status, 400);
  EXPECT_EQ(client_->Get("/v1/profiles/user_id:u-20/events?limit=0", Bearer(kAcmeRead))->status,
            400);
  auto journeys = client_->Get("/v1/profiles/user_id:u-20/journeys", Bearer(kAcmeRead));
  ASSERT_TRUE(journeys);
  EXPECT_EQ(journeys->status, 200);
  EXPECT_TRUE(json::parse(journeys->body)["journeys"].is_array());
  // An anonymous visitor who logs in: the profiles merge, and the explanation says so.
  ASSERT_EQ(Post("/v1/page", R"({"anonymousId":"anon-20","name":"Home","messageId":"e-6"})",
                 Basic(kAcmeWrite))
                ->status,
            200);
  ASSERT_EQ(
      Post("/v1/track",
           R"({"anonymousId":"anon-20","userId":"u-20","event":"Signed In","messageId":"e-7"})",
           Basic(kAcmeWrite))
          ->status,
      200);
  auto explain = client_->Get("/v1/profiles/user_id:u-20/explain", Bearer(kAcmeRead));
  ASSERT_TRUE(explain);
  ASSERT_EQ(explain->status, 200);
  json x = json::parse(explain->body);
  EXPECT_EQ(x["identifiers"][0]["value"], "u-20");
  ASSERT_FALSE(x["audit"].empty());
  EXPECT_THAT(x["audit"].dump(), HasSubstr(R"("action":"merged")"));
  EXPECT_THAT(x["audit"].dump(), HasSubstr("anon-20"));
  EXPECT_EQ(x["audit_total"], x["audit"].size());
}

// Every read endpoint, by identifier and by profile id: another tenant's key finds nothing.
TEST_F(ServerTest, NoReadEndpointCrossesTenants) {
  ASSERT_EQ(
      Post("/v1/identify", R"({"userId":"u-30","traits":{"name":"Only Acme"},"messageId":"x-1"})",
           Basic(kAcmeWrite))
          ->status,
      200);
  auto [status, body] = Context("u-30", kAcmeRead);
  ASSERT_EQ(status, 200);
  const std::string profile = json::parse(body)["profile"];
  for (const std::string& id : {std::string("user_id:u-30"), "profile:" + profile}) {
    for (const char* what : {"context", "traits", "events", "journeys", "explain"}) {
      const std::string path = absl::StrCat("/v1/profiles/", id, "/", what);
      auto mine = client_->Get(path, Bearer(kAcmeRead));
      ASSERT_TRUE(mine);
      EXPECT_EQ(mine->status, 200) << path;
      auto theirs = client_->Get(path, Bearer(kGlobexRead));
      ASSERT_TRUE(theirs);
      EXPECT_EQ(theirs->status, 404) << path;
      EXPECT_THAT(theirs->body, ::testing::Not(HasSubstr("Only Acme"))) << path;
      auto unauthenticated = client_->Get(path);
      ASSERT_TRUE(unauthenticated);
      EXPECT_EQ(unauthenticated->status, 401) << path;
    }
  }
  // Stats: the tenant's own profile count; the server's figures only for admin keys.
  auto acme = client_->Get("/v1/stats", Bearer(kAcmeRead));
  ASSERT_TRUE(acme);
  ASSERT_EQ(acme->status, 200);
  EXPECT_EQ(json::parse(acme->body)["profiles"], 1);
  EXPECT_FALSE(json::parse(acme->body).contains("engine"));
  EXPECT_EQ(json::parse(client_->Get("/v1/stats", Bearer(kGlobexRead))->body)["profiles"], 0);
  auto journeys = client_->Get("/v1/journeys", Bearer(kGlobexRead));
  ASSERT_TRUE(journeys);
  EXPECT_EQ(journeys->status, 200);
  EXPECT_TRUE(json::parse(journeys->body)["journeys"].is_array());
}

// Journey actions to the host: leased to one reader, offered again when the lease runs out,
// acknowledged once; each tenant's operator key sees and acknowledges its own only.
class ServerActionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto engine = Engine::Open(EngineOptions{});  // The real clock: timers fire by themselves.
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = *std::move(engine);
    auto journey = JourneyBuilder("follow_up", 1)
                       .Entry(OnEvent().Names({"Reservation Created"}))
                       .State("reserved")
                       .After("reminded", absl::Seconds(1), {MakeAction("remind", "sms")})
                       .Exit("reminded")
                       .Build();
    ASSERT_TRUE(journey.ok()) << journey.status();
    ASSERT_TRUE(engine_->AddJourney(*journey).ok());
    v1::ServerConfig config;
    config.set_port(0);
    config.set_action_lease_seconds(1);
    AddKey(&config, "acme", kAcmeWrite, {v1::ApiKey::SCOPE_WRITE});
    AddKey(&config, "acme", "op_acme", {v1::ApiKey::SCOPE_OPERATOR});
    AddKey(&config, "acme", kAcmeRead, {v1::ApiKey::SCOPE_READ});
    AddKey(&config, "globex", kGlobexWrite, {v1::ApiKey::SCOPE_WRITE});
    AddKey(&config, "globex", "op_globex", {v1::ApiKey::SCOPE_OPERATOR});
    auto server = Server::Start(engine_.get(), config);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_read_timeout(30, 0);
  }
  // A reservation: its reminder falls due a second later.
  void Reserve(const std::string& write_key, const std::string& user, const std::string& id) {
    auto res =
        client_->Post("/v1/track", Basic(write_key),
                      absl::StrCat(R"({"userId":")", user,
                                   R"(","event":"Reservation Created","messageId":")", id, R"("})"),
                      "application/json");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
  }
  json Actions(const std::string& key, int wait) {
    auto res = client_->Get(absl::StrCat("/v1/actions?wait=", wait), Bearer(key));
    EXPECT_TRUE(res);
    if (!res) return json();
    EXPECT_EQ(res->status, 200) << res->body;
    return json::parse(res->body)["actions"];
  }
  int Ack(const std::string& key, const std::vector<std::string>& ids) {
    auto res = client_->Post("/v1/actions/ack", Bearer(key), json({{"ids", ids}}).dump(),
                             "application/json");
    return res ? res->status : 0;
  }

  std::unique_ptr<Engine> engine_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(ServerActionsTest, LeasedAcknowledgedAndKeptToTheirTenant) {
  Reserve(kAcmeWrite, "u-40", "r-1");
  Reserve(kGlobexWrite, "u-41", "r-2");
  json acme = Actions("op_acme", 10);
  ASSERT_EQ(acme.size(), 1u) << acme.dump();
  EXPECT_EQ(acme[0]["tenant"], "acme");
  EXPECT_EQ(acme[0]["name"], "remind");
  EXPECT_EQ(acme[0]["channel"], "sms");
  const std::string id = acme[0]["id"];
  // Leased: not offered to another reader until the lease (1 s here) runs out unacknowledged.
  EXPECT_TRUE(Actions("op_acme", 0).empty());
  json again = Actions("op_acme", 5);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0]["id"], id);
  // The other tenant's operator sees its own action only, and cannot acknowledge acme's.
  json globex = Actions("op_globex", 10);
  ASSERT_EQ(globex.size(), 1u);
  EXPECT_EQ(globex[0]["tenant"], "globex");
  EXPECT_NE(globex[0]["id"], id);
  EXPECT_EQ(Ack("op_globex", {id}), 404);
  EXPECT_EQ(Ack(kAcmeRead, {id}), 403);
  EXPECT_EQ(Ack("op_acme", {id}), 200);
  EXPECT_EQ(Ack("op_acme", {id}), 200);  // A retried acknowledgement is fine.
  EXPECT_EQ(Ack("op_acme", {"no-such-action"}), 404);
  EXPECT_EQ(engine_->Stats().pending_actions, 1);  // Globex's.
  // Acknowledged: never offered again.
  EXPECT_TRUE(Actions("op_acme", 2).empty());
  EXPECT_EQ(Ack("op_globex", {globex[0]["id"].get<std::string>()}), 200);
  EXPECT_EQ(engine_->Stats().pending_actions, 0);
}

TEST_F(ServerActionsTest, TheStreamSendsEachActionAsAnEvent) {
  std::string received;
  std::thread later([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    Reserve(kAcmeWrite, "u-42", "r-3");
  });
  httplib::Client stream("127.0.0.1", server_->port());
  stream.set_read_timeout(30, 0);
  auto res = stream.Get("/v1/actions/stream", Bearer("op_acme"), [&](const char* data, size_t n) {
    received.append(data, n);
    return received.find("\n\n", received.find("event: action")) ==
           std::string::npos;  // Until one whole event.
  });
  later.join();
  EXPECT_THAT(received, HasSubstr("event: action\nid: "));
  EXPECT_THAT(received, HasSubstr(R"("name":"remind")"));
  EXPECT_THAT(received, HasSubstr(R"("tenant":"acme")"));
  EXPECT_EQ(Actions("op_globex", 0).size(), 0u);
}

TEST_F(ServerTest, MetricsInPrometheusTextFormatForAdminKeysOnly) {
  ASSERT_EQ(
      Post("/v1/track", R"({"userId":"u-50","event":"A","messageId":"q-1"})", Basic(kAcmeWrite))
          ->status,
      200);
  ASSERT_EQ(
      Post("/v1/track", R"({"userId":"u-50","event":"A","messageId":"q-1"})", Basic(kAcmeWrite))
          ->status,
      200);
  ASSERT_EQ(
      Post("/v1/track", R"({"event":"no user","messageId":"q-2"})", Basic(kAcmeWrite))->status,
      200);
  ASSERT_EQ(Context("u-50", kAcmeRead).first, 200);
  EXPECT_EQ(client_->Get("/metrics", Bearer(kAcmeRead))->status, 403);
  EXPECT_EQ(client_->Get("/metrics")->status, 401);
  auto res = client_->Get("/metrics", Bearer("ak_admin"));
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  EXPECT_THAT(res->get_header_value("Content-Type"), HasSubstr("text/plain; version=0.0.4"));
  const std::string& m = res->body;
  EXPECT_TRUE(absl::StrContains(m, "\nomnijourney_events_ingested_total 1\n"))
      << "\nomnijourney_events_ingested_total 1\n";
  EXPECT_TRUE(absl::StrContains(m, "\nomnijourney_events_duplicate_total 1\n"))
      << "\nomnijourney_events_duplicate_total 1\n";
  EXPECT_TRUE(absl::StrContains(m, "omnijourney_events_rejected_total{reason=\"invalid\"} 1\n"))
      << "omnijourney_events_rejected_total{reason=\"invalid\"} 1\n";
  // Two requests reached the engine (the third had no valid message).
  EXPECT_TRUE(absl::StrContains(m, "omnijourney_ingest_duration_seconds_count 2\n"))
      << "omnijourney_ingest_duration_seconds_count 2\n";
  EXPECT_TRUE(absl::StrContains(m, "omnijourney_context_duration_seconds_count 1\n"))
      << "omnijourney_context_duration_seconds_count 1\n";
  EXPECT_TRUE(absl::StrContains(
      m, "omnijourney_http_request_duration_seconds_count{route=\"POST /v1/track\"} 3\n"))
      << "omnijourney_http_request_duration_seconds_count{route=\"POST /v1/track\"} 3\n";
  EXPECT_TRUE(absl::StrContains(m,
                                "omnijourney_http_request_duration_seconds_bucket{route=\"GET "
                                "/v1/profiles/{id}/context\",le=\"+Inf\"} 1\n"))
      << "omnijourney_http_request_duration_seconds_bucket{route=\"GET "
         "/v1/profiles/{id}/context\",le=\"+Inf\"} 1\n";
  EXPECT_TRUE(absl::StrContains(m, "\nomnijourney_engine_profiles 1\n"))
      << "\nomnijourney_engine_profiles 1\n";
  EXPECT_TRUE(absl::StrContains(m, "\nomnijourney_ready 1\n")) << "\nomnijourney_ready 1\n";
  // Every line is a comment or `name{labels} value`, and every family is declared before use.
  std::set<std::string> declared;
  for (absl::string_view piece : absl::StrSplit(m, '\n', absl::SkipEmpty())) {
    const std::string line(piece);
    if (absl::StartsWith(line, "# TYPE ")) {
      declared.insert(line.substr(7, line.find(' ', 7) - 7));
      continue;
    }
    if (absl::StartsWith(line, "# HELP ")) continue;
    ASSERT_TRUE(RE2::FullMatch(line, R"(([a-z_]+)(\{.*\})? -?[0-9.e+Inf]+)")) << line;
    std::string name = line.substr(0, line.find_first_of("{ "));
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      if (absl::EndsWith(name, suffix) && !declared.contains(name))
        name.resize(name.size() - strlen(suffix));
    }
    EXPECT_TRUE(declared.contains(name)) << line;
  }
}

TEST_F(ServerTest, LogLinesGoToTheHostsSink) {
  std::mutex mu;
  std::vector<std::string> lines;
  SetLogSink([&](std::string_view line) {
    std::lock_guard<std::mutex> lock(mu);
    lines.emplace_back(line);
  });
  auto res =
      Post("/v1/track", R"({"userId":"u-60","event":"A","messageId":"s-1"})", Basic(kAcmeWrite));
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  Start({});  // Stopping the server waits for its threads: the access log line is written by then.
  SetLogSink(nullptr);
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_FALSE(lines.empty());
  json line = json::parse(lines.back());
  EXPECT_EQ(line["path"], "/v1/track");
  EXPECT_EQ(line["status"], 200);
  EXPECT_EQ(line["tenant"], "acme");
  EXPECT_EQ(line["key"], kAcmeWrite);
  EXPECT_EQ(line["request_id"], res->get_header_value("X-Request-Id"));
  EXPECT_GT(line["bytes_in"].get<int>(), 0);
}

TEST(ServerKeys, HashesAndNewKeys) {
  EXPECT_EQ(HashKey("abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::string a = NewKey(), b = NewKey();
  EXPECT_NE(a, b);
  EXPECT_EQ(a.substr(0, 3), "oj_");
  EXPECT_GE(a.size(), 40u);
}

TEST(ServerConfigTest, ChecksNameTheField) {
  v1::ServerConfig config;
  v1::ApiKey* key = config.add_keys();
  key->set_hash("abc");
  key->add_scopes(v1::ApiKey::SCOPE_WRITE);
  EXPECT_THAT(CheckServerConfig(config).message(), HasSubstr("keys[0].hash"));
  key->set_hash(HashKey("k"));
  EXPECT_TRUE(CheckServerConfig(config).ok());
  key->clear_scopes();
  EXPECT_THAT(CheckServerConfig(config).message(), HasSubstr("keys[0].scopes"));
  key->add_scopes(v1::ApiKey::SCOPE_READ);
  *config.add_keys() = *key;
  EXPECT_THAT(CheckServerConfig(config).message(), HasSubstr("keys[1].hash: the same key"));
  config.mutable_keys()->RemoveLast();
  config.mutable_limits()->set_threads(0);
  EXPECT_THAT(CheckServerConfig(config).message(), HasSubstr("limits.threads"));
  config.mutable_limits()->clear_threads();
  config.set_tls_certificate("cert.pem");
  EXPECT_THAT(CheckServerConfig(config).message(), HasSubstr("tls_private_key"));
}

TEST(ServerConfigTest, FilesWithLinesAndRelativePaths) {
  const std::string dir = ::testing::TempDir() + "server_config_test";
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/serve.textproto";
  std::ofstream(path) << "store: \"db\"\nkeys { tenant: \"acme\" hash: \"" << HashKey("k")
                      << "\" scopes: SCOPE_WRITE }\njourneys: \"j.textproto\"\n";
  auto config = LoadServerConfig(path);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->store(), dir + "/db");
  EXPECT_EQ(config->journeys(0), dir + "/j.textproto");
  std::ofstream(path) << "port: 80\nkeys { scopes: SCOPE_NOPE }\n";
  auto bad = LoadServerConfig(path);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("line 2"));
  EXPECT_EQ(LoadServerConfig(dir + "/missing.textproto").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(ServerStart, APortInUseIsAnError) {
  auto engine = Engine::Open(EngineOptions{});
  ASSERT_TRUE(engine.ok());
  v1::ServerConfig config;
  config.set_port(0);
  auto first = Server::Start(engine->get(), config);
  ASSERT_TRUE(first.ok()) << first.status();
  config.set_port((*first)->port());
  auto second = Server::Start(engine->get(), config);
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(second.status().message(), HasSubstr("cannot listen"));
  (*first)->Stop();
  (*first)->Stop();  // Twice is fine.
}

}  // namespace
}  // namespace omnijourney::server
