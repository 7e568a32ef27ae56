// Builds a CustomerContext from a profile's timeline and identity.
#ifndef OMNIJOURNEY_SRC_CONTEXT_CONTEXT_BUILDER_H_
#define OMNIJOURNEY_SRC_CONTEXT_CONTEXT_BUILDER_H_

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"

#include "omnijourney/context.h"
#include "omnijourney/engine_options.h"
#include "timeline/contact_facts.h"
#include "timeline/timeline.h"

namespace omnijourney::internal {

// What a profile's context is made of, folded from its entries in timeline order: conversations,
// tickets, orders, contacts, channel preference, interests, traits. The context as of any time is
// produced from it in O(conversations + tickets + contacts + interests), without another pass over
// the timeline; entries appended later are folded in by the next Observe.
class ContextAccumulator final : public TimelineCache {
 public:
  // Below this many retained entries a profile's summary is not kept (folding them again is cheap).
  static constexpr size_t kCacheMinEntries = 32;

  // `options` must outlive the accumulator.
  explicit ContextAccumulator(const EngineOptions& options);
  // Folds entries[observed()..]. REQUIRES: the entries observed before are still there, unchanged
  // and in the same places (the timeline only grew at its end).
  void Observe(const std::vector<StoredEntry>& entries);
  size_t observed() const { return observed_; }
  // REQUIRES: `timeline` is the one observed, fully.
  CustomerContext Produce(ProfileId profile, const ProfileTimeline& timeline,
                          const std::vector<IdentifierValue>& identifiers, absl::Time now) const;

 private:
  static constexpr size_t kNone = static_cast<size_t>(-1);
  struct Conversation {
    ConversationSummary summary;  // Without last_message and idle closing (those are read at Produce).
    size_t last_message = kNone;  // Index of its latest entry with text.
    std::string_view latest_agent;
  };

  const EngineOptions* options_;
  size_t observed_ = 0;
  TraitReconciler traits_;
  double half_life_s_;
  // Views below point into the observed entries' blocks.
  std::map<std::string_view, Conversation> conversations_;
  std::map<std::string, TicketSummary> tickets_;
  std::map<std::string, GroupMembership, std::less<>> groups_;
  absl::flat_hash_set<std::string_view> order_ids_;
  std::vector<absl::Time> order_times_;  // One per distinct order (first seen), time order.
  absl::flat_hash_set<std::pair<std::string_view, std::string_view>> contact_keys_;
  std::vector<absl::Time> contact_starts_;                // Time order.
  std::vector<std::pair<absl::Time, v1::Channel>> outbound_;  // For reply detection, time order.
  std::map<v1::Channel, std::vector<std::pair<absl::Time, double>>> scores_;  // Inbound contacts' weights.
  std::map<std::pair<std::string, std::string>, Interest> interests_;
  size_t last_contact_ = kNone;
  std::string_view last_contact_agent_;
};

// `identifiers`: the profile's identifiers, highest priority first. Cost: O(retained entries).
CustomerContext BuildContext(ProfileId profile, const ProfileTimeline& timeline,
                             const std::vector<IdentifierValue>& identifiers, const EngineOptions& options,
                             absl::Time now);
// The same, from the summary the timeline keeps (its cache), folding in only the entries appended
// since the last call: O(new entries + summary). Safe from concurrent readers of the timeline.
CustomerContext BuildContextCached(ProfileId profile, const ProfileTimeline& timeline,
                                   const std::vector<IdentifierValue>& identifiers, const EngineOptions& options,
                                   absl::Time now);


}  // namespace omnijourney::internal

#endif  // OMNIJOURNEY_SRC_CONTEXT_CONTEXT_BUILDER_H_
