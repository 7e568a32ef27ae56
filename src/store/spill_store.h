// Profiles spilled out of the engine's in-memory cache (EngineOptions::storage.cache_profiles):
// profile id -> encoded ProfileTimeline. Derived state, not synced: the log rebuilds it.
//
// Thread-safety: reads (GetProfile, ForEachProfile) may run concurrently with each other; writes
// are serialised by the engine and never run concurrently with reads of the same profile.
#ifndef OMNIJOURNEY_SRC_STORE_SPILL_STORE_H_
#define OMNIJOURNEY_SRC_STORE_SPILL_STORE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace omnijourney::internal {

// Profiles a thread encodes or seals at least when a large spill (a recovery's) is shared among
// cores (ParallelFor).
inline constexpr size_t kMinSpillPerThread = 4096;

class SpillStore {
 public:
  virtual ~SpillStore() = default;
  // Stores `put` and deletes `erase` in one batch.
  virtual absl::Status WriteProfiles(const std::vector<std::pair<uint64_t, std::string>>& put,
                                     const std::vector<uint64_t>& erase) = 0;
  virtual absl::StatusOr<std::optional<std::string>> GetProfile(uint64_t id) const = 0;
  virtual absl::Status ForEachProfile(const std::function<absl::Status(uint64_t id, std::string_view bytes)>& fn) const = 0;
  virtual absl::Status ClearProfiles() = 0;
};

}  // namespace omnijourney::internal

#endif  // OMNIJOURNEY_SRC_STORE_SPILL_STORE_H_
