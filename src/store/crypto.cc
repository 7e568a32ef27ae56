#include "store/crypto.h"

#include <sodium.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace omnijourney::internal::crypto {
namespace {

// libsodium must be initialised once before use (it picks its implementations and opens the
// random source); sodium_init is thread-safe and idempotent.
void Init() {
  static const bool ok = sodium_init() >= 0;
  if (!ok) std::abort();  // No random source: nothing could be sealed safely.
}

const unsigned char kZeroNonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES] = {};

}  // namespace

Key RandomKey() {
  Init();
  Key key;
  randombytes_buf(key.data(), key.size());
  return key;
}

std::optional<Key> KeyFrom(std::string_view bytes) {
  if (bytes.size() != kKeyBytes) return std::nullopt;
  Key key;
  std::memcpy(key.data(), bytes.data(), kKeyBytes);
  return key;
}

Key RecordKey(const Key& group, uint64_t position) {
  Init();
  static_assert(crypto_core_hchacha20_INPUTBYTES == 16 && crypto_core_hchacha20_OUTPUTBYTES == kKeyBytes);
  unsigned char in[16] = {'o', 'j', '-', 'r', 'e', 'c', '-', '1'};
  for (int i = 0; i < 8; ++i) in[8 + i] = static_cast<unsigned char>(position >> (8 * i));
  Key key;
  crypto_core_hchacha20(key.data(), in, group.data(), nullptr);
  return key;
}

void SealOnce(const Key& key, std::string_view plaintext, std::string_view ad, std::string* out) {
  Init();
  const size_t at = out->size();
  out->resize(at + plaintext.size() + crypto_aead_chacha20poly1305_IETF_ABYTES);
  unsigned long long written = 0;
  crypto_aead_chacha20poly1305_ietf_encrypt(
      reinterpret_cast<unsigned char*>(out->data() + at), &written,
      reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(),
      reinterpret_cast<const unsigned char*>(ad.data()), ad.size(), nullptr, kZeroNonce, key.data());
  out->resize(at + written);
}

bool OpenOnce(const Key& key, std::string_view sealed, std::string_view ad, std::string* out) {
  Init();
  if (sealed.size() < crypto_aead_chacha20poly1305_IETF_ABYTES) return false;
  out->resize(sealed.size() - crypto_aead_chacha20poly1305_IETF_ABYTES);
  unsigned long long written = 0;
  if (crypto_aead_chacha20poly1305_ietf_decrypt(
          reinterpret_cast<unsigned char*>(out->data()), &written, nullptr,
          reinterpret_cast<const unsigned char*>(sealed.data()), sealed.size(),
          reinterpret_cast<const unsigned char*>(ad.data()), ad.size(), kZeroNonce, key.data()) != 0) {
    out->clear();
    return false;
  }
  out->resize(written);
  return true;
}

Sealer::Sealer() : key_(RandomKey()) {}

void Sealer::Seal(std::string_view plaintext, std::string* out) {
  const uint64_t counter = next_.fetch_add(1, std::memory_order_relaxed);
  unsigned char nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES] = {};
  static_assert(sizeof(nonce) >= sizeof(counter));
  std::memcpy(nonce, &counter, sizeof(counter));
  out->resize(kOverhead + plaintext.size());
  std::memcpy(out->data(), &counter, sizeof(counter));
  unsigned long long written = 0;
  crypto_aead_chacha20poly1305_ietf_encrypt(reinterpret_cast<unsigned char*>(out->data()) + sizeof(counter), &written,
                                            reinterpret_cast<const unsigned char*>(plaintext.data()),
                                            plaintext.size(), nullptr, 0, nullptr, nonce, key_.data());
}

bool Sealer::Open(std::string_view sealed, std::string* out) const {
  if (sealed.size() < kOverhead) return false;
  unsigned char nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES] = {};
  std::memcpy(nonce, sealed.data(), sizeof(uint64_t));
  out->resize(sealed.size() - kOverhead);
  unsigned long long written = 0;
  if (crypto_aead_chacha20poly1305_ietf_decrypt(reinterpret_cast<unsigned char*>(out->data()), &written, nullptr,
                                                reinterpret_cast<const unsigned char*>(sealed.data()) + sizeof(uint64_t),
                                                sealed.size() - sizeof(uint64_t), nullptr, 0, nonce,
                                                key_.data()) != 0) {
    out->clear();
    return false;
  }
  out->resize(written);
  return true;
}

void XorAt(const Key& key, const std::array<uint8_t, kStreamNonceBytes>& nonce, uint64_t offset, char* data,
           size_t n) {
  Init();
  static_assert(crypto_stream_chacha20_ietf_NONCEBYTES == kStreamNonceBytes);
  auto* bytes = reinterpret_cast<unsigned char*>(data);
  // The key stream comes in 64-byte blocks numbered by a 32-bit counter: a misaligned start is XORed
  // from its block's stream first.
  uint64_t block = offset / 64;
  const size_t skip = offset % 64;
  if (skip != 0 && n > 0) {
    unsigned char stream[64] = {};
    crypto_stream_chacha20_ietf_xor_ic(stream, stream, sizeof(stream), nonce.data(), static_cast<uint32_t>(block),
                                       key.data());
    const size_t take = std::min(n, 64 - skip);
    for (size_t i = 0; i < take; ++i) bytes[i] ^= stream[skip + i];
    bytes += take;
    n -= take;
    ++block;
  }
  if (n > 0) {
    crypto_stream_chacha20_ietf_xor_ic(bytes, bytes, n, nonce.data(), static_cast<uint32_t>(block), key.data());
  }
}

std::array<uint8_t, 16> KeyedHash(const Key& key, std::string_view data) {
  Init();
  std::array<uint8_t, 16> out;
  crypto_generichash(out.data(), out.size(), reinterpret_cast<const unsigned char*>(data.data()), data.size(),
                     key.data(), key.size());
  return out;
}

}  // namespace omnijourney::internal::crypto
