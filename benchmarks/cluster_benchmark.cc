// The cluster's figures (docs/scale-out.md), on a 3-server NATS JetStream cluster on 127.0.0.1 and
// real worker processes:
//   - events/s end to end (the first publish to the last event applied by every worker) with 1, 2
//     and 3 workers, without standbys, and with 3 workers and one standby per partition;
//   - context latency through request/reply (p50, p99);
//   - failover: after SIGKILL of a partition's owner, until a context request for it is answered
//     and until its standby writes its actions;
//   - recovery: a worker restarted (after SIGTERM, and after SIGKILL) until its partitions are
//     caught up again.
// Each row is the median of --runs runs (a fresh cluster each) with its range.
//
//   cluster_benchmark [--tenants 20] [--customers 600] [--runs 3] [--port 16222]
#include <algorithm>
#include <iostream>
#include <random>

#include "absl/strings/str_format.h"
#include "cluster_harness.h"
#include "cluster/nats.h"
#include "omnijourney/cluster.h"
#include "omnijourney/journey.h"

namespace {

namespace cl = omnijourney::cluster;
namespace h = omnijourney::cluster::harness;
using omnijourney::Event;

struct Stat {
  std::vector<double> v;
  void Add(double x) { v.push_back(x); }
  std::string Median(const char* fmt) const {
    if (v.empty()) return "n/a";
    std::vector<double> s = v;
    std::sort(s.begin(), s.end());
    return absl::StrCat(absl::StrFormat(fmt, s[s.size() / 2]), " (", absl::StrFormat(fmt, s.front()), "-",
                        absl::StrFormat(fmt, s.back()), ")");
  }
};

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

struct Cluster {
  std::unique_ptr<h::LocalNats> servers;
  std::unique_ptr<h::Workers> workers;
  omnijourney::v1::ClusterConfig config;
  cl::NatsConnection nats;
  std::vector<std::string> names;
};

// A fresh cluster with `n` workers and `standbys` standbys per partition.
absl::StatusOr<Cluster> StartCluster(const std::string& dir, int port, int n, int standbys) {
  Cluster c;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  c.servers = std::make_unique<h::LocalNats>(OMNIJOURNEY_SOURCE_DIR "/tools/nats_cluster.sh", dir + "/nats", port, 3);
  if (absl::Status s = c.servers->Start(); !s.ok()) return s;
  for (int w = 1; w <= n; ++w) c.names.push_back(absl::StrCat("w", w));
  const std::string path = dir + "/cluster.textproto";
  h::WriteFile(path, absl::StrCat(h::ClusterConfigText(c.servers->Servers(), 16, c.names, 20000), "standbys: ", standbys, "\n"));
  absl::StatusOr<omnijourney::v1::ClusterConfig> config = cl::LoadClusterConfig(path);
  if (!config.ok()) return config.status();
  c.config = *config;
  absl::StatusOr<cl::NatsConnection> nats = cl::ConnectToCluster(c.config, "cluster-benchmark");
  if (!nats.ok()) return nats.status();
  c.nats = *std::move(nats);
  if (absl::Status s = cl::CreateStreams(*c.nats, c.config); !s.ok()) return s;
  c.workers = std::make_unique<h::Workers>(OMNIJOURNEY_CLI, path, dir + "/workers");
  for (const std::string& w : c.names) {
    if (absl::Status s = c.workers->Start(w); !s.ok()) return s;
  }
  return c;
}

// Publishes the journeys, the events and a closing tick; returns the seconds until every worker
// applied everything, and the stream's last sequence per partition in `last`.
absl::StatusOr<double> PublishAndWait(Cluster& c, const std::vector<Event>& events,
                                      const std::vector<omnijourney::JourneyDefinition>& journeys,
                                      std::map<uint32_t, uint64_t>* last, double* publish_seconds) {
  cl::Publisher::Options po;
  po.batch_events = 200;
  cl::Publisher publisher(*c.nats, c.config, po);
  const absl::Time start = absl::Now();
  for (const auto& j : journeys) {
    omnijourney::v1::LogRecord r;
    *r.mutable_journey()->mutable_definition() = j;
    if (absl::Status s = publisher.AddToAllPartitions(r); !s.ok()) return s;
  }
  for (const Event& e : events) {
    if (absl::Status s = publisher.AddEvent(e); !s.ok()) return s;
  }
  omnijourney::v1::LogRecord tick;
  tick.mutable_advance_time()->set_seconds(events.back().occurred_at().seconds() + 30 * 86400);
  if (absl::Status s = publisher.AddToAllPartitions(tick); !s.ok()) return s;
  if (absl::Status s = publisher.Finish(); !s.ok()) return s;
  *publish_seconds = absl::ToDoubleSeconds(absl::Now() - start);
  absl::StatusOr<std::map<uint32_t, uint64_t>> sequences = h::LastSequences(*c.nats, c.config);
  if (!sequences.ok()) return sequences.status();
  *last = *std::move(sequences);
  const std::string behind = h::WaitCaughtUp(*c.nats, c.config, c.names, *last, absl::Minutes(10));
  if (!behind.empty()) return absl::DeadlineExceededError(behind);
  return absl::ToDoubleSeconds(absl::Now() - start);
}

}  // namespace

int main(int argc, char** argv) {
  int tenants = 20, customers = 600, runs = 3, port = 16222;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    int* target = k == "--tenants" ? &tenants : k == "--customers" ? &customers : k == "--runs" ? &runs
                                              : k == "--port"    ? &port
                                                                 : nullptr;
    if (target == nullptr || !absl::SimpleAtoi(argv[i + 1], target)) {
      std::cerr << "usage: cluster_benchmark [--tenants N] [--customers N] [--runs N] [--port P]\n";
      return 2;
    }
  }
  const std::string dir = "/tmp/omnijourney-cluster-benchmark";
  absl::StatusOr<std::vector<Event>> events = h::MultiTenantEvents(tenants, customers, 21);
  absl::StatusOr<std::vector<omnijourney::JourneyDefinition>> journeys = omnijourney::ParseJourneySetText(
      h::ReadText(OMNIJOURNEY_SOURCE_DIR "/examples/data/cluster_journeys.textproto"));
  if (!events.ok() || !journeys.ok()) {
    std::cerr << "cluster_benchmark: " << (events.ok() ? journeys.status() : events.status()) << "\n";
    return 1;
  }
  std::cout << absl::StrFormat("cluster benchmark: %d events of %d tenants, 16 partitions, 3 JetStream servers (R3), "
                               "%d runs per row, on %d cores\n",
                               events->size(), tenants, runs, std::thread::hardware_concurrency());
  struct Config {
    int workers, standbys;
  };
  Stat context_p50, context_p99, echo_p50, echo_p99, failover_answer, failover_writer, recover_term, recover_kill;
  for (const Config cfg : {Config{1, 0}, Config{2, 0}, Config{3, 0}, Config{3, 1}}) {
    Stat end_to_end, publish;
    for (int run = 0; run < runs; ++run) {
      absl::StatusOr<Cluster> c = StartCluster(dir, port, cfg.workers, cfg.standbys);
      if (!c.ok()) {
        std::cerr << "cluster_benchmark: " << c.status() << "\n";
        return 1;
      }
      std::map<uint32_t, uint64_t> last;
      double published = 0;
      absl::StatusOr<double> seconds = PublishAndWait(*c, *events, *journeys, &last, &published);
      if (!seconds.ok()) {
        std::cerr << "cluster_benchmark: " << seconds.status() << "\n";
        return 1;
      }
      end_to_end.Add(static_cast<double>(events->size()) / *seconds);
      publish.Add(static_cast<double>(events->size()) / published);
      if (cfg.workers == 3 && cfg.standbys == 1) {
        // Context latency: requests for identifiers of random events.
        std::mt19937 rng(run);
        std::vector<double> us;
        for (int i = 0; i < 2000; ++i) {
          const Event& e = (*events)[rng() % events->size()];
          const absl::Time t0 = absl::Now();
          absl::StatusOr<std::string> r = cl::RequestContext(*c->nats, c->config,
                                                             {e.tenant(), e.identifiers(0).type(), e.identifiers(0).value()});
          if (r.ok()) us.push_back(absl::ToDoubleMicroseconds(absl::Now() - t0));
        }
        context_p50.Add(Percentile(us, 0.5));
        context_p99.Add(Percentile(us, 0.99));
        // The floor: the same round trip to a responder in this process that answers at once.
        {
          absl::StatusOr<std::unique_ptr<cl::Subscription>> echo = cl::Subscription::Subscribe(
              *c->nats, "oj.bench.echo", "", [&c](cl::Msg m) {
                const char* reply = natsMsg_GetReply(m.get());
                if (reply != nullptr) (void)c->nats->PublishCore(reply, "{}");
              });
          std::vector<double> floor;
          for (int i = 0; echo.ok() && i < 2000; ++i) {
            const absl::Time t0 = absl::Now();
            if (c->nats->Request("oj.bench.echo", "{}", absl::Seconds(1)).ok()) {
              floor.push_back(absl::ToDoubleMicroseconds(absl::Now() - t0));
            }
          }
          echo_p50.Add(Percentile(floor, 0.5));
          echo_p99.Add(Percentile(floor, 0.99));
        }
        // Failover: SIGKILL of w1, which owns partitions 0, 3, ... (standby: w2).
        std::string tenant;
        for (int t = 0; t < tenants && tenant.empty(); ++t) {
          const std::string name = absl::StrFormat("t%02d", t);
          if (cl::PartitionOf(name, 16) % 3 == 0) tenant = name;
        }
        const Event* probe = nullptr;
        for (const Event& e : *events) {
          if (e.tenant() == tenant) {
            probe = &e;
            break;
          }
        }
        const uint32_t p = cl::PartitionOf(tenant, 16);
        const absl::Time killed = absl::Now();
        c->workers->Kill("w1", SIGKILL);
        for (;;) {
          absl::StatusOr<std::string> r = cl::RequestContext(*c->nats, c->config,
                                                             {tenant, probe->identifiers(0).type(), probe->identifiers(0).value()},
                                                             absl::Milliseconds(200));
          if (r.ok() && r->find("\"context\":") != std::string::npos) break;
        }
        failover_answer.Add(absl::ToDoubleMilliseconds(absl::Now() - killed));
        for (;;) {
          absl::StatusOr<std::string> st = cl::RequestControl(*c->nats, c->config, "w2", "status", absl::Seconds(1));
          if (st.ok() && h::ParseStatus(*st)[p].second) break;
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        failover_writer.Add(absl::ToDoubleMilliseconds(absl::Now() - killed));
        // Recovery: w1 back after SIGKILL (its snapshot and local log, then the stream's tail), then
        // w2 restarted after SIGTERM (a snapshot at shutdown).
        for (const auto& [name, sig, stat] : {std::tuple<std::string, int, Stat*>{"w1", 0, &recover_kill},
                                              std::tuple<std::string, int, Stat*>{"w2", SIGTERM, &recover_term}}) {
          if (sig != 0) c->workers->Kill(name, sig);
          const absl::Time t0 = absl::Now();
          if (absl::Status s = c->workers->Start(name); !s.ok()) return 1;
          const std::string behind = h::WaitCaughtUp(*c->nats, c->config, {name}, last, absl::Minutes(5), false,
                                                     absl::Milliseconds(5));
          if (!behind.empty()) std::cerr << "cluster_benchmark: " << behind << "\n";
          stat->Add(absl::ToDoubleMilliseconds(absl::Now() - t0));
        }
      }
      c->workers->StopAll();
      c->servers->Stop();
    }
    std::cout << absl::StrFormat("end to end, %d worker%s, %s: %s events/s (publishing alone: %s events/s)\n", cfg.workers,
                                 cfg.workers > 1 ? "s" : "", cfg.standbys ? "a standby per partition" : "no standbys",
                                 end_to_end.Median("%.0f"), publish.Median("%.0f"));
  }
  std::cout << "context through request/reply (3 workers, standbys): p50 " << context_p50.Median("%.0f") << " us, p99 "
            << context_p99.Median("%.0f") << " us; the same round trip to an in-process responder that answers at once: p50 "
            << echo_p50.Median("%.0f") << " us, p99 " << echo_p99.Median("%.0f") << " us\n";
  std::cout << "failover after SIGKILL of an owner: its partition answers again after " << failover_answer.Median("%.0f")
            << " ms; its standby writes its actions after " << failover_writer.Median("%.0f")
            << " ms (failover_ms 1500)\n";
  std::cout << "recovery until caught up: after SIGKILL " << recover_kill.Median("%.0f") << " ms, after SIGTERM "
            << recover_term.Median("%.0f") << " ms\n";
  std::filesystem::remove_all(dir);
  return 0;
}
