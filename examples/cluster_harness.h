// A cluster on this machine for the cluster demo, test and benchmark: a NATS JetStream cluster on
// 127.0.0.1 (tools/nats_cluster.sh), worker processes (`omnijourney worker`) started, killed and
// restarted by pid, a multi-tenant synthetic population, and the single-process reference: the
// input stream read back into one in-memory engine per partition, whose per-tenant state digests
// and action ids the workers must match.
#ifndef OMNIJOURNEY_EXAMPLES_CLUSTER_HARNESS_H_
#define OMNIJOURNEY_EXAMPLES_CLUSTER_HARNESS_H_

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "omnijourney/cluster.h"
#include "omnijourney/engine.h"
#include "omnijourney/journey.h"
#include "omnijourney/synth.h"

extern char** environ;

namespace omnijourney::cluster::harness {

// A child process, its output appended to a log file.
class Process {
 public:
  Process() = default;
  static absl::StatusOr<Process> Spawn(const std::vector<std::string>& argv, const std::string& log) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    Process p;
    const int rc = posix_spawnp(&p.pid_, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) return absl::InternalError(absl::StrCat("cannot start ", argv[0], ": ", strerror(rc)));
    return p;
  }
  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }
  void Signal(int sig) const {
    if (pid_ > 0) kill(pid_, sig);
  }
  // Waits for the process to end (SIGKILL after `grace`); its exit status (128 + signal when killed).
  int Stop(int sig = SIGTERM, absl::Duration grace = absl::Seconds(10)) {
    if (pid_ <= 0) return -1;
    kill(pid_, sig);
    const absl::Time deadline = absl::Now() + grace;
    int status = 0;
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (absl::Now() > deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  // Whether it ended by itself (and reaps it).
  bool Exited() {
    if (pid_ <= 0) return true;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return true;
    }
    return false;
  }

 private:
  pid_t pid_ = -1;
};

// Runs a shell command; its exit status.
inline int Shell(const std::string& command) { return std::system(command.c_str()); }

// A JetStream cluster on 127.0.0.1 (tools/nats_cluster.sh): server k (1-based) listens on
// base_port + k - 1.
class LocalNats {
 public:
  LocalNats(std::string script, std::string dir, int base_port, int nodes)
      : script_(std::move(script)), dir_(std::move(dir)), base_port_(base_port), nodes_(nodes) {}
  ~LocalNats() { Stop(); }
  absl::Status Start() {
    std::filesystem::remove_all(dir_);
    if (Shell(absl::StrCat(script_, " start ", dir_, " ", base_port_, " ", nodes_)) != 0) {
      return absl::UnavailableError(absl::StrCat("the NATS cluster did not start (logs: ", dir_, "/n*.log)"));
    }
    started_ = true;
    return absl::OkStatus();
  }
  void Stop() {
    if (started_) Shell(absl::StrCat(script_, " stop ", dir_));
    started_ = false;
  }
  void Kill(int k) { Shell(absl::StrCat(script_, " kill ", dir_, " ", k)); }
  absl::Status Restart(int k) {
    if (Shell(absl::StrCat(script_, " restart ", dir_, " ", k)) != 0) {
      return absl::UnavailableError(absl::StrCat("server ", k, " did not come back"));
    }
    return absl::OkStatus();
  }
  std::vector<std::string> Servers() const {
    std::vector<std::string> out;
    for (int k = 1; k <= nodes_; ++k) out.push_back(absl::StrCat("nats://127.0.0.1:", base_port_ + k - 1));
    return out;
  }
  const std::string& dir() const { return dir_; }

 private:
  std::string script_, dir_;
  int base_port_, nodes_;
  bool started_ = false;
};

// The configuration text of a cluster of `workers` workers (round-robin, one standby).
inline std::string ClusterConfigText(const std::vector<std::string>& servers, int partitions,
                                     const std::vector<std::string>& workers, int snapshot_every = 2000) {
  std::string out = absl::StrCat("servers: [\"", absl::StrJoin(servers, "\", \""), "\"]\npartitions: ", partitions,
                                 "\nfailover_ms: 1500\nsnapshot_every_records: ", snapshot_every, "\n");
  for (const std::string& w : workers) absl::StrAppend(&out, "workers { name: \"", w, "\" }\n");
  return out;
}

inline std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

// Worker processes by name, each with its own data directory under `root`.
class Workers {
 public:
  Workers(std::string cli, std::string config, std::string root)
      : cli_(std::move(cli)), config_(std::move(config)), root_(std::move(root)) {
    std::filesystem::create_directories(root_);
  }
  ~Workers() {
    for (auto& [name, p] : procs_) p.Stop(SIGKILL);
  }
  // With `config`: that configuration file instead of the cluster's (a worker that believes in
  // another assignment).
  absl::Status Start(const std::string& name, const std::string& config = "") {
    const std::string id = name;
    absl::StatusOr<Process> p = Process::Spawn(
        {cli_, "worker", "--config", config.empty() ? config_ : config, "--name", name, "--data", DataDir(id)},
        absl::StrCat(root_, "/", id, ".log"));
    if (!p.ok()) return p.status();
    procs_[id] = *std::move(p);
    return absl::OkStatus();
  }
  void Kill(const std::string& id, int sig = SIGKILL) {
    auto it = procs_.find(id);
    if (it != procs_.end()) it->second.Stop(sig);
  }
  void Signal(const std::string& id, int sig) {
    auto it = procs_.find(id);
    if (it != procs_.end()) it->second.Signal(sig);
  }
  void StopAll() {
    for (auto& [id, p] : procs_) p.Stop(SIGTERM);
  }
  // Workers that ended by themselves (a fatal error: see their logs).
  std::vector<std::string> Dead() {
    std::vector<std::string> out;
    for (auto& [id, p] : procs_) {
      if (p.running() && p.Exited()) out.push_back(id);
    }
    return out;
  }
  std::string DataDir(const std::string& id) const { return absl::StrCat(root_, "/data-", id); }
  std::string LogOf(const std::string& id) const { return absl::StrCat(root_, "/", id, ".log"); }

 private:
  std::string cli_, config_, root_;
  std::map<std::string, Process> procs_;
};

// The events of `tenants` synthetic tenants ("t00", "t01", ...), interleaved in runs of 40.
inline absl::StatusOr<std::vector<Event>> MultiTenantEvents(int tenants, int customers, uint64_t seed) {
  std::vector<std::vector<Event>> by_tenant(tenants);
  for (int t = 0; t < tenants; ++t) {
    synth::PopulationOptions o;
    o.seed = seed + static_cast<uint64_t>(t);
    o.customers = customers + (t % 5) * customers / 4;  // Tenants of different sizes.
    o.tenant = absl::StrFormat("t%02d", t);
    absl::StatusOr<std::unique_ptr<synth::Population>> pop = synth::Population::Create(o);
    if (!pop.ok()) return pop.status();
    synth::GeneratedEvent g;
    while ((*pop)->Next(&g)) by_tenant[t].push_back(std::move(g.event));
  }
  std::vector<Event> out;
  std::vector<size_t> at(tenants, 0);
  for (bool more = true; more;) {
    more = false;
    for (int t = 0; t < tenants; ++t) {
      for (int k = 0; k < 40 && at[t] < by_tenant[t].size(); ++k) out.push_back(by_tenant[t][at[t]++]);
      more = more || at[t] < by_tenant[t].size();
    }
  }
  return out;
}

// The single-process reference: every message of the input stream applied in stream order to one
// in-memory engine per partition, exactly as a worker applies it.
struct Reference {
  std::unique_ptr<SimulatedClock> clock;  // The stored time of the message being applied.
  std::map<uint32_t, std::unique_ptr<Engine>> engines;
  std::map<uint32_t, uint64_t> last;          // Last stream sequence per partition.
  std::map<std::string, int> message_ids;     // Nats-Msg-Id -> copies in the stream.
  std::set<std::string> tenants;
  std::set<std::string> action_ids;            // Every action the engines handed out.
  int64_t messages = 0;

  static absl::StatusOr<Reference> Build(const Nats& nats, const v1::ClusterConfig& config) {
    Reference r;
    auto clock = std::make_unique<SimulatedClock>(absl::UnixEpoch());
    absl::StatusOr<EngineOptions> options = PartitionEngineOptions(config, clock.get());
    if (!options.ok()) return options.status();
    r.clock = std::move(clock);
    absl::Status s = ReadStream(nats, InputStream(config), absl::StrCat(config.prefix(), ".in.>"), 1,
                                [&](const StoredMessage& m) -> absl::Status {
      const std::vector<std::string> parts = absl::StrSplit(m.subject, '.');
      uint32_t p = 0;
      if (parts.size() != 4 || !absl::SimpleAtoi(parts[2], &p)) {
        return absl::DataLossError(absl::StrCat("subject ", m.subject));
      }
      ++r.messages;
      ++r.message_ids[m.id];
      r.last[p] = m.sequence;
      std::unique_ptr<Engine>& engine = r.engines[p];
      if (engine == nullptr) {
        absl::StatusOr<std::unique_ptr<Engine>> e = Engine::Open(*options);
        if (!e.ok()) return e.status();
        engine = *std::move(e);
      }
      v1::InputBatch batch;
      if (!batch.ParseFromString(m.data)) return absl::DataLossError(absl::StrCat("message ", m.sequence));
      if (parts[3] != kAllTenants) {
        absl::StatusOr<std::string> tenant = TenantFromToken(parts[3]);
        if (tenant.ok()) r.tenants.insert(*tenant);
      }
      r.clock->Set(m.time);
      engine->SetSource({m.sequence, MessageCheck(m.id)});
      absl::StatusOr<Applied> applied = ApplyInput(*engine, p, config.partitions(), parts[3], batch);
      if (!applied.ok() && applied.status().code() != absl::StatusCode::kInvalidArgument) return applied.status();
      for (const JourneyAction& a : engine->TakeActions()) r.action_ids.insert(a.id);
      return absl::OkStatus();
    }, absl::Minutes(5));
    if (!s.ok()) return s;
    return r;
  }
};

// The input stream's last sequence per partition now.
inline absl::StatusOr<std::map<uint32_t, uint64_t>> LastSequences(const Nats& nats, const v1::ClusterConfig& config) {
  std::map<uint32_t, uint64_t> last;
  absl::Status s = ReadStream(nats, InputStream(config), absl::StrCat(config.prefix(), ".in.>"), 1,
                              [&](const StoredMessage& m) {
                                const size_t a = m.subject.find(".in.") + 4;
                                uint32_t p = 0;
                                (void)absl::SimpleAtoi(m.subject.substr(a, m.subject.find('.', a) - a), &p);
                                last[p] = m.sequence;
                                return absl::OkStatus();
                              });
  if (!s.ok()) return s;
  return last;
}

// The actions stream: copies per action id (its subject's last token).
inline absl::StatusOr<std::map<std::string, int>> ActionsInStream(const Nats& nats, const v1::ClusterConfig& config) {
  std::map<std::string, int> out;
  absl::Status s = ReadStream(nats, ActionStream(config), absl::StrCat(config.prefix(), ".act.>"), 1,
                              [&](const StoredMessage& m) {
                                ++out[m.subject.substr(m.subject.rfind('.') + 1)];
                                return absl::OkStatus();
                              });
  if (!s.ok()) return s;
  return out;
}

// A worker's partitions from its status answer: partition -> (applied, active).
inline std::map<uint32_t, std::pair<uint64_t, bool>> ParseStatus(const std::string& json) {
  std::map<uint32_t, std::pair<uint64_t, bool>> out;
  for (size_t at = json.find("{\"partition\":"); at != std::string::npos; at = json.find("{\"partition\":", at + 1)) {
    uint32_t p = 0;
    uint64_t applied = 0;
    const size_t pa = at + 13;
    (void)absl::SimpleAtoi(json.substr(pa, json.find(',', pa) - pa), &p);
    const size_t ap = json.find("\"applied\":", at) + 10;
    (void)absl::SimpleAtoi(json.substr(ap, json.find(',', ap) - ap), &applied);
    const bool active = json.compare(json.find("\"active\":", at) + 9, 4, "true") == 0;
    out[p] = {applied, active};
  }
  return out;
}

// Waits until every partition of `last` has been applied through its last sequence by every
// worker in `workers` that replays it, and (with `writers`) every partition has an active writer
// among them, asking every `poll`. Returns what is still missing after `timeout` ("" when all caught
// up).
inline std::string WaitCaughtUp(const Nats& nats, const v1::ClusterConfig& config, const std::vector<std::string>& workers,
                                const std::map<uint32_t, uint64_t>& last, absl::Duration timeout, bool writers = true,
                                absl::Duration poll = absl::Milliseconds(200)) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::StatusOr<Assignment> assignment = AssignPartitions(config);
  if (!assignment.ok()) return std::string(assignment.status().message());
  std::string missing;
  while (true) {
    missing.clear();
    std::map<uint32_t, int> active;
    for (const std::string& w : workers) {
      absl::StatusOr<std::string> status = RequestControl(nats, config, w, "status", absl::Seconds(2));
      if (!status.ok()) {
        absl::StrAppend(&missing, w, " does not answer; ");
        continue;
      }
      const std::map<uint32_t, std::pair<uint64_t, bool>> parts = ParseStatus(*status);
      for (const uint32_t p : assignment->PartitionsOf(w)) {
        if (!parts.contains(p)) absl::StrAppend(&missing, w, " has not opened p", p, " yet; ");
      }
      for (const auto& [p, state] : parts) {
        if (state.second) ++active[p];
        auto it = last.find(p);
        if (it != last.end() && state.first < it->second) {
          absl::StrAppend(&missing, w, " p", p, " at ", state.first, " of ", it->second, "; ");
        }
      }
    }
    for (uint32_t p = 0; writers && p < config.partitions(); ++p) {
      if (active[p] == 0) absl::StrAppend(&missing, "p", p, " has no writer; ");
    }
    if (missing.empty() || absl::Now() > deadline) return missing;
    std::this_thread::sleep_for(absl::ToChronoMilliseconds(poll));
  }
}

// Waits until no engine of `workers` keeps actions pending (released, not yet acknowledged:
// writers acknowledge once published, standbys once seen in the actions stream). Returns the
// actions still pending after `timeout` (0: none) and, with `report`, each worker's status then.
inline int64_t WaitActionsSettled(const Nats& nats, const v1::ClusterConfig& config, const std::vector<std::string>& workers,
                                  absl::Duration timeout, std::string* report = nullptr) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    int64_t pending = 0;
    std::string statuses;
    for (const std::string& w : workers) {
      absl::StatusOr<std::string> status = RequestControl(nats, config, w, "status pending", absl::Seconds(2));
      if (!status.ok()) {
        ++pending;  // Not known: not settled.
        absl::StrAppend(&statuses, w, ": ", status.status().message(), "\n");
        continue;
      }
      absl::StrAppend(&statuses, w, ": ", *status, "\n");
      for (size_t at = status->find("\"actions_pending\":"); at != std::string::npos;
           at = status->find("\"actions_pending\":", at + 1)) {
        pending += std::atoll(status->c_str() + at + 18);
      }
    }
    if (pending == 0 || absl::Now() > deadline) {
      if (report != nullptr) *report = std::move(statuses);
      return pending;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace omnijourney::cluster::harness

#endif  // OMNIJOURNEY_EXAMPLES_CLUSTER_HARNESS_H_
