// The profile store: every profile's retained timeline, in memory or spilled.
//
// With storage.cache_profiles, at most that many profiles keep their timeline in memory; the least
// recently used others are spilled to the SpillStore and loaded back when an event, a timer, an
// operator action or a query needs them. It also keeps the counts EngineStats reports (entries,
// entries dropped by retention, texts cut).
//
// After Open from a snapshot, profiles are sealed (sealed.h): their timelines stay encoded in the
// mapped snapshot until something needs them. Every mutating method decodes a sealed profile first
// (it then lives in memory), and Read decodes a copy; callers see no difference but the cost.
//
// Thread-safety: not thread-safe. The engine calls the mutating methods under its exclusive lock
// and the const ones (Read, ids) under its shared lock.
#ifndef OMNIJOURNEY_SRC_ENGINE_PROFILE_STORE_H_
#define OMNIJOURNEY_SRC_ENGINE_PROFILE_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/serial.h"
#include "omnijourney/engine_options.h"
#include "engine/sealed.h"
#include "store/spill_store.h"
#include "timeline/timeline.h"

namespace omnijourney::internal {

class ProfileStore {
 public:
  // `spill` may be null (then cache_limit must be 0); both must outlive the store.
  ProfileStore(const TimelineOptions& options, size_t cache_limit, SpillStore* spill)
      : options_(options), cache_limit_(cache_limit), spill_(spill) {}

  // The profile's timeline in memory (a sealed one is decoded first), or null (unknown, or spilled).
  ProfileTimeline* Find(ProfileId id);
  // Brings a spilled or sealed profile into memory (a spilled one's stored copy becomes stale).
  // Returns whether its journey instances must be rebuilt from the timeline: true for a spilled
  // profile and a sealed one that was spilled when the snapshot was taken. A storage failure or an
  // unreadable copy is an error; nothing changes then.
  absl::StatusOr<bool> Load(ProfileId id);
  // Decodes every sealed profile (into memory, or into the spill store for those that were spilled)
  // and lets the snapshot's mapping go. Before an erasure: the erased value may be in it.
  absl::Status UnsealAll();
  // The first failure to decode a sealed profile in a call that cannot return it (Find, State).
  const absl::Status& status() const { return status_; }
  // Whether a sealed part failed to decode (the snapshot is unusable; see EngineImpl::AfterWrite).
  bool sealed_damaged() const { return sealed_damaged_; }
  // The profile's timeline in memory, created empty when it has none. REQUIRES: not spilled.
  ProfileTimeline& State(ProfileId id, const std::string& tenant);

  // Inserts an entry (applying retention as of `now`).
  void Insert(ProfileTimeline& timeline, StoredEntry entry, absl::Time now);
  // Moves `from`'s timeline into `into`'s (created when missing). REQUIRES: neither spilled.
  void Absorb(ProfileId into, ProfileId from, absl::Time now);
  // Takes a profile's timeline out of the store (null when it has none in memory).
  std::unique_ptr<ProfileTimeline> Take(ProfileId id);
  // Removes entries for which `keep` returns false (it may edit the others). Returns whether any
  // entry was kept changed or removed, as `keep` reports through `*touched`.
  template <typename Keep>
  void Rewrite(ProfileTimeline& timeline, Keep&& keep) {
    const size_t before = timeline.entries().size();
    timeline.Rewrite(std::forward<Keep>(keep));
    entries_ -= static_cast<int64_t>(before - timeline.entries().size());
  }

  // Spills the least recently used profiles when more than cache_limit are in memory (down to 7/8
  // of it, so spills come in batches), except those `busy` names; stale stored copies of profiles
  // gone from memory go with the same batch. Returns the profiles spilled.
  absl::StatusOr<std::vector<ProfileId>> Trim(const std::function<bool(ProfileId)>& busy);
  // More than cache_limit profiles in memory: Trim has work.
  bool over_limit() const { return cache_limit_ > 0 && memory_.size() > cache_limit_; }
  // A different cache limit from now on (recovery replays with a larger one). REQUIRES: the store
  // was made with a limit (a store without one keeps everything in memory).
  void set_cache_limit(size_t limit) {
    if (cache_limit_ > 0 && limit > 0) cache_limit_ = limit;
  }
  // Deletes every stale stored copy (erasure: the erased value may be in one).
  absl::Status DropCopies();

  // A profile's timeline for a reader: the one in memory, or a decoded copy of a spilled or sealed
  // one.
  struct View {
    const ProfileTimeline* timeline = nullptr;  // Null: no retained events.
    std::unique_ptr<ProfileTimeline> own;       // Set for a spilled or sealed profile.
    bool spilled = false;  // Its journey instances are not kept (rebuild them from the timeline).
  };
  absl::StatusOr<View> Read(ProfileId id) const;
  // Every profile id (in memory and spilled), sorted.
  std::vector<ProfileId> ids() const;
  // Calls `fn` for every profile in memory. REQUIRES: nothing sealed (UnsealAll).
  void ForEachInMemory(const std::function<void(ProfileId, ProfileTimeline&)>& fn);
  // Every profile in memory, and decoded copies of the sealed ones.
  void ForEachCached(const std::function<void(ProfileId, const ProfileTimeline&)>& fn) const;
  // Calls `fn` for every spilled profile's stored copy of `tenant`.
  absl::Status ForEachSpilled(const std::string& tenant,
                              const std::function<void(ProfileId, const ProfileTimeline&)>& fn) const;

  // Snapshots: every profile (spilled ones as their stored copies, read from the spill store; sealed
  // ones as they are) and the counts. Restore with a `mapping` that the reader's bytes lie in seals
  // every profile; without one it decodes them all (in memory, spilled ones into the spill store or
  // memory without one).
  absl::Status Save(SerialWriter& w) const;
  absl::Status Restore(SerialReader& r, std::shared_ptr<const SnapshotMapping> mapping);

  int64_t profiles() const {
    return static_cast<int64_t>(memory_.size() + spilled_.size() + sealed_.size() + sealed_spilled_.size());
  }
  int64_t cached() const { return static_cast<int64_t>(memory_.size()); }
  int64_t sealed() const { return static_cast<int64_t>(sealed_.size() + sealed_spilled_.size()); }
  int64_t entries() const { return entries_; }
  struct Trimmed {
    int64_t by_count = 0;   // timeline.max_entries
    int64_t by_age = 0;     // timeline.max_age
    int64_t texts_cut = 0;  // timeline.max_text_bytes
  };
  const Trimmed& trimmed() const { return trimmed_; }
  void CountTextCut() { ++trimmed_.texts_cut; }

 private:
  void Count(ProfileTimeline::Dropped dropped) {
    trimmed_.by_count += static_cast<int64_t>(dropped.by_count);
    trimmed_.by_age += static_cast<int64_t>(dropped.by_age);
  }
  void Touch(ProfileId id) {
    if (cache_limit_ > 0) last_use_[id] = ++use_clock_;
  }
  // Decodes a sealed profile into memory. Returns whether it was spilled at the snapshot (false
  // when not sealed).
  absl::StatusOr<bool> Unseal(ProfileId id);
  // A sealed profile's timeline decoded (nullopt when it is not sealed); `*spilled`: it was spilled
  // when the snapshot was taken.
  absl::StatusOr<std::optional<ProfileTimeline>> DecodeSealed(ProfileId id, bool* spilled) const;
  // Unseal for the calls that cannot fail: a failure is kept in status_.
  void UnsealOrNote(ProfileId id);

  const TimelineOptions& options_;
  size_t cache_limit_;  // 0: everything stays in memory.
  SpillStore* const spill_;
  absl::flat_hash_map<ProfileId, std::unique_ptr<ProfileTimeline>> memory_;
  absl::flat_hash_set<ProfileId> spilled_;  // Timeline in the spill store, not in memory.
  absl::flat_hash_set<ProfileId> copies_;   // In memory, but a stale copy is stored.
  SealedParts sealed_;          // ProfileTimeline::Save bytes of profiles in memory at the snapshot.
  SealedParts sealed_spilled_;  // ProfileTimeline::Encode bytes of profiles spilled at the snapshot.
  absl::Status status_;
  bool sealed_damaged_ = false;
  absl::flat_hash_map<ProfileId, uint64_t> last_use_;
  uint64_t use_clock_ = 0;
  int64_t entries_ = 0;
  Trimmed trimmed_;
};

}  // namespace omnijourney::internal

#endif  // OMNIJOURNEY_SRC_ENGINE_PROFILE_STORE_H_
