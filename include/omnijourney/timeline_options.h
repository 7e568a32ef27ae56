// Options of the per-profile timelines (EngineOptions::timeline).
#ifndef OMNIJOURNEY_TIMELINE_OPTIONS_H_
#define OMNIJOURNEY_TIMELINE_OPTIONS_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace omnijourney {

// What each profile keeps of its events.
struct TimelineOptions {
  // Most entries kept per profile; the oldest go first.
  // Default: 1000 entries.
  size_t max_entries = 1000;
  // Entries older than this before the engine's current time are dropped.
  // Default: 730 days.
  absl::Duration max_age = absl::Hours(24 * 730);
  // Longest `text` kept per entry (cut at a UTF-8 character boundary).
  // Default: 4096 bytes.
  size_t max_text_bytes = 4096;
  // Event properties kept on entries (and used by conversations, tickets, orders and interests).
  // Default: the list below.
  std::vector<std::string> key_properties = {
      "order_id", "ticket_id", "reservation_id", "contract_id", "status", "subject", "title",
      "reason",   "category",  "product",        "product_id",  "sku",    "store",   "total",
      "rating",   "score",     "priority",       "issue",       "path",   "topic",   "survey",
      "team",     "wait_seconds", "handle_seconds", "abandoned"};
  // An event closes its conversation or ticket when its name contains one of these words
  // (case-insensitive) or its "status" property equals one of them.
  // Default: closed, ended, resolved, completed, done, cancelled.
  std::vector<std::string> closing_words = {"closed", "ended", "resolved", "completed", "done", "cancelled"};
  // A conversation without activity for this long counts as closed ("idle").
  // Default: 24 hours.
  absl::Duration conversation_idle_timeout = absl::Hours(24);
};

}  // namespace omnijourney

#endif  // OMNIJOURNEY_TIMELINE_OPTIONS_H_
