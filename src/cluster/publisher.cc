// Publisher: input messages into the input stream, acknowledged, in order per subject.
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>

#include "absl/strings/str_cat.h"
#include "cluster/nats.h"
#include "omnijourney/cluster.h"

namespace omnijourney::cluster {

struct Publisher::Impl {
  struct Item {
    std::string subject;
    std::string id;
    std::string data;
    int64_t events = 0;
    int attempts = 0;
    absl::Time first_sent = absl::InfinitePast();
    absl::Time retry_at = absl::InfinitePast();
  };

  Impl(const Nats& n, const v1::ClusterConfig& c, Options o)
      : nats(n), config(c), options(std::move(o)), nonce(static_cast<uint64_t>(absl::ToUnixNanos(absl::Now()))) {}

  const Nats& nats;
  const v1::ClusterConfig config;
  const Options options;
  const uint64_t nonce;  // In the ids of records other than events (InputMessageId).
  jsCtx* js = nullptr;
  absl::Status init;

  std::mutex mu;
  std::condition_variable cv;
  std::map<std::string, std::deque<Item>> queued;  // By subject; the front is in flight when busy.
  std::set<std::string> busy;
  size_t in_flight = 0;
  absl::Status error;  // The first failure that is given up on.
  bool closed = false;  // The publisher is being destroyed: late acknowledgements are ignored.
  Stats stats;
  std::map<std::string, v1::InputBatch> batches;  // Events being batched, by tenant token.

  static void OnAck(jsCtx*, natsMsg* m, jsPubAck* pa, jsPubAckErr* pae, void* closure) {
    auto* self = static_cast<Impl*>(closure);
    Msg msg(m);  // Ours to destroy.
    const std::string subject(msg.subject());
    std::unique_lock<std::mutex> lock(self->mu);
    if (self->closed) return;
    auto it = self->queued.find(subject);
    // An acknowledgement of an earlier attempt that came late (the message was sent again): the
    // attempt in flight gets its own.
    if (it == self->queued.end() || it->second.empty() || !self->busy.contains(subject) ||
        it->second.front().id != msg.Header("Nats-Msg-Id")) {
      return;
    }
    Item& item = it->second.front();
    self->busy.erase(subject);
    --self->in_flight;
    if (pa != nullptr && pae == nullptr) {
      ++self->stats.messages;
      self->stats.events += item.events;
      if (pa->Duplicate) ++self->stats.duplicates;
      const std::string id = item.id;
      const uint64_t sequence = pa->Sequence;
      const bool duplicate = pa->Duplicate;
      it->second.pop_front();
      if (it->second.empty()) self->queued.erase(it);
      self->cv.notify_all();
      if (self->options.on_ack) {
        // Outside the lock (it may ask for stats()); acknowledgements come from one client thread,
        // so they are reported in order.
        lock.unlock();
        self->options.on_ack(id, sequence, duplicate);
      }
      return;
    } else {
      // No leader for a while, a timeout, a lost connection: sent again with the same id.
      const absl::Status why = pae != nullptr ? NatsStatus(absl::StrCat("publish to ", subject), pae->Err, pae->ErrCode)
                                              : absl::UnknownError("no acknowledgement");
      ++self->stats.retries;
      if (absl::Now() - item.first_sent > self->options.give_up_after && self->error.ok()) {
        self->error = absl::DeadlineExceededError(
            absl::StrCat("message ", item.id, " not acknowledged after ", item.attempts, " attempts: ", why.message()));
      }
      item.retry_at = absl::Now() + absl::Milliseconds(std::min(1000, 50 * item.attempts));
    }
    self->cv.notify_all();
  }

  // Sends the front message of every idle subject (REQUIRES: mu held).
  void Pump() {
    const absl::Time now = absl::Now();
    for (auto& [subject, items] : queued) {
      if (in_flight >= options.max_in_flight) return;
      if (busy.contains(subject) || items.empty()) continue;
      Item& item = items.front();
      if (item.retry_at > now) continue;
      absl::StatusOr<Msg> msg = Msg::Create(subject, item.data);
      if (msg.ok()) {
        if (absl::Status s = msg->SetHeader("Nats-Msg-Id", item.id); !s.ok()) msg = s;
      }
      if (!msg.ok()) {
        if (error.ok()) error = msg.status();
        return;
      }
      jsPubOptions po;
      jsPubOptions_Init(&po);
      po.MaxWait = absl::ToInt64Milliseconds(nats.options().api_timeout);
      natsMsg* raw = msg->release();
      if (item.first_sent == absl::InfinitePast()) item.first_sent = now;
      ++item.attempts;
      busy.insert(subject);
      ++in_flight;
      if (natsStatus s = js_PublishMsgAsync(js, &raw, &po); s != NATS_OK) {
        if (raw != nullptr) natsMsg_Destroy(raw);
        busy.erase(subject);
        --in_flight;
        item.retry_at = now + absl::Milliseconds(100);
        if (now - item.first_sent > options.give_up_after && error.ok()) {
          error = NatsStatus(absl::StrCat("publish to ", subject), s);
        }
      }
    }
  }

  // Waits until fewer than `limit` messages are in flight or queued (0: none), sending meanwhile.
  absl::Status Drain(size_t limit) {
    std::unique_lock<std::mutex> lock(mu);
    for (;;) {
      Pump();
      if (!error.ok()) return error;
      size_t waiting = 0;
      for (const auto& [subject, items] : queued) waiting += items.size();
      if (limit == 0 ? waiting == 0 : waiting < limit) return absl::OkStatus();
      cv.wait_for(lock, std::chrono::milliseconds(20));
    }
  }

  absl::Status Enqueue(const std::string& subject, std::string id, const v1::InputBatch& batch, int64_t events) {
    {
      std::lock_guard<std::mutex> lock(mu);
      Item item;
      item.subject = subject;
      item.id = std::move(id);
      item.data = batch.SerializeAsString();
      item.events = events;
      queued[subject].push_back(std::move(item));
      Pump();
    }
    return Drain(options.max_in_flight * 4);
  }

  absl::Status FlushBatch(const std::string& token) {
    auto it = batches.find(token);
    if (it == batches.end() || it->second.records().empty()) return absl::OkStatus();
    v1::InputBatch batch = std::move(it->second);
    batches.erase(it);
    absl::StatusOr<std::string> tenant = TenantFromToken(token);
    if (!tenant.ok()) return tenant.status();
    const std::string subject = InputSubject(config, PartitionOf(*tenant, config.partitions()), token);
    return Enqueue(subject, InputMessageId(token, batch), batch, batch.records_size());
  }

  absl::Status FlushAll() {
    std::vector<std::string> tokens;
    for (const auto& [token, batch] : batches) tokens.push_back(token);
    for (const std::string& t : tokens) {
      if (absl::Status s = FlushBatch(t); !s.ok()) return s;
    }
    return absl::OkStatus();
  }
};

Publisher::Publisher(const Nats& nats, const v1::ClusterConfig& config, Options options)
    : impl_(std::make_unique<Impl>(nats, config, std::move(options))) {
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = absl::ToInt64Milliseconds(nats.options().api_timeout);
  jo.PublishAsync.MaxPending = static_cast<int64_t>(impl_->options.max_in_flight) + 16;
  jo.PublishAsync.AckHandler = &Impl::OnAck;
  jo.PublishAsync.AckHandlerClosure = impl_.get();
  if (natsStatus s = natsConnection_JetStream(&impl_->js, nats.nc(), &jo); s != NATS_OK) {
    impl_->init = NatsStatus("JetStream context", s);
  }
}

Publisher::~Publisher() {
  if (impl_->js != nullptr) {
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = 1000;
    (void)js_PublishAsyncComplete(impl_->js, &po);
    natsMsgList pending;
    if (js_PublishAsyncGetPendingList(&pending, impl_->js) == NATS_OK) natsMsgList_Destroy(&pending);
    {
      // A handler that is running holds the lock: it is done once this is taken.
      std::lock_guard<std::mutex> lock(impl_->mu);
      impl_->closed = true;
    }
    jsCtx_Destroy(impl_->js);
  }
}

absl::Status Publisher::AddEvent(const Event& event) {
  if (!impl_->init.ok()) return impl_->init;
  const std::string token = TenantToken(event.tenant());
  v1::InputBatch& batch = impl_->batches[token];
  *batch.add_records()->mutable_event() = event;
  if (static_cast<size_t>(batch.records_size()) >= impl_->options.batch_events) return impl_->FlushBatch(token);
  return absl::OkStatus();
}

absl::Status Publisher::AddRecord(std::string_view tenant, const v1::LogRecord& record) {
  if (!impl_->init.ok()) return impl_->init;
  if (record.has_event()) return absl::InvalidArgumentError("record: an event (AddEvent)");
  const std::string token = TenantToken(tenant);
  if (absl::Status s = impl_->FlushBatch(token); !s.ok()) return s;
  v1::InputBatch batch;
  *batch.add_records() = record;
  const std::string subject = InputSubject(impl_->config, PartitionOf(tenant, impl_->config.partitions()), token);
  return impl_->Enqueue(subject, InputMessageId(token, batch, impl_->nonce), batch, 0);
}

absl::Status Publisher::AddToAllPartitions(const v1::LogRecord& record) {
  if (!impl_->init.ok()) return impl_->init;
  if (record.has_event()) return absl::InvalidArgumentError("record: an event (AddEvent)");
  if (absl::Status s = impl_->FlushAll(); !s.ok()) return s;
  if (absl::Status s = impl_->Drain(0); !s.ok()) return s;  // After everything before it.
  v1::InputBatch batch;
  *batch.add_records() = record;
  for (uint32_t p = 0; p < impl_->config.partitions(); ++p) {
    const std::string id = absl::StrCat(InputMessageId(kAllTenants, batch, impl_->nonce), "/", p);
    if (absl::Status s = impl_->Enqueue(InputSubject(impl_->config, p, kAllTenants), id, batch, 0); !s.ok()) return s;
  }
  return impl_->Drain(0);  // Before everything after it.
}

absl::Status Publisher::Finish() {
  if (!impl_->init.ok()) return impl_->init;
  if (absl::Status s = impl_->FlushAll(); !s.ok()) return s;
  return impl_->Drain(0);
}

Publisher::Stats Publisher::stats() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->stats;
}

}  // namespace omnijourney::cluster
