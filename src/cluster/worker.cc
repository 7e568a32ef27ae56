// The cluster worker: one engine per partition it replays, fed from the input stream in stream
// order; actions published once; context and control requests answered (docs/scale-out.md).
#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cluster/nats.h"
#include "cluster/worker_io.h"
#include "common/status_macros.h"
#include "omnijourney/cluster.h"

namespace omnijourney::cluster {
namespace {

using internal::ToAbsl;

// One partition this worker replays.
struct Partition {
  uint32_t id = 0;
  std::string dir;
  std::unique_ptr<Engine> engine;
  std::thread thread;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> applied{0};  // Stream sequence of the last message applied.
  std::atomic<int64_t> messages{0}, events{0}, refused{0}, actions{0}, duplicate_actions{0};
  std::atomic<int64_t> waiting{0};  // unpublished.size(), for status requests.
  std::mutex waiting_mu;
  std::string waiting_first;  // Subject of the first of them, for status requests.
  std::atomic<bool> active{false};   // Writes the partition's actions now.
  std::unique_ptr<Subscription> context;
  SimulatedClock clock{absl::UnixEpoch()};  // The stored time of the message being applied.
  // Taken, but not published yet (a failed publish; on a standby, not seen in the actions stream
  // yet): the writer publishes them first.
  std::vector<JourneyAction> unpublished;
  absl::Time next_reconcile = absl::InfinitePast();  // A standby's next look at the actions stream.
  absl::Time warned = absl::InfinitePast();          // Last logged publish failure.
};

class WorkerImpl final : public Worker {
 public:
  explicit WorkerImpl(WorkerOptions options) : options_(std::move(options)) {}

  ~WorkerImpl() override { StopPartitions(); }

  absl::Status Run() override {
    absl::StatusOr<v1::ClusterConfig> config = LoadClusterConfig(options_.config_path);
    if (!config.ok()) return config.status();
    config_ = *std::move(config);
    absl::StatusOr<Assignment> assignment = AssignPartitions(config_);
    if (!assignment.ok()) return assignment.status();
    assignment_ = *std::move(assignment);
    if (std::none_of(config_.workers().begin(), config_.workers().end(),
                     [&](const auto& w) { return w.name() == options_.name; })) {
      return absl::InvalidArgumentError(absl::StrCat("worker '", options_.name, "' is not in ", options_.config_path,
                                                     " (workers { name: \"", options_.name, "\" })"));
    }
    absl::StatusOr<EngineOptions> engine_options = PartitionEngineOptions(config_, nullptr);
    if (!engine_options.ok()) return engine_options.status();
    engine_options_ = *std::move(engine_options);

    if (absl::Status s = ConnectAndCheck(); !s.ok()) return s;
    const absl::Time start = absl::Now();
    {
      std::lock_guard<std::mutex> lock(seen_mu_);
      for (const auto& w : config_.workers()) seen_[w.name()] = start;  // Gone only after failover_ms unseen.
    }
    absl::StatusOr<std::unique_ptr<Subscription>> hb =
        Subscription::Subscribe(*nats_, HeartbeatSubject(config_, "*"), "", [this](Msg m) { OnHeartbeat(m); });
    if (!hb.ok()) return hb.status();
    absl::StatusOr<std::unique_ptr<Subscription>> ctl =
        Subscription::Subscribe(*nats_, ControlSubject(config_, options_.name), "", [this](Msg m) { OnControl(std::move(m)); });
    if (!ctl.ok()) return ctl.status();
    if (absl::Status s = OpenAssigned(); !s.ok()) return s;

    absl::Time next_beat = absl::InfinitePast();
    absl::Time next_progress = absl::Now() + absl::Seconds(5);
    while (!stop_.load()) {
      if (absl::Status s = Fatal(); !s.ok()) {
        StopPartitions();
        return s;
      }
      if (reload_.exchange(false)) {
        if (absl::Status s = DoReload(); !s.ok()) Log(absl::StrCat("reload: ", s.message(), " (the old assignment stays)"));
      }
      const absl::Time now = absl::Now();
      if (now >= next_beat) {
        (void)nats_->PublishCore(HeartbeatSubject(config_, options_.name), options_.name);
        next_beat = now + absl::Milliseconds(std::max<uint32_t>(50, config_.failover_ms() / 8));
        UpdateRoles();
      }
      if (now >= next_progress) {
        Log(Progress());
        next_progress = now + absl::Seconds(5);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    const std::string progress = Progress();
    StopPartitions();
    Log(absl::StrCat("stopped: ", progress));
    return absl::OkStatus();
  }

  void Stop() override { stop_.store(true); }
  void Reload() override { reload_.store(true); }

 private:
  void Log(const std::string& line) const {
    if (options_.log) options_.log(absl::StrCat(options_.name, ": ", line));
  }

  absl::Status ConnectAndCheck() {
    for (absl::Time warned = absl::InfinitePast();;) {
      absl::StatusOr<NatsConnection> n = ConnectToCluster(config_, absl::StrCat("omnijourney-worker-", options_.name),
                                                                 absl::Seconds(5));
      if (n.ok()) {
        nats_ = *std::move(n);
        break;
      }
      if (stop_.load()) return absl::CancelledError("stopped");
      if (absl::Now() - warned > absl::Seconds(10)) {
        Log(absl::StrCat(n.status().message(), "; still trying"));
        warned = absl::Now();
      }
    }
    for (absl::Time warned = absl::InfinitePast();;) {
      absl::Status s = CheckStreams(*nats_, config_);
      if (s.ok()) return s;
      if (s.code() == absl::StatusCode::kNotFound || s.code() == absl::StatusCode::kFailedPrecondition) return s;
      if (stop_.load()) return absl::CancelledError("stopped");
      if (absl::Now() - warned > absl::Seconds(10)) {  // No JetStream leader yet, say.
        Log(absl::StrCat(s.message(), "; still trying"));
        warned = absl::Now();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
  }

  absl::Status Fatal() {
    std::lock_guard<std::mutex> lock(fatal_mu_);
    return fatal_;
  }
  void SetFatal(const absl::Status& s) {
    std::lock_guard<std::mutex> lock(fatal_mu_);
    if (fatal_.ok()) fatal_ = s;
  }

  // --- Partitions --------------------------------------------------------------------------

  absl::Status OpenAssigned() {
    for (const uint32_t p : assignment_.PartitionsOf(options_.name)) {
      if (absl::Status s = OpenPartition(p); !s.ok()) return s;
    }
    if (partitions_.empty()) Log("no partitions assigned to this worker");
    return absl::OkStatus();
  }

  absl::Status OpenPartition(uint32_t p) {
    auto part = std::make_shared<Partition>();
    part->id = p;
    part->dir = absl::StrCat(options_.data_dir, "/p", p);
    std::error_code ec;
    std::filesystem::create_directories(options_.data_dir, ec);
    EngineOptions o = engine_options_;
    o.clock = &part->clock;
    o.storage.path = part->dir;
    absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Open(o);
    if (!engine.ok()) return absl::Status(engine.status().code(), absl::StrCat("partition ", p, ": ", engine.status().message()));
    part->engine = *std::move(engine);
    // The local state is as of a stream position: the stream must still hold the same message there.
    const SourcePosition src = part->engine->Source();
    if (src.position > 0) {
      absl::StatusOr<std::string> mismatch = CheckPosition(*nats_, config_, src);
      // The stream may have no leader for a while (a server restarting): asked again.
      for (absl::Time warned = absl::Now(); !mismatch.ok() && !stop_.load();) {
        if (absl::Now() - warned > absl::Seconds(5)) {
          Log(absl::StrCat("partition ", p, ": ", mismatch.status().message(), "; still trying"));
          warned = absl::Now();
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
        mismatch = CheckPosition(*nats_, config_, src);
      }
      if (!mismatch.ok()) return mismatch.status();
      if (!mismatch->empty()) {
        Log(absl::StrCat("partition ", p, ": local state at stream sequence ", src.position, " discarded (", *mismatch,
                         "); replaying the partition from the stream"));
        part->engine.reset();
        std::filesystem::remove_all(part->dir, ec);
        if (ec) return absl::InternalError(absl::StrCat("partition ", p, ": cannot remove ", part->dir, ": ", ec.message()));
        engine = Engine::Open(o);
        if (!engine.ok()) return engine.status();
        part->engine = *std::move(engine);
      }
    }
    const SourcePosition from = part->engine->Source();
    const EngineStats stats = part->engine->Stats();
    Log(absl::StrCat("partition ", p, ": opened at stream sequence ", from.position, " (snapshot at record ",
                     stats.snapshot_position, ", ", stats.recovered, " records replayed from the local log)"));
    std::weak_ptr<Partition> weak = part;
    absl::StatusOr<std::unique_ptr<Subscription>> ctx = Subscription::Subscribe(
        *nats_, ContextSubject(config_, p), absl::StrCat(config_.prefix(), "-ctx"), [this, weak](Msg m) {
          if (std::shared_ptr<Partition> part = weak.lock()) OnContext(*part, std::move(m));
        });
    if (!ctx.ok()) return ctx.status();
    part->context = *std::move(ctx);
    Partition* raw = part.get();
    part->thread = std::thread([this, raw, from] { Replay(*raw, from); });
    std::lock_guard<std::mutex> lock(parts_mu_);
    partitions_[p] = std::move(part);
    return absl::OkStatus();
  }

  // With `remove`, the partition's local copy goes too: nothing applies the erasures published
  // from now on to it, so it must not keep what they erase. Rebuilt from the stream if it comes back.
  void ClosePartition(std::shared_ptr<Partition> part, bool remove = false) {
    part->context.reset();
    part->stop.store(true);
    if (part->thread.joinable()) part->thread.join();
    if (part->engine != nullptr && !remove) (void)part->engine->Checkpoint();
    part->engine.reset();
    if (remove) {
      std::error_code ec;
      std::filesystem::remove_all(part->dir, ec);
      if (ec) SetFatal(absl::InternalError(absl::StrCat("partition ", part->id, ": cannot remove ", part->dir, ": ", ec.message())));
    }
  }

  void StopPartitions() {
    std::map<uint32_t, std::shared_ptr<Partition>> parts;
    {
      std::lock_guard<std::mutex> lock(parts_mu_);
      parts.swap(partitions_);
    }
    for (auto& [p, part] : parts) ClosePartition(part);
  }

  absl::Status DoReload() {
    absl::StatusOr<v1::ClusterConfig> config = LoadClusterConfig(options_.config_path);
    if (!config.ok()) return config.status();
    if (config->partitions() != config_.partitions() || config->prefix() != config_.prefix()) {
      return absl::FailedPreconditionError("partitions and prefix are fixed when the streams are created");
    }
    absl::StatusOr<Assignment> assignment = AssignPartitions(*config);
    if (!assignment.ok()) return assignment.status();
    const std::vector<uint32_t> want = assignment->PartitionsOf(options_.name);
    std::vector<std::shared_ptr<Partition>> closing;
    {
      std::lock_guard<std::mutex> lock(parts_mu_);
      for (auto it = partitions_.begin(); it != partitions_.end();) {
        if (std::find(want.begin(), want.end(), it->first) == want.end()) {
          closing.push_back(it->second);
          it = partitions_.erase(it);
        } else {
          ++it;
        }
      }
    }
    {
      std::lock_guard<std::mutex> lock(seen_mu_);
      for (const auto& w : config->workers()) seen_.try_emplace(w.name(), absl::Now());
    }
    {  // The rest of the configuration stays as the worker started with it.
      std::lock_guard<std::mutex> lock(roles_mu_);
      assignment_ = *std::move(assignment);
    }
    for (auto& part : closing) {
      Log(absl::StrCat("partition ", part->id, ": no longer assigned; closed and its local data removed (", part->dir,
                       ")"));
      ClosePartition(part, /*remove=*/true);
    }
    for (const uint32_t p : want) {
      bool open = false;
      {
        std::lock_guard<std::mutex> lock(parts_mu_);
        open = partitions_.contains(p);
      }
      if (!open) {
        if (absl::Status s = OpenPartition(p); !s.ok()) {
          // Its old owner let it go: stopping (heartbeats too) lets the next worker in its list write it.
          SetFatal(absl::Status(s.code(), absl::StrCat("reload: ", s.message())));
          return s;
        }
      }
    }
    Log(absl::StrCat("configuration reloaded: partitions ", absl::StrJoin(want, ",")));
    return absl::OkStatus();
  }

  // Reads the partition's messages in stream order from `from` on and applies them.
  void Replay(Partition& part, SourcePosition from) {
    // The message at the stored position may have been applied in part (a batch cut by a crash):
    // it is read again; its events are duplicates then. One other record was applied whole.
    uint64_t resume = from.position;
    part.applied.store(from.position > 0 ? from.position - 1 : 0);
    const std::string filter = absl::StrCat(config_.prefix(), ".in.", part.id, ".>");
    const std::string stream = InputStream(config_);
    while (!part.stop.load()) {
      absl::StatusOr<std::unique_ptr<Subscription>> sub = Subscription::Ordered(*nats_, stream, filter, part.applied.load() + 1);
      if (!sub.ok()) {
        Log(absl::StrCat("partition ", part.id, ": ", sub.status().message(), "; retrying"));
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        continue;
      }
      while (!part.stop.load()) {
        absl::StatusOr<std::optional<Msg>> next = (*sub)->Next(absl::Milliseconds(100));
        if (!next.ok()) {
          Log(absl::StrCat("partition ", part.id, ": ", next.status().message(), "; consumer created again"));
          break;
        }
        if (!next->has_value()) {
          PublishActions(part);
          continue;
        }
        const Msg& msg = **next;
        const uint64_t seq = msg.StreamSequence();
        if (seq == 0 || seq <= part.applied.load()) continue;
        absl::Status s = ApplyMessage(part, msg, seq, seq == resume);
        if (!s.ok()) {
          SetFatal(absl::Status(s.code(), absl::StrCat("partition ", part.id, ", stream sequence ", seq, ": ", s.message())));
          return;
        }
        part.applied.store(seq);
        if (part.messages.load() % 64 == 0) PublishActions(part);
      }
    }
  }

  absl::Status ApplyMessage(Partition& part, const Msg& msg, uint64_t seq, bool resumed) {
    part.messages.fetch_add(1);
    v1::InputBatch batch;
    const std::string_view subject = msg.subject();
    const std::string_view token = subject.substr(subject.rfind('.') + 1);
    if (!batch.ParseFromArray(msg.data().data(), static_cast<int>(msg.data().size()))) {
      part.refused.fetch_add(1);
      Log(absl::StrCat("partition ", part.id, ": stream sequence ", seq, " on ", ToAbsl(subject), " is not an InputBatch; skipped"));
      return absl::OkStatus();
    }
    if (resumed && IsCommand(batch)) return absl::OkStatus();
    part.clock.Set(msg.StreamTime());
    part.engine->SetSource({seq, MessageCheck(msg.Header("Nats-Msg-Id"))});
    absl::StatusOr<Applied> applied = ApplyInput(*part.engine, part.id, config_.partitions(), token, batch);
    if (!applied.ok()) {
      if (applied.status().code() == absl::StatusCode::kInvalidArgument) {  // A malformed message: skipped.
        part.refused.fetch_add(1);
        Log(absl::StrCat("partition ", part.id, ": stream sequence ", seq, ": ", applied.status().message(), "; skipped"));
        return absl::OkStatus();
      }
      return applied.status();
    }
    part.events.fetch_add(applied->events);
    part.refused.fetch_add(applied->refused);
    return absl::OkStatus();
  }

  // --- Actions -----------------------------------------------------------------------------

  void PublishActions(Partition& part) {
    if (!part.active.load()) {
      Reconcile(part);
      return;
    }
    std::vector<JourneyAction> actions = std::move(part.unpublished);
    part.unpublished.clear();
    for (JourneyAction& a : part.engine->TakeActions()) actions.push_back(std::move(a));
    if (actions.empty()) return;
    std::vector<std::string> done;
    for (size_t i = 0; i < actions.size(); ++i) {
      const JourneyAction& a = actions[i];
      absl::StatusOr<bool> published = PublishAction(*nats_, config_, a);
      if (!published.ok()) {
        if (absl::Now() - part.warned > absl::Seconds(5)) {
          Log(absl::StrCat("partition ", part.id, ": action ", a.id, ": ", published.status().message(),
                           "; published again later"));
          part.warned = absl::Now();
        }
        part.unpublished.assign(actions.begin() + static_cast<std::ptrdiff_t>(i), actions.end());
        break;
      }
      (*published ? part.actions : part.duplicate_actions).fetch_add(1);
      done.push_back(a.id);
    }
    part.waiting.store(static_cast<int64_t>(part.unpublished.size()));
    if (absl::Status s = part.engine->AckActions(done); !s.ok()) {
      SetFatal(absl::Status(s.code(), absl::StrCat("partition ", part.id, ": acknowledging actions: ", s.message())));
    }
  }

  // A standby acknowledges the actions its writer has published (they are in the actions stream),
  // every second or so, so that its pending actions stay few; the others wait for the next look,
  // or for this worker to take over and publish them.
  void Reconcile(Partition& part) {
    const absl::Time now = absl::Now();
    if (now < part.next_reconcile) return;
    part.next_reconcile = now + absl::Seconds(1);
    for (JourneyAction& a : part.engine->TakeActions()) part.unpublished.push_back(std::move(a));
    if (part.unpublished.empty()) return;
    std::vector<std::string> published;
    std::vector<JourneyAction> waiting;
    for (size_t i = 0; i < part.unpublished.size(); ++i) {
      JourneyAction& a = part.unpublished[i];
      absl::StatusOr<bool> there = nats_->HasMessageOn(ActionStream(config_), ActionSubject(config_, a.tenant, a.id));
      if (!there.ok()) {  // Looked at again next time.
        waiting.insert(waiting.end(), std::make_move_iterator(part.unpublished.begin() + static_cast<std::ptrdiff_t>(i)),
                       std::make_move_iterator(part.unpublished.end()));
        break;
      }
      if (*there) {
        published.push_back(a.id);
      } else {
        waiting.push_back(std::move(a));
      }
    }
    part.unpublished = std::move(waiting);
    part.waiting.store(static_cast<int64_t>(part.unpublished.size()));
    {
      std::lock_guard<std::mutex> lock(part.waiting_mu);
      part.waiting_first = part.unpublished.empty()
                               ? ""
                               : ActionSubject(config_, part.unpublished[0].tenant, part.unpublished[0].id);
    }
    if (absl::Status s = part.engine->AckActions(published); !s.ok()) {
      SetFatal(absl::Status(s.code(), absl::StrCat("partition ", part.id, ": acknowledging actions: ", s.message())));
    }
  }

  // --- Heartbeats and roles ----------------------------------------------------------------

  void OnHeartbeat(const Msg& m) {
    std::lock_guard<std::mutex> lock(seen_mu_);
    seen_[std::string(m.data())] = absl::Now();
  }

  bool Alive(const std::string& worker, absl::Time now) {
    if (worker == options_.name) return true;
    std::lock_guard<std::mutex> lock(seen_mu_);
    auto it = seen_.find(worker);
    return it != seen_.end() && now - it->second < absl::Milliseconds(config_.failover_ms());
  }

  void UpdateRoles() {
    const absl::Time now = absl::Now();
    std::lock_guard<std::mutex> lock(parts_mu_);
    for (auto& [p, part] : partitions_) {
      bool active = false;
      {
        std::lock_guard<std::mutex> roles(roles_mu_);
        for (const std::string& w : assignment_.workers[p]) {
          if (Alive(w, now)) {
            active = w == options_.name;
            break;
          }
        }
      }
      if (active != part->active.exchange(active)) {
        Log(absl::StrCat("partition ", p, active ? ": writing its actions" : ": standby (an earlier worker is back)"));
      }
    }
  }

  // --- Requests ----------------------------------------------------------------------------

  void OnContext(Partition& part, Msg m) {
    const std::string reply(natsMsg_GetReply(m.get()) ? natsMsg_GetReply(m.get()) : "");
    if (reply.empty()) return;
    (void)nats_->PublishCore(reply, AnswerContext(config_, options_.name, part.id, part.applied.load(), *part.engine, m.data()));
  }

  void OnControl(Msg m) {
    const std::string reply(natsMsg_GetReply(m.get()) ? natsMsg_GetReply(m.get()) : "");
    if (reply.empty()) return;
    const std::vector<std::string> words = absl::StrSplit(ToAbsl(m.data()), ' ', absl::SkipEmpty());
    std::string answer;
    if (!words.empty() && words[0] == "status" && words.size() <= 2) {
      answer = Status(words.size() == 2 && words[1] == "pending");
    } else if (words.size() == 3 && (words[0] == "digest" || words[0] == "digest-text")) {
      uint32_t p = 0;
      absl::StatusOr<std::string> tenant = TenantFromToken(words[2]);
      std::shared_ptr<Partition> part;
      if (absl::SimpleAtoi(words[1], &p)) {
        std::lock_guard<std::mutex> lock(parts_mu_);
        if (auto it = partitions_.find(p); it != partitions_.end()) part = it->second;
      }
      if (!tenant.ok() || part == nullptr) {
        answer = absl::StrCat("error: no partition ", words[1], " here, or a bad tenant token");
      } else {
        // As of one stream position: read again when a message was applied meanwhile.
        std::string text, digest;
        uint64_t before = 0;
        for (int tries = 0; tries < 20; ++tries) {
          before = part->applied.load();
          digest = part->engine->StateDigest(*tenant, &text);
          if (part->applied.load() == before) break;
        }
        answer = words[0] == "digest" ? absl::StrCat(before, " ", digest) : text;
      }
    } else {
      answer = "error: commands are 'status', 'status pending' and 'digest <partition> <tenant token>'";
    }
    (void)nats_->PublishCore(reply, answer);
  }

  // With `pending`, the actions each engine keeps pending too (EngineStats: not cheap).
  std::string Status(bool pending = false) {
    std::string out = absl::StrCat("{\"worker\":\"", options_.name, "\",\"partitions\":[");
    std::lock_guard<std::mutex> lock(parts_mu_);
    bool first = true;
    for (const auto& [p, part] : partitions_) {
      absl::StrAppend(&out, first ? "" : ",", "{\"partition\":", p, ",\"active\":", part->active.load() ? "true" : "false",
                      ",\"applied\":", part->applied.load(), ",\"messages\":", part->messages.load(),
                      ",\"events\":", part->events.load(), ",\"refused\":", part->refused.load(),
                      ",\"actions\":", part->actions.load(), ",\"actions_already_published\":", part->duplicate_actions.load(),
                      ",\"actions_waiting\":", part->waiting.load(),
                      pending ? absl::StrCat(",\"actions_pending\":", part->engine->Stats().pending_actions) : "");
      {
        std::lock_guard<std::mutex> waiting(part->waiting_mu);
        if (!part->waiting_first.empty()) absl::StrAppend(&out, ",\"first_waiting\":\"", part->waiting_first, "\"");
      }
      absl::StrAppend(&out, "}");
      first = false;
    }
    absl::StrAppend(&out, "]}");
    return out;
  }

  std::string Progress() {
    int64_t events = 0, actions = 0, refused = 0;
    std::vector<std::string> owned, standby;
    std::lock_guard<std::mutex> lock(parts_mu_);
    for (const auto& [p, part] : partitions_) {
      events += part->events.load();
      actions += part->actions.load();
      refused += part->refused.load();
      (part->active.load() ? owned : standby).push_back(absl::StrCat(p, "@", part->applied.load()));
    }
    return absl::StrCat("writing [", absl::StrJoin(owned, " "), "] standby [", absl::StrJoin(standby, " "), "]: ", events,
                        " events applied, ", refused, " refused, ", actions, " actions published");
  }

  const WorkerOptions options_;
  v1::ClusterConfig config_;
  EngineOptions engine_options_;
  NatsConnection nats_;
  std::mutex roles_mu_;
  Assignment assignment_;
  std::mutex parts_mu_;
  std::map<uint32_t, std::shared_ptr<Partition>> partitions_;
  std::mutex seen_mu_;
  std::map<std::string, absl::Time> seen_;  // Last heartbeat by worker.
  std::atomic<bool> stop_{false};
  std::atomic<bool> reload_{false};
  std::mutex fatal_mu_;
  absl::Status fatal_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Worker>> Worker::Create(const WorkerOptions& options) {
  if (options.name.empty()) return absl::InvalidArgumentError("name: empty");
  if (options.data_dir.empty()) return absl::InvalidArgumentError("data_dir: empty");
  return std::unique_ptr<Worker>(new WorkerImpl(options));
}

}  // namespace omnijourney::cluster
