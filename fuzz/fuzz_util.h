// Shared by the fuzz targets: a check that aborts (so libFuzzer and the corpus replay report it)
// instead of an assert that NDEBUG would remove.
#ifndef OMNIJOURNEY_FUZZ_FUZZ_UTIL_H_
#define OMNIJOURNEY_FUZZ_FUZZ_UTIL_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#define FUZZ_CHECK(cond)                                                                \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);     \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)

namespace omnijourney::fuzz {

// Reads choices from the fuzzer's bytes (a small stand-in for libFuzzer's FuzzedDataProvider, which
// GCC builds do not have). When the bytes run out every choice is the smallest one.
class Bytes {
 public:
  Bytes(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  size_t remaining() const { return size_ - pos_; }
  uint64_t Next64() {
    uint64_t v = 0;
    const size_t n = remaining() < 8 ? remaining() : 8;
    std::memcpy(&v, data_ + pos_, n);
    pos_ += n;
    return v;
  }
  uint8_t Next8() { return pos_ < size_ ? data_[pos_++] : 0; }
  bool Bool() { return (Next8() & 1) != 0; }
  // In [lo, hi]. REQUIRES: lo <= hi.
  int64_t Int(int64_t lo, int64_t hi) {
    const uint64_t span = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
    const uint64_t raw = span < 256 ? Next8() : Next64();
    return static_cast<int64_t>(static_cast<uint64_t>(lo) + (span == UINT64_MAX ? raw : raw % (span + 1)));
  }
  double Double() {
    const uint64_t bits = Next64();
    double d;
    std::memcpy(&d, &bits, sizeof d);
    return d;  // Any bit pattern: NaN and infinities included.
  }
  // Up to `max` bytes (any bytes, invalid UTF-8 included).
  std::string String(size_t max) {
    size_t n = static_cast<size_t>(Int(0, static_cast<int64_t>(max)));
    if (n > remaining()) n = remaining();
    std::string s(reinterpret_cast<const char*>(data_ + pos_), n);
    pos_ += n;
    return s;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

}  // namespace omnijourney::fuzz

#endif  // OMNIJOURNEY_FUZZ_FUZZ_UTIL_H_
