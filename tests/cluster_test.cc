// omnijourney on a real NATS JetStream cluster (3 nats-server processes on 127.0.0.1) with real
// worker processes, under faults: workers killed with SIGKILL and restarted, the input stream's
// leader and then a follower server killed and restarted, a zombie copy of a worker, a fourth worker
// taking partitions over, a worker restarted without its newest snapshots. Afterwards every
// acknowledged publish is in the stream exactly once, every replica of every tenant has the state
// digest of a single-process engine fed the same records, the actions stream holds exactly that
// engine's action ids, and erased values are nowhere in the workers' files.
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "cluster_harness.h"
#include "gtest/gtest.h"
#include "cluster/nats.h"
#include "google/protobuf/text_format.h"
#include "omnijourney/cluster.h"
#include "store_forensics.h"

namespace omnijourney::cluster {
namespace {

namespace h = harness;

constexpr int kBasePort = 15222;
constexpr int kPartitions = 16;

bool HaveNatsServer() { return h::Shell("command -v nats-server >/dev/null 2>&1") == 0; }

// The server leading the stream, as its node number (1-based; 0: none known).
int LeaderNode(const Nats& nats, const std::string& stream) {
  absl::StatusOr<StreamInfo> info = GetStreamInfo(nats, stream);
  if (!info.ok() || info->leader.size() < 2 || info->leader[0] != 'n') return 0;
  int k = 0;
  return absl::SimpleAtoi(info->leader.substr(1), &k) ? k : 0;
}

// The newest snapshot file of a store directory ("" when none).
std::string NewestSnapshot(const std::string& store) {
  std::string newest;
  std::error_code ec;
  for (const auto& f : std::filesystem::directory_iterator(store + "/snapshots", ec)) {
    const std::string name = f.path().filename().string();
    if (name.rfind("snapshot-", 0) == 0 && f.path().string() > newest) newest = f.path().string();
  }
  return newest;
}

// PartitionOf is nats-server's own "{{partition(n,1)}}" subject mapping: a producer may publish to
// "<prefix>.pub.<tenant token>" and let the server put the message in the tenant's partition.
TEST(ClusterTest, PartitionsAreTheServersSubjectMapping) {
  if (!HaveNatsServer()) GTEST_SKIP() << "nats-server is not installed (./omnijourney.sh test installs it)";
  const std::string root = ::testing::TempDir() + "/omnijourney_mapping_" + std::to_string(getpid());
  std::filesystem::create_directories(root);
  constexpr int kPort = kBasePort + 90;
  for (const int partitions : {16, 12, 7}) {
    h::WriteFile(root + "/n.conf", absl::StrCat("listen: 127.0.0.1:", kPort, "\nmappings = {\n  \"oj.pub.*\": ",
                                                "\"oj.in.{{partition(", partitions, ",1)}}.{{wildcard(1)}}\"\n}\n"));
    absl::StatusOr<h::Process> server = h::Process::Spawn({"nats-server", "-c", root + "/n.conf"}, root + "/n.log");
    ASSERT_TRUE(server.ok()) << server.status();
    v1::ClusterConfig config;
    config.add_servers(absl::StrCat("nats://127.0.0.1:", kPort));
    absl::StatusOr<NatsConnection> nats = ConnectToCluster(config, "mapping-test", absl::Seconds(10));
    ASSERT_TRUE(nats.ok()) << nats.status();
    std::mutex mu;
    std::map<std::string, std::string> landed;  // Token -> subject.
    absl::StatusOr<std::unique_ptr<Subscription>> sub =
        Subscription::Subscribe(**nats, "oj.in.>", "", [&](Msg m) {
          std::lock_guard<std::mutex> lock(mu);
          landed[std::string(m.data())] = std::string(m.subject());
        });
    ASSERT_TRUE(sub.ok());
    ASSERT_TRUE((*nats)->Flush(absl::Seconds(5)).ok());
    std::vector<std::string> tenants = {"", "acme", "Globex-EU", "_private", "dot.ted", "ünicode"};
    for (int i = 0; i < 100; ++i) tenants.push_back(absl::StrCat("tenant-", i * 7919));
    for (const std::string& t : tenants) ASSERT_TRUE((*nats)->PublishCore("oj.pub." + TenantToken(t), TenantToken(t)).ok());
    ASSERT_TRUE((*nats)->Flush(absl::Seconds(5)).ok());
    for (int i = 0; i < 100; ++i) {
      {
        std::lock_guard<std::mutex> lock(mu);
        if (landed.size() == tenants.size()) break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::lock_guard<std::mutex> lock(mu);
    ASSERT_EQ(landed.size(), tenants.size());
    for (const std::string& t : tenants) {
      EXPECT_EQ(landed[TenantToken(t)], absl::StrCat("oj.in.", PartitionOf(t, partitions), ".", TenantToken(t)))
          << "tenant '" << t << "', " << partitions << " partitions";
    }
    sub->reset();
    server->Stop();
  }
  std::filesystem::remove_all(root);
}

TEST(ClusterTest, FaultsLoseNothingAndEveryReplicaMatchesOneEngine) {
  if (!HaveNatsServer()) GTEST_SKIP() << "nats-server is not installed (./omnijourney.sh test installs it)";
  const std::string root = ::testing::TempDir() + "/omnijourney_cluster_" + std::to_string(getpid());
  std::filesystem::remove_all(root);
  std::filesystem::create_directories(root);
  h::LocalNats servers(OMNIJOURNEY_SOURCE_DIR "/tools/nats_cluster.sh", root + "/nats", kBasePort, 3);
  ASSERT_TRUE(servers.Start().ok());
  const std::string config_path = root + "/cluster.textproto";
  h::WriteFile(config_path, h::ClusterConfigText(servers.Servers(), kPartitions, {"w1", "w2", "w3"}, 100));
  absl::StatusOr<v1::ClusterConfig> config = LoadClusterConfig(config_path);
  ASSERT_TRUE(config.ok()) << config.status();
  absl::StatusOr<NatsConnection> nats = ConnectToCluster(*config, "cluster-test");
  ASSERT_TRUE(nats.ok()) << nats.status();
  ASSERT_TRUE(CreateStreams(**nats, *config).ok());

  h::Workers workers(OMNIJOURNEY_CLI, config_path, root + "/workers");
  for (const char* w : {"w1", "w2", "w3"}) ASSERT_TRUE(workers.Start(w).ok());

  absl::StatusOr<std::vector<Event>> events = h::MultiTenantEvents(20, 40, 7);
  ASSERT_TRUE(events.ok()) << events.status();
  const size_t n = events->size();
  // Erased later: the email of the first event of three tenants that has one.
  std::vector<std::pair<std::string, std::string>> erased;  // (tenant, email)
  for (const Event& e : *events) {
    for (const auto& id : e.identifiers()) {
      if (id.type() == "email" && erased.size() < 3 &&
          std::none_of(erased.begin(), erased.end(), [&](const auto& x) { return x.first == e.tenant(); })) {
        erased.emplace_back(e.tenant(), id.value());
      }
    }
  }
  ASSERT_EQ(erased.size(), 3u);

  std::set<std::string> acked;
  Publisher::Options po;
  po.batch_events = 50;
  po.on_ack = [&acked](const std::string& id, uint64_t, bool) { acked.insert(id); };
  Publisher publisher(**nats, *config, po);
  auto publish = [&](size_t from, size_t to) {
    for (size_t i = from; i < to; ++i) ASSERT_TRUE(publisher.AddEvent((*events)[i]).ok());
    ASSERT_TRUE(publisher.Finish().ok());
  };
  auto tick = [&](absl::Time t) {
    v1::LogRecord r;
    r.mutable_advance_time()->set_seconds(absl::ToUnixSeconds(t));
    ASSERT_TRUE(publisher.AddToAllPartitions(r).ok());
  };
  const size_t part = n / 6;

  // 1. No faults: the journeys, then the first part.
  absl::StatusOr<std::vector<JourneyDefinition>> journeys =
      ParseJourneySetText(h::ReadText(OMNIJOURNEY_SOURCE_DIR "/examples/data/cluster_journeys.textproto"));
  ASSERT_TRUE(journeys.ok()) << journeys.status();
  for (const JourneyDefinition& j : *journeys) {
    v1::LogRecord r;
    *r.mutable_journey()->mutable_definition() = j;
    ASSERT_TRUE(publisher.AddToAllPartitions(r).ok());
  }
  publish(0, part);

  // 2. A worker killed with SIGKILL every 2 seconds, restarted half a second later.
  {
    std::thread killer([&] {
      std::mt19937 rng(3);
      for (int round = 0; round < 3; ++round) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1500));
        const std::string w = absl::StrCat("w", 1 + rng() % 3);
        workers.Kill(w, SIGKILL);
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        EXPECT_TRUE(workers.Start(w).ok());
      }
    });
    for (size_t i = part; i < 2 * part; i += part / 8) {
      publish(i, std::min(2 * part, i + part / 8));
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
    killer.join();
  }

  EXPECT_EQ(workers.Dead(), std::vector<std::string>()) << "after the worker kills";

  // 3. The input stream's leader killed while events and erasures are published, restarted; then a
  // follower.
  {
    const int leader = LeaderNode(**nats, InputStream(*config));
    ASSERT_GT(leader, 0);
    std::thread faults([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      servers.Kill(leader);
      std::this_thread::sleep_for(std::chrono::seconds(3));
      EXPECT_TRUE(servers.Restart(leader).ok());
      std::this_thread::sleep_for(std::chrono::seconds(1));
      int follower = 0;
      for (int k = 1; k <= 3 && follower == 0; ++k) {
        if (k != LeaderNode(**nats, InputStream(*config))) follower = k;
      }
      servers.Kill(follower);
      std::this_thread::sleep_for(std::chrono::seconds(3));
      EXPECT_TRUE(servers.Restart(follower).ok());
    });
    for (size_t i = 2 * part; i < 3 * part; i += part / 10) {
      publish(i, std::min(3 * part, i + part / 10));
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    for (const auto& [tenant, email] : erased) {
      v1::LogRecord r;
      r.mutable_erasure()->set_tenant(tenant);
      r.mutable_erasure()->set_type("email");
      r.mutable_erasure()->set_value(email);
      ASSERT_TRUE(publisher.AddRecord(tenant, r).ok());
    }
    ASSERT_TRUE(publisher.Finish().ok());
    faults.join();
  }

  EXPECT_EQ(workers.Dead(), std::vector<std::string>()) << "after the server kills";

  // 4. A zombie: a worker whose configuration (an old copy, say) makes it the owner of w1's
  // partitions, so that two processes write their actions; killed once it has caught up.
  {
    absl::StatusOr<Assignment> now = AssignPartitions(*config);
    ASSERT_TRUE(now.ok());
    v1::ClusterConfig zombie = *config;
    zombie.clear_workers();
    std::map<std::string, v1::ClusterConfig::Worker*> by_name;
    for (const char* w : {"w1z", "w2", "w3"}) {
      by_name[w] = zombie.add_workers();
      by_name[w]->set_name(w);
    }
    for (uint32_t p = 0; p < kPartitions; ++p) {
      const std::string owner = now->workers[p][0] == "w1" ? "w1z" : now->workers[p][0];
      by_name[owner]->add_owns(p);
    }
    std::string text;
    ASSERT_TRUE(google::protobuf::TextFormat::PrintToString(zombie, &text));
    h::WriteFile(root + "/zombie.textproto", text);
    ASSERT_TRUE(workers.Start("w1z", root + "/zombie.textproto").ok());
    publish(3 * part, 4 * part);
    tick(absl::FromUnixSeconds((*events)[4 * part - 1].occurred_at().seconds()));
    absl::StatusOr<std::map<uint32_t, uint64_t>> last = h::LastSequences(**nats, *config);
    ASSERT_TRUE(last.ok()) << last.status();
    absl::StatusOr<v1::ClusterConfig> zombie_config = LoadClusterConfig(root + "/zombie.textproto");
    ASSERT_TRUE(zombie_config.ok()) << zombie_config.status();
    EXPECT_EQ(h::WaitCaughtUp(**nats, *zombie_config, {"w1z"}, *last, absl::Seconds(120), false), "");
    workers.Kill("w1z", SIGKILL);
  }

  EXPECT_EQ(workers.Dead(), std::vector<std::string>()) << "with a zombie";

  // 5. A fourth worker: the partitions are dealt over four, the others reload their configuration.
  h::WriteFile(config_path, h::ClusterConfigText(servers.Servers(), kPartitions, {"w1", "w2", "w3", "w4"}, 100));
  ASSERT_TRUE(workers.Start("w4").ok());
  for (const char* w : {"w1", "w2", "w3"}) workers.Signal(w, SIGHUP);
  publish(4 * part, 5 * part);

  EXPECT_EQ(workers.Dead(), std::vector<std::string>()) << "after the fourth worker came";

  // 6. w2 killed, its newest snapshot of every partition deleted, restarted.
  workers.Kill("w2", SIGKILL);
  int deleted = 0;
  for (const auto& d : std::filesystem::directory_iterator(workers.DataDir("w2"))) {
    const std::string newest = NewestSnapshot(d.path().string());
    if (!newest.empty()) deleted += std::filesystem::remove(newest) ? 1 : 0;
  }
  EXPECT_GT(deleted, 0);
  ASSERT_TRUE(workers.Start("w2").ok());
  publish(5 * part, n);
  tick(absl::FromUnixSeconds((*events)[n - 1].occurred_at().seconds()) + absl::Hours(24 * 30));

  // Everything applied everywhere.
  absl::StatusOr<v1::ClusterConfig> final_config = LoadClusterConfig(config_path);
  ASSERT_TRUE(final_config.ok());
  absl::StatusOr<h::Reference> reference = h::Reference::Build(**nats, *final_config);
  ASSERT_TRUE(reference.ok()) << reference.status();
  const std::vector<std::string> all = {"w1", "w2", "w3", "w4"};
  const std::string missing = h::WaitCaughtUp(**nats, *final_config, all, reference->last, absl::Seconds(120));
  ASSERT_EQ(missing, "") << "workers still behind";
  EXPECT_EQ(workers.Dead(), std::vector<std::string>());

  // Standbys acknowledge what their writers published: no engine keeps actions pending for long.
  std::string statuses;
  EXPECT_EQ(h::WaitActionsSettled(**nats, *final_config, all, absl::Seconds(60), &statuses), 0) << statuses;

  // Each worker replays the partitions of the final assignment, no others.
  absl::StatusOr<Assignment> assignment = AssignPartitions(*final_config);
  ASSERT_TRUE(assignment.ok());
  for (const std::string& w : all) {
    absl::StatusOr<std::string> status = RequestControl(**nats, *final_config, w, "status");
    ASSERT_TRUE(status.ok()) << w;
    std::vector<uint32_t> replayed;
    for (const auto& [p, state] : h::ParseStatus(*status)) replayed.push_back(p);
    EXPECT_EQ(replayed, assignment->PartitionsOf(w)) << w;
  }

  // Every acknowledged publish is in the stream exactly once, and nothing else is.
  EXPECT_EQ(reference->message_ids.size(), acked.size());
  for (const std::string& id : acked) EXPECT_EQ(reference->message_ids[id], 1) << id;
  for (const auto& [id, copies] : reference->message_ids) EXPECT_EQ(copies, 1) << id;
  EXPECT_EQ(reference->tenants.size(), 20u);

  // Every replica of every tenant: the reference's digest.
  int compared = 0;
  for (const std::string& tenant : reference->tenants) {
    const uint32_t p = PartitionOf(tenant, kPartitions);
    std::string text;
    const std::string expected = reference->engines[p]->StateDigest(tenant, &text);
    ASSERT_NE(text.find("released\t"), std::string::npos) << "tenant " << tenant << " released no action";
    for (const std::string& w : assignment->workers[p]) {
      absl::StatusOr<std::string> answer =
          RequestControl(**nats, *final_config, w, absl::StrCat("digest ", p, " ", TenantToken(tenant)));
      ASSERT_TRUE(answer.ok()) << w << ": " << answer.status();
      EXPECT_EQ(*answer, absl::StrCat(reference->last[p], " ", expected)) << w << ", tenant " << tenant;
      if (*answer != absl::StrCat(reference->last[p], " ", expected)) {
        absl::StatusOr<std::string> theirs =
            RequestControl(**nats, *final_config, w, absl::StrCat("digest-text ", p, " ", TenantToken(tenant)));
        h::WriteFile(absl::StrCat(root, "/../digest-", tenant, "-", w, ".txt"), theirs.ok() ? *theirs : "");
        h::WriteFile(absl::StrCat(root, "/../digest-", tenant, "-reference.txt"), text);
      }
      ++compared;
    }
  }
  EXPECT_EQ(compared, 40);  // 20 tenants, an owner and a standby each.

  // The actions stream: exactly the reference's action ids, each once.
  absl::StatusOr<std::map<std::string, int>> actions = h::ActionsInStream(**nats, *final_config);
  ASSERT_TRUE(actions.ok()) << actions.status();
  EXPECT_GT(reference->action_ids.size(), 100u);
  std::set<std::string> published;
  for (const auto& [id, copies] : *actions) {
    EXPECT_EQ(copies, 1) << id;
    published.insert(id);
  }
  EXPECT_EQ(published, reference->action_ids);

  // What happened on the way, from the workers' logs.
  std::map<std::string, int> seen;
  for (const auto& f : std::filesystem::directory_iterator(root + "/workers")) {
    if (f.path().extension() != ".log") continue;
    const std::string log = h::ReadText(f.path().string());
    for (const char* what : {"opened at stream sequence", ": writing its actions", "standby (an earlier worker is back)",
                             "consumer created again", "discarded", "no longer assigned", "published again later",
                             "configuration reloaded"}) {
      for (size_t at = log.find(what); at != std::string::npos; at = log.find(what, at + 1)) ++seen[what];
    }
  }
  const Publisher::Stats ps = publisher.stats();
  std::cout << "cluster test: " << n << " events of 20 tenants in " << ps.messages << " messages (" << ps.retries
            << " publish retries, " << ps.duplicates << " acknowledged as duplicates); " << reference->messages
            << " messages in the stream; " << published.size() << " actions; " << compared << " replicas compared\n";
  for (const auto& [what, count] : seen) std::cout << "  worker logs: '" << what << "' " << count << " times\n";

  // Erased values: nowhere in any worker's files (stores, logs, snapshots), the zombie's included.
  workers.StopAll();
  for (const auto& d : std::filesystem::directory_iterator(root + "/workers")) {
    if (!d.is_directory()) continue;
    for (const auto& store : std::filesystem::directory_iterator(d.path())) {
      for (const auto& [tenant, email] : erased) {
        EXPECT_EQ(testing::WhereReadable(store.path().string(), email), "") << email << " in " << store.path();
      }
    }
  }
  servers.Stop();
  if (std::getenv("OMNIJOURNEY_KEEP_TEST_DIR") == nullptr) std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace omnijourney::cluster
