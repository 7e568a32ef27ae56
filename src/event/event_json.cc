// omnijourney's own JSON form of events (protobuf JSON mapping), single documents and JSON Lines.
#include "omnijourney/event_json.h"

#include <optional>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/json.h"
#include "common/lines.h"
#include "common/status_macros.h"
#include "google/protobuf/util/json_util.h"

namespace omnijourney {
namespace {

// The short enum names that ContextToJson writes and event.h documents ("kind": "message",
// "channel": "chat", "direction": "inbound") as the protobuf names ("EVENT_KIND_MESSAGE", ...): the
// document rewritten, or nullopt when it has none (the usual case: nothing is parsed twice).
std::optional<std::string> WithFullEnumNames(std::string_view json, const internal::JsonParseOptions& syntax) {
  // Cheap test first: a lowercase letter right after one of the keys' quotes.
  bool maybe = false;
  for (std::string_view key : {"\"kind\"", "\"channel\"", "\"direction\""}) {
    for (size_t at = json.find(key); at != std::string_view::npos && !maybe; at = json.find(key, at + 1)) {
      size_t p = at + key.size();
      while (p < json.size() && (json[p] == ' ' || json[p] == ':' || json[p] == '\t')) ++p;
      maybe = p + 1 < json.size() && json[p] == '"' && json[p + 1] >= 'a' && json[p + 1] <= 'z';
    }
  }
  if (!maybe) return std::nullopt;
  absl::StatusOr<google::protobuf::Value> doc = internal::ParseJson(json, syntax);
  if (!doc.ok() || doc->kind_case() != google::protobuf::Value::kStructValue) return std::nullopt;
  auto& fields = *doc->mutable_struct_value()->mutable_fields();
  for (const auto& [key, prefix] : {std::pair<const char*, const char*>{"kind", "EVENT_KIND_"},
                                    {"channel", "CHANNEL_"},
                                    {"direction", "DIRECTION_"}}) {
    auto it = fields.find(key);
    if (it == fields.end() || it->second.kind_case() != google::protobuf::Value::kStringValue) continue;
    const std::string& v = it->second.string_value();
    if (v.empty() || v[0] < 'a' || v[0] > 'z') continue;
    it->second.set_string_value(absl::StrCat(prefix, absl::AsciiStrToUpper(v)));
  }
  std::string out;
  if (!google::protobuf::util::MessageToJsonString(*doc, &out).ok()) return std::nullopt;
  return out;
}

absl::StatusOr<Event> ParseOne(std::string_view json, int first_line) {
  // Our own parser first: it reports line and column and bounds nesting; protobuf's parser then maps
  // the well-formed document onto the schema.
  internal::JsonParseOptions syntax;
  syntax.first_line = first_line;
  RETURN_IF_ERROR(internal::CheckJsonSyntax(json, syntax));
  const std::optional<std::string> rewritten = WithFullEnumNames(json, syntax);
  if (rewritten) json = *rewritten;
  Event event;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &event, options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "line ", first_line, ": does not match omnijourney.v1.Event: ",
        absl::string_view(status.message().data(), status.message().size())));
  }
  return event;
}

}  // namespace

absl::StatusOr<Event> EventFromJson(std::string_view json) { return ParseOne(json, 1); }

std::string EventToJson(const Event& event) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  // Cannot fail for a message without Any fields.
  (void)google::protobuf::util::MessageToJsonString(event, &out, options);
  return out;
}

ParsedEvents ParseEventJsonLines(std::string_view text) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // A UTF-8 byte order mark.
  ParsedEvents out;
  int index = 0;
  internal::ForEachNonBlankLine(text, [&](int line_no, std::string_view line) {
    absl::StatusOr<Event> event = ParseOne(line, line_no);
    if (event.ok()) {
      out.events.push_back(*std::move(event));
    } else {
      out.errors.push_back(RecordError{line_no, index, event.status()});
    }
    ++index;
  });
  return out;
}

}  // namespace omnijourney
