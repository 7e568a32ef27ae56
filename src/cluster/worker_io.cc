#include "cluster/worker_io.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/json.h"
#include "common/status_macros.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "omnijourney/context.h"
#include "omnijourney/event.h"

namespace omnijourney::cluster {
namespace {

// JetStream's answer to a second message on a subject of a stream with MaxMsgsPerSubject 1 and
// DiscardNewPerSubject.
bool AlreadyPublished(const absl::Status& s) {
  return absl::StrContains(s.message(), "maximum messages per subject exceeded");
}

std::string JsonString(const google::protobuf::Message& m) {
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(m, &out);
  return out;
}

std::string ErrorJson(std::string_view worker, const absl::Status& s) {
  google::protobuf::Struct e;
  (*e.mutable_fields())["worker"].set_string_value(std::string(worker));
  google::protobuf::Struct& error = *(*e.mutable_fields())["error"].mutable_struct_value();
  (*error.mutable_fields())["code"].set_string_value(absl::StatusCodeToString(s.code()));
  (*error.mutable_fields())["message"].set_string_value(std::string(s.message()));
  return JsonString(e);
}

}  // namespace

absl::StatusOr<std::string> CheckPosition(const Nats& nats, const v1::ClusterConfig& config, const SourcePosition& src) {
  const std::string stream = InputStream(config);
  absl::StatusOr<std::optional<Msg>> msg = nats.GetMessage(stream, src.position);
  if (!msg.ok()) return msg.status();
  if (msg->has_value()) {
    const std::string id = (*msg)->Header("Nats-Msg-Id");
    if (MessageCheck(id) != src.check) return absl::StrCat("the stream has another message there (", id, ")");
    return std::string();
  }
  absl::StatusOr<Nats::StreamState> state = nats.Stream(stream);
  if (!state.ok()) return state.status();
  if (state->last < src.position) {
    return absl::StrCat("the stream ends at sequence ", state->last, ": it was created again");
  }
  return std::string();  // Aged out or deleted: nothing to compare with.
}

std::string ActionJson(const JourneyAction& a) {
  google::protobuf::Struct s;
  auto& f = *s.mutable_fields();
  f["id"].set_string_value(a.id);
  f["tenant"].set_string_value(a.tenant);
  f["profile"].set_string_value(FormatProfileId(a.profile));
  f["journey"].set_string_value(a.journey);
  f["version"].set_number_value(a.version);
  f["transition"].set_string_value(a.transition);
  f["from_state"].set_string_value(a.from_state);
  f["to_state"].set_string_value(a.to_state);
  f["name"].set_string_value(a.name);
  f["channel"].set_string_value(a.channel);
  auto& params = *f["parameters"].mutable_struct_value()->mutable_fields();
  for (const auto& [k, v] : a.parameters) params[k].set_string_value(v);
  f["time"].set_string_value(FormatRfc3339(a.time));
  f["cause"].set_string_value(a.cause);
  const char* disposition = a.disposition == JourneyAction::Disposition::kDeliver    ? "deliver"
                            : a.disposition == JourneyAction::Disposition::kDeferred ? "deferred"
                                                                                      : "suppressed";
  f["disposition"].set_string_value(disposition);
  if (!a.disposition_reason.empty()) f["disposition_reason"].set_string_value(a.disposition_reason);
  return JsonString(s);
}

absl::StatusOr<bool> PublishAction(const Nats& nats, const v1::ClusterConfig& config, const JourneyAction& action) {
  absl::StatusOr<Msg> msg = Msg::Create(ActionSubject(config, action.tenant, action.id), ActionJson(action));
  if (!msg.ok()) return msg.status();
  // Ids are unique within a tenant; the subject says whose.
  if (absl::Status s = msg->SetHeader("Nats-Msg-Id", absl::StrCat(TenantToken(action.tenant), "/", action.id)); !s.ok()) {
    return s;
  }
  absl::StatusOr<Nats::Ack> ack = nats.Publish(*std::move(msg));
  if (!ack.ok()) {
    if (AlreadyPublished(ack.status())) return false;
    return ack.status();
  }
  return !ack->duplicate;
}

std::string AnswerContext(const v1::ClusterConfig& config, std::string_view worker, uint32_t partition, uint64_t applied,
                          const Engine& engine, std::string_view request) {
  absl::StatusOr<google::protobuf::Value> parsed = internal::ParseJson(request);
  if (!parsed.ok() || !parsed->has_struct_value()) {
    return ErrorJson(worker, absl::InvalidArgumentError("request: not a JSON object"));
  }
  const auto& f = parsed->struct_value().fields();
  auto str = [&](const char* key) {
    auto it = f.find(key);
    return it == f.end() ? std::string() : it->second.string_value();
  };
  const std::string tenant = str("tenant");
  if (PartitionOf(tenant, config.partitions()) != partition) {
    return ErrorJson(worker, absl::InvalidArgumentError(absl::StrCat("tenant '", tenant, "' is in partition ",
                                                                     PartitionOf(tenant, config.partitions()), ", not ",
                                                                     partition)));
  }
  absl::StatusOr<CustomerContext> ctx;
  if (!str("profile").empty()) {
    absl::StatusOr<ProfileId> id = ParseProfileId(str("profile"));
    ctx = id.ok() ? engine.Context(tenant, *id) : absl::StatusOr<CustomerContext>(id.status());
  } else if (str("type").empty() || str("value").empty()) {
    ctx = absl::InvalidArgumentError("request: give type and value, or profile");
  } else {
    ctx = engine.Context(IdentifierQuery{.tenant = tenant, .type = str("type"), .value = str("value")});
  }
  if (!ctx.ok()) return ErrorJson(worker, ctx.status());
  return absl::StrCat("{\"worker\":\"", internal::ToAbsl(worker), "\",\"partition\":", partition, ",\"applied\":", applied,
                      ",\"context\":", ContextToJson(*ctx), "}");
}

absl::StatusOr<std::string> RequestContext(const Nats& nats, const v1::ClusterConfig& config,
                                           const IdentifierQuery& query, absl::Duration timeout) {
  google::protobuf::Struct r;
  (*r.mutable_fields())["tenant"].set_string_value(query.tenant);
  (*r.mutable_fields())["type"].set_string_value(query.type);
  (*r.mutable_fields())["value"].set_string_value(query.value);
  const uint32_t p = PartitionOf(query.tenant, config.partitions());
  absl::StatusOr<Msg> reply = nats.Request(ContextSubject(config, p), JsonString(r), timeout);
  if (!reply.ok()) {
    return absl::Status(reply.status().code(), absl::StrCat("partition ", p, " of tenant '", query.tenant,
                                                            "': no worker answered (", reply.status().message(), ")"));
  }
  return std::string(reply->data());
}

absl::StatusOr<std::string> RequestControl(const Nats& nats, const v1::ClusterConfig& config, std::string_view worker,
                                           std::string_view command, absl::Duration timeout) {
  absl::StatusOr<Msg> reply = nats.Request(ControlSubject(config, worker), command, timeout);
  if (!reply.ok()) return reply.status();
  return std::string(reply->data());
}

}  // namespace omnijourney::cluster
