// Binary serialization for snapshots: little-endian fixed-width integers, varints and
// length-prefixed bytes into a string, and a bounds-checked reader over a view.
//
// Example:
//   SerialWriter w;
//   w.Varint(items.size());
//   for (const auto& s : items) w.Bytes(s);
//   SerialReader r(w.data());
//   uint64_t n = r.Varint();
//   if (!r.ok()) return r.status("items");
#ifndef OMNIJOURNEY_SRC_COMMON_SERIAL_H_
#define OMNIJOURNEY_SRC_COMMON_SERIAL_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/stable_hash.h"

namespace omnijourney::internal {

class SerialWriter {
 public:
  void U8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void U32(uint32_t v) { Fixed(v); }
  void U64(uint64_t v) { Fixed(v); }
  void I64(int64_t v) { Fixed(static_cast<uint64_t>(v)); }
  void Varint(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>((v & 0x7F) | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  void Bool(bool v) { U8(v ? 1 : 0); }
  void Bytes(std::string_view s) {
    Varint(s.size());
    out_.append(s.data(), s.size());
  }
  // Microseconds since the epoch, then the nanoseconds within that microsecond (a varint), so that
  // a time read back is the time written (event times have nanoseconds); the infinite past and
  // future are kept as such.
  void Time(absl::Time t) {
    if (t == absl::InfinitePast()) {
      I64(INT64_MIN);
    } else if (t == absl::InfiniteFuture()) {
      I64(INT64_MAX);
    } else {
      const int64_t micros = absl::ToUnixMicros(t);  // Rounded down.
      I64(micros);
      Varint(static_cast<uint64_t>(absl::ToInt64Nanoseconds(t - absl::FromUnixMicros(micros))));
    }
  }
  void Raw(const void* p, size_t n) { out_.append(static_cast<const char*>(p), n); }
  // Bytes, noting where they are (regions()): a part a reader may leave encoded (and encrypted)
  // until it needs it.
  void SealedBytes(std::string_view s) {
    Varint(s.size());
    regions_.emplace_back(out_.size(), s.size());
    out_.append(s.data(), s.size());
  }
  // (offset, size) of every SealedBytes, in order.
  const std::vector<std::pair<uint64_t, uint64_t>>& regions() const { return regions_; }

  const std::string& data() const { return out_; }
  std::string& mutable_data() { return out_; }

 private:
  template <typename T>
  void Fixed(T v) {
    char buf[sizeof(T)];
    for (size_t i = 0; i < sizeof(T); ++i) buf[i] = static_cast<char>((v >> (8 * i)) & 0xff);
    out_.append(buf, sizeof(T));
  }
  std::string out_;
  std::vector<std::pair<uint64_t, uint64_t>> regions_;
};

// Reads what SerialWriter wrote. A read past the end (or a malformed varint) sets !ok() and returns
// zero values from then on; check ok() once after a group of reads.
class SerialReader {
 public:
  explicit SerialReader(std::string_view in) : in_(in) {}

  uint8_t U8() {
    if (!Need(1)) return 0;
    return static_cast<uint8_t>(in_[pos_++]);
  }
  uint32_t U32() { return Fixed<uint32_t>(); }
  uint64_t U64() { return Fixed<uint64_t>(); }
  int64_t I64() { return static_cast<int64_t>(Fixed<uint64_t>()); }
  uint64_t Varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (!Need(1)) return 0;
      const auto b = static_cast<uint8_t>(in_[pos_++]);
      v |= static_cast<uint64_t>(b & 0x7F) << shift;
      if ((b & 0x80) == 0) return v;
    }
    ok_ = false;
    return 0;
  }
  // A count of items that each take at least `min_bytes`: refused (not ok) when the rest of the input
  // cannot hold them, so a corrupt count never allocates without bound.
  size_t Count(size_t min_bytes = 1) {
    const uint64_t n = Varint();
    if (n > (in_.size() - pos_) / std::max<size_t>(1, min_bytes)) {
      ok_ = false;
      return 0;
    }
    return static_cast<size_t>(n);
  }
  bool Bool() { return U8() != 0; }
  std::string_view Bytes() {
    const uint64_t n = Varint();
    if (!Need(n)) return {};
    std::string_view s = in_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  absl::Time Time() {
    const int64_t v = I64();
    if (v == INT64_MIN) return absl::InfinitePast();
    if (v == INT64_MAX) return absl::InfiniteFuture();
    const uint64_t nanos = Varint();
    if (nanos > 999) Fail();
    return absl::FromUnixMicros(v) + absl::Nanoseconds(static_cast<int64_t>(nanos));
  }
  // The next `n` bytes as they are (a view into the input).
  std::string_view Take(size_t n) {
    if (!Need(n)) return {};
    std::string_view s = in_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  bool Raw(void* p, size_t n) {
    if (!Need(n)) return false;
    std::memcpy(p, in_.data() + pos_, n);
    pos_ += n;
    return true;
  }

  bool ok() const { return ok_; }
  bool done() const { return pos_ == in_.size(); }
  // Marks the input malformed (a value out of range).
  void Fail() { ok_ = false; }
  // DataLoss naming the part that did not read.
  absl::Status status(std::string_view what) const {
    if (ok_) return absl::OkStatus();
    return absl::DataLossError(
        absl::StrCat("snapshot: ", absl::string_view(what.data(), what.size()), ": truncated or malformed at byte ", pos_));
  }

 private:
  bool Need(uint64_t n) {
    if (!ok_ || n > in_.size() - pos_) {
      ok_ = false;
      return false;
    }
    return true;
  }
  template <typename T>
  T Fixed() {
    if (!Need(sizeof(T))) return 0;
    T v = 0;
    for (size_t i = 0; i < sizeof(T); ++i) v |= static_cast<T>(static_cast<uint8_t>(in_[pos_ + i])) << (8 * i);
    pos_ += sizeof(T);
    return v;
  }
  std::string_view in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

// A fast 64-bit checksum of bytes (four independent 8-byte lanes, multiply-rotate, then mixed):
// detects corruption of snapshot files, not adversarial changes.
inline uint64_t Checksum(std::string_view s) {
  constexpr uint64_t kMul = 0x9e3779b97f4a7c15ULL;
  uint64_t lanes[4] = {0x243f6a8885a308d3ULL, 0x13198a2e03707344ULL, 0xa4093822299f31d0ULL, 0x082efa98ec4e6c89ULL};
  size_t i = 0;
  for (; i + 32 <= s.size(); i += 32) {
    for (int l = 0; l < 4; ++l) {
      uint64_t w;
      std::memcpy(&w, s.data() + i + 8 * l, 8);
      const uint64_t x = (lanes[l] ^ w) * kMul;
      lanes[l] = (x << 27) | (x >> 37);
    }
  }
  uint64_t tail[4] = {0, 0, 0, 0};
  std::memcpy(tail, s.data() + i, s.size() - i);
  uint64_t h = s.size();
  for (int l = 0; l < 4; ++l) h = StableMix(h ^ StableMix(lanes[l] ^ tail[l]) ^ static_cast<uint64_t>(l));
  return h;
}

}  // namespace omnijourney::internal

#endif  // OMNIJOURNEY_SRC_COMMON_SERIAL_H_
