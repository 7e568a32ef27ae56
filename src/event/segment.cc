// Segment-spec JSON to interaction events.
//
// Spec followed: https://segment.com/docs/connections/spec/common/ (common fields, timestamps),
// identify, track, page, screen, group, alias, and the HTTP API batch envelope.
#include "omnijourney/segment.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/json.h"
#include "event/segment_names.h"
#include "event/segment_reader.h"
#include "common/lines.h"
#include "common/stable_hash.h"
#include "common/status_macros.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace omnijourney {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;
using internal::ChannelFromSegment;
using internal::ChannelHints;
using internal::Invalid;
using internal::IsOrderEvent;
using internal::Join;
using internal::KindOf;
using internal::ObjectReader;
using internal::Semantic;
using internal::SemanticOf;
using internal::ToAbsl;
using internal::Warning;
using internal::Warnings;


// A Segment time: ISO-8601 string or epoch milliseconds (number or digit string).
// Whether an ISO-8601 date-time names its offset ("Z", "+01:00", "-0500") after the time.
bool HasZone(std::string_view s) {
  const size_t t = s.find_first_of("Tt ");
  if (t == std::string_view::npos) return false;  // A date alone: midnight UTC, as zone-less.
  const std::string_view time = s.substr(t + 1);
  return time.find_first_of("Zz+-") != std::string_view::npos;
}

absl::StatusOr<std::optional<absl::Time>> ReadTime(const ObjectReader& obj, std::string_view key,
                                                   Warnings* warnings) {
  const Value* v = obj.Get(key);
  if (v == nullptr) return std::optional<absl::Time>();
  const std::string path = Join(obj.path(), key);
  if (v->kind_case() == Value::kNumberValue) {
    const double ms = v->number_value();
    // Timestamp's range, in milliseconds.
    if (!std::isfinite(ms) || ms < -62135596800000.0 || ms > 253402300799999.0) {
      return Invalid(path, "epoch milliseconds out of range");
    }
    return std::optional<absl::Time>(absl::FromUnixMicros(static_cast<int64_t>(std::llround(ms * 1000))));
  }
  if (v->kind_case() != Value::kStringValue) {
    return Invalid(path, absl::StrCat("expected an ISO-8601 string or epoch milliseconds, got ",
                                      ToAbsl(KindOf(*v))));
  }
  const std::string& s = v->string_value();
  if (s.empty()) return std::optional<absl::Time>();  // As absent: the other times decide.
  if (s.size() <= 16 &&
      std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::optional<absl::Time>(absl::FromUnixMillis(std::stoll(s)));
  }
  auto t = ParseIso8601(s);
  if (!t.ok()) return internal::Prefixed(absl::StrCat(path, ": "), t.status());
  if (!HasZone(s)) warnings->push_back({"time_without_zone", absl::StrCat(path, ": '", s, "' names no time zone; read as UTC")});
  return std::optional<absl::Time>(*t);
}

struct Times {
  std::optional<absl::Time> timestamp, original, sent, received;
};

// Segment's rule (spec/common, "Timestamps"): the time is the device's time corrected for the device
// clock's skew, receivedAt - (sentAt - originalTimestamp), as sentAt and receivedAt are taken to be
// the same moment.
// - A message Segment or RudderStack already processed (an export, a webhook, a warehouse row) has
//   receivedAt, and its `timestamp` is the corrected time; without one, it is corrected here from
//   originalTimestamp.
// - A message as a library sends it has no receivedAt: the device's time is `timestamp` (Segment's
//   libraries, or a time set by hand for a historical import) or originalTimestamp (RudderStack's),
//   corrected when the message has sentAt and the host says when it received it
//   (SegmentOptions::received_at). A server-side import without sentAt keeps its time.
absl::StatusOr<absl::Time> DeriveOccurredAt(const Times& t, const SegmentOptions& options) {
  if (t.received) {
    if (t.timestamp) return *t.timestamp;
    if (t.original && t.sent && options.correct_clock_skew) return *t.received - (*t.sent - *t.original);
    if (t.original) return *t.original;
    return *t.received;
  }
  const std::optional<absl::Time>& device = t.timestamp ? t.timestamp : t.original;
  const bool received = options.received_at != absl::InfinitePast();
  if (device && t.sent && received && options.correct_clock_skew) return options.received_at - (*t.sent - *device);
  if (device) return *device;
  if (received) return options.received_at;
  if (t.sent) return *t.sent;
  return Invalid("timestamp", "missing (none of timestamp, originalTimestamp, receivedAt, sentAt)");
}

// `into` gets the keys of `from` it does not have (top-level merge).
void MergeMissing(const Struct& from, Struct* into) {
  for (const auto& [k, v] : from.fields()) {
    if (!into->fields().contains(k)) (*into->mutable_fields())[k] = v;
  }
}

// The same at every depth: objects present in both are merged key by key (a message's own
// context.device keeps the envelope's device id it lacks).
void DeepMergeMissing(const Struct& from, Struct* into, int depth = 0) {
  for (const auto& [k, v] : from.fields()) {
    auto it = into->mutable_fields()->find(k);
    if (it == into->mutable_fields()->end()) {
      (*into->mutable_fields())[k] = v;
    } else if (depth < 16 && v.kind_case() == Value::kStructValue &&
               it->second.kind_case() == Value::kStructValue) {
      DeepMergeMissing(v.struct_value(), it->second.mutable_struct_value(), depth + 1);
    }
  }
}

// Adds an identifier once per (type, value).
class IdentifierSet {
 public:
  explicit IdentifierSet(Event* event) : event_(event) {}
  void Add(std::string_view type, std::string_view value) {
    if (value.empty()) return;
    if (!seen_.insert(absl::StrCat(ToAbsl(type), "\x1f", ToAbsl(value))).second) return;
    auto* id = event_->add_identifiers();
    id->set_type(std::string(type));
    id->set_value(std::string(value));
  }

 private:
  Event* event_;
  absl::flat_hash_set<std::string> seen_;
};

// A field that is not what the spec says is dropped with a warning, as Segment keeps the message.

void ReadIdentifierTraits(const ObjectReader& traits, const SegmentOptions& options, IdentifierSet* ids,
                          Warnings* warnings) {
  for (const auto& [key, type] : options.trait_identifiers) {
    absl::StatusOr<std::string> value = traits.Strict().String(key);
    if (!value.ok()) {
      warnings->push_back({"identifier_not_a_string", absl::StrCat(value.status().message(), "; not used as an identifier")});
      continue;
    }
    ids->Add(type, *value);
  }
}

// The order's or event's amount as Money: `total` (the order value of the e-commerce spec), else
// `revenue` for orders; `revenue`, else `total` for other events. `value` (Segment's abstract
// value of an event) stays a property. An amount within a millionth of a whole cent is that cent
// (JavaScript's 4.35 * 100 is 434.99999999999994). A non-numeric amount or a currency that is not
// three letters leaves the amount in the properties only, with a warning.
void ReadValue(const ObjectReader& props, const SegmentOptions& options, bool order, Event* event, Warnings* warnings) {
  const std::string_view keys[2] = {order ? "total" : "revenue", order ? "revenue" : "total"};
  for (std::string_view key : keys) {
    const Value* v = props.Get(key);
    if (v == nullptr) continue;
    const std::string path = Join(props.path(), key);
    if (v->kind_case() != Value::kNumberValue) {
      warnings->push_back({"amount_not_used", absl::StrCat(path, ": expected a number, got ", ToAbsl(KindOf(*v)), "; not used as the value")});
      continue;
    }
    const double amount = v->number_value();
    if (!std::isfinite(amount) || std::fabs(amount) > 9e12) {
      warnings->push_back({"amount_not_used", absl::StrCat(path, ": amount out of range; not used as the value")});
      continue;
    }
    absl::StatusOr<std::string> currency = props.Strict().String("currency");
    if (!currency.ok()) {
      warnings->push_back({"amount_not_used", absl::StrCat(currency.status().message(), "; the amount is not used as the value")});
      return;
    }
    std::string code = currency->empty() ? options.default_currency : absl::AsciiStrToUpper(*currency);
    if (code.size() != 3 || !std::all_of(code.begin(), code.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
      warnings->push_back({"amount_not_used", absl::StrCat(Join(props.path(), "currency"), ": '", ToAbsl(std::string_view(code).substr(0, 40)),
                                       "' is not an ISO 4217 code; the amount is not used as the value")});
      return;
    }
    int64_t micros = std::llround(amount * 1e6);
    const double cents = amount * 100;
    if (std::fabs(cents - std::round(cents)) < 1e-4) micros = std::llround(std::round(cents)) * 10000;
    auto* money = event->mutable_value();
    money->set_currency(std::move(code));
    money->set_units(micros / 1000000);
    money->set_nanos(static_cast<int32_t>(micros % 1000000) * 1000);
    return;
  }
}

// `*library_name`: context.library.name alone (the channel is inferred from it).
absl::Status ReadContext(const ObjectReader& ctx, const ObjectReader& props, v1::EventKind kind,
                         v1::Context* out, std::string* library_name) {
  ASSIGN_OR_RETURN(*out->mutable_ip(), ctx.String("ip"));
  ASSIGN_OR_RETURN(*out->mutable_user_agent(), ctx.String("userAgent"));
  if (out->user_agent().empty()) {
    ASSIGN_OR_RETURN(*out->mutable_user_agent(), ctx.String("user_agent"));
  }
  ASSIGN_OR_RETURN(*out->mutable_locale(), ctx.String("locale"));
  ASSIGN_OR_RETURN(*out->mutable_timezone(), ctx.String("timezone"));

  ASSIGN_OR_RETURN(ObjectReader page, ctx.Object("page"));
  // A page call carries the page in its properties; context.page wins when both are present.
  const ObjectReader& page_props = props;
  for (auto [key, field] : std::initializer_list<std::pair<std::string_view, std::string*>>{
           {"url", out->mutable_page()->mutable_url()},
           {"path", out->mutable_page()->mutable_path()},
           {"referrer", out->mutable_page()->mutable_referrer()},
           {"title", out->mutable_page()->mutable_title()},
           {"search", out->mutable_page()->mutable_search()}}) {
    ASSIGN_OR_RETURN(*field, page.String(key));
    if (field->empty() && kind == v1::EVENT_KIND_PAGE) {
      ASSIGN_OR_RETURN(*field, page_props.String(key));
    }
  }
  ASSIGN_OR_RETURN(ObjectReader campaign, ctx.Object("campaign"));
  auto* c = out->mutable_campaign();
  ASSIGN_OR_RETURN(*c->mutable_source(), campaign.String("source"));
  ASSIGN_OR_RETURN(*c->mutable_medium(), campaign.String("medium"));
  ASSIGN_OR_RETURN(*c->mutable_name(), campaign.String("name"));
  ASSIGN_OR_RETURN(*c->mutable_term(), campaign.String("term"));
  ASSIGN_OR_RETURN(*c->mutable_content(), campaign.String("content"));

  ASSIGN_OR_RETURN(ObjectReader device, ctx.Object("device"));
  auto* d = out->mutable_device();
  ASSIGN_OR_RETURN(*d->mutable_id(), device.String("id"));
  ASSIGN_OR_RETURN(*d->mutable_type(), device.String("type"));
  ASSIGN_OR_RETURN(*d->mutable_manufacturer(), device.String("manufacturer"));
  ASSIGN_OR_RETURN(*d->mutable_model(), device.String("model"));
  ASSIGN_OR_RETURN(*d->mutable_name(), device.String("name"));
  ASSIGN_OR_RETURN(*d->mutable_advertising_id(), device.String("advertisingId"));
  ASSIGN_OR_RETURN(ObjectReader os, ctx.Object("os"));
  ASSIGN_OR_RETURN(*d->mutable_os_name(), os.String("name"));
  ASSIGN_OR_RETURN(*d->mutable_os_version(), os.String("version"));

  ASSIGN_OR_RETURN(ObjectReader app, ctx.Object("app"));
  ASSIGN_OR_RETURN(*out->mutable_app()->mutable_name(), app.String("name"));
  ASSIGN_OR_RETURN(*out->mutable_app()->mutable_version(), app.String("version"));
  ASSIGN_OR_RETURN(*out->mutable_app()->mutable_build(), app.String("build"));

  ASSIGN_OR_RETURN(ObjectReader library, ctx.Object("library"));
  ASSIGN_OR_RETURN(std::string lib_name, library.String("name"));
  ASSIGN_OR_RETURN(std::string lib_version, library.String("version"));
  out->set_library(lib_version.empty() ? lib_name : absl::StrCat(lib_name, "/", lib_version));
  *library_name = std::move(lib_name);
  // The rest as sent (location, network, screen, referrer, userAgentData, ...).
  if (ctx.raw() != nullptr) {
    static const auto* const kMapped = new absl::flat_hash_set<std::string>(
        {"ip", "userAgent", "user_agent", "locale", "timezone", "page", "campaign", "device", "os", "app", "library", "traits",
         "sessionId", "groupId"});
    for (const auto& [key, value] : ctx.raw()->fields()) {
      if (!kMapped->contains(key) && value.kind_case() != Value::kNullValue) (*out->mutable_extra()->mutable_fields())[key] = value;
    }
  }
  return absl::OkStatus();
}

// A messageId for a message without one: a hash of its content, so a re-delivery of the same
// payload is the same event.
std::string MessageIdOf(const Struct& msg) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream out(&stream);
    out.SetSerializationDeterministic(true);
    msg.SerializeToCodedStream(&out);
  }
  char hex[40];
  const uint64_t a = internal::StableHash(0x6f6d6e69, bytes), b = internal::StableHash(0x6a6f7572, bytes);
  std::snprintf(hex, sizeof(hex), "%016llx%016llx", static_cast<unsigned long long>(a), static_cast<unsigned long long>(b));
  return absl::StrCat("gen-", hex);
}

// Cuts `s` to at most `max` bytes at a UTF-8 boundary, with a warning naming `path`.
void Cut(std::string_view path, size_t max, std::string* s, Warnings* warnings) {
  if (s->size() <= max) return;
  size_t end = max;
  while (end > 0 && (static_cast<unsigned char>((*s)[end]) & 0xC0) == 0x80) --end;
  warnings->push_back({"string_cut", absl::StrCat(ToAbsl(path), ": ", s->size(), " bytes, cut to ", end)});
  s->resize(end);
}

// Strings over the validation limits, cut where Segment would keep the message.
void CutLongStrings(const SegmentOptions& options, Event* e, Warnings* warnings) {
  Cut("event", 256, e->mutable_name(), warnings);
  Cut("properties.conversation_id", options.max_string_bytes, e->mutable_conversation_id(), warnings);
  Cut("properties.agent_id", options.max_string_bytes, e->mutable_agent_id(), warnings);
  const size_t max = options.max_string_bytes;
  v1::Context* c = e->mutable_context();
  const std::pair<std::string_view, std::string*> strings[] = {
      {"sessionId", e->mutable_session_id()},
      {"groupId", e->mutable_group_id()},
      {"context.userAgent", c->mutable_user_agent()},
      {"context.locale", c->mutable_locale()},
      {"context.timezone", c->mutable_timezone()},
      {"context.library", c->mutable_library()},
      {"context.page.url", c->mutable_page()->mutable_url()},
      {"context.page.path", c->mutable_page()->mutable_path()},
      {"context.page.referrer", c->mutable_page()->mutable_referrer()},
      {"context.page.title", c->mutable_page()->mutable_title()},
      {"context.page.search", c->mutable_page()->mutable_search()},
      {"context.campaign.source", c->mutable_campaign()->mutable_source()},
      {"context.campaign.medium", c->mutable_campaign()->mutable_medium()},
      {"context.campaign.name", c->mutable_campaign()->mutable_name()},
      {"context.campaign.term", c->mutable_campaign()->mutable_term()},
      {"context.campaign.content", c->mutable_campaign()->mutable_content()},
      {"context.device.type", c->mutable_device()->mutable_type()},
      {"context.device.manufacturer", c->mutable_device()->mutable_manufacturer()},
      {"context.device.model", c->mutable_device()->mutable_model()},
      {"context.device.name", c->mutable_device()->mutable_name()},
      {"context.os.name", c->mutable_device()->mutable_os_name()},
      {"context.os.version", c->mutable_device()->mutable_os_version()},
      {"context.app.name", c->mutable_app()->mutable_name()},
      {"context.app.version", c->mutable_app()->mutable_version()},
      {"context.app.build", c->mutable_app()->mutable_build()},
  };
  for (const auto& [path, value] : strings) Cut(path, max, value, warnings);
}

// Converts one Segment message object. `path` prefixes field names in errors ("" or "batch[3]").
absl::StatusOr<Event> ConvertMessage(const Struct& msg, const std::string& path, const SegmentOptions& options,
                                     Warnings* warnings) {
  ObjectReader root(&msg, path);
  Event event;

  ASSIGN_OR_RETURN(std::string type, root.String("type"));
  // The partner specs (live chat, email) name the call type `action`, as Segment's first API did.
  if (type.empty()) {
    ASSIGN_OR_RETURN(type, root.String("action"));
  }
  if (type.empty()) type = options.default_type;
  type = absl::AsciiStrToLower(type);
  v1::EventKind kind;
  if (type == "identify") kind = v1::EVENT_KIND_IDENTIFY;
  else if (type == "track") kind = v1::EVENT_KIND_TRACK;
  else if (type == "page") kind = v1::EVENT_KIND_PAGE;
  else if (type == "screen") kind = v1::EVENT_KIND_SCREEN;
  else if (type == "group") kind = v1::EVENT_KIND_GROUP;
  else if (type == "alias") kind = v1::EVENT_KIND_ALIAS;
  else if (type.empty()) return Invalid(Join(path, "type"), "missing");
  else {
    return Invalid(Join(path, "type"),
                   absl::StrCat("unsupported call type '", ToAbsl(std::string_view(type).substr(0, 40)),
                                "' (expected identify, track, page, screen, group, alias or delete)"));
  }

  ASSIGN_OR_RETURN(std::string message_id, root.String("messageId"));
  if (message_id.empty()) {
    if (!options.generate_message_id) return Invalid(Join(path, "messageId"), "missing");
    message_id = MessageIdOf(msg);
    warnings->push_back({"message_id_made", absl::StrCat(Join(path, "messageId"), ": missing; made from the message: ", message_id)});
  }
  event.set_event_id(std::move(message_id));
  event.set_source(options.source);
  event.set_tenant(options.tenant);
  event.set_provider(options.provider);

  switch (kind) {
    case v1::EVENT_KIND_TRACK: {
      ASSIGN_OR_RETURN(std::string name, root.String("event"));
      if (name.empty()) return Invalid(Join(path, "event"), "missing (required for track calls)");
      if (options.order_events_as_orders && IsOrderEvent(name)) kind = v1::EVENT_KIND_ORDER;
      event.set_name(std::move(name));
      break;
    }
    case v1::EVENT_KIND_PAGE:
    case v1::EVENT_KIND_SCREEN: {
      ASSIGN_OR_RETURN(*event.mutable_name(), root.String("name"));
      break;
    }
    case v1::EVENT_KIND_GROUP: {
      ASSIGN_OR_RETURN(*event.mutable_group_id(), root.String("groupId"));
      if (event.group_id().empty()) return Invalid(Join(path, "groupId"), "missing (required for group calls)");
      break;
    }
    default:
      break;
  }
  event.set_kind(kind);
  // Customer actions are inbound contacts; identify/group/alias describe the customer.
  event.set_direction(kind == v1::EVENT_KIND_IDENTIFY || kind == v1::EVENT_KIND_GROUP ||
                              kind == v1::EVENT_KIND_ALIAS
                          ? v1::DIRECTION_INTERNAL
                          : v1::DIRECTION_INBOUND);

  Times times;
  ASSIGN_OR_RETURN(times.timestamp, ReadTime(root, "timestamp", warnings));
  ASSIGN_OR_RETURN(times.original, ReadTime(root, "originalTimestamp", warnings));
  ASSIGN_OR_RETURN(times.sent, ReadTime(root, "sentAt", warnings));
  ASSIGN_OR_RETURN(times.received, ReadTime(root, "receivedAt", warnings));
  auto occurred = DeriveOccurredAt(times, options);
  if (!occurred.ok()) return internal::Prefixed(path.empty() ? "" : path + ".", occurred.status());
  *event.mutable_occurred_at() = ToTimestamp(*occurred);
  if (times.sent) *event.mutable_sent_at() = ToTimestamp(*times.sent);
  if (times.received) {
    *event.mutable_received_at() = ToTimestamp(*times.received);
  } else if (options.received_at != absl::InfinitePast()) {
    *event.mutable_received_at() = ToTimestamp(options.received_at);
  }

  // What describes the event rather than making it one: a field of the wrong type is dropped.
  const ObjectReader lenient = root.Lenient(warnings);
  ASSIGN_OR_RETURN(ObjectReader context, lenient.Object("context"));
  ASSIGN_OR_RETURN(ObjectReader properties, lenient.Object("properties"));
  ASSIGN_OR_RETURN(ObjectReader traits, lenient.Object("traits"));
  ASSIGN_OR_RETURN(ObjectReader context_traits, context.Object("traits"));

  IdentifierSet ids(&event);
  ASSIGN_OR_RETURN(std::string user_id, root.String("userId"));
  ASSIGN_OR_RETURN(std::string anonymous_id, root.String("anonymousId"));
  // The partner specs' examples write them in snake case.
  if (user_id.empty()) {
    ASSIGN_OR_RETURN(user_id, root.String("user_id"));
  }
  if (anonymous_id.empty()) {
    ASSIGN_OR_RETURN(anonymous_id, root.String("anonymous_id"));
  }
  if (user_id.empty() && anonymous_id.empty()) {
    return Invalid(Join(path, "userId"), "missing (a message needs userId or anonymousId)");
  }
  ids.Add("user_id", user_id);
  ids.Add("anonymous_id", anonymous_id);
  // A group call's traits are the account's (its name, its address): never the person's.
  if (kind != v1::EVENT_KIND_GROUP) ReadIdentifierTraits(traits, options, &ids, warnings);
  ReadIdentifierTraits(context_traits, options, &ids, warnings);
  ASSIGN_OR_RETURN(ObjectReader device, context.Object("device"));
  ASSIGN_OR_RETURN(std::string device_id, device.String("id"));
  ids.Add("device_id", device_id);
  ASSIGN_OR_RETURN(std::string push_token, device.String("token"));
  ids.Add("push_token", push_token);

  if (kind == v1::EVENT_KIND_ALIAS) {
    ASSIGN_OR_RETURN(std::string previous, root.String("previousId"));
    if (previous.empty()) return Invalid(Join(path, "previousId"), "missing (required for alias calls)");
    event.mutable_previous_id()->set_type(options.alias_previous_id_type);
    event.mutable_previous_id()->set_value(std::move(previous));
  }

  if (properties.raw() != nullptr) *event.mutable_properties() = *properties.raw();
  if (kind == v1::EVENT_KIND_PAGE) {
    ASSIGN_OR_RETURN(std::string category, lenient.String("category"));
    if (!category.empty() && !event.properties().fields().contains("category")) {
      (*event.mutable_properties()->mutable_fields())["category"].set_string_value(category);
    }
  }
  if (kind == v1::EVENT_KIND_GROUP) {
    // The account's traits are the group event's properties, apart from the person's traits.
    if (traits.raw() != nullptr) MergeMissing(*traits.raw(), event.mutable_properties());
  } else if (traits.raw() != nullptr) {
    *event.mutable_traits() = *traits.raw();
  }
  if (context_traits.raw() != nullptr) MergeMissing(*context_traits.raw(), event.mutable_traits());

  ReadValue(properties, options, kind == v1::EVENT_KIND_ORDER, &event, warnings);

  ASSIGN_OR_RETURN(*event.mutable_session_id(), context.String("sessionId"));
  if (kind != v1::EVENT_KIND_GROUP) {
    // The account a B2B event is about (context.groupId, as Segment's destinations read it).
    ASSIGN_OR_RETURN(*event.mutable_group_id(), context.String("groupId"));
  }
  ChannelHints hints;
  RETURN_IF_ERROR(ReadContext(context, properties, kind, event.mutable_context(), &hints.library));
  ASSIGN_OR_RETURN(hints.channel, lenient.String("channel"));
  hints.os = event.context().device().os_name();
  const v1::Page& page = event.context().page();
  hints.page = !page.url().empty() || !page.path().empty() || !page.title().empty();
  hints.user_agent = !event.context().user_agent().empty();
  event.set_channel(options.channel != v1::CHANNEL_UNSPECIFIED ? options.channel : ChannelFromSegment(hints, kind));
  std::optional<Semantic> semantic;
  if (options.semantic_events && kind == v1::EVENT_KIND_TRACK) semantic = SemanticOf(event.name());
  static constexpr const char* kEmailKeys[] = {"email_id", "email_subject", "campaign_id", "list_id"};
  if (semantic && semantic->needs_email && std::none_of(std::begin(kEmailKeys), std::end(kEmailKeys), [&](const char* key) {
        return properties.Get(key) != nullptr;
      })) {
    semantic.reset();
  }
  if (semantic) {
    event.set_kind(semantic->kind);
    if (semantic->channel != v1::CHANNEL_UNSPECIFIED && options.channel == v1::CHANNEL_UNSPECIFIED) {
      event.set_channel(semantic->channel);
    }
    event.set_direction(semantic->direction);
    auto text = [&](std::string_view key) -> std::string {
      absl::StatusOr<std::string> v = properties.String(key);  // Lenient: never an error.
      return v.ok() ? *std::move(v) : std::string();
    };
    // The body moves to `text` (not kept twice: a long message would double the event's size).
    auto body = [&](const char* key) {
      event.set_text(text(key));
      if (!event.text().empty()) event.mutable_properties()->mutable_fields()->erase(key);
    };
    if (semantic->chat) {
      event.set_conversation_id(text("conversation_id"));
      std::string agent = text("agent_id");
      event.set_agent_id(agent.empty() ? text("agent_username") : std::move(agent));
      body("message_body");
    } else if (semantic->kind == v1::EVENT_KIND_FEEDBACK) {
      body("review_body");
    }
  }
  CutLongStrings(options, &event, warnings);
  if (event.context().ip().empty()) {
    // RudderStack's server puts the client's address in request_ip, with its port ("[::1]:62312",
    // "203.0.113.7:51234").
    ASSIGN_OR_RETURN(std::string ip, lenient.String("request_ip"));
    if (!ip.empty() && ip[0] == '[') {
      const size_t close = ip.find(']');
      ip = close == std::string::npos ? ip.substr(1) : ip.substr(1, close - 1);
    } else if (std::count(ip.begin(), ip.end(), ':') == 1) {
      ip.resize(ip.find(':'));
    }
    event.mutable_context()->set_ip(std::move(ip));
  }
  if (options.phone_region_from_locale) {
    // "en-US", "cs_CZ", "zh-Hant-TW": the last part when it is two letters.
    const std::string& locale = event.context().locale();
    const size_t sep = locale.find_last_of("-_");
    if (sep != std::string::npos && locale.size() - sep == 3 && absl::ascii_isalpha(static_cast<unsigned char>(locale[sep + 1])) &&
        absl::ascii_isalpha(static_cast<unsigned char>(locale[sep + 2]))) {
      const std::string region = absl::AsciiStrToUpper(locale.substr(sep + 1));
      for (v1::Identifier& id : *event.mutable_identifiers()) {
        if (id.type() == "phone" || id.type() == "whatsapp" || id.type() == "viber") id.set_region(region);
      }
    }
  }
  return event;
}

// Applies a batch envelope's shared sentAt/context to one of its messages.
Struct InheritFromBatch(const Struct& msg, const Struct& envelope) {
  Struct merged = msg;
  auto& fields = *merged.mutable_fields();
  for (std::string_view key : {"sentAt", "receivedAt"}) {
    auto it = envelope.fields().find(std::string(key));
    if (it != envelope.fields().end() && !fields.contains(std::string(key))) {
      fields[std::string(key)] = it->second;
    }
  }
  auto ctx = envelope.fields().find("context");
  if (ctx != envelope.fields().end() && ctx->second.kind_case() == Value::kStructValue) {
    Value& own = fields["context"];
    if (own.kind_case() != Value::kStructValue) {
      if (own.kind_case() == Value::KIND_NOT_SET || own.kind_case() == Value::kNullValue) {
        own = ctx->second;
      }
    } else {
      DeepMergeMissing(ctx->second.struct_value(), own.mutable_struct_value());
    }
  }
  return merged;
}

// Converts a parsed document (message, batch envelope or array), parsed from `text`. `line` is for
// RecordError.
void ConvertDocument(const Value& doc, std::string_view text, int line, int first_index, const SegmentOptions& options,
                     ParsedEvents* out) {
  // Segment's limit is on each message's JSON as sent; a document within it holds no message over it.
  std::vector<size_t> sizes;
  const size_t limit = options.max_message_bytes;
  const bool measure = limit > 0 && text.size() > limit;
  if (measure) sizes = internal::JsonListElementSizes(text);
  auto too_large = [&](size_t bytes, const std::string& path) -> std::optional<absl::Status> {
    if (!measure || bytes <= limit) return std::nullopt;
    return Invalid(path.empty() ? "message" : path,
                   absl::StrCat(bytes, " bytes of JSON, over the limit of ", limit, " (Segment's 32 KB)"));
  };
  auto add_error = [&](int index, absl::Status status) {
    if (line > 0) status = internal::Prefixed(absl::StrCat("line ", line, ": "), status);
    out->errors.push_back(RecordError{line, index, std::move(status)});
  };
  // A `delete` call is an erasure request, not an event.
  auto erasure = [&](const Struct& msg, int index, const std::string& path) -> bool {
    auto type = msg.fields().find("type");
    if (type == msg.fields().end() || type->second.kind_case() != Value::kStringValue ||
        absl::AsciiStrToLower(type->second.string_value()) != "delete") {
      return false;
    }
    ErasureRequest request{line, index, options.tenant, {}};
    ObjectReader root(&msg, path);
    for (auto [key, id_type] : {std::pair<const char*, const char*>{"userId", "user_id"}, {"anonymousId", "anonymous_id"}}) {
      absl::StatusOr<std::string> value = root.String(key);
      if (value.ok() && !value->empty()) request.identifiers.emplace_back(id_type, *value);
    }
    if (request.identifiers.empty()) {
      add_error(index, Invalid(Join(path, "userId"), "missing (a delete call needs userId or anonymousId)"));
    } else {
      out->erasures.push_back(std::move(request));
    }
    return true;
  };
  Warnings warnings;
  auto add_warnings = [&](int index) {
    // A field read twice (context.device: for the context and for the identifiers) warns once.
    for (size_t i = 1; i < warnings.size(); ++i) {
      if (std::find(warnings.begin(), warnings.begin() + static_cast<std::ptrdiff_t>(i), warnings[i]) !=
          warnings.begin() + static_cast<std::ptrdiff_t>(i)) {
        warnings.erase(warnings.begin() + static_cast<std::ptrdiff_t>(i--));
      }
    }
    for (Warning& w : warnings) {
      ++out->warning_counts[w.kind];
      out->warnings.push_back(
          RecordWarning{line, index, line > 0 ? absl::StrCat("line ", line, ": ", w.message) : std::move(w.message), w.kind});
    }
    warnings.clear();
  };
  auto convert_list = [&](const google::protobuf::ListValue& list, std::string_view name,
                          const Struct* envelope) {
    for (int i = 0; i < list.values_size(); ++i) {
      const std::string path = absl::StrCat(ToAbsl(name), "[", i, "]");
      const Value& item = list.values(i);
      if (item.kind_case() != Value::kStructValue) {
        add_error(first_index + i,
                  Invalid(path, absl::StrCat("expected an object, got ", ToAbsl(KindOf(item)))));
        continue;
      }
      if (erasure(item.struct_value(), first_index + i, path)) continue;
      if (auto big = too_large(static_cast<size_t>(i) < sizes.size() ? sizes[i] : 0, path)) {
        add_error(first_index + i, *std::move(big));
        out->errors.back().too_large = true;
        continue;
      }
      absl::StatusOr<Event> event =
          envelope ? ConvertMessage(InheritFromBatch(item.struct_value(), *envelope), path, options, &warnings)
                   : ConvertMessage(item.struct_value(), path, options, &warnings);
      if (event.ok()) {
        out->events.push_back(*std::move(event));
        add_warnings(first_index + i);
      } else {
        warnings.clear();
        add_error(first_index + i, event.status());
      }
    }
  };

  if (doc.kind_case() == Value::kListValue) {
    convert_list(doc.list_value(), "", nullptr);
    return;
  }
  if (doc.kind_case() != Value::kStructValue) {
    add_error(first_index, Invalid("message", absl::StrCat("expected an object, got ", ToAbsl(KindOf(doc)))));
    return;
  }
  const Struct& obj = doc.struct_value();
  auto batch = obj.fields().find("batch");
  if (batch != obj.fields().end()) {
    if (batch->second.kind_case() != Value::kListValue) {
      add_error(first_index, Invalid("batch", absl::StrCat("expected an array, got ",
                                                           ToAbsl(KindOf(batch->second)))));
      return;
    }
    convert_list(batch->second.list_value(), "batch", &obj);
    return;
  }
  if (erasure(obj, first_index, "")) return;
  if (auto big = too_large(internal::ToStd(absl::StripLeadingAsciiWhitespace(internal::ToAbsl(text))).size(), "")) {
    add_error(first_index, *std::move(big));
    out->errors.back().too_large = true;
    return;
  }
  absl::StatusOr<Event> event = ConvertMessage(obj, "", options, &warnings);
  if (event.ok()) {
    out->events.push_back(*std::move(event));
    add_warnings(first_index);
  } else {
    warnings.clear();
    add_error(first_index, event.status());
  }
}

}  // namespace

namespace {

// A UTF-8 byte order mark at the start (files saved by some editors) is not part of the JSON.
std::string_view WithoutBom(std::string_view text) {
  return text.substr(0, 3) == "\xEF\xBB\xBF" ? text.substr(3) : text;
}

}  // namespace

absl::StatusOr<ParsedEvents> ParseSegmentJson(std::string_view json, const SegmentOptions& options) {
  json = WithoutBom(json);
  internal::JsonParseOptions parse_options;
  parse_options.max_depth = options.max_json_depth;
  ASSIGN_OR_RETURN(Value doc, internal::ParseJson(json, parse_options));
  ParsedEvents out;
  if (doc.kind_case() == Value::kStructValue) {
    auto key = doc.struct_value().fields().find("writeKey");
    if (key != doc.struct_value().fields().end() && key->second.kind_case() == Value::kStringValue) {
      out.write_key = key->second.string_value();
    }
  }
  ConvertDocument(doc, json, 0, 0, options, &out);
  return out;
}

ParsedEvents ParseSegmentJsonLines(std::string_view text, const SegmentOptions& options) {
  text = WithoutBom(text);
  ParsedEvents out;
  internal::JsonParseOptions parse_options;
  parse_options.max_depth = options.max_json_depth;
  int index = 0;
  internal::ForEachNonBlankLine(text, [&](int line_no, std::string_view line) {
    parse_options.first_line = line_no;
    absl::StatusOr<Value> doc = internal::ParseJson(line, parse_options);
    if (!doc.ok()) {
      out.errors.push_back(RecordError{line_no, index++, doc.status()});
      return;
    }
    // A batch line counts as many records as it holds.
    const size_t before = out.events.size() + out.errors.size();
    ConvertDocument(*doc, line, line_no, index, options, &out);
    index += static_cast<int>(out.events.size() + out.errors.size() - before);
  });
  return out;
}

}  // namespace omnijourney
