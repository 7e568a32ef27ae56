// The checks every request goes through, errors as JSON, health, readiness and stats.
#include "server/service.h"

#include <sodium.h>

#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "omnijourney/server.h"

namespace omnijourney::server {

using nlohmann::json;

Limits::Limits(const v1::ServerLimits& l) {
  if (l.has_max_body_bytes()) max_body_bytes = l.max_body_bytes();
  if (l.has_max_message_bytes()) max_message_bytes = l.max_message_bytes();
  if (l.has_max_batch_bytes()) max_batch_bytes = l.max_batch_bytes();
  if (l.has_max_concurrent_requests()) max_concurrent_requests = l.max_concurrent_requests();
  if (l.has_threads()) threads = l.threads();
}

namespace {

std::mutex& LogMutex() {
  static std::mutex mu;
  return mu;
}
LogSink& Sink() {
  static LogSink sink;
  return sink;
}

}  // namespace

void SetLogSink(LogSink sink) {
  std::lock_guard<std::mutex> lock(LogMutex());
  Sink() = std::move(sink);
}

void WriteLog(std::string_view line) {
  std::lock_guard<std::mutex> lock(LogMutex());
  if (Sink()) {
    Sink()(line);
  } else {
    std::cerr << std::string(line) + "\n";
  }
}

std::string Rfc3339(absl::Time t) {
  if (t == absl::InfinitePast() || t == absl::InfiniteFuture()) return "";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", t, absl::UTCTimeZone());
}

RequestLog& CurrentRequestLog() {
  thread_local RequestLog log;
  return log;
}

std::string PresentedKey(const httplib::Request& req) {
  const std::string header = req.get_header_value("Authorization");
  absl::string_view h = absl::StripAsciiWhitespace(header);
  if (absl::StartsWithIgnoreCase(h, "bearer "))
    return std::string(absl::StripAsciiWhitespace(h.substr(7)));
  if (absl::StartsWithIgnoreCase(h, "basic ")) {
    std::string decoded;
    if (!absl::Base64Unescape(absl::StripAsciiWhitespace(h.substr(6)), &decoded)) return "";
    // user:password; Segment's write key is the user name and the password is empty.
    const size_t colon = decoded.find(':');
    return colon == std::string::npos ? decoded : decoded.substr(0, colon);
  }
  return "";
}

Service::Service(Engine* engine, const v1::ServerConfig& config)
    : engine_(engine),
      config_(config),
      limits_(config.limits()),
      keys_(config),
      actions_(engine, std::chrono::milliseconds(100),
               std::chrono::seconds(
                   config.has_action_lease_seconds() ? config.action_lease_seconds() : 60)) {
  unsigned char bytes[4];
  randombytes_buf(bytes, sizeof(bytes));
  char hex[sizeof(bytes) * 2 + 1];
  sodium_bin2hex(hex, sizeof(hex), bytes, sizeof(bytes));
  request_prefix_ = hex;
}

void Service::SendJson(httplib::Response& res, int status, std::string body) {
  res.status = status;
  res.set_content(std::move(body), "application/json");
}

void Service::SendError(httplib::Response& res, const HttpError& error,
                        std::string_view request_id) {
  json body = {
      {"error", {{"code", error.code}, {"message", error.message}, {"request_id", request_id}}}};
  SendJson(res, error.status, body.dump());
}

HttpError Service::FromStatus(const absl::Status& status, std::string_view request_id) {
  const std::string message(status.message());
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return {400, "invalid_argument", message};
    case absl::StatusCode::kNotFound:
      return {404, "not_found", message};
    case absl::StatusCode::kAlreadyExists:
      return {409, "already_exists", message};
    case absl::StatusCode::kFailedPrecondition:
      return {409, "failed_precondition", message};
    case absl::StatusCode::kResourceExhausted:
      return {429, "resource_exhausted", message};
    case absl::StatusCode::kPermissionDenied:
      return {403, "forbidden", message};
    default:
      break;
  }
  // Storage and internal failures: the detail (paths, RocksDB's words) goes to the log only.
  ++counters_.server_errors;
  WriteLog(json({{"time", Rfc3339(absl::Now())},
                 {"level", "error"},
                 {"request_id", request_id},
                 {"status", status.ToString()}})
               .dump(-1, ' ', false, json::error_handler_t::replace));
  if (status.code() == absl::StatusCode::kUnavailable ||
      status.code() == absl::StatusCode::kDataLoss ||
      status.code() == absl::StatusCode::kInternal || status.code() == absl::StatusCode::kAborted) {
    storage_failed_ = storage_failed_ || status.code() != absl::StatusCode::kAborted;
    return {503, "unavailable",
            "the engine could not store the change; nothing was acknowledged, send it again later"};
  }
  return {500, "internal", "internal error"};
}

std::optional<HttpError> Service::Admit(const Caller* caller, v1::ApiKey::Scope scope) {
  if (caller == nullptr) {
    ++counters_.unauthorized;
    return HttpError{401, "unauthorized",
                     "no valid API key (HTTP basic auth with the key as user name, or Bearer)"};
  }
  if (!caller->Allows(scope)) {
    ++counters_.forbidden;
    return HttpError{
        403, "forbidden",
        absl::StrCat("this key lacks the ",
                     absl::AsciiStrToLower(v1::ApiKey::Scope_Name(scope).substr(6)), " scope")};
  }
  if (caller->limiter != nullptr && !caller->limiter->Take()) {
    ++counters_.rate_limited;
    return HttpError{429, "rate_limited", "too many requests for this key; retry later"};
  }
  return std::nullopt;
}

void Service::Route(httplib::Server* http, const std::string& method, const std::string& pattern,
                    v1::ApiKey::Scope scope, size_t body_limit, Handler handler, bool tracking) {
  // The route's label in the metrics: its pattern, with {id} for the identifier.
  std::string label = absl::StrCat(method, " ", pattern);
  for (size_t at; (at = label.find("([^/]+)")) != std::string::npos;) label.replace(at, 7, "{id}");
  Histogram* latency = latency_.emplace(label, std::make_unique<Histogram>()).first->second.get();
  auto run = [this, scope, body_limit, handler = std::move(handler), tracking, latency](
                 const httplib::Request& req, httplib::Response& res,
                 const httplib::ContentReader* reader) {
    ++counters_.requests;
    struct Timed {
      Histogram* h;
      std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
      ~Timed() {
        h->Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      }
    } timed{latency};
    RequestLog& log = CurrentRequestLog();
    log = RequestLog();
    const std::string request_id = absl::StrCat(request_prefix_, "-", next_request_.fetch_add(1));
    res.set_header("X-Request-Id", request_id);
    // Browsers send tracking calls from the shop's own origin (analytics.js with apiHost).
    if (tracking) res.set_header("Access-Control-Allow-Origin", "*");
    struct InFlight {
      std::atomic<int>& n;
      ~InFlight() { --n; }
    } in_flight{in_flight_};
    if (++in_flight_ > limits_.max_concurrent_requests) {
      ++counters_.concurrency_limited;
      res.set_header("Retry-After", "1");
      return SendError(
          res,
          {429, "too_many_requests", "the server is handling as many requests as it may; retry"},
          request_id);
    }
    const Caller* caller = nullptr;
    if (scope != v1::ApiKey::SCOPE_UNSPECIFIED) {
      const std::string key = PresentedKey(req);
      caller = keys_.Find(key);
      if (caller != nullptr) {
        log.key = caller->name;
        log.tenant = caller->tenant;
      }
      // A tracking request may carry its write key in the body instead (checked after reading it).
      if (!(tracking && key.empty())) {
        if (std::optional<HttpError> refused = Admit(caller, scope)) {
          if (refused->status == 429) res.set_header("Retry-After", "1");
          if (tracking)
            return SendJson(res, refused->status,
                            json({{"success", false}, {"message", refused->message}}).dump());
          return SendError(res, *refused, request_id);
        }
      }
    }
    std::string body;
    if (reader != nullptr) {
      bool over = false;
      (*reader)([&](const char* data, size_t n) {
        if (body.size() + n > body_limit) {
          over = true;
          return false;
        }
        body.append(data, n);
        return true;
      });
      log.bytes_in = body.size();
      if (over) {
        ++counters_.too_large;
        const std::string message = absl::StrCat("request body over ", body_limit, " bytes");
        if (tracking) {
          counters_.Reject("too_large");
          return SendJson(res, 400, json({{"success", false}, {"message", message}}).dump());
        }
        return SendError(res, {413, "too_large", message}, request_id);
      }
    }
    handler(caller, body, req, res, request_id);
  };
  if (method == "GET") {
    http->Get(pattern, [run](const httplib::Request& req, httplib::Response& res) {
      run(req, res, nullptr);
    });
    return;
  }
  auto with_body = [run](const httplib::Request& req, httplib::Response& res,
                         const httplib::ContentReader& reader) { run(req, res, &reader); };
  if (method == "POST")
    http->Post(pattern, with_body);
  else if (method == "PUT")
    http->Put(pattern, with_body);
  else if (method == "DELETE")
    http->Delete(pattern, with_body);
}

void Service::Register(httplib::Server* http) {
  Route(http, "GET", "/health", v1::ApiKey::SCOPE_UNSPECIFIED, 0,
        [](const Caller*, const std::string&, const httplib::Request&, httplib::Response& res,
           const std::string&) { SendJson(res, 200, R"({"status":"ok"})"); });
  Route(
      http, "GET", "/ready", v1::ApiKey::SCOPE_UNSPECIFIED, 0,
      [this](const Caller*, const std::string&, const httplib::Request&, httplib::Response& res,
             const std::string&) {
        if (storage_failed()) {
          return SendJson(
              res, 503,
              R"({"status":"storage_failed","message":"the engine refuses changes after a storage failure; restart the server"})");
        }
        SendJson(res, 200, R"({"status":"ready"})");
      });
  RegisterTracking(http);
  RegisterProfiles(http);
  RegisterActions(http);
  RegisterMetrics(http);
}

}  // namespace omnijourney::server
