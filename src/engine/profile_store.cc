#include "engine/profile_store.h"

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "common/parallel.h"
#include "common/status_macros.h"

namespace omnijourney::internal {

absl::StatusOr<std::optional<ProfileTimeline>> ProfileStore::DecodeSealed(ProfileId id, bool* spilled) const {
  *spilled = false;
  absl::StatusOr<ProfileTimeline> t = absl::NotFoundError("");
  if (std::optional<std::string> bytes = sealed_.Get(id)) {
    t = ProfileTimeline::Decode(*bytes);
  } else if (std::optional<std::string> encoded = sealed_spilled_.Get(id)) {
    *spilled = true;
    t = ProfileTimeline::Decode(*encoded);
  } else {
    return std::nullopt;
  }
  if (!t.ok()) return t.status();
  return std::optional<ProfileTimeline>(*std::move(t));
}

absl::StatusOr<bool> ProfileStore::Unseal(ProfileId id) {
  bool spilled = false;
  absl::StatusOr<std::optional<ProfileTimeline>> t = DecodeSealed(id, &spilled);
  if (!t.ok()) {
    sealed_damaged_ = true;
    return t.status();
  }
  if (!t->has_value()) return false;
  memory_[id] = std::make_unique<ProfileTimeline>(std::move(**t));
  (spilled ? sealed_spilled_ : sealed_).Erase(id);
  Touch(id);
  return spilled;
}

void ProfileStore::UnsealOrNote(ProfileId id) {
  if (sealed_.empty() && sealed_spilled_.empty()) return;
  if (absl::StatusOr<bool> s = Unseal(id); !s.ok() && status_.ok()) status_ = s.status();
}

absl::Status ProfileStore::UnsealAll() {
  // Each part leaves its set as it is decoded, so that a failure part way leaves no profile in two
  // places.
  for (const auto& [id, bytes] : sealed_.All()) RETURN_IF_ERROR(Unseal(id).status());
  std::vector<std::pair<uint64_t, std::string>> batch;
  auto flush = [&]() -> absl::Status {
    if (batch.empty()) return absl::OkStatus();
    RETURN_IF_ERROR(spill_->WriteProfiles(batch, {}));
    for (const auto& [written, b] : batch) {
      spilled_.insert(written);
      sealed_spilled_.Erase(written);
    }
    batch.clear();
    return absl::OkStatus();
  };
  for (const auto& [id, bytes] : sealed_spilled_.All()) {
    if (spill_ == nullptr) {
      RETURN_IF_ERROR(Unseal(id).status());
      continue;
    }
    batch.emplace_back(id, *sealed_spilled_.Get(id));
    if (batch.size() >= 1000) RETURN_IF_ERROR(flush());
  }
  return flush();
}

ProfileTimeline* ProfileStore::Find(ProfileId id) {
  auto it = memory_.find(id);
  if (it == memory_.end()) {
    UnsealOrNote(id);
    it = memory_.find(id);
    if (it == memory_.end()) return nullptr;
  }
  Touch(id);
  return it->second.get();
}

absl::StatusOr<bool> ProfileStore::Load(ProfileId id) {
  // Nothing sealed or spilled (the usual case in memory) needs no lookup.
  if ((!sealed_.empty() && sealed_.contains(id)) || (!sealed_spilled_.empty() && sealed_spilled_.contains(id))) {
    return Unseal(id);
  }
  if (spilled_.empty() || !spilled_.contains(id)) return false;
  absl::StatusOr<std::optional<std::string>> bytes = spill_->GetProfile(id);
  if (!bytes.ok()) return bytes.status();
  if (!*bytes) return absl::DataLossError(absl::StrCat("profile ", FormatProfileId(id), ": spilled copy missing"));
  absl::StatusOr<ProfileTimeline> timeline = ProfileTimeline::Decode(**bytes);
  if (!timeline.ok()) return timeline.status();
  spilled_.erase(id);
  copies_.insert(id);  // The stored copy stays until the profile is spilled again (or erased).
  memory_[id] = std::make_unique<ProfileTimeline>(*std::move(timeline));
  Touch(id);
  return true;
}

ProfileTimeline& ProfileStore::State(ProfileId id, const std::string& tenant) {
  UnsealOrNote(id);
  auto& slot = memory_[id];
  if (!slot) slot = std::make_unique<ProfileTimeline>(tenant);
  Touch(id);
  return *slot;
}

void ProfileStore::Insert(ProfileTimeline& timeline, StoredEntry entry, absl::Time now) {
  const size_t before = timeline.entries().size();
  Count(timeline.Insert(std::move(entry), options_, now));
  entries_ += static_cast<int64_t>(timeline.entries().size()) - static_cast<int64_t>(before);
}

void ProfileStore::Absorb(ProfileId into, ProfileId from, absl::Time now) {
  UnsealOrNote(from);
  UnsealOrNote(into);
  auto it = memory_.find(from);
  if (it == memory_.end()) return;
  std::unique_ptr<ProfileTimeline> moved = std::move(it->second);
  memory_.erase(it);
  last_use_.erase(from);
  ProfileTimeline& target = State(into, moved->tenant());
  const size_t before = target.entries().size() + moved->entries().size();
  Count(target.Absorb(std::move(*moved), options_, now));
  entries_ -= static_cast<int64_t>(before - target.entries().size());
}

std::unique_ptr<ProfileTimeline> ProfileStore::Take(ProfileId id) {
  UnsealOrNote(id);
  auto it = memory_.find(id);
  if (it == memory_.end()) return nullptr;
  std::unique_ptr<ProfileTimeline> out = std::move(it->second);
  memory_.erase(it);
  last_use_.erase(id);
  entries_ -= static_cast<int64_t>(out->entries().size());
  return out;
}

absl::StatusOr<std::vector<ProfileId>> ProfileStore::Trim(const std::function<bool(ProfileId)>& busy) {
  std::vector<ProfileId> spilled;
  if (cache_limit_ == 0 || memory_.size() <= cache_limit_) return spilled;
  const size_t target = cache_limit_ - cache_limit_ / 8;
  std::vector<std::pair<uint64_t, ProfileId>> candidates;
  candidates.reserve(memory_.size());
  for (const auto& [id, timeline] : memory_) {
    if (busy(id)) continue;
    candidates.emplace_back(last_use_[id], id);
  }
  const size_t excess = memory_.size() - target;
  if (candidates.size() > excess) {
    std::nth_element(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(excess), candidates.end());
    candidates.resize(excess);
  }
  std::vector<std::pair<uint64_t, std::string>> out(candidates.size());
  std::vector<const ProfileTimeline*> spill(candidates.size());
  for (size_t i = 0; i < candidates.size(); ++i) spill[i] = memory_.at(candidates[i].second).get();
  ParallelFor(out.size(), kMinSpillPerThread, 4, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) out[i] = {candidates[i].second, spill[i]->Encode()};
  });
  std::vector<uint64_t> gone;  // Stale copies of profiles that are gone (merged, erased).
  for (ProfileId id : copies_) {
    if (!memory_.contains(id)) gone.push_back(id);
  }
  if (absl::Status s = spill_->WriteProfiles(out, gone); !s.ok()) return s;
  for (ProfileId id : gone) copies_.erase(id);
  for (const auto& [use, id] : candidates) {
    memory_.erase(id);
    last_use_.erase(id);
    copies_.erase(id);
    spilled_.insert(id);
    spilled.push_back(id);
  }
  return spilled;
}

absl::Status ProfileStore::DropCopies() {
  if (spill_ == nullptr || copies_.empty()) return absl::OkStatus();
  if (absl::Status s = spill_->WriteProfiles({}, std::vector<uint64_t>(copies_.begin(), copies_.end())); !s.ok()) {
    return s;
  }
  copies_.clear();
  return absl::OkStatus();
}

absl::StatusOr<ProfileStore::View> ProfileStore::Read(ProfileId id) const {
  View view;
  if (auto it = memory_.find(id); it != memory_.end()) {
    view.timeline = it->second.get();
    return view;
  }
  bool sealed_spilled = false;
  ASSIGN_OR_RETURN(std::optional<ProfileTimeline> sealed, DecodeSealed(id, &sealed_spilled));
  if (sealed) {
    view.own = std::make_unique<ProfileTimeline>(std::move(*sealed));
    view.timeline = view.own.get();
    view.spilled = sealed_spilled;
    return view;
  }
  if (!spilled_.contains(id)) return view;
  view.spilled = true;
  absl::StatusOr<std::optional<std::string>> bytes = spill_->GetProfile(id);
  if (!bytes.ok()) return bytes.status();
  if (!*bytes) return absl::DataLossError(absl::StrCat("profile ", FormatProfileId(id), ": spilled copy missing"));
  absl::StatusOr<ProfileTimeline> timeline = ProfileTimeline::Decode(**bytes);
  if (!timeline.ok()) return timeline.status();
  view.own = std::make_unique<ProfileTimeline>(*std::move(timeline));
  view.timeline = view.own.get();
  return view;
}

std::vector<ProfileId> ProfileStore::ids() const {
  std::vector<ProfileId> out;
  out.reserve(static_cast<size_t>(profiles()));
  for (const auto& [id, timeline] : memory_) out.push_back(id);
  for (ProfileId id : spilled_) out.push_back(id);
  for (const SealedParts* sealed : {&sealed_, &sealed_spilled_}) {
    for (const auto& [id, bytes] : sealed->All()) out.push_back(id);
  }
  std::sort(out.begin(), out.end());
  return out;
}

void ProfileStore::ForEachInMemory(const std::function<void(ProfileId, ProfileTimeline&)>& fn) {
  for (auto& [id, timeline] : memory_) fn(id, *timeline);
}

void ProfileStore::ForEachCached(const std::function<void(ProfileId, const ProfileTimeline&)>& fn) const {
  for (const auto& [id, timeline] : memory_) fn(id, *timeline);
  for (const auto& [id, encrypted] : sealed_.All()) {
    if (absl::StatusOr<ProfileTimeline> t = ProfileTimeline::Decode(*sealed_.Get(id)); t.ok()) fn(id, *t);
  }
  for (const auto& [id, encrypted] : sealed_spilled_.All()) {
    if (absl::StatusOr<ProfileTimeline> t = ProfileTimeline::Decode(*sealed_spilled_.Get(id)); t.ok()) fn(id, *t);
  }
}

absl::Status ProfileStore::ForEachSpilled(const std::string& tenant,
                                          const std::function<void(ProfileId, const ProfileTimeline&)>& fn) const {
  if (spill_ == nullptr || spilled_.empty()) return absl::OkStatus();
  return spill_->ForEachProfile([&](uint64_t id, std::string_view bytes) -> absl::Status {
    if (!spilled_.contains(id)) return absl::OkStatus();
    absl::StatusOr<ProfileTimeline> t = ProfileTimeline::Decode(bytes);
    if (!t.ok()) return t.status();
    if (t->tenant() == tenant) fn(id, *t);
    return absl::OkStatus();
  });
}

absl::Status ProfileStore::Save(SerialWriter& w) const {
  // Each timeline framed (Bytes), so that Restore can seal it without decoding.
  w.Varint(memory_.size() + sealed_.size());
  SerialWriter scratch;
  for (const auto& [id, timeline] : memory_) {
    w.U64(id);
    scratch.mutable_data().clear();
    timeline->Save(scratch);
    w.SealedBytes(scratch.data());
  }
  sealed_.Save(w);
  w.Varint(spilled_.size() + sealed_spilled_.size());
  if (!spilled_.empty()) {
    size_t written = 0;
    absl::Status s = spill_->ForEachProfile([&](uint64_t id, std::string_view bytes) {
      if (!spilled_.contains(id)) return absl::OkStatus();
      w.U64(id);
      w.SealedBytes(bytes);
      ++written;
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    if (written != spilled_.size()) {
      return absl::DataLossError(absl::StrCat("spill store: ", spilled_.size() - written, " spilled profiles missing"));
    }
  }
  sealed_spilled_.Save(w);
  w.I64(entries_);
  w.I64(trimmed_.by_count);
  w.I64(trimmed_.by_age);
  w.I64(trimmed_.texts_cut);
  return absl::OkStatus();
}

absl::Status ProfileStore::Restore(SerialReader& r, std::shared_ptr<const SnapshotMapping> mapping) {
  const size_t cached = r.Count(9);
  if (mapping != nullptr) {
    sealed_.Hold(mapping);
    sealed_.Reserve(cached);
  } else {
    memory_.reserve(cached);
  }
  for (size_t i = 0; i < cached && r.ok(); ++i) {
    const ProfileId id = r.U64();
    const std::string_view bytes = r.Bytes();
    if (!r.ok()) break;
    if (mapping != nullptr) {
      sealed_.Add(id, bytes);
      continue;
    }
    absl::StatusOr<ProfileTimeline> t = ProfileTimeline::Decode(bytes);
    if (!t.ok()) return t.status();
    memory_[id] = std::make_unique<ProfileTimeline>(*std::move(t));
    Touch(id);
  }
  const size_t spilled = r.Count(9);
  if (mapping != nullptr) sealed_spilled_.Hold(mapping);
  std::vector<std::pair<uint64_t, std::string>> batch;
  auto flush = [&]() -> absl::Status {
    if (batch.empty()) return absl::OkStatus();
    absl::Status s = spill_->WriteProfiles(batch, {});
    batch.clear();
    return s;
  };
  for (size_t i = 0; i < spilled && r.ok(); ++i) {
    const ProfileId id = r.U64();
    const std::string_view bytes = r.Bytes();
    if (!r.ok()) break;
    if (mapping != nullptr) {
      sealed_spilled_.Add(id, bytes);
      continue;
    }
    if (spill_ == nullptr) {
      absl::StatusOr<ProfileTimeline> t = ProfileTimeline::Decode(bytes);
      if (!t.ok()) return t.status();
      memory_[id] = std::make_unique<ProfileTimeline>(*std::move(t));
      Touch(id);
      continue;
    }
    spilled_.insert(id);
    batch.emplace_back(id, std::string(bytes));
    if (batch.size() >= 1000) {
      if (absl::Status s = flush(); !s.ok()) return s;
    }
  }
  if (absl::Status s = flush(); !s.ok()) return s;
  if (sealed_spilled_.empty()) sealed_spilled_.Clear();  // Lets the mapping go when nothing is in it.
  if (sealed_.empty()) sealed_.Clear();
  entries_ = r.I64();
  trimmed_.by_count = r.I64();
  trimmed_.by_age = r.I64();
  trimmed_.texts_cut = r.I64();
  return r.status("profiles");
}

}  // namespace omnijourney::internal
