// Per-profile parts of a snapshot left encoded until something needs them.
//
// Open maps the snapshot file and decodes what every call needs (the identity graph, the timer
// index, the dedupe window); each profile's timeline and journey instances stay as byte ranges of
// the mapped file and are decoded when an event, a timer or an operator action touches the profile
// (then they are the profile's state in memory) or, as a copy, when a reader asks for it. So a
// store opens in the time its graph takes, and one lookup decodes one profile.
//
// The mapping lives as long as any range of it does: a snapshot deleted after a newer one was
// written keeps its disk space until then (or until an erasure, which decodes everything and lets
// the mapping go, since the erased value may be in it).
//
// The file is encrypted (snapshot.h): Open decrypts everything but these parts in place, and each
// part is decrypted into a copy when it is needed (SnapshotMapping::Open).
//
// Thread-safety: not thread-safe; the owner serialises access (mutations under the engine's
// exclusive lock, Get under its shared lock).
#ifndef OMNIJOURNEY_SRC_ENGINE_SEALED_H_
#define OMNIJOURNEY_SRC_ENGINE_SEALED_H_

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "common/serial.h"
#include "store/crypto.h"
#include "omnijourney/profile_id.h"

namespace omnijourney::internal {

// A mapped snapshot file whose parts are still encrypted.
struct SnapshotMapping {
  std::shared_ptr<const void> file;  // Keeps the mapping.
  const char* base = nullptr;        // The file's first byte.
  std::optional<crypto::Key> key;    // The file's key (ChaCha20 at file offsets); none: plaintext.
  // A part of the file (a view into it) decrypted.
  std::string Open(std::string_view part) const {
    std::string out(part);
    if (key) crypto::XorAt(*key, {}, static_cast<uint64_t>(part.data() - base), out.data(), out.size());
    return out;
  }
};

class SealedParts {
 public:
  // Keeps `owner` (the mapping the ranges point into) alive while any range is held.
  void Hold(std::shared_ptr<const SnapshotMapping> owner) { owner_ = std::move(owner); }
  bool holds() const { return owner_ != nullptr; }

  void Add(ProfileId id, std::string_view bytes) { parts_[id] = bytes; }
  void Reserve(size_t n) { parts_.reserve(n); }
  bool contains(ProfileId id) const { return parts_.contains(id); }
  // The part's bytes, decrypted (a copy).
  std::optional<std::string> Get(ProfileId id) const {
    auto it = parts_.find(id);
    if (it == parts_.end()) return std::nullopt;
    return owner_ != nullptr ? owner_->Open(it->second) : std::string(it->second);
  }
  void Erase(ProfileId id) {
    parts_.erase(id);
    DropIfEmpty();
  }
  // Every part, sorted by id (a stable order for snapshots and scans).
  std::vector<std::pair<ProfileId, std::string_view>> All() const {
    std::vector<std::pair<ProfileId, std::string_view>> out(parts_.begin(), parts_.end());
    std::sort(out.begin(), out.end());
    return out;
  }
  // Each part as (id, bytes), in id order: the framing ProfileStore and JourneyScheduler write
  // their decoded parts in too.
  void Save(SerialWriter& w) const {
    for (const auto& [id, bytes] : All()) {
      w.U64(id);
      w.SealedBytes(owner_ != nullptr ? owner_->Open(bytes) : std::string(bytes));
    }
  }
  size_t size() const { return parts_.size(); }
  bool empty() const { return parts_.empty(); }
  void Clear() {
    parts_.clear();
    DropIfEmpty();
  }

 private:
  void DropIfEmpty() {
    if (parts_.empty()) owner_.reset();
  }

  std::shared_ptr<const SnapshotMapping> owner_;
  absl::flat_hash_map<ProfileId, std::string_view> parts_;
};

}  // namespace omnijourney::internal

#endif  // OMNIJOURNEY_SRC_ENGINE_SEALED_H_
