// The tool's commands for a NATS JetStream cluster (docs/scale-out.md).
#include <csignal>
#include <fstream>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "cli_common.h"
#include "omnijourney/cluster.h"
#include "omnijourney/event.h"
#include "omnijourney/validate.h"

namespace omnijourney::cli {
namespace {

namespace cl = omnijourney::cluster;

std::atomic<cl::Worker*> g_worker{nullptr};

void OnSignal(int sig) {
  cl::Worker* w = g_worker.load();
  if (w == nullptr) return;
  if (sig == SIGHUP) {
    w->Reload();
  } else {
    w->Stop();
  }
}

std::string Stamp() { return absl::FormatTime("%H:%M:%E3S", absl::Now(), absl::LocalTimeZone()); }

// The configuration of --config (or --cluster); nullopt after a message.
std::optional<v1::ClusterConfig> Config(const Args& args, const std::string& option, const std::string& command) {
  const std::string path = args.Get(option);
  if (path.empty()) {
    std::cerr << command << ": " << option << " CLUSTER is required\n";
    return std::nullopt;
  }
  absl::StatusOr<v1::ClusterConfig> config = cl::LoadClusterConfig(path);
  if (!config.ok()) {
    std::cerr << command << ": " << config.status().message() << "\n";
    return std::nullopt;
  }
  return *std::move(config);
}

cl::NatsConnection Connect(const v1::ClusterConfig& config, const std::string& command) {
  absl::StatusOr<cl::NatsConnection> nats = cl::ConnectToCluster(config, absl::StrCat("omnijourney-", command));
  if (!nats.ok()) {
    std::cerr << command << ": " << nats.status().message() << "\n";
    return nullptr;
  }
  return *std::move(nats);
}

int ClusterAdmin(const std::vector<std::string>& raw, std::string_view usage) {
  Args args;
  if (!ParseArgs("cluster", raw, {"--config", "--tenant"}, {}, &args, usage)) return 2;
  if (args.positional.size() != 1) {
    std::cerr << "cluster: give one of create-streams, status, digest\n" << usage;
    return 2;
  }
  const std::string what = args.positional[0];
  auto config = Config(args, "--config", "cluster");
  if (!config) return 2;
  auto nats = Connect(*config, "cluster");
  if (nats == nullptr) return 1;
  if (what == "create-streams") {
    if (absl::Status s = cl::CreateStreams(*nats, *config); !s.ok()) {
      std::cerr << "cluster: " << s.message() << "\n";
      return 1;
    }
    std::cout << "streams " << cl::InputStream(*config) << " (" << config->partitions() << " partitions, "
              << config->stream_replicas() << " replicas) and " << cl::ActionStream(*config) << " are ready\n";
    return 0;
  }
  if (what == "status" || what == "digest") {
    const std::string tenant = args.Get("--tenant");
    const uint32_t p = cl::PartitionOf(tenant, config->partitions());
    int failed = 0;
    for (const auto& w : config->workers()) {
      const std::string command =
          what == "status" ? "status" : absl::StrCat("digest ", p, " ", cl::TenantToken(tenant));
      absl::StatusOr<std::string> answer = cl::RequestControl(*nats, *config, w.name(), command);
      if (!answer.ok()) {
        std::cout << w.name() << ": no answer (" << answer.status().message() << ")\n";
        ++failed;
      } else if (what == "digest" && answer->rfind("error", 0) == 0) {
        continue;  // It does not replay the tenant's partition.
      } else {
        std::cout << w.name() << ": " << *answer << "\n";
      }
    }
    return failed > 0 ? 1 : 0;
  }
  std::cerr << "cluster: unknown subcommand '" << what << "'\n" << usage;
  return 2;
}

int WorkerCommand(const std::vector<std::string>& raw, std::string_view usage) {
  Args args;
  if (!ParseArgs("worker", raw, {"--config", "--name", "--data"}, {}, &args, usage)) return 2;
  cl::WorkerOptions o;
  o.config_path = args.Get("--config");
  o.name = args.Get("--name");
  o.data_dir = args.Get("--data");
  if (o.config_path.empty() || o.name.empty() || o.data_dir.empty()) {
    std::cerr << "worker: --config, --name and --data are required\n" << usage;
    return 2;
  }
  o.log = [](const std::string& line) { std::cerr << Stamp() << " " << line << std::endl; };
  absl::StatusOr<std::unique_ptr<cl::Worker>> worker = cl::Worker::Create(o);
  if (!worker.ok()) {
    std::cerr << "worker: " << worker.status().message() << "\n";
    return 2;
  }
  g_worker.store(worker->get());
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);
  std::signal(SIGHUP, OnSignal);
  absl::Status s = (*worker)->Run();
  g_worker.store(nullptr);
  if (!s.ok()) {
    std::cerr << Stamp() << " " << o.name << ": " << s.message() << "\n";
    return 1;
  }
  return 0;
}

// TYPE:VALUE of an option; false (with a message) when malformed.
bool Identifier(const std::string& text, const std::string& option, std::string* type, std::string* value) {
  const size_t colon = text.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    std::cerr << option << ": expected TYPE:VALUE, got '" << text << "'\n";
    return false;
  }
  *type = text.substr(0, colon);
  *value = text.substr(colon + 1);
  return true;
}

int Publish(const std::vector<std::string>& raw, std::string_view usage) {
  Args args;
  if (!ParseArgs("publish", raw,
                 {"--config", "--events", "--format", "--journeys", "--tick", "--tick-every", "--batch", "--acks",
                  "--source", "--tenant", "--erase", "--unlink"},
                 {"--quiet"}, &args, usage)) {
    return 2;
  }
  auto config = Config(args, "--config", "publish");
  if (!config) return 2;
  size_t batch = 200, tick_every = 0;
  if (!absl::SimpleAtoi(args.Get("--batch", "200"), &batch) || batch == 0 ||
      !absl::SimpleAtoi(args.Get("--tick-every", "0"), &tick_every)) {
    std::cerr << "publish: --batch and --tick-every take a whole number\n";
    return 2;
  }
  // Everything is read and checked before anything is published.
  std::vector<JourneyDefinition> journeys;
  for (const std::string& path : args.All("--journeys")) {
    absl::StatusOr<std::vector<JourneyDefinition>> j = ReadJourneys(path);
    if (!j.ok()) {
      std::cerr << path << ": " << j.status().message() << "\n";
      return 1;
    }
    journeys.insert(journeys.end(), j->begin(), j->end());
  }
  ParsedEvents parsed;
  int64_t bad = 0;
  const std::string events = args.Get("--events");
  if (!events.empty()) {
    SegmentOptions segment;
    segment.source = args.Get("--source", segment.source);
    segment.tenant = args.Get("--tenant", segment.tenant);
    if (!ReadEvents(events, args.Get("--format", "jsonl"), segment, &parsed)) return 1;
    for (const auto& err : parsed.errors) std::cerr << events << ": " << err.status.message() << "\n";
    bad = static_cast<int64_t>(parsed.errors.size());
  }
  // Operator commands, checked before anything is sent.
  std::vector<v1::LogRecord> commands;
  for (const char* option : {"--unlink", "--erase"}) {
    for (const std::string& id : args.All(option)) {
      v1::LogRecord r;
      std::string type, value;
      if (!Identifier(id, option, &type, &value)) return 2;
      const std::string tenant = args.Get("--tenant");
      if (std::string_view(option) == "--unlink") {
        r.mutable_unlink()->set_tenant(tenant);
        r.mutable_unlink()->set_type(type);
        r.mutable_unlink()->set_value(value);
      } else {
        r.mutable_erasure()->set_tenant(tenant);
        r.mutable_erasure()->set_type(type);
        r.mutable_erasure()->set_value(value);
      }
      commands.push_back(std::move(r));
    }
  }
  std::optional<absl::Time> tick;
  if (const std::string t = args.Get("--tick"); !t.empty()) {
    absl::Time at = absl::Now();
    std::string error;
    if (t != "now" && !absl::ParseTime(absl::RFC3339_full, t, &at, &error)) {
      std::cerr << "publish: --tick: '" << t << "' is neither now nor an RFC 3339 time (" << error << ")\n";
      return 2;
    }
    tick = at;
  }
  auto nats = Connect(*config, "publish");
  if (nats == nullptr) return 1;
  if (absl::Status s = cl::CheckStreams(*nats, *config); !s.ok()) {
    std::cerr << "publish: " << s.message() << "\n";
    return 1;
  }
  std::ofstream acks;
  if (!args.Get("--acks").empty()) {
    acks.open(args.Get("--acks"), std::ios::app);
    if (!acks) {
      std::cerr << "publish: cannot write " << args.Get("--acks") << "\n";
      return 1;
    }
  }
  cl::Publisher::Options po;
  po.batch_events = batch;
  if (acks.is_open()) {
    po.on_ack = [&acks](const std::string& id, uint64_t seq, bool duplicate) {
      acks << seq << " " << (duplicate ? "duplicate" : "stored") << " " << id << "\n";
    };
  }
  cl::Publisher publisher(*nats, *config, po);
  const absl::Time start = absl::Now();
  auto fail = [](const absl::Status& s) {
    std::cerr << "publish: " << s.message() << "\n";
    return 1;
  };
  for (const JourneyDefinition& j : journeys) {
    v1::LogRecord r;
    *r.mutable_journey()->mutable_definition() = j;
    if (absl::Status s = publisher.AddToAllPartitions(r); !s.ok()) return fail(s);
  }
  const ValidationOptions validation;
  absl::Time latest = absl::InfinitePast();
  int64_t sent = 0;
  absl::Time next_progress = start + absl::Seconds(5);
  for (size_t i = 0; i < parsed.events.size(); ++i) {
    const Event& e = parsed.events[i];
    if (absl::Status s = ValidateEvent(e, validation, absl::Now()); !s.ok()) {
      std::cerr << events << ": event " << e.source() << "/" << e.event_id() << ": " << s.message() << "\n";
      ++bad;
      continue;
    }
    if (absl::Status s = publisher.AddEvent(e); !s.ok()) return fail(s);
    ++sent;
    latest = std::max(latest, absl::FromUnixSeconds(e.occurred_at().seconds()));
    if (tick_every > 0 && sent % static_cast<int64_t>(tick_every) == 0) {
      v1::LogRecord r;
      r.mutable_advance_time()->set_seconds(absl::ToUnixSeconds(latest));
      if (absl::Status s = publisher.AddToAllPartitions(r); !s.ok()) return fail(s);
    }
    if (!args.Has("--quiet") && absl::Now() >= next_progress) {
      std::cerr << absl::StrFormat("publish: %d of %d events sent\n", sent, parsed.events.size());
      next_progress = absl::Now() + absl::Seconds(5);
    }
  }
  for (const auto& request : parsed.erasures) {  // Segment delete calls.
    for (const auto& [type, value] : request.identifiers) {
      v1::LogRecord r;
      r.mutable_erasure()->set_tenant(request.tenant);
      r.mutable_erasure()->set_type(type);
      r.mutable_erasure()->set_value(value);
      if (absl::Status s = publisher.AddRecord(request.tenant, r); !s.ok()) return fail(s);
    }
  }
  for (const v1::LogRecord& r : commands) {
    if (absl::Status s = publisher.AddRecord(args.Get("--tenant"), r); !s.ok()) return fail(s);
  }
  if (tick) {
    v1::LogRecord r;
    r.mutable_advance_time()->set_seconds(absl::ToUnixSeconds(*tick));
    if (absl::Status s = publisher.AddToAllPartitions(r); !s.ok()) return fail(s);
  }
  if (absl::Status s = publisher.Finish(); !s.ok()) return fail(s);
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  const cl::Publisher::Stats st = publisher.stats();
  if (!args.Has("--quiet")) {
    std::cout << absl::StrFormat(
        "published %d events in %d messages (%d already in the stream, %d retries) in %.2f s (%.0f events/s); %d "
        "refused\n",
        st.events, st.messages, st.duplicates, st.retries, seconds, seconds > 0 ? st.events / seconds : 0.0, bad);
  }
  return bad > 0 ? 1 : 0;
}

int ClusterContext(const std::vector<std::string>& raw, std::string_view usage) {
  Args args;
  if (!ParseArgs("context", raw, {"--cluster", "--id", "--tenant"}, {"--json"}, &args, usage)) return 2;
  auto config = Config(args, "--cluster", "context");
  if (!config) return 2;
  IdentifierQuery q;
  q.tenant = args.Get("--tenant");
  if (!Identifier(args.Get("--id"), "--id", &q.type, &q.value)) return 2;
  auto nats = Connect(*config, "context");
  if (nats == nullptr) return 1;
  absl::StatusOr<std::string> answer = cl::RequestContext(*nats, *config, q);
  if (!answer.ok()) {
    std::cerr << "context: " << answer.status().message() << "\n";
    return 1;
  }
  std::cout << *answer << "\n";
  return answer->find("\"error\":") != std::string::npos && answer->find("\"context\":") == std::string::npos ? 1 : 0;
}

}  // namespace

int ClusterCommand(const std::string& command, const std::vector<std::string>& args, std::string_view usage) {
  if (command == "cluster") return ClusterAdmin(args, usage);
  if (command == "worker") return WorkerCommand(args, usage);
  if (command == "publish") return Publish(args, usage);
  if (command == "context" && std::find(args.begin(), args.end(), "--cluster") != args.end()) {
    return ClusterContext(args, usage);
  }
  return -1;
}

}  // namespace omnijourney::cli
