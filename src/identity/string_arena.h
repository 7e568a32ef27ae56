// Append-only storage for identifier values: stable pointers, one allocation per 1 MiB instead of
// one per value. Erasing a value overwrites its bytes (GDPR: nothing of an erased identifier stays
// in memory); the space is not reused.
#ifndef OMNIJOURNEY_SRC_IDENTITY_STRING_ARENA_H_
#define OMNIJOURNEY_SRC_IDENTITY_STRING_ARENA_H_

#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "common/huge_pages.h"

namespace omnijourney::internal {

class StringArena {
 public:
  static constexpr size_t kChunk = size_t{2} << 20;  // One huge page.

  std::string_view Add(std::string_view s) {
    if (s.empty()) return {};
    if (s.size() > kChunk / 4) {
      // Large values get a block of their own.
      Block block(new char[s.size()], Free{false});
      std::memcpy(block.get(), s.data(), s.size());
      std::string_view out(block.get(), s.size());
      large_.push_back(Chunk{std::move(block), s.size()});
      return out;
    }
    if (chunks_.empty() || used_ + s.size() > kChunk) {
      chunks_.push_back(Chunk{Block(static_cast<char*>(AllocateLarge(kChunk)), Free{true}), kChunk});
      used_ = 0;
    }
    char* at = chunks_.back().data.get() + used_;
    std::memcpy(at, s.data(), s.size());
    used_ += s.size();
    return std::string_view(at, s.size());
  }

  // REQUIRES: `s` came from Add on this arena.
  static void Wipe(std::string_view s) {
    if (!s.empty()) std::memset(const_cast<char*>(s.data()), 0, s.size());
  }

  // Frees everything, zeroing it first.
  void Clear() {
    for (Chunk& c : chunks_) std::memset(c.data.get(), 0, c.size);
    for (Chunk& c : large_) std::memset(c.data.get(), 0, c.size);
    chunks_.clear();
    large_.clear();
    used_ = 0;
  }

  // Calls f(bytes) for every chunk's used bytes (for tests that scan memory).
  template <typename F>
  void ForEachChunk(F&& f) const {
    for (size_t i = 0; i < chunks_.size(); ++i) {
      f(std::string_view(chunks_[i].data.get(), i + 1 == chunks_.size() ? used_ : kChunk));
    }
    for (const Chunk& c : large_) f(std::string_view(c.data.get(), c.size));
  }

 private:
  // Chunks come from AllocateLarge, large values from new[].
  struct Free {
    bool chunk = false;
    void operator()(char* p) const {
      if (chunk) {
        FreeLarge(p, kChunk);
      } else {
        delete[] p;
      }
    }
  };
  using Block = std::unique_ptr<char[], Free>;
  struct Chunk {
    Block data;
    size_t size;
  };
  std::vector<Chunk> chunks_;
  std::vector<Chunk> large_;
  size_t used_ = 0;
};

}  // namespace omnijourney::internal

#endif  // OMNIJOURNEY_SRC_IDENTITY_STRING_ARENA_H_
