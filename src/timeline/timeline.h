// Per-profile timeline: the profile's events in event-time order, reduced to TimelineEntry, with
// bounded retention and the traits reconciled from them.
#ifndef OMNIJOURNEY_SRC_TIMELINE_TIMELINE_H_
#define OMNIJOURNEY_SRC_TIMELINE_TIMELINE_H_

#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "omnijourney/context.h"
#include "omnijourney/engine_options.h"
#include "omnijourney/event.h"

namespace omnijourney::internal {

// A stored event: what the operator sees, plus what re-attribution and trait reconciliation need.
struct StoredEntry {
  TimelineEntry view;
  std::vector<IdentifierValue> identifiers;  // Raw, as the event carried them (incl. previous_id).
  std::vector<std::pair<std::string, std::string>> traits;  // Flattened display values.
  // What journey predicates read beyond the view: every property flattened to "a.b" paths (sorted,
  // at most kMaxFlatProperties), the session and the monetary value.
  static constexpr size_t kMaxFlatProperties = 64;
  std::vector<std::pair<std::string, std::string>> flat_properties;
  std::string session_id;
  std::string value_units;  // Decimal, e.g. "1249.9"; empty without a value.
  std::string currency;

  // Timeline order: event time, then source and event id (total and arrival-independent).
  auto Key() const { return std::tie(view.time, view.source, view.event_id); }
};

// REQUIRES: `event` passed ValidateEvent.
StoredEntry MakeEntry(const Event& event, const TimelineOptions& options);

// Appends `value` flattened under `path` ("order.total"): structures recurse, everything else is a
// display string. Stops at `max` entries.
void FlattenValue(const std::string& path, const google::protobuf::Value& value,
                  std::vector<std::pair<std::string, std::string>>* out, size_t max);

// A display string for a protobuf Value: strings as is, whole numbers without ".0", others as JSON.
std::string DisplayValue(const google::protobuf::Value& value);

// Trait reconciliation: a value from a higher-priority source (earlier in `source_priority`) wins
// whatever the time; unlisted sources rank below listed ones; among equal ranks the later value wins.
// Shared by the context and by journey conditions so they never disagree.
class TraitReconciler {
 public:
  explicit TraitReconciler(const std::vector<std::string>* source_priority) : priority_(source_priority) {}
  // REQUIRES: entries in timeline order.
  void Observe(const StoredEntry& e);
  const std::map<std::string, TraitValue, std::less<>>& traits() const { return traits_; }

 private:
  const std::vector<std::string>* priority_;  // May be null: every source ranks the same.
  std::map<std::string, TraitValue, std::less<>> traits_;
  std::map<std::string, size_t, std::less<>> ranks_;
};

class ProfileTimeline {
 public:
  explicit ProfileTimeline(std::string tenant) : tenant_(std::move(tenant)) {}

  const std::string& tenant() const { return tenant_; }
  const std::vector<StoredEntry>& entries() const { return entries_; }

  // Inserts in timeline order (appends in O(1) when in order) and applies retention as of `now`.
  void Insert(StoredEntry entry, const TimelineOptions& options, absl::Time now);
  // Moves every entry of `other` in (re-sorting once).
  void Absorb(ProfileTimeline&& other, const TimelineOptions& options, absl::Time now);
  // Takes all entries out (for re-attribution).
  std::vector<StoredEntry> TakeAll();
  // Removes entries for which `drop` is true; `edit` may change the others first.
  template <typename Edit>
  void Rewrite(Edit&& edit) {
    std::vector<StoredEntry> kept;
    kept.reserve(entries_.size());
    for (StoredEntry& e : entries_) {
      if (edit(e)) kept.push_back(std::move(e));
    }
    entries_ = std::move(kept);
  }

  // The timeline as bytes (v1::StoredTimeline) and back, for profiles spilled out of the cache.
  std::string Encode() const;
  // DataLoss when `bytes` is not a StoredTimeline.
  static absl::StatusOr<ProfileTimeline> Decode(std::string_view bytes);

  // Traits reconciled over the retained entries: higher-priority source first, then most recent.
  std::map<std::string, TraitValue> Traits(const std::vector<std::string>& source_priority) const;

 private:
  void Retain(const TimelineOptions& options, absl::Time now);

  std::string tenant_;
  std::vector<StoredEntry> entries_;  // Timeline order.
};

}  // namespace omnijourney::internal

#endif  // OMNIJOURNEY_SRC_TIMELINE_TIMELINE_H_
