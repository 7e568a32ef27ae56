// The journey scheduler: every profile's journey instances, the timer index, and which profiles
// have journeys to rebuild (stale) or actions to hand out (touched).
//
// A profile's journeys are a function of its timeline, the loaded definitions and the time timers
// have been fired up to: an event in timeline order is one more step; anything else (a late event,
// a merge, a split, an erasure, a spilled profile loaded back) marks the profile stale, and Sync
// rebuilds it from its timeline.
//
// After Open from a snapshot, each profile's instances are sealed (sealed.h) until the profile is
// touched; readers get a decoded copy.
//
// Thread-safety: not thread-safe (the engine's lock guards it).
#ifndef OMNIJOURNEY_SRC_ENGINE_JOURNEY_SCHEDULER_H_
#define OMNIJOURNEY_SRC_ENGINE_JOURNEY_SCHEDULER_H_

#include <memory>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/serial.h"
#include "absl/time/time.h"
#include "engine/profile_store.h"
#include "engine/sealed.h"
#include "journey/runtime.h"
#include "omnijourney/engine.h"

namespace omnijourney::internal {

class JourneyScheduler {
 public:
  // `trait_priority` must outlive the scheduler.
  explicit JourneyScheduler(const std::vector<std::string>* trait_priority) : trait_priority_(trait_priority) {}

  absl::Status Add(const JourneyDefinition& def, absl::Time active_from) { return catalog_.Add(def, active_from); }
  absl::Status Check(const JourneyDefinition& def, absl::Time active_from) const {
    return catalog_.Check(def, active_from);
  }
  bool empty() const { return catalog_.empty(); }
  // Every loaded definition, each version, in load order.
  std::vector<JourneyDefinition> Definitions() const {
    std::vector<JourneyDefinition> out;
    for (const auto& c : catalog_.all()) out.push_back(c->def);
    return out;
  }

  // A new entry of the profile, before it joins the timeline: one more step when in order,
  // otherwise the profile is marked stale.
  void OnEntry(ProfileId id, const StoredEntry& entry);
  void MarkStale(ProfileId id) { stale_.insert(id); }
  // The profile left memory (spilled): its instances go, its timer stays.
  void Unload(ProfileId id) {
    journeys_.erase(id);
    sealed_.Erase(id);
  }
  // Stale or with actions not handed out yet: must stay in memory.
  bool busy(ProfileId id) const { return stale_.contains(id) || touched_.contains(id); }

  // Rebuilds stale profiles from their timelines, reschedules touched ones, then fires every timer
  // due at or before `limit` (loading spilled profiles). A storage failure stops it.
  absl::Status Sync(ProfileStore& profiles, absl::Time limit);
  // Fires due timers only (time moved, no event).
  absl::Status FireDue(ProfileStore& profiles, absl::Time limit);

  // An action of a touched profile that is due (time <= limit) and not yet released.
  struct Due {
    absl::Time time;
    ProfileId profile;
    size_t index;
    const EmittedAction* action;
  };
  // The due actions of touched profiles in hand-out order (time, profile, emission); `released`
  // says which ids are handed out already. Profiles with actions not yet due stay touched.
  // Views are valid until the next mutating call.
  std::vector<Due> TakeDue(absl::Time limit, const std::function<bool(ProfileId, const std::string&)>& released);

  // The profile's journeys (null when none or spilled): the ones in memory, or a copy of sealed ones
  // decoded into `*own`.
  absl::StatusOr<const ProfileJourneys*> Find(ProfileId id, std::unique_ptr<ProfileJourneys>* own) const;
  // A profile's journeys derived from its timeline, with timers fired so far (for readers of
  // spilled profiles).
  std::unique_ptr<ProfileJourneys> Rebuild(const ProfileTimeline& timeline) const;
  // Snapshots: the definitions, every profile's instances and emitted actions, the timer index, the
  // time timers were fired up to, and the stale and touched profiles.
  // Restore with a `mapping` that the reader's bytes lie in seals every profile's instances.
  void Save(SerialWriter& w) const;
  absl::Status Restore(SerialReader& r, std::shared_ptr<const SnapshotMapping> mapping);
  // Decodes every sealed profile's instances and lets the snapshot's mapping go (before an erasure).
  absl::Status UnsealAll();
  // Whether a sealed part failed to decode.
  bool sealed_damaged() const { return sealed_damaged_; }

  // The earliest timer due, if any.
  std::optional<absl::Time> NextDue() const;
  // The earliest action of a touched profile that is not due yet, if any. Cost: O(touched actions).
  std::optional<absl::Time> NextAction(const std::function<bool(ProfileId, const std::string&)>& released) const;

 private:
  void RebuildInMemory(ProfileStore& profiles, ProfileId id);
  void Schedule(ProfileId id);
  // The profile's instances in memory, decoding sealed ones (null when none; a decoding failure is
  // kept in status_ and reported by Sync and FireDue).
  ProfileJourneys* Get(ProfileId id);
  absl::StatusOr<std::unique_ptr<ProfileJourneys>> Decode(std::string_view bytes) const;

  const std::vector<std::string>* trait_priority_;
  JourneyCatalog catalog_;
  absl::flat_hash_map<ProfileId, std::unique_ptr<ProfileJourneys>> journeys_;
  SealedParts sealed_;  // ProfileJourneys::Save bytes of profiles not decoded since Open.
  absl::Status status_;
  bool sealed_damaged_ = false;
  absl::flat_hash_set<ProfileId> stale_;    // Journeys to rebuild from the timeline.
  absl::flat_hash_set<ProfileId> touched_;  // May have actions to hand out.
  std::set<std::pair<absl::Time, ProfileId>> timers_;
  absl::flat_hash_map<ProfileId, absl::Time> timer_of_;
  absl::Time fired_until_ = absl::InfinitePast();  // Timer time of the last firing.
};

}  // namespace omnijourney::internal

#endif  // OMNIJOURNEY_SRC_ENGINE_JOURNEY_SCHEDULER_H_
