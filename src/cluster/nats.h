// A thin C++ layer over the NATS C client (nats.c 3.4): one connection with its JetStream context,
// messages with owners, and errors as absl::Status naming what failed.
//
// Thread-safety: a Nats connection may be used from many threads (nats.c's connections and JetStream
// contexts are); a Msg is not shared.
#ifndef OMNIJOURNEY_SRC_CLUSTER_NATS_H_
#define OMNIJOURNEY_SRC_CLUSTER_NATS_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nats/nats.h"

namespace omnijourney::cluster {

// `what` failed with `s` (and the JetStream error code, when not 0): the client's last error text.
absl::Status NatsStatus(std::string_view what, natsStatus s, jsErrCode code = static_cast<jsErrCode>(0));

// The JetStream error code of a Status made by NatsStatus (0: none).
int JetStreamCode(const absl::Status& status);

// An owned message.
class Msg {
 public:
  Msg() = default;
  explicit Msg(natsMsg* m) : m_(m) {}
  Msg(Msg&& o) noexcept : m_(o.m_) { o.m_ = nullptr; }
  Msg& operator=(Msg&& o) noexcept {
    if (this != &o) {
      Reset();
      m_ = o.m_;
      o.m_ = nullptr;
    }
    return *this;
  }
  ~Msg() { Reset(); }
  static absl::StatusOr<Msg> Create(const std::string& subject, std::string_view data);

  natsMsg* get() const { return m_; }
  natsMsg** out() {
    Reset();
    return &m_;
  }
  natsMsg* release() {
    natsMsg* m = m_;
    m_ = nullptr;
    return m;
  }
  explicit operator bool() const { return m_ != nullptr; }
  std::string_view subject() const;
  std::string_view data() const;
  // The header's value ("" when absent).
  std::string Header(const char* key) const;
  absl::Status SetHeader(const char* key, const std::string& value);
  // The stream sequence of a message delivered by a JetStream consumer or read by js_GetMsg (0: none).
  uint64_t StreamSequence() const;
  // When the stream stored it (InfinitePast: not a stream's message).
  absl::Time StreamTime() const;

 private:
  void Reset() {
    if (m_ != nullptr) natsMsg_Destroy(m_);
    m_ = nullptr;
  }
  natsMsg* m_ = nullptr;
};

class Nats {
 public:
  struct Options {
    std::vector<std::string> servers;  // nats://host:port
    std::string name;                  // The client's name, as the servers' monitoring shows it.
    // How long Connect tries (each server in turn) before it gives up; 0: one round.
    absl::Duration connect_for = absl::ZeroDuration();
    // JetStream API calls and publish acknowledgements time out after this.
    absl::Duration api_timeout = absl::Seconds(5);
    // Asynchronous publishes in flight at most (PublishAsync).
    int max_pending = 4096;
  };
  // Unavailable naming the servers when none answers within connect_for.
  static absl::StatusOr<std::unique_ptr<Nats>> Connect(const Options& options);
  ~Nats();
  Nats(const Nats&) = delete;
  Nats& operator=(const Nats&) = delete;

  natsConnection* nc() const { return nc_; }
  jsCtx* js() const { return js_; }
  const Options& options() const { return options_; }
  // Whether the connection is up now (it reconnects by itself when a server goes away).
  bool connected() const;

  // JetStream: the stream's state; NotFound (JetStreamCode 10059) when there is no such stream.
  struct StreamState {
    uint64_t messages = 0;
    uint64_t first = 0;
    uint64_t last = 0;
    std::string description;
    int64_t replicas = 0;
    std::string leader;  // The server leading the stream's replicas now ("" when none is).
  };
  absl::StatusOr<StreamState> Stream(const std::string& name) const;
  // Creates the stream, or updates it when it exists.
  absl::Status AddOrUpdateStream(jsStreamConfig* config) const;
  absl::Status DeleteStream(const std::string& name) const;
  // The message at `sequence`; nullopt when the stream has none there (deleted, or not yet).
  absl::StatusOr<std::optional<Msg>> GetMessage(const std::string& stream, uint64_t sequence) const;
  // Whether the stream holds a message on `subject` (its last one).
  absl::StatusOr<bool> HasMessageOn(const std::string& stream, const std::string& subject) const;
  // Publishes and waits for the stream's acknowledgement: the message's stream sequence, and
  // whether the stream already had its Nats-Msg-Id (a duplicate within the window).
  struct Ack {
    uint64_t sequence = 0;
    bool duplicate = false;
  };
  absl::StatusOr<Ack> Publish(Msg msg) const;

  // Core NATS.
  absl::Status PublishCore(const std::string& subject, std::string_view data) const;
  absl::StatusOr<Msg> Request(const std::string& subject, std::string_view data, absl::Duration timeout) const;
  absl::Status Flush(absl::Duration timeout) const;

 private:
  Nats() = default;
  Options options_;
  natsOptions* opts_ = nullptr;
  natsConnection* nc_ = nullptr;
  jsCtx* js_ = nullptr;
};

// A subscription; its callback runs on the client's thread for it. Unsubscribes when destroyed,
// and then waits until a callback that is running has returned.
class Subscription {
 public:
  using Handler = std::function<void(Msg)>;
  // Core subscription (with a queue group when `queue` is not empty).
  static absl::StatusOr<std::unique_ptr<Subscription>> Subscribe(const Nats& nats, const std::string& subject,
                                                                 const std::string& queue, Handler handler);
  // An ordered JetStream consumer of `stream`'s messages on subjects matching `filter`, from
  // stream sequence `start` on (sync: read with Next).
  static absl::StatusOr<std::unique_ptr<Subscription>> Ordered(const Nats& nats, const std::string& stream,
                                                               const std::string& filter, uint64_t start);
  ~Subscription();
  // Messages of a JetStream consumer not delivered yet (by the server, and buffered here).
  uint64_t Pending() const;
  // The next message of a sync subscription; nullopt when none came within `timeout`.
  absl::StatusOr<std::optional<Msg>> Next(absl::Duration timeout);

 private:
  Subscription() = default;
  static void OnMessage(natsConnection* nc, natsSubscription* sub, natsMsg* msg, void* closure);
  static void OnComplete(void* closure);
  natsSubscription* sub_ = nullptr;
  Handler handler_;
  std::mutex done_mu_;
  std::condition_variable done_cv_;
  bool done_ = false;  // The client is done with the handler (OnComplete).
  bool async_ = false;
};

}  // namespace omnijourney::cluster

#endif  // OMNIJOURNEY_SRC_CLUSTER_NATS_H_
