// Enum names and one-line descriptions of events.
#include <array>
#include <cstdlib>
#include <vector>
#include <string>
#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "omnijourney/event.h"

namespace omnijourney {
namespace {

// Indexed by enum value; must follow event.proto.
constexpr std::array<std::string_view, 17> kChannelNames = {
    "unspecified", "web",    "app",   "email",  "voice", "chat",   "sms",    "whatsapp", "viber",
    "telegram",    "social", "push",  "store",  "office", "ads",   "server", "other"};
constexpr std::array<std::string_view, 15> kKindNames = {
    "unspecified", "identify", "track",  "page",     "screen", "group",        "alias",       "message",
    "call",        "order",    "ticket", "feedback", "visit",  "conversation", "notification"};
constexpr std::array<std::string_view, 4> kDirectionNames = {"unspecified", "inbound", "outbound",
                                                             "internal"};

template <size_t N>
std::string_view NameAt(const std::array<std::string_view, N>& names, int value) {
  if (value < 0 || static_cast<size_t>(value) >= N) return "unspecified";
  return names[value];
}

// Matches "whatsapp", "WhatsApp" or "CHANNEL_WHATSAPP" (with `prefix` "channel_").
template <size_t N>
absl::StatusOr<int> ValueOf(const std::array<std::string_view, N>& names, std::string_view prefix,
                            std::string_view what, std::string_view input) {
  std::string lower = absl::AsciiStrToLower(internal::ToAbsl(input));
  std::string_view name = lower;
  if (name.substr(0, prefix.size()) == prefix) name.remove_prefix(prefix.size());
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == name) return static_cast<int>(i);
  }
  return absl::InvalidArgumentError(absl::StrCat(internal::ToAbsl(what), ": unknown value '",
                                                 internal::ToAbsl(input), "'"));
}

}  // namespace

std::string_view ChannelName(v1::Channel channel) { return NameAt(kChannelNames, channel); }
std::string_view KindName(v1::EventKind kind) { return NameAt(kKindNames, kind); }
std::string_view DirectionName(v1::Direction direction) {
  return NameAt(kDirectionNames, direction);
}

absl::StatusOr<v1::Channel> ParseChannel(std::string_view name) {
  ASSIGN_OR_RETURN(int v, ValueOf(kChannelNames, "channel_", "channel", name));
  return static_cast<v1::Channel>(v);
}
absl::StatusOr<v1::EventKind> ParseKind(std::string_view name) {
  ASSIGN_OR_RETURN(int v, ValueOf(kKindNames, "event_kind_", "kind", name));
  return static_cast<v1::EventKind>(v);
}
absl::StatusOr<v1::Direction> ParseDirection(std::string_view name) {
  ASSIGN_OR_RETURN(int v, ValueOf(kDirectionNames, "direction_", "direction", name));
  return static_cast<v1::Direction>(v);
}

std::string DescribeEvent(const Event& event) {
  std::string out = FormatRfc3339(FromTimestamp(event.occurred_at()));
  absl::StrAppend(&out, " ", internal::ToAbsl(ChannelName(event.channel())), " ",
                  internal::ToAbsl(DirectionName(event.direction())), " ",
                  internal::ToAbsl(KindName(event.kind())));
  if (!event.name().empty()) absl::StrAppend(&out, " '", event.name(), "'");
  if (event.has_value() && !event.value().currency().empty()) {
    const auto& v = event.value();
    absl::StrAppend(&out, " ", v.units());
    if (v.nanos() != 0) {
      // Two decimals are what an agent screen shows for money.
      const int cents = std::abs(v.nanos()) / 10000000;
      absl::StrAppend(&out, ".", absl::Dec(cents, absl::kZeroPad2));
    }
    absl::StrAppend(&out, " ", v.currency());
  }
  if (!event.text().empty()) {
    constexpr size_t kMaxText = 60;
    std::string text = event.text().substr(0, kMaxText);
    // Do not cut a UTF-8 sequence in half.
    while (!text.empty() && text.size() < event.text().size() &&
           (static_cast<unsigned char>(event.text()[text.size()]) & 0xC0) == 0x80) {
      text.pop_back();
    }
    absl::StrAppend(&out, " \"", text, text.size() < event.text().size() ? "...\"" : "\"");
  }
  std::vector<std::string> ids;
  ids.reserve(event.identifiers_size());
  for (const auto& id : event.identifiers()) ids.push_back(absl::StrCat(id.type(), "=", id.value()));
  if (event.has_previous_id()) {
    ids.push_back(absl::StrCat("previous ", event.previous_id().type(), "=", event.previous_id().value()));
  }
  absl::StrAppend(&out, " [", absl::StrJoin(ids, ", "), "]");
  return out;
}

}  // namespace omnijourney
