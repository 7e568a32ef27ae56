#include "engine/journey_scheduler.h"

#include <algorithm>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace omnijourney::internal {

absl::StatusOr<std::unique_ptr<ProfileJourneys>> JourneyScheduler::Decode(std::string_view bytes) const {
  auto j = std::make_unique<ProfileJourneys>(&catalog_, trait_priority_);
  SerialReader r(bytes);
  if (!j->Restore(r) || !r.done()) return absl::DataLossError("snapshot: journey instances unreadable");
  return j;
}

ProfileJourneys* JourneyScheduler::Get(ProfileId id) {
  if (auto j = journeys_.find(id); j != journeys_.end()) return j->second.get();
  std::optional<std::string> bytes = sealed_.Get(id);
  if (!bytes) return nullptr;
  absl::StatusOr<std::unique_ptr<ProfileJourneys>> j = Decode(*bytes);
  if (!j.ok()) {
    sealed_damaged_ = true;
    if (status_.ok()) status_ = j.status();
    return nullptr;
  }
  sealed_.Erase(id);
  return (journeys_[id] = *std::move(j)).get();
}

absl::Status JourneyScheduler::UnsealAll() {
  for (const auto& [id, bytes] : sealed_.All()) {
    if (Get(id) == nullptr) return status_;
  }
  return absl::OkStatus();
}

void JourneyScheduler::OnEntry(ProfileId id, const StoredEntry& entry) {
  if (catalog_.empty()) return;
  ProfileJourneys* j = Get(id);
  if (j != nullptr && j->InOrder(entry) && !stale_.contains(id)) {
    j->Apply(entry);
    touched_.insert(id);
  } else {
    stale_.insert(id);
  }
}

std::unique_ptr<ProfileJourneys> JourneyScheduler::Rebuild(const ProfileTimeline& timeline) const {
  auto fresh = std::make_unique<ProfileJourneys>(&catalog_, trait_priority_);
  for (const StoredEntry& e : timeline.entries()) fresh->Apply(e);
  if (auto due = fresh->NextDue(); due && *due <= fired_until_) fresh->AdvanceTo(fired_until_);
  return fresh;
}

void JourneyScheduler::RebuildInMemory(ProfileStore& profiles, ProfileId id) {
  sealed_.Erase(id);
  const ProfileTimeline* timeline = profiles.Find(id);
  if (timeline == nullptr) {
    journeys_.erase(id);
    Schedule(id);
    return;
  }
  journeys_[id] = Rebuild(*timeline);
  touched_.insert(id);
}

void JourneyScheduler::Schedule(ProfileId id) {
  ProfileJourneys* j = Get(id);
  const std::optional<absl::Time> due = j == nullptr ? std::nullopt : j->NextDue();
  if (auto old = timer_of_.find(id); old != timer_of_.end()) {
    if (due && old->second == *due) return;  // Unchanged.
    timers_.erase({old->second, id});
    timer_of_.erase(old);
  }
  if (due) {
    timers_.insert({*due, id});
    timer_of_[id] = *due;
  }
}

absl::Status JourneyScheduler::Sync(ProfileStore& profiles, absl::Time limit) {
  if (catalog_.empty()) {
    if (!stale_.empty()) stale_.clear();
    return absl::OkStatus();
  }
  for (ProfileId id : stale_) RebuildInMemory(profiles, id);
  stale_.clear();
  for (ProfileId id : touched_) Schedule(id);
  RETURN_IF_ERROR(FireDue(profiles, limit));
  return status_;
}

absl::Status JourneyScheduler::FireDue(ProfileStore& profiles, absl::Time limit) {
  if (catalog_.empty()) return absl::OkStatus();
  fired_until_ = std::max(fired_until_, limit);
  while (!timers_.empty() && timers_.begin()->first <= limit) {
    const ProfileId id = timers_.begin()->second;
    absl::StatusOr<bool> loaded = profiles.Load(id);
    if (!loaded.ok()) return loaded.status();
    if (*loaded) RebuildInMemory(profiles, id);
    if (ProfileJourneys* j = Get(id)) {
      j->AdvanceTo(limit);
      touched_.insert(id);
    }
    Schedule(id);
  }
  return status_;
}

std::vector<JourneyScheduler::Due> JourneyScheduler::TakeDue(
    absl::Time limit, const std::function<bool(ProfileId, const std::string&)>& released) {
  std::vector<Due> due;
  std::vector<ProfileId> still_pending;
  for (ProfileId id : touched_) {
    const ProfileJourneys* j = Get(id);
    if (j == nullptr) continue;
    bool pending = false;
    const auto& actions = j->actions();
    for (size_t i = 0; i < actions.size(); ++i) {
      const EmittedAction& a = actions[i];
      if (released(id, a.id)) continue;
      if (a.time > limit) {
        pending = true;
        continue;
      }
      due.push_back({a.time, id, i, &a});
    }
    if (pending) still_pending.push_back(id);
  }
  std::sort(due.begin(), due.end(), [](const Due& x, const Due& y) {
    return std::tie(x.time, x.profile, x.index) < std::tie(y.time, y.profile, y.index);
  });
  touched_.clear();
  touched_.insert(still_pending.begin(), still_pending.end());
  return due;
}

absl::StatusOr<const ProfileJourneys*> JourneyScheduler::Find(ProfileId id, std::unique_ptr<ProfileJourneys>* own) const {
  if (auto j = journeys_.find(id); j != journeys_.end()) return j->second.get();
  std::optional<std::string> bytes = sealed_.Get(id);
  if (!bytes) return nullptr;
  ASSIGN_OR_RETURN(*own, Decode(*bytes));
  return own->get();
}

std::optional<absl::Time> JourneyScheduler::NextDue() const {
  if (timers_.empty()) return std::nullopt;
  return timers_.begin()->first;
}

std::optional<absl::Time> JourneyScheduler::NextAction(
    const std::function<bool(ProfileId, const std::string&)>& released) const {
  std::optional<absl::Time> next;
  for (ProfileId id : touched_) {
    std::unique_ptr<ProfileJourneys> own;
    absl::StatusOr<const ProfileJourneys*> j = Find(id, &own);
    if (!j.ok() || *j == nullptr) continue;
    for (const EmittedAction& a : (*j)->actions()) {
      if (released(id, a.id)) continue;
      if (!next || a.time < *next) next = a.time;
    }
  }
  return next;
}

void JourneyScheduler::Save(SerialWriter& w) const {
  w.Varint(catalog_.all().size());
  for (const auto& j : catalog_.all()) {
    w.Bytes(j->def.SerializeAsString());
    w.Time(j->active_from);
  }
  w.Varint(timers_.size());
  for (const auto& [t, id] : timers_) {
    w.Time(t);
    w.U64(id);
  }
  w.Time(fired_until_);
  for (const auto* set : {&touched_, &stale_}) {
    w.Varint(set->size());
    for (ProfileId id : *set) w.U64(id);
  }
  // Each profile's instances framed (Bytes), so that Restore can seal them without decoding.
  w.Varint(journeys_.size() + sealed_.size());
  SerialWriter scratch;
  for (const auto& [id, j] : journeys_) {
    w.U64(id);
    scratch.mutable_data().clear();
    j->Save(scratch);
    w.SealedBytes(scratch.data());
  }
  sealed_.Save(w);
}

absl::Status JourneyScheduler::Restore(SerialReader& r, std::shared_ptr<const SnapshotMapping> mapping) {
  const size_t journeys = r.Count(9);
  for (size_t i = 0; i < journeys && r.ok(); ++i) {
    JourneyDefinition def;
    const std::string_view bytes = r.Bytes();
    const absl::Time from = r.Time();
    if (!r.ok() || !def.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      return absl::DataLossError("snapshot: journey definition unreadable");
    }
    if (absl::Status s = catalog_.Add(def, from); !s.ok()) {
      return absl::DataLossError(absl::StrCat("snapshot: journey: ", s.message()));
    }
  }
  const size_t timers = r.Count(16);
  for (size_t i = 0; i < timers && r.ok(); ++i) {
    const absl::Time t = r.Time();
    const ProfileId id = r.U64();
    timers_.insert({t, id});
    timer_of_[id] = t;
  }
  fired_until_ = r.Time();
  for (auto* set : {&touched_, &stale_}) {
    const size_t n = r.Count(8);
    for (size_t i = 0; i < n && r.ok(); ++i) set->insert(r.U64());
  }
  const size_t profiles = r.Count(9);
  const bool seal = mapping != nullptr && profiles > 0;
  if (seal) {
    sealed_.Hold(std::move(mapping));
    sealed_.Reserve(profiles);
  } else {
    journeys_.reserve(profiles);
  }
  for (size_t i = 0; i < profiles && r.ok(); ++i) {
    const ProfileId id = r.U64();
    const std::string_view bytes = r.Bytes();
    if (!r.ok()) break;
    if (seal) {
      sealed_.Add(id, bytes);
      continue;
    }
    ASSIGN_OR_RETURN(journeys_[id], Decode(bytes));
  }
  return r.status("journeys");
}

}  // namespace omnijourney::internal
