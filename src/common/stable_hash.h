// A fast 64-bit hash that is the same in every process and build (absl::Hash is seeded per
// process): for keys that are persisted, such as the idempotence keys in snapshots.
#ifndef OMNIJOURNEY_SRC_COMMON_STABLE_HASH_H_
#define OMNIJOURNEY_SRC_COMMON_STABLE_HASH_H_

#include <cstdint>
#include <cstring>
#include <string_view>
#include <utility>

namespace omnijourney::internal {

// The FNV-1a 64 offset basis, and FNV-1a over the bytes from the running state `h`, without a
// final mix (HashBytes in identity/hash.h adds one; cluster message ids and checks use it plain).
inline constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ULL;
inline uint64_t FnvBytes(uint64_t h, std::string_view s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

// The splitmix64 finaliser.
inline uint64_t StableMix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Hashes `s` into the running state `h`, 8 bytes at a time; the length separates consecutive
// strings ("ab","c" and "a","bc" differ).
inline uint64_t StableHash(uint64_t h, std::string_view s) {
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = StableMix(h ^ w) * 0x9e3779b97f4a7c15ULL;
  }
  uint64_t tail = 0;
  std::memcpy(&tail, s.data() + i, s.size() - i);
  return StableMix(h ^ tail ^ (static_cast<uint64_t>(s.size()) << 56));
}

// Two independent 64-bit hashes of the concatenation of `parts` (each length-separated) in one pass
// (a 128-bit key whose halves collide independently).
template <typename... Parts>
std::pair<uint64_t, uint64_t> StableHash128(uint64_t seed, const Parts&... parts) {
  uint64_t a = seed ^ 0x243f6a8885a308d3ULL, b = seed ^ 0x13198a2e03707344ULL;
  auto lane = [&](std::string_view s) {
    size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
      uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      a = (a ^ w) * 0x9e3779b97f4a7c15ULL;
      a = (a << 31) | (a >> 33);
      b = (b ^ w) * 0xc2b2ae3d27d4eb4fULL;
      b = (b << 29) | (b >> 35);
    }
    uint64_t tail = 0;
    std::memcpy(&tail, s.data() + i, s.size() - i);
    tail ^= static_cast<uint64_t>(s.size()) << 56;
    a = (a ^ tail) * 0x9e3779b97f4a7c15ULL;
    b = (b ^ tail) * 0xc2b2ae3d27d4eb4fULL;
  };
  (lane(std::string_view(parts)), ...);
  return {StableMix(a), StableMix(b ^ 0x94d049bb133111ebULL)};
}

}  // namespace omnijourney::internal

#endif  // OMNIJOURNEY_SRC_COMMON_STABLE_HASH_H_
