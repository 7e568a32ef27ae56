#include "cluster/nats.h"

#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace omnijourney::cluster {
namespace {

constexpr char kJetStreamCodeUrl[] = "omnijourney.dev/jetstream-error";

absl::StatusCode CodeOf(natsStatus s, jsErrCode code) {
  if (code == JSStreamNotFoundErr || code == JSConsumerNotFoundErr || s == NATS_NOT_FOUND) {
    return absl::StatusCode::kNotFound;
  }
  switch (s) {
    case NATS_TIMEOUT:
      return absl::StatusCode::kDeadlineExceeded;
    case NATS_NO_SERVER:
    case NATS_CONNECTION_CLOSED:
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_NO_RESPONDERS:
    case NATS_STALE_CONNECTION:
    case NATS_IO_ERROR:
    case NATS_SYS_ERROR:
      return absl::StatusCode::kUnavailable;
    case NATS_INVALID_ARG:
    case NATS_INVALID_SUBJECT:
      return absl::StatusCode::kInvalidArgument;
    default:
      // JetStream errors are mostly passing ones here (no leader yet, a stream offline while its
      // servers restart): callers retry them. Those that are not are answered above.
      return code != 0 ? absl::StatusCode::kUnavailable : absl::StatusCode::kUnknown;
  }
}

}  // namespace

absl::Status NatsStatus(std::string_view what, natsStatus s, jsErrCode code) {
  natsStatus last = NATS_OK;
  const char* text = nats_GetLastError(&last);
  std::string message = absl::StrCat(absl::string_view(what.data(), what.size()), ": ", natsStatus_GetText(s));
  if (text != nullptr && *text != '\0' && std::string_view(text) != natsStatus_GetText(s)) {
    absl::StrAppend(&message, " (", text, ")");
  }
  if (code != 0) absl::StrAppend(&message, " [JetStream error ", static_cast<int>(code), "]");
  absl::Status status(CodeOf(s, code), message);
  if (code != 0) status.SetPayload(kJetStreamCodeUrl, absl::Cord(absl::StrCat(static_cast<int>(code))));
  return status;
}

int JetStreamCode(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kJetStreamCodeUrl);
  int code = 0;
  if (payload && absl::SimpleAtoi(std::string(*payload), &code)) return code;
  return 0;
}

absl::StatusOr<Msg> Msg::Create(const std::string& subject, std::string_view data) {
  Msg msg;
  if (natsStatus s = natsMsg_Create(msg.out(), subject.c_str(), nullptr, data.data(), static_cast<int>(data.size()));
      s != NATS_OK) {
    return NatsStatus(absl::StrCat("message on ", subject), s);
  }
  return msg;
}

std::string_view Msg::subject() const {
  const char* s = natsMsg_GetSubject(m_);
  return s == nullptr ? std::string_view() : std::string_view(s);
}

std::string_view Msg::data() const {
  const char* d = natsMsg_GetData(m_);
  return d == nullptr ? std::string_view() : std::string_view(d, static_cast<size_t>(natsMsg_GetDataLength(m_)));
}

std::string Msg::Header(const char* key) const {
  const char* value = nullptr;
  if (natsMsgHeader_Get(m_, key, &value) != NATS_OK || value == nullptr) return "";
  return value;
}

absl::Status Msg::SetHeader(const char* key, const std::string& value) {
  if (natsStatus s = natsMsgHeader_Set(m_, key, value.c_str()); s != NATS_OK) {
    return NatsStatus(absl::StrCat("header ", key), s);
  }
  return absl::OkStatus();
}

uint64_t Msg::StreamSequence() const {
  const uint64_t direct = natsMsg_GetSequence(m_);  // js_GetMsg.
  if (direct != 0) return direct;
  jsMsgMetaData* meta = nullptr;
  if (natsMsg_GetMetaData(&meta, m_) != NATS_OK || meta == nullptr) return 0;
  const uint64_t seq = meta->Sequence.Stream;
  jsMsgMetaData_Destroy(meta);
  return seq;
}

absl::Time Msg::StreamTime() const {
  if (natsMsg_GetSequence(m_) != 0) return absl::FromUnixNanos(natsMsg_GetTime(m_));  // js_GetMsg.
  jsMsgMetaData* meta = nullptr;
  if (natsMsg_GetMetaData(&meta, m_) != NATS_OK || meta == nullptr) return absl::InfinitePast();
  const absl::Time t = absl::FromUnixNanos(meta->Timestamp);
  jsMsgMetaData_Destroy(meta);
  return t;
}

absl::StatusOr<std::unique_ptr<Nats>> Nats::Connect(const Options& options) {
  if (options.servers.empty()) return absl::InvalidArgumentError("servers: empty");
  std::unique_ptr<Nats> n(new Nats());
  n->options_ = options;
  natsStatus s = natsOptions_Create(&n->opts_);
  std::vector<const char*> urls;
  for (const std::string& url : options.servers) urls.push_back(url.c_str());
  if (s == NATS_OK) s = natsOptions_SetServers(n->opts_, urls.data(), static_cast<int>(urls.size()));
  if (s == NATS_OK && !options.name.empty()) s = natsOptions_SetName(n->opts_, options.name.c_str());
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(n->opts_, -1);  // Forever: servers come back.
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(n->opts_, 100);
  if (s == NATS_OK) s = natsOptions_SetTimeout(n->opts_, 1000);
  if (s == NATS_OK) s = natsOptions_SetPingInterval(n->opts_, 1000);
  if (s == NATS_OK) s = natsOptions_SetMaxPingsOut(n->opts_, 2);
  if (s == NATS_OK) s = natsOptions_SetReconnectBufSize(n->opts_, 64 << 20);
  // Each publish is written at once rather than by the client's flusher a moment later: replies
  // (context requests) and acknowledged publishes wait on it; batching is the publisher's own.
  if (s == NATS_OK) s = natsOptions_SetSendAsap(n->opts_, true);
  if (s != NATS_OK) return NatsStatus("connection options", s);
  const absl::Time give_up = absl::Now() + options.connect_for;
  for (;;) {
    s = natsConnection_Connect(&n->nc_, n->opts_);
    if (s == NATS_OK) break;
    if (absl::Now() >= give_up) {
      return absl::UnavailableError(absl::StrCat("no NATS server answers at ", absl::StrJoin(options.servers, ", "),
                                                 " (", natsStatus_GetText(s), ")"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = absl::ToInt64Milliseconds(options.api_timeout);
  jo.PublishAsync.MaxPending = options.max_pending;
  if (s = natsConnection_JetStream(&n->js_, n->nc_, &jo); s != NATS_OK) return NatsStatus("JetStream context", s);
  return n;
}

Nats::~Nats() {
  if (js_ != nullptr) jsCtx_Destroy(js_);
  if (nc_ != nullptr) {
    natsConnection_Close(nc_);
    natsConnection_Destroy(nc_);
  }
  if (opts_ != nullptr) natsOptions_Destroy(opts_);
}

bool Nats::connected() const { return natsConnection_Status(nc_) == NATS_CONN_STATUS_CONNECTED; }

absl::StatusOr<Nats::StreamState> Nats::Stream(const std::string& name) const {
  jsStreamInfo* si = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  if (natsStatus s = js_GetStreamInfo(&si, js_, name.c_str(), nullptr, &code); s != NATS_OK) {
    return NatsStatus(absl::StrCat("stream ", name), s, code);
  }
  StreamState out;
  out.messages = si->State.Msgs;
  out.first = si->State.FirstSeq;
  out.last = si->State.LastSeq;
  if (si->Config != nullptr) {
    if (si->Config->Description != nullptr) out.description = si->Config->Description;
    out.replicas = si->Config->Replicas;
  }
  if (si->Cluster != nullptr && si->Cluster->Leader != nullptr) out.leader = si->Cluster->Leader;
  jsStreamInfo_Destroy(si);
  return out;
}

absl::Status Nats::AddOrUpdateStream(jsStreamConfig* config) const {
  jsStreamInfo* si = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_AddStream(&si, js_, config, nullptr, &code);
  if (s != NATS_OK && code == JSStreamNameExistErr) {
    code = static_cast<jsErrCode>(0);
    s = js_UpdateStream(&si, js_, config, nullptr, &code);
  }
  if (si != nullptr) jsStreamInfo_Destroy(si);
  if (s != NATS_OK) return NatsStatus(absl::StrCat("creating stream ", config->Name), s, code);
  return absl::OkStatus();
}

absl::Status Nats::DeleteStream(const std::string& name) const {
  jsErrCode code = static_cast<jsErrCode>(0);
  if (natsStatus s = js_DeleteStream(js_, name.c_str(), nullptr, &code); s != NATS_OK) {
    return NatsStatus(absl::StrCat("deleting stream ", name), s, code);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<Msg>> Nats::GetMessage(const std::string& stream, uint64_t sequence) const {
  Msg msg;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetMsg(msg.out(), js_, stream.c_str(), sequence, nullptr, &code);
  if (s == NATS_NOT_FOUND || code == JSNoMessageFoundErr) return std::nullopt;
  if (s != NATS_OK) return NatsStatus(absl::StrCat("stream ", stream, " message ", sequence), s, code);
  return std::optional<Msg>(std::move(msg));
}

absl::StatusOr<bool> Nats::HasMessageOn(const std::string& stream, const std::string& subject) const {
  Msg msg;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetLastMsg(msg.out(), js_, stream.c_str(), subject.c_str(), nullptr, &code);
  if (s == NATS_NOT_FOUND || code == JSNoMessageFoundErr) return false;
  if (s != NATS_OK) return NatsStatus(absl::StrCat("stream ", stream, ", last message on ", subject), s, code);
  return true;
}

absl::StatusOr<Nats::Ack> Nats::Publish(Msg msg) const {
  jsPubAck* pa = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = absl::ToInt64Milliseconds(options_.api_timeout);
  const std::string subject(msg.subject());
  natsStatus s = js_PublishMsg(&pa, js_, msg.get(), &po, &code);
  if (s != NATS_OK) return NatsStatus(absl::StrCat("publish to ", subject), s, code);
  Ack ack{pa->Sequence, pa->Duplicate};
  jsPubAck_Destroy(pa);
  return ack;
}

absl::Status Nats::PublishCore(const std::string& subject, std::string_view data) const {
  if (natsStatus s = natsConnection_Publish(nc_, subject.c_str(), data.data(), static_cast<int>(data.size()));
      s != NATS_OK) {
    return NatsStatus(absl::StrCat("publish to ", subject), s);
  }
  return absl::OkStatus();
}

absl::StatusOr<Msg> Nats::Request(const std::string& subject, std::string_view data, absl::Duration timeout) const {
  Msg reply;
  natsStatus s = natsConnection_Request(reply.out(), nc_, subject.c_str(), data.data(), static_cast<int>(data.size()),
                                        absl::ToInt64Milliseconds(timeout));
  if (s != NATS_OK) return NatsStatus(absl::StrCat("request to ", subject), s);
  return reply;
}

absl::Status Nats::Flush(absl::Duration timeout) const {
  if (natsStatus s = natsConnection_FlushTimeout(nc_, absl::ToInt64Milliseconds(timeout)); s != NATS_OK) {
    return NatsStatus("flush", s);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Subscription>> Subscription::Subscribe(const Nats& nats, const std::string& subject,
                                                                      const std::string& queue, Handler handler) {
  std::unique_ptr<Subscription> sub(new Subscription());
  sub->handler_ = std::move(handler);
  natsStatus s = queue.empty()
                     ? natsConnection_Subscribe(&sub->sub_, nats.nc(), subject.c_str(), &Subscription::OnMessage, sub.get())
                     : natsConnection_QueueSubscribe(&sub->sub_, nats.nc(), subject.c_str(), queue.c_str(),
                                                     &Subscription::OnMessage, sub.get());
  if (s != NATS_OK) return NatsStatus(absl::StrCat("subscribe to ", subject), s);
  sub->async_ = true;
  (void)natsSubscription_SetOnCompleteCB(sub->sub_, &Subscription::OnComplete, sub.get());
  return sub;
}

void Subscription::OnComplete(void* closure) {
  auto* self = static_cast<Subscription*>(closure);
  std::lock_guard<std::mutex> lock(self->done_mu_);
  self->done_ = true;
  self->done_cv_.notify_all();
}

absl::StatusOr<std::unique_ptr<Subscription>> Subscription::Ordered(const Nats& nats, const std::string& stream,
                                                                    const std::string& filter, uint64_t start) {
  std::unique_ptr<Subscription> sub(new Subscription());
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = stream.c_str();
  so.Ordered = true;
  so.Config.DeliverPolicy = start <= 1 ? js_DeliverAll : js_DeliverByStartSequence;
  if (start > 1) so.Config.OptStartSeq = start;
  jsErrCode code = static_cast<jsErrCode>(0);
  if (natsStatus s = js_SubscribeSync(&sub->sub_, nats.js(), filter.c_str(), nullptr, &so, &code); s != NATS_OK) {
    return NatsStatus(absl::StrCat("consumer of ", stream, " on ", filter), s, code);
  }
  // A consumer that falls behind keeps up to this many messages buffered in the client.
  (void)natsSubscription_SetPendingLimits(sub->sub_, 65536, 512 << 20);
  return sub;
}

Subscription::~Subscription() {
  if (sub_ == nullptr) return;
  const bool unsubscribed = natsSubscription_Unsubscribe(sub_) == NATS_OK;
  if (async_ && unsubscribed) {
    // The on-complete callback comes once the handler has returned for good (a closed
    // connection completes it too); bounded, in case the client never calls it.
    std::unique_lock<std::mutex> lock(done_mu_);
    done_cv_.wait_for(lock, std::chrono::seconds(5), [this] { return done_; });
  }
  natsSubscription_Destroy(sub_);
}

uint64_t Subscription::Pending() const {
  int buffered = 0;
  (void)natsSubscription_GetPending(sub_, &buffered, nullptr);
  jsConsumerInfo* ci = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  uint64_t server = 1;  // Unknown: not done.
  if (natsSubscription_GetConsumerInfo(&ci, sub_, nullptr, &code) == NATS_OK && ci != nullptr) {
    server = ci->NumPending;
    jsConsumerInfo_Destroy(ci);
  }
  return server + static_cast<uint64_t>(std::max(buffered, 0));
}

absl::StatusOr<std::optional<Msg>> Subscription::Next(absl::Duration timeout) {
  Msg msg;
  natsStatus s = natsSubscription_NextMsg(msg.out(), sub_, absl::ToInt64Milliseconds(timeout));
  if (s == NATS_TIMEOUT) return std::nullopt;
  if (s != NATS_OK) return NatsStatus("next message", s);
  return std::optional<Msg>(std::move(msg));
}

void Subscription::OnMessage(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  auto* self = static_cast<Subscription*>(closure);
  self->handler_(Msg(msg));
}

}  // namespace omnijourney::cluster
