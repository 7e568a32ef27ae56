// What the server's endpoints share: the engine, the keys, the limits, the counters, and the
// wrapper every handler runs in (key, scope, rate and concurrency checks; errors as JSON).
#ifndef OMNIJOURNEY_SERVER_SERVICE_H_
#define OMNIJOURNEY_SERVER_SERVICE_H_

#include <httplib.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "omnijourney/engine.h"
#include "omnijourney/v1/server.pb.h"
#include "server/actions.h"
#include "server/keys.h"
#include "server/metrics.h"

namespace omnijourney::server {

// Counters since start, for /v1/stats and /metrics.
struct Counters {
  std::atomic<int64_t> requests{0};
  std::atomic<int64_t> tracking_requests{0};
  std::atomic<int64_t> events_accepted{0};
  std::atomic<int64_t> events_duplicate{0};
  std::atomic<int64_t> unauthorized{0};
  std::atomic<int64_t> forbidden{0};
  std::atomic<int64_t> rate_limited{0};
  std::atomic<int64_t> concurrency_limited{0};
  std::atomic<int64_t> too_large{0};
  std::atomic<int64_t> server_errors{0};
  std::atomic<int64_t> merges{0};          // Profiles absorbed by tracked events.
  std::atomic<int64_t> merge_refusals{0};  // Merges refused (identity protection).
  Histogram ingest_seconds;                // One IngestBatch of a tracking request.
  Histogram context_seconds;               // One Context read of the profile API.
  // Messages and events refused, by reason ("invalid", "too_large", "max_profiles_per_tenant",
  // ...).
  std::mutex mu;
  std::map<std::string, int64_t> rejected;
  void Reject(const std::string& reason, int64_t n = 1) {
    std::lock_guard<std::mutex> lock(mu);
    rejected[reason] += n;
  }
};

// The limits with their defaults applied.
struct Limits {
  size_t max_body_bytes = 1 << 20;
  size_t max_message_bytes = 32 * 1024;
  size_t max_batch_bytes = 500 * 1024;
  int max_concurrent_requests = 64;
  int threads = 16;
  explicit Limits(const v1::ServerLimits& l);
};

// An error answer: the HTTP status and a message for the caller (never internal detail).
struct HttpError {
  int status = 500;
  std::string code;  // "unauthorized", "forbidden", "not_found", ...
  std::string message;
};

class Service {
 public:
  Service(Engine* engine, const v1::ServerConfig& config);

  // Adds every endpoint to `http`.
  void Register(httplib::Server* http);

  // A handler behind the checks: the caller's key must have `scope` (the caller is null only for
  // endpoints without a scope, and for tracking requests without an Authorization header).
  // `body_limit` > 0 reads the body (gzip undone) up to that many bytes, else 413 (400 for
  // tracking).
  using Handler =
      std::function<void(const Caller*, const std::string& body, const httplib::Request&,
                         httplib::Response&, const std::string& request_id)>;

  // The caller of a presented key (null: unknown), and whether it may go on: the scope, then the
  // rate. nullopt: admitted.
  const Caller* FindKey(std::string_view key) const { return keys_.Find(key); }
  std::optional<HttpError> Admit(const Caller* caller, v1::ApiKey::Scope scope);

  Engine* engine() { return engine_; }
  Counters& counters() { return counters_; }
  const Limits& limits() const { return limits_; }
  const v1::ServerConfig& config() const { return config_; }
  // An engine error as an answer: refusals keep their message; storage and internal failures are
  // logged with the request id and answered 503 / 500 without their detail.
  HttpError FromStatus(const absl::Status& status, std::string_view request_id);
  static void SendError(httplib::Response& res, const HttpError& error,
                        std::string_view request_id);
  static void SendJson(httplib::Response& res, int status, std::string body);
  // Ends the action streams and waits (before the listener stops).
  void Shutdown() { actions_.Stop(); }
  ActionHub& actions() { return actions_; }
  // Whether the engine has refused changes after a storage failure (readiness fails then).
  bool storage_failed() const { return storage_failed_.load(); }

 private:
  // `scope` UNSPECIFIED: no key needed. `tracking`: the key may also come from the body's
  // writeKey (analytics.js), checked by the handler; errors in Segment's shape.
  void Route(httplib::Server* http, const std::string& method, const std::string& pattern,
             v1::ApiKey::Scope scope, size_t body_limit, Handler handler, bool tracking = false);
  void RegisterTracking(httplib::Server* http);
  void RegisterProfiles(httplib::Server* http);
  void RegisterActions(httplib::Server* http);
  void RegisterMetrics(httplib::Server* http);
  // The profile a path's "{type}:{value}" or "profile:p-..." names in the caller's tenant.
  absl::StatusOr<ProfileId> ResolveProfile(const Caller& caller, const std::string& text);
  // The context of that customer.
  absl::StatusOr<CustomerContext> ContextOf(const Caller& caller, const std::string& text);

  Engine* engine_;
  v1::ServerConfig config_;
  Limits limits_;
  KeyTable keys_;
  Counters counters_;
  std::atomic<int> in_flight_{0};
  std::atomic<uint64_t> next_request_{1};
  std::atomic<bool> storage_failed_{false};
  ActionHub actions_;
  // Request durations by route (filled while routes are registered, read-only after).
  std::map<std::string, std::unique_ptr<Histogram>> latency_;
  std::atomic<int> streams_{0};
  std::string request_prefix_;
};

// What the access log line of the request being handled on this thread says beyond httplib's
// request and response (the logger runs on the handler's thread, after it).
struct RequestLog {
  size_t bytes_in = 0;  // The body as read, gzip undone.
  std::string key;      // The caller's key name, "" when none.
  std::string tenant;
};
RequestLog& CurrentRequestLog();

// Writes one log line to the sink (SetLogSink), stderr by default.
void WriteLog(std::string_view line);

// A time as RFC 3339 in UTC with microseconds; "" for an infinite one.
std::string Rfc3339(absl::Time t);

// The key an Authorization header presents: the user name of Basic (Segment's write key, empty
// password) or a Bearer token; empty when none.
std::string PresentedKey(const httplib::Request& req);

}  // namespace omnijourney::server

#endif  // OMNIJOURNEY_SERVER_SERVICE_H_
