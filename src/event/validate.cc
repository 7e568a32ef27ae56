// Event validation: every rule reports the path of the field it rejects.
#include "omnijourney/validate.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <string_view>

#include "absl/strings/cord.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/types/optional.h"
#include "common/limit.h"
#include "common/status_macros.h"
#include "common/utf8.h"

namespace omnijourney {
namespace {

using internal::ToAbsl;

// A field's path as a chain of segments on the stack ("identifiers" [1] "value"), rendered only when
// a rule rejects the field: accepted events build no path strings.
class Path {
 public:
  Path(const char* name) : name_(name) {}         // NOLINT: a root field by name.
  Path(std::string_view name) : name_(name) {}    // NOLINT
  Path(const Path& parent, std::string_view name) : parent_(&parent), name_(name) {}
  Path(const Path& parent, int index) : parent_(&parent), index_(index) {}

  std::string ToString() const {
    std::string out = parent_ == nullptr ? std::string() : parent_->ToString();
    if (index_ >= 0) {
      absl::StrAppend(&out, "[", index_, "]");
    } else {
      absl::StrAppend(&out, out.empty() ? "" : ".", ToAbsl(name_));
    }
    return out;
  }

 private:
  const Path* parent_ = nullptr;
  std::string_view name_;
  int index_ = -1;
};

absl::Status Invalid(const Path& path, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(path.ToString(), ": ", ToAbsl(what)));
}

// An error for a broken resource limit: tagged with the option's name (see ExceededLimit).
absl::Status OverLimit(const Path& path, std::string_view what, std::string_view option) {
  absl::Status status = Invalid(path, what);
  if (!option.empty()) internal::TagLimit(status, option);
  return status;
}

// UTF-8 and length check for an optional string field; `option` names the length limit (empty for
// a fixed limit of the schema).
absl::Status CheckString(const Path& path, std::string_view value, size_t max_bytes, std::string_view option) {
  if (value.size() > max_bytes) {
    return OverLimit(path, absl::StrCat(value.size(), " bytes exceeds the limit of ", max_bytes), option);
  }
  if (size_t bad = internal::FindInvalidUtf8(value); bad != value.size()) {
    return Invalid(path, absl::StrCat("invalid UTF-8 at byte ", bad));
  }
  return absl::OkStatus();
}

// A required id-like string: non-empty, bounded, UTF-8, no control characters.
absl::Status CheckId(const Path& path, std::string_view value, size_t max_bytes) {
  if (value.empty()) return Invalid(path, "missing");
  RETURN_IF_ERROR(CheckString(path, value, max_bytes, "validation.max_id_bytes"));
  if (internal::HasControlChar(value)) return Invalid(path, "contains a control character");
  return absl::OkStatus();
}

bool IsBlank(std::string_view s) {
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v') return false;
  }
  return true;
}

absl::Status CheckIdentifier(const Path& path, const v1::Identifier& id,
                             const ValidationOptions& options) {
  const std::string& type = id.type();
  const Path type_path(path, "type");
  if (type.empty()) return Invalid(type_path, "missing");
  if (type.size() > 32) {
    return Invalid(type_path, "longer than 32 characters");
  }
  for (char c : type) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
      return Invalid(type_path,
                     absl::StrCat("'", ToAbsl(type).substr(0, 40),
                                  "' must be lowercase snake_case [a-z0-9_]"));
    }
  }
  const Path value_path(path, "value");
  if (id.value().empty()) return Invalid(value_path, "missing");
  RETURN_IF_ERROR(
      CheckString(value_path, id.value(), options.max_identifier_bytes, "validation.max_identifier_bytes"));
  if (IsBlank(id.value())) return Invalid(value_path, "blank");
  if (const std::string& region = id.region();
      !region.empty() && (region.size() != 2 || !absl::ascii_isupper(static_cast<unsigned char>(region[0])) ||
                          !absl::ascii_isupper(static_cast<unsigned char>(region[1])))) {
    return Invalid(Path(path, "region"), absl::StrCat("'", ToAbsl(region).substr(0, 40),
                                                      "' must be an ISO 3166 region of two uppercase letters, e.g. \"US\""));
  }
  return absl::OkStatus();
}

absl::Status CheckTime(const Path& path, const google::protobuf::Timestamp& ts,
                       const ValidationOptions& options, absl::Time now) {
  if (ts.nanos() < 0 || ts.nanos() > 999999999) {
    return Invalid(path, absl::StrCat("nanos ", ts.nanos(), " out of range [0, 999999999]"));
  }
  const absl::Time t = FromTimestamp(ts);
  if (t < options.min_time) {
    return Invalid(path, absl::StrCat(FormatRfc3339(t), " is before the earliest accepted time ",
                                      FormatRfc3339(options.min_time)));
  }
  if (t > now + options.max_future_skew) {
    return Invalid(path, absl::StrCat(FormatRfc3339(t), " is more than ",
                                      absl::FormatDuration(options.max_future_skew),
                                      " after now (", FormatRfc3339(now), ")"));
  }
  return absl::OkStatus();
}

absl::Status CheckValue(const Path& path, const google::protobuf::Value& value, int depth,
                        const ValidationOptions& options);

absl::Status CheckStruct(const Path& path, const google::protobuf::Struct& s, int depth,
                         const ValidationOptions& options) {
  if (depth > options.max_struct_depth) {
    return OverLimit(path, absl::StrCat("nested deeper than ", options.max_struct_depth, " levels"),
                     "validation.max_struct_depth");
  }
  for (const auto& [key, value] : s.fields()) {
    if (!internal::IsValidUtf8(key)) return Invalid(path, "a key is not valid UTF-8");
    RETURN_IF_ERROR(CheckValue(Path(path, key), value, depth, options));
  }
  return absl::OkStatus();
}

absl::Status CheckValue(const Path& path, const google::protobuf::Value& value, int depth,
                        const ValidationOptions& options) {
  switch (value.kind_case()) {
    case google::protobuf::Value::kStringValue:
      if (size_t bad = internal::FindInvalidUtf8(value.string_value());
          bad != value.string_value().size()) {
        return Invalid(path, absl::StrCat("invalid UTF-8 at byte ", bad));
      }
      return absl::OkStatus();
    case google::protobuf::Value::kNumberValue:
      if (!std::isfinite(value.number_value())) return Invalid(path, "number is not finite");
      return absl::OkStatus();
    case google::protobuf::Value::kStructValue:
      return CheckStruct(path, value.struct_value(), depth + 1, options);
    case google::protobuf::Value::kListValue: {
      if (depth + 1 > options.max_struct_depth) {
        return OverLimit(path, absl::StrCat("nested deeper than ", options.max_struct_depth, " levels"),
                         "validation.max_struct_depth");
      }
      const auto& list = value.list_value();
      for (int i = 0; i < list.values_size(); ++i) {
        RETURN_IF_ERROR(CheckValue(Path(path, i), list.values(i), depth + 1, options));
      }
      return absl::OkStatus();
    }
    case google::protobuf::Value::kNullValue:
    case google::protobuf::Value::kBoolValue:
      return absl::OkStatus();
    case google::protobuf::Value::KIND_NOT_SET:
      return Invalid(path, "value has no kind set");
  }
  return absl::OkStatus();
}

absl::Status CheckMoney(const v1::Money& money) {
  const bool zero = money.units() == 0 && money.nanos() == 0;
  if (money.currency().empty()) {
    if (!zero) return Invalid("value.currency", "missing for a non-zero amount");
  } else {
    const std::string& c = money.currency();
    if (c.size() != 3 || !std::all_of(c.begin(), c.end(), [](char x) { return x >= 'A' && x <= 'Z'; })) {
      return Invalid("value.currency",
                     absl::StrCat("'", ToAbsl(c).substr(0, 16),
                                  "' is not an ISO-4217 code (three uppercase letters)"));
    }
  }
  if (money.nanos() <= -1000000000 || money.nanos() >= 1000000000) {
    return Invalid("value.nanos", absl::StrCat(money.nanos(), " out of range (-1e9, 1e9)"));
  }
  if ((money.units() > 0 && money.nanos() < 0) || (money.units() < 0 && money.nanos() > 0)) {
    return Invalid("value.nanos", "sign differs from value.units");
  }
  return absl::OkStatus();
}

absl::Status CheckContext(const v1::Context& c, size_t max) {
  struct Field {
    std::string_view path;
    const std::string& value;
  };
  const Field fields[] = {
      {"context.ip", c.ip()},
      {"context.user_agent", c.user_agent()},
      {"context.locale", c.locale()},
      {"context.timezone", c.timezone()},
      {"context.library", c.library()},
      {"context.page.url", c.page().url()},
      {"context.page.path", c.page().path()},
      {"context.page.referrer", c.page().referrer()},
      {"context.page.title", c.page().title()},
      {"context.page.search", c.page().search()},
      {"context.campaign.source", c.campaign().source()},
      {"context.campaign.medium", c.campaign().medium()},
      {"context.campaign.name", c.campaign().name()},
      {"context.campaign.term", c.campaign().term()},
      {"context.campaign.content", c.campaign().content()},
      {"context.campaign.click_id", c.campaign().click_id()},
      {"context.device.id", c.device().id()},
      {"context.device.type", c.device().type()},
      {"context.device.manufacturer", c.device().manufacturer()},
      {"context.device.model", c.device().model()},
      {"context.device.name", c.device().name()},
      {"context.device.advertising_id", c.device().advertising_id()},
      {"context.device.os_name", c.device().os_name()},
      {"context.device.os_version", c.device().os_version()},
      {"context.app.name", c.app().name()},
      {"context.app.version", c.app().version()},
      {"context.app.build", c.app().build()},
  };
  for (const Field& f : fields) RETURN_IF_ERROR(CheckString(f.path, f.value, max, "validation.max_string_bytes"));
  return absl::OkStatus();
}

}  // namespace

std::string ExceededLimit(const absl::Status& status) {
  const absl::optional<absl::Cord> option = status.GetPayload(internal::kLimitPayload);
  return option ? std::string(*option) : std::string();
}

absl::Status ValidateEvent(const Event& event, const ValidationOptions& options, absl::Time now) {
  // Size first: everything after it is linear in a bounded input.
  const size_t size = event.ByteSizeLong();
  if (size > options.max_event_bytes) {
    return OverLimit("event", absl::StrCat(size, " bytes exceeds the limit of ", options.max_event_bytes),
                     "validation.max_event_bytes");
  }
  RETURN_IF_ERROR(CheckId("event_id", event.event_id(), options.max_id_bytes));
  RETURN_IF_ERROR(CheckId("source", event.source(), options.max_id_bytes));
  if (event.tenant().size() > 64) return Invalid("tenant", "longer than 64 characters");
  for (char c : event.tenant()) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '-' || c == '.')) {
      return Invalid("tenant", "may only contain [A-Za-z0-9_.-]");
    }
  }
  if (event.kind() == v1::EVENT_KIND_UNSPECIFIED) return Invalid("kind", "missing");
  if (!v1::EventKind_IsValid(event.kind())) {
    return Invalid("kind", absl::StrCat("unknown value ", event.kind()));
  }
  if (!v1::Channel_IsValid(event.channel())) {
    return Invalid("channel", absl::StrCat("unknown value ", event.channel()));
  }
  if (!v1::Direction_IsValid(event.direction())) {
    return Invalid("direction", absl::StrCat("unknown value ", event.direction()));
  }
  if (event.kind() == v1::EVENT_KIND_TRACK && event.name().empty()) {
    return Invalid("name", "missing (required for track events)");
  }
  RETURN_IF_ERROR(CheckString("name", event.name(), 256, ""));
  if (internal::HasControlChar(event.name())) return Invalid("name", "contains a control character");

  if (!event.has_occurred_at()) return Invalid("occurred_at", "missing");
  RETURN_IF_ERROR(CheckTime("occurred_at", event.occurred_at(), options, now));
  if (event.has_sent_at()) RETURN_IF_ERROR(CheckTime("sent_at", event.sent_at(), options, now));
  if (event.has_received_at()) {
    RETURN_IF_ERROR(CheckTime("received_at", event.received_at(), options, now));
  }

  if (event.identifiers_size() > options.max_identifiers) {
    return OverLimit("identifiers",
                     absl::StrCat(event.identifiers_size(), " identifiers exceed the limit of ",
                                  options.max_identifiers),
                     "validation.max_identifiers");
  }
  if (event.identifiers_size() == 0 && !event.has_previous_id()) {
    return Invalid("identifiers", "at least one identifier is required");
  }
  const Path identifiers("identifiers");
  for (int i = 0; i < event.identifiers_size(); ++i) {
    RETURN_IF_ERROR(CheckIdentifier(Path(identifiers, i), event.identifiers(i), options));
  }
  if (event.kind() == v1::EVENT_KIND_ALIAS) {
    if (!event.has_previous_id()) return Invalid("previous_id", "missing (required for alias events)");
    if (event.identifiers_size() == 0) {
      return Invalid("identifiers", "an alias event needs the new identifier besides previous_id");
    }
  }
  if (event.has_previous_id()) RETURN_IF_ERROR(CheckIdentifier("previous_id", event.previous_id(), options));

  const std::pair<const char*, const std::string*> strings[] = {
      {"provider", &event.provider()},   {"session_id", &event.session_id()},
      {"conversation_id", &event.conversation_id()}, {"agent_id", &event.agent_id()},
      {"group_id", &event.group_id()},
  };
  for (const auto& [name, value] : strings) {
    RETURN_IF_ERROR(CheckString(name, *value, options.max_string_bytes, "validation.max_string_bytes"));
  }
  RETURN_IF_ERROR(CheckString("text", event.text(), options.max_event_bytes, "validation.max_event_bytes"));
  if (event.kind() == v1::EVENT_KIND_GROUP && event.group_id().empty()) {
    return Invalid("group_id", "missing (required for group events)");
  }

  RETURN_IF_ERROR(CheckStruct("properties", event.properties(), 1, options));
  RETURN_IF_ERROR(CheckStruct("traits", event.traits(), 1, options));
  RETURN_IF_ERROR(CheckStruct("context.extra", event.context().extra(), 1, options));
  if (event.has_value()) RETURN_IF_ERROR(CheckMoney(event.value()));
  if (event.has_context()) RETURN_IF_ERROR(CheckContext(event.context(), options.max_string_bytes));
  return absl::OkStatus();
}

}  // namespace omnijourney
