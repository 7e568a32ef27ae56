// The cluster demo (./omnijourney.sh cluster-demo, docs/scale-out.md): a 3-server NATS JetStream
// cluster on 127.0.0.1, 3 workers over 16 partitions, the synthetic population of 20 tenants
// published into it; then the throughput, a context request answered by the cluster, and a check of
// every tenant against a single-process run of the same records. Everything it started is stopped
// (by pid) before it exits.
//
//   omnijourney_cluster_demo --cli build/tools/omnijourney --source-dir . [--dir DIR] [--tenants 20]
//       [--customers 150] [--workers 3] [--partitions 16] [--port 14222]
#include <iostream>

#include "absl/strings/str_format.h"
#include "cluster_harness.h"
#include "omnijourney/cluster.h"
#include "omnijourney/journey.h"

namespace {

namespace cl = omnijourney::cluster;
namespace h = omnijourney::cluster::harness;

struct Flags {
  std::string cli, source_dir, dir = "/tmp/omnijourney-cluster-demo";
  int tenants = 20, customers = 150, workers = 3, partitions = 16, port = 14222;
};

bool Parse(int argc, char** argv, Flags* f) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    bool ok = true;
    if (k == "--cli") f->cli = v;
    else if (k == "--source-dir") f->source_dir = v;
    else if (k == "--dir") f->dir = v;
    else if (k == "--tenants") ok = absl::SimpleAtoi(v, &f->tenants);
    else if (k == "--customers") ok = absl::SimpleAtoi(v, &f->customers);
    else if (k == "--workers") ok = absl::SimpleAtoi(v, &f->workers);
    else if (k == "--partitions") ok = absl::SimpleAtoi(v, &f->partitions);
    else if (k == "--port") ok = absl::SimpleAtoi(v, &f->port);
    else ok = false;
    if (!ok) {
      std::cerr << "cluster demo: bad option " << k << " " << v << "\n";
      return false;
    }
  }
  if (f->cli.empty() || f->source_dir.empty()) {
    std::cerr << "cluster demo: --cli and --source-dir are required\n";
    return false;
  }
  return true;
}

int Fail(const std::string& what, const absl::Status& s) {
  std::cerr << "cluster demo: " << what << ": " << s.message() << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  Flags f;
  if (!Parse(argc, argv, &f)) return 2;
  std::filesystem::remove_all(f.dir);
  std::filesystem::create_directories(f.dir);
  h::LocalNats servers(f.source_dir + "/tools/nats_cluster.sh", f.dir + "/nats", f.port, 3);
  std::cout << "== a 3-server JetStream cluster on 127.0.0.1 (client ports " << f.port << "-" << f.port + 2
            << ", routes " << f.port + 100 << "-" << f.port + 102 << ", monitoring " << f.port + 200 << "-"
            << f.port + 202 << ")\n";
  if (absl::Status s = servers.Start(); !s.ok()) return Fail("servers", s);
  std::vector<std::string> names;
  for (int w = 1; w <= f.workers; ++w) names.push_back(absl::StrCat("w", w));
  const std::string config_path = f.dir + "/cluster.textproto";
  h::WriteFile(config_path, h::ClusterConfigText(servers.Servers(), f.partitions, names, 20000));
  absl::StatusOr<omnijourney::v1::ClusterConfig> config = cl::LoadClusterConfig(config_path);
  if (!config.ok()) return Fail("config", config.status());
  absl::StatusOr<cl::NatsConnection> nats = cl::ConnectToCluster(*config, "cluster-demo");
  if (!nats.ok()) return Fail("connect", nats.status());
  if (absl::Status s = cl::CreateStreams(**nats, *config); !s.ok()) return Fail("streams", s);
  std::cout << "streams " << cl::InputStream(*config) << " (" << f.partitions << " partitions, 3 replicas) and "
            << cl::ActionStream(*config) << " (one message per action id)\n";

  h::Workers workers(f.cli, config_path, f.dir + "/workers");
  for (const std::string& w : names) {
    if (absl::Status s = workers.Start(w); !s.ok()) return Fail("worker", s);
  }
  absl::StatusOr<cl::Assignment> assignment = cl::AssignPartitions(*config);
  std::cout << "== " << f.workers << " workers (logs in " << f.dir << "/workers), each partition with an owner and a standby\n";

  absl::StatusOr<std::vector<omnijourney::Event>> events = h::MultiTenantEvents(f.tenants, f.customers, 11);
  if (!events.ok()) return Fail("population", events.status());
  absl::StatusOr<std::vector<omnijourney::JourneyDefinition>> journeys =
      omnijourney::ParseJourneySetText(h::ReadText(f.source_dir + "/examples/data/cluster_journeys.textproto"));
  if (!journeys.ok()) return Fail("journeys", journeys.status());

  cl::Publisher::Options po;
  po.batch_events = 200;
  cl::Publisher publisher(**nats, *config, po);
  const absl::Time start = absl::Now();
  for (const auto& j : *journeys) {
    omnijourney::v1::LogRecord r;
    *r.mutable_journey()->mutable_definition() = j;
    if (absl::Status s = publisher.AddToAllPartitions(r); !s.ok()) return Fail("publish", s);
  }
  for (const omnijourney::Event& e : *events) {
    if (absl::Status s = publisher.AddEvent(e); !s.ok()) return Fail("publish", s);
  }
  omnijourney::v1::LogRecord tick;  // A month after the last event: every journey timer is due.
  tick.mutable_advance_time()->set_seconds(events->back().occurred_at().seconds() + 30 * 86400);
  if (absl::Status s = publisher.AddToAllPartitions(tick); !s.ok()) return Fail("publish", s);
  if (absl::Status s = publisher.Finish(); !s.ok()) return Fail("publish", s);
  const double published = absl::ToDoubleSeconds(absl::Now() - start);
  const cl::Publisher::Stats ps = publisher.stats();

  // The stream's last sequence per partition, then until every worker has applied it.
  absl::StatusOr<h::Reference> reference = h::Reference::Build(**nats, *config);
  if (!reference.ok()) return Fail("single-process run", reference.status());
  const std::string behind = h::WaitCaughtUp(**nats, *config, names, reference->last, absl::Minutes(5));
  const double applied = absl::ToDoubleSeconds(absl::Now() - start);
  if (!behind.empty()) std::cerr << "cluster demo: still behind after 5 minutes: " << behind << "\n";
  // Then until every action is published (writers) and seen published (standbys).
  const int64_t unsettled = h::WaitActionsSettled(**nats, *config, names, absl::Minutes(2));
  if (unsettled > 0) std::cerr << "cluster demo: " << unsettled << " actions still pending after 2 minutes\n";
  std::cout << absl::StrFormat(
      "== published %d events of %d tenants in %d messages in %.2f s (%.0f events/s); applied by every owner and "
      "standby %.2f s after the start: %.0f events/s end to end\n",
      ps.events, f.tenants, ps.messages, published, ps.events / published, applied, ps.events / applied);

  // A context request: the owner or the standby of the tenant's partition answers.
  const omnijourney::Event& some = (*events)[events->size() / 2];
  const auto& id = some.identifiers(0);
  absl::StatusOr<std::string> ctx = cl::RequestContext(**nats, *config, {some.tenant(), id.type(), id.value()});
  std::cout << "== context of " << id.type() << " " << id.value() << " in tenant " << some.tenant() << " (partition "
            << cl::PartitionOf(some.tenant(), f.partitions) << "):\n"
            << (ctx.ok() ? ctx->substr(0, 400) : std::string(ctx.status().message())) << (ctx.ok() && ctx->size() > 400 ? "..." : "")
            << "\n";

  // Every tenant, every replica: the digest of the single-process run of the same records.
  absl::StatusOr<std::map<std::string, int>> actions = h::ActionsInStream(**nats, *config);
  std::cout << "== per tenant: the workers' state against one in-memory engine fed the same records\n";
  std::cout << absl::StrFormat("%-7s %9s  %-9s %-9s %s\n", "tenant", "partition", "owner", "standby", "state digest");
  int mismatches = 0;
  for (const std::string& tenant : reference->tenants) {
    const uint32_t p = cl::PartitionOf(tenant, f.partitions);
    const std::string expected = reference->engines[p]->StateDigest(tenant);
    std::vector<std::string> verdicts;
    for (const std::string& w : assignment->workers[p]) {
      absl::StatusOr<std::string> got =
          cl::RequestControl(**nats, *config, w, absl::StrCat("digest ", p, " ", cl::TenantToken(tenant)));
      const bool same = got.ok() && got->substr(got->find(' ') + 1) == expected;
      if (!same) ++mismatches;
      verdicts.push_back(absl::StrCat(w, same ? " =" : " DIFFERS"));
    }
    std::cout << absl::StrFormat("%-7s %9d  %-9s %-9s %s\n", tenant, p, verdicts[0], verdicts.size() > 1 ? verdicts[1] : "",
                                 expected.substr(0, 16));
  }
  size_t once = 0;
  if (actions.ok()) {
    for (const auto& [action, copies] : *actions) once += copies == 1 && reference->action_ids.contains(action);
  }
  std::cout << absl::StrFormat("== actions: %d in the actions stream, %d expected by the single-process run, %d of them "
                               "there exactly once\n",
                               actions.ok() ? actions->size() : 0, reference->action_ids.size(), once);
  const bool good = mismatches == 0 && behind.empty() && actions.ok() && once == reference->action_ids.size() &&
                    actions->size() == once;
  std::cout << (good ? "== every tenant matches the single-process run\n" : "== MISMATCH: see above\n");
  std::cout << "== stopping the workers and the servers (by pid)\n";
  workers.StopAll();
  servers.Stop();
  return good ? 0 : 1;
}
