// Evaluating journey predicates on stored events and on profile facts.
#ifndef OMNIJOURNEY_SRC_JOURNEY_PREDICATE_H_
#define OMNIJOURNEY_SRC_JOURNEY_PREDICATE_H_

#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "common/serial.h"
#include "omnijourney/v1/journey.pb.h"
#include "timeline/timeline.h"

namespace omnijourney::internal {

// Reads a field as its display string; nullopt when absent.
class FieldSource {
 public:
  virtual ~FieldSource() = default;
  virtual std::optional<std::string> Get(std::string_view field) const = 0;
};

// An event's fields: kind/channel/direction by their lowercase names ("order", "web", "inbound").
class EntryFields final : public FieldSource {
 public:
  explicit EntryFields(const StoredEntry& e) : e_(e) {}
  std::optional<std::string> Get(std::string_view field) const override;

 private:
  const StoredEntry& e_;
};

// Profile facts as of the latest observed event, built by observing the profile's events in order:
// traits (source priority, then most recent) and the counters of CustomerContext.
class ProfileFacts final : public FieldSource {
 public:
  explicit ProfileFacts(const std::vector<std::string>* trait_source_priority)
      : traits_(trait_source_priority) {}
  void Observe(const StoredEntry& e);
  // Counters are computed as of `now_` (the latest observed event time, or SetNow()).
  void SetNow(absl::Time now) { now_ = now; }
  std::optional<std::string> Get(std::string_view field) const override;
  // Snapshots.
  void Save(SerialWriter& w) const;
  bool Restore(SerialReader& r);

 private:
  TraitReconciler traits_;
  absl::Time now_ = absl::InfinitePast();
  std::set<std::string> order_ids_;
  std::vector<absl::Time> order_times_;  // One per distinct order (first seen).
  std::set<std::pair<std::string, std::string>> contact_keys_;
  std::vector<absl::Time> contact_starts_;  // In time order.
};

bool Eval(const v1::Predicate& p, const FieldSource& fields);
bool Matches(const v1::EventPredicate& p, const StoredEntry& e);

}  // namespace omnijourney::internal

#endif  // OMNIJOURNEY_SRC_JOURNEY_PREDICATE_H_
