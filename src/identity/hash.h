// Stable 64-bit hashes (the same in every process and version): profile ids and record keys are
// persisted, so std::hash / absl::Hash (randomised per process) cannot be used.
#ifndef OMNIJOURNEY_SRC_IDENTITY_HASH_H_
#define OMNIJOURNEY_SRC_IDENTITY_HASH_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/types/span.h"
#include "common/stable_hash.h"

namespace omnijourney::internal {

// splitmix64 finaliser (the one of common/stable_hash.h).
inline uint64_t Mix64(uint64_t x) { return StableMix(x); }

// FNV-1a over the bytes, then mixed; `h` carries the running state.
inline uint64_t HashBytes(uint64_t h, std::string_view s) {
  // Length as a separator so ("ab","c") and ("a","bc") differ.
  return Mix64(FnvBytes(h, s) ^ s.size());
}

// HashBytes(h, a + b) without building the concatenation.
inline uint64_t HashConcat(uint64_t h, std::string_view a, std::string_view b) {
  return Mix64(FnvBytes(FnvBytes(h, a), b) ^ (a.size() + b.size()));
}

inline uint64_t HashIdentifier(uint64_t seed, std::string_view tenant, std::string_view type,
                               std::string_view value) {
  uint64_t h = Mix64(seed ^ 0xcbf29ce484222325ULL);
  h = HashBytes(h, tenant);
  h = HashBytes(h, type);
  return HashBytes(h, value);
}

inline uint64_t HashEvent(std::string_view source, std::string_view event_id) {
  return HashBytes(HashBytes(0xcbf29ce484222325ULL, source), event_id);
}

// Order-sensitive: callers pass sets in one canonical order.
inline uint64_t HashNodeSet(absl::Span<const uint32_t> nodes) {
  uint64_t h = 0x9e3779b97f4a7c15ULL;
  for (uint32_t n : nodes) h = Mix64(h ^ n);
  return h;
}

}  // namespace omnijourney::internal

#endif  // OMNIJOURNEY_SRC_IDENTITY_HASH_H_
