// API keys (looked up by their hash, never stored) and the per-key request rate.
#ifndef OMNIJOURNEY_SERVER_KEYS_H_
#define OMNIJOURNEY_SERVER_KEYS_H_

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "omnijourney/v1/server.pb.h"

namespace omnijourney::server {

class RateLimiter;

// What a request's key allows.
struct Caller {
  std::string tenant;
  std::string name;                // ApiKey::name, or "key N" (its position) when unnamed.
  uint32_t scopes = 0;             // Bits 1 << ApiKey::Scope.
  RateLimiter* limiter = nullptr;  // Null when unlimited.
  bool Allows(v1::ApiKey::Scope scope) const {
    return (scopes & (1u << scope)) != 0 || (scopes & (1u << v1::ApiKey::SCOPE_ADMIN)) != 0;
  }
};

// A token bucket: `rate` requests per second, `burst` at once. Thread-safe.
class RateLimiter {
 public:
  RateLimiter(double rate, double burst) : rate_(rate), burst_(burst), tokens_(burst) {}
  // Takes one token; false when there is none.
  bool Take();

 private:
  const double rate_, burst_;
  std::mutex mu_;
  double tokens_;
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

class KeyTable {
 public:
  // REQUIRES: CheckServerConfig(config) is OK.
  explicit KeyTable(const v1::ServerConfig& config);
  // The caller a presented key stands for, or null when no key has its hash.
  const Caller* Find(std::string_view key) const;

 private:
  struct Entry {
    Caller caller;
    std::unique_ptr<RateLimiter> limiter;
  };
  absl::flat_hash_map<std::string, std::unique_ptr<Entry>> by_hash_;
};

}  // namespace omnijourney::server

#endif  // OMNIJOURNEY_SERVER_KEYS_H_
