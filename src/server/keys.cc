// API keys: hashing, new keys, the table of configured keys and their request rates.
#include "server/keys.h"

#include <sodium.h>

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "omnijourney/server.h"

namespace omnijourney::server {

std::string HashKey(std::string_view key) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(key.data()), key.size());
  char hex[crypto_hash_sha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
  return absl::StrCat("sha256:", hex);
}

std::string NewKey(std::string_view prefix) {
  if (sodium_init() < 0) return "";
  unsigned char bytes[32];
  randombytes_buf(bytes, sizeof(bytes));
  char text[sodium_base64_ENCODED_LEN(sizeof(bytes), sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
  sodium_bin2base64(text, sizeof(text), bytes, sizeof(bytes),
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  return absl::StrCat(std::string(prefix), text);
}

bool RateLimiter::Take() {
  std::lock_guard<std::mutex> lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - last_).count();
  last_ = now;
  tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

KeyTable::KeyTable(const v1::ServerConfig& config) {
  const double rate =
      config.limits().has_requests_per_second() ? config.limits().requests_per_second() : 0;
  const double burst =
      config.limits().has_burst() ? config.limits().burst() : std::max(1.0, 2 * rate);
  for (int i = 0; i < config.keys_size(); ++i) {
    const v1::ApiKey& key = config.keys(i);
    auto entry = std::make_unique<Entry>();
    entry->caller.tenant = key.tenant();
    entry->caller.name = key.name().empty() ? absl::StrCat("key ", i) : key.name();
    for (int scope : key.scopes()) entry->caller.scopes |= 1u << scope;
    if (rate > 0) entry->limiter = std::make_unique<RateLimiter>(rate, burst);
    entry->caller.limiter = entry->limiter.get();
    by_hash_[key.hash()] = std::move(entry);
  }
}

const Caller* KeyTable::Find(std::string_view key) const {
  if (key.empty()) return nullptr;
  auto it = by_hash_.find(HashKey(key));
  return it == by_hash_.end() ? nullptr : &it->second->caller;
}

}  // namespace omnijourney::server
