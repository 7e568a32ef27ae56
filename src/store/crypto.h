// The cryptography of the sealed store, on libsodium: what erasure relies on (docs/storage.md,
// "Erasure by crypto-shredding").
//
// Every stored record is encrypted with a key of its own, derived from the key of its group (the
// records appended together) and its position. Erasure deletes keys; the bytes left in the log, its
// WAL, old SST files or a copy elsewhere can no longer be read. A record that must outlive its
// group's key (it was not erased) gets its own key stored instead (a derived key reveals neither
// the group key nor any other record's key).
//
// Primitives (libsodium 1.0.18): ChaCha20-Poly1305 (IETF) for records, each key used for one message
// (so the nonce is constant); HChaCha20 to derive a record's key; the same with a nonce from a
// counter where one key seals many messages; ChaCha20 at a byte offset for files read in parts; keyed
// BLAKE2b for keyed hashes.
//
// Thread-safety: every function is thread-safe.
#ifndef OMNIJOURNEY_SRC_STORE_CRYPTO_H_
#define OMNIJOURNEY_SRC_STORE_CRYPTO_H_

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace omnijourney::internal::crypto {

inline constexpr size_t kKeyBytes = 32;
using Key = std::array<uint8_t, kKeyBytes>;

// A key from the operating system's random source.
Key RandomKey();
// A key from stored bytes; nullopt unless exactly kKeyBytes.
std::optional<Key> KeyFrom(std::string_view bytes);
inline std::string_view Bytes(const Key& key) {
  return std::string_view(reinterpret_cast<const char*>(key.data()), key.size());
}

// The key of the record at `position` of a group with key `group`.
Key RecordKey(const Key& group, uint64_t position);

// Authenticated encryption with a key used for this one message; `ad` (e.g. the position) is
// authenticated but not stored. Appends kSealOverhead bytes (the tag) to the ciphertext.
inline constexpr size_t kSealOverhead = 16;
void SealOnce(const Key& key, std::string_view plaintext, std::string_view ad, std::string* out);
// False when `sealed` was not sealed with this key and `ad` (or was changed).
bool OpenOnce(const Key& key, std::string_view sealed, std::string_view ad, std::string* out);

// Authenticated encryption of many messages under one random key that only this object holds
// (ChaCha20-Poly1305, IETF): each message takes the next value of a counter as its nonce, stored in
// front, so no nonce is used twice with the key.
class Sealer {
 public:
  static constexpr size_t kOverhead = 8 + 16;  // The counter, the tag.
  Sealer();
  Sealer(const Sealer&) = delete;
  Sealer& operator=(const Sealer&) = delete;
  // Replaces *out with the sealed message.
  void Seal(std::string_view plaintext, std::string* out);
  // False when `sealed` was not sealed by this object (or was changed).
  bool Open(std::string_view sealed, std::string* out) const;

 private:
  const Key key_;
  std::atomic<uint64_t> next_{0};
};

// XORs data[0..n) with the ChaCha20 key stream of (key, nonce) from byte `offset` on: encrypts and
// decrypts any part of a file independently of the rest.
inline constexpr size_t kStreamNonceBytes = 12;
void XorAt(const Key& key, const std::array<uint8_t, kStreamNonceBytes>& nonce, uint64_t offset, char* data,
           size_t n);

// A 128-bit keyed hash (BLAKE2b): equal inputs give equal hashes, and nobody without the key can
// compute or check one.
std::array<uint8_t, 16> KeyedHash(const Key& key, std::string_view data);

}  // namespace omnijourney::internal::crypto

#endif  // OMNIJOURNEY_SRC_STORE_CRYPTO_H_
