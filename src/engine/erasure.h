// Erasure: what an erased identifier or profile takes away from the kept events, and the log's part
// of it (docs/storage.md, "Erasure by crypto-shredding").
//
// An erasure has a scope: a tenant, identifiers (type and match key) and, for a whole profile, the
// profile, whose events are erased whole. Every other event of the tenant that carries an erased
// identifier loses it, and every string of it (text, properties, traits, page URL and referrer,
// titles...; not its tenant, source and event id, the idempotence key) loses each spelling of an
// erased value: as it was sent, normalised, URL-encoded, in any letter case. An event left without
// identifiers is erased whole. In the log, an erased event becomes unreadable and a changed one is
// replaced by its scrubbed copy (Log::Erase); in memory the same happens to the timelines.
#ifndef OMNIJOURNEY_SRC_ENGINE_ERASURE_H_
#define OMNIJOURNEY_SRC_ENGINE_ERASURE_H_

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "engine/dedupe_window.h"
#include "omnijourney/identity.h"
#include "store/log.h"

namespace omnijourney::internal {

// What replaces an erased value in a kept string.
inline constexpr std::string_view kErasedText = "[erased]";

// The spellings of erased values, found in strings in any ASCII letter case.
class Scrubber {
 public:
  // Values shorter than this are only removed where they are the whole string (a user id "42" must
  // not take every "42" out of every text).
  static constexpr size_t kMinSubstring = 5;

  // Adds `value` and its URL-encoded spellings.
  void AddValue(std::string_view value);
  bool empty() const { return forms_.empty(); }
  // `s` with every spelling replaced by kErasedText; nullopt when there is none in it.
  std::optional<std::string> Scrub(std::string_view s) const;

 private:
  std::vector<std::string> forms_;  // Lower case, longest first.
};

struct ErasureScope {
  std::string tenant;
  std::vector<IdentifierValue> identifiers;  // Type and match key.
  ProfileId profile = 0;                     // A profile erasure: its events are erased whole.
  std::string value;                         // An identifier erasure: the value as asked.
  Scrubber scrubber;
  // Whether an identifier as an event carries it is erased (its match key under the graph's rules).
  bool Erased(const IdentityGraph& graph, std::string_view type, std::string_view value) const;
};

// Removes the erased identifiers from `event` and scrubs its strings (see the file comment). Returns
// whether anything changed.
bool ScrubEvent(const IdentityGraph& graph, const ErasureScope& scope, Event& event);

// Adds to `scope.scrubber` the raw spellings of erased identifiers in the log's events.
absl::Status CollectSpellings(const Log& log, const IdentityGraph& graph, ErasureScope& scope);

// The log's part of the erasure, from one pass over the log with the graph as it is before the
// erasure: the records to shred and to replace, and the idempotence keys of the events erased
// whole (`erased`).
absl::Status PlanLogErasure(const Log& log, const IdentityGraph& graph, const ErasureScope& scope,
                            Log::Erasure* out, std::vector<DedupeKey>* erased);

}  // namespace omnijourney::internal

#endif  // OMNIJOURNEY_SRC_ENGINE_ERASURE_H_
