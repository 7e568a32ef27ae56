#include "event/segment_names.h"

#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace omnijourney::internal {

v1::Channel ChannelFromSegment(const ChannelHints& h, v1::EventKind kind) {
  const std::string c = absl::AsciiStrToLower(ToAbsl(h.channel));
  if (c == "browser" || c == "web" || c == "client" || c == "javascript") return v1::CHANNEL_WEB;
  if (c == "mobile" || c == "app" || c == "android" || c == "ios" || c == "android-sdk" || c == "ios-sdk" ||
      c == "react-native" || c == "flutter") {
    return v1::CHANNEL_APP;
  }
  if (c == "server" || c == "cloud" || c == "sources") return v1::CHANNEL_SERVER;
  // A page view is on the web and a screen view in an app, whichever library relayed it.
  if (kind == v1::EVENT_KIND_PAGE) return v1::CHANNEL_WEB;
  if (kind == v1::EVENT_KIND_SCREEN) return v1::CHANNEL_APP;
  const std::string lib = absl::AsciiStrToLower(ToAbsl(h.library));
  auto has = [&lib](std::string_view part) { return lib.find(part) != std::string::npos; };
  if (!lib.empty()) {
    if (has("ios") || has("android") || has("react-native") || has("flutter") || has("kotlin") || has("swift") ||
        has("xamarin") || has("unity")) {
      return v1::CHANNEL_APP;
    }
    if (has("analytics.js") || has("analytics-next") || has("javascript") || has("browser")) return v1::CHANNEL_WEB;
    if (has("node") || has("python") || has("ruby") || has("java") || has("go") || has("php") || has("net") ||
        has("http")) {
      return v1::CHANNEL_SERVER;
    }
  }
  const std::string os = absl::AsciiStrToLower(ToAbsl(h.os));
  if (os == "ios" || os == "android" || os == "ipados") return v1::CHANNEL_APP;
  if (h.page || h.user_agent) return v1::CHANNEL_WEB;
  if (!c.empty()) return v1::CHANNEL_OTHER;
  return v1::CHANNEL_UNSPECIFIED;
}

// A name compared without case and separators: "Live Chat Message Sent", "live_chat_message_sent".
std::string NameKey(std::string_view name) {
  std::string key;
  for (char c : name) {
    if (absl::ascii_isalnum(static_cast<unsigned char>(c))) key.push_back(absl::ascii_tolower(static_cast<unsigned char>(c)));
  }
  return key;
}

// The e-commerce spec's order events, v2 ("Order Completed") and v1 ("Completed Order"), whatever
// the case and separators ("order_completed", "order-completed").
bool IsOrderEvent(std::string_view name) {
  const std::string key = NameKey(name);
  for (std::string_view what : {"completed", "refunded", "cancelled", "canceled", "updated"}) {
    if (key == absl::StrCat("order", ToAbsl(what)) || key == absl::StrCat(ToAbsl(what), "order")) return true;
  }
  return false;
}

std::optional<Semantic> SemanticOf(std::string_view name) {
  const std::string key = NameKey(name);
  using S = Semantic;
  static const auto* const kTable = new std::vector<std::pair<std::string, Semantic>>({
      {"livechatconversationstarted", S{v1::EVENT_KIND_CONVERSATION, v1::CHANNEL_CHAT, v1::DIRECTION_INBOUND, true}},
      {"livechatconversationended", S{v1::EVENT_KIND_CONVERSATION, v1::CHANNEL_CHAT, v1::DIRECTION_UNSPECIFIED, true}},
      {"livechatmessagesent", S{v1::EVENT_KIND_MESSAGE, v1::CHANNEL_CHAT, v1::DIRECTION_INBOUND, true}},
      {"livechatmessagereceived", S{v1::EVENT_KIND_MESSAGE, v1::CHANNEL_CHAT, v1::DIRECTION_OUTBOUND, true}},
      {"emailsent", S{v1::EVENT_KIND_NOTIFICATION, v1::CHANNEL_EMAIL, v1::DIRECTION_OUTBOUND, false}},
      {"emaildelivered", S{v1::EVENT_KIND_NOTIFICATION, v1::CHANNEL_EMAIL, v1::DIRECTION_OUTBOUND, false}},
      {"emailbounced", S{v1::EVENT_KIND_NOTIFICATION, v1::CHANNEL_EMAIL, v1::DIRECTION_OUTBOUND, false}},
      {"emailopened", S{v1::EVENT_KIND_TRACK, v1::CHANNEL_EMAIL, v1::DIRECTION_INBOUND, false}},
      {"emaillinkclicked", S{v1::EVENT_KIND_TRACK, v1::CHANNEL_EMAIL, v1::DIRECTION_INBOUND, false}},
      {"emailmarkedasspam", S{v1::EVENT_KIND_TRACK, v1::CHANNEL_EMAIL, v1::DIRECTION_INBOUND, false}},
      {"unsubscribed", S{v1::EVENT_KIND_TRACK, v1::CHANNEL_EMAIL, v1::DIRECTION_INBOUND, false, true}},
      {"productreviewed", S{v1::EVENT_KIND_FEEDBACK, v1::CHANNEL_UNSPECIFIED, v1::DIRECTION_INBOUND, false}},
  });
  for (const auto& [k, semantic] : *kTable) {
    if (k == key) return semantic;
  }
  return std::nullopt;
}

}  // namespace omnijourney::internal
