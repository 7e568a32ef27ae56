// omnijourney's own JSON form of events (protobuf JSON mapping), single documents and JSON Lines.
#include "omnijourney/event_json.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "common/json.h"
#include "common/lines.h"
#include "common/status_macros.h"
#include "google/protobuf/util/json_util.h"

namespace omnijourney {
namespace {

absl::StatusOr<Event> ParseOne(std::string_view json, int first_line) {
  // Our own parser first: it reports line and column and bounds nesting; protobuf's parser then maps
  // the well-formed document onto the schema.
  internal::JsonParseOptions syntax;
  syntax.first_line = first_line;
  RETURN_IF_ERROR(internal::CheckJsonSyntax(json, syntax));
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
