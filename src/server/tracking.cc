// The tracking API, as Segment's HTTP API: /v1/identify, track, page, screen, group, alias, batch
// (and /v1/b). 200 {"success":true} for every request it took, also when a message in it was not
// valid (counted by reason, as Segment drops such messages); 400 for malformed JSON and messages or
// batches over the size limits; 401 without a known write key; 503 when the engine could not store
// the events (nothing of the request is acknowledged: the SDK sends it again, and the messageIds
// make that idempotent).
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "omnijourney/segment.h"
#include "server/service.h"

namespace omnijourney::server {
namespace {

using nlohmann::json;

void Answer(httplib::Response& res, int status, const std::string& message = "") {
  if (status == 200) return Service::SendJson(res, 200, R"({"success":true})");
  Service::SendJson(res, status, json({{"success", false}, {"message", message}}).dump());
}

// Why the engine refused an event, for the rejected counter.
std::string Reason(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
      return "invalid";
    case absl::StatusCode::kResourceExhausted:
      return "limit";
    case absl::StatusCode::kFailedPrecondition:
      return "refused";
    default:
      return "";
  }
}

}  // namespace

void Service::RegisterTracking(httplib::Server* http) {
  // The endpoint's call type ("" for a batch, whose messages say theirs).
  const std::vector<std::pair<std::string, std::string>> endpoints = {{"/v1/identify", "identify"},
                                                                      {"/v1/track", "track"},
                                                                      {"/v1/page", "page"},
                                                                      {"/v1/screen", "screen"},
                                                                      {"/v1/group", "group"},
                                                                      {"/v1/alias", "alias"},
                                                                      {"/v1/batch", ""},
                                                                      {"/v1/b", ""}};
  for (const auto& [path, type] : endpoints) {
    const size_t limit = type.empty() ? limits_.max_batch_bytes : limits_.max_message_bytes;
    Route(
        http, "POST", path, v1::ApiKey::SCOPE_WRITE, limit,
        [this, type = type](const Caller* caller, const std::string& body,
                            const httplib::Request& req, httplib::Response& res,
                            const std::string& request_id) {
          ++counters_.tracking_requests;
          SegmentOptions options;
          options.default_type = type;
          options.max_message_bytes = limits_.max_message_bytes;
          options.received_at = absl::Now();
          options.source = config_.segment_source().empty() ? "segment" : config_.segment_source();
          absl::StatusOr<ParsedEvents> parsed = ParseSegmentJson(body, options);
          if (!parsed.ok()) {
            counters_.Reject("malformed_json");
            return Answer(res, 400, absl::StrCat("malformed JSON: ", parsed.status().message()));
          }
          if (caller == nullptr) {
            // No Authorization header: the body's writeKey (analytics.js), else 401.
            caller = FindKey(parsed->write_key);
            if (caller != nullptr) {
              CurrentRequestLog().key = caller->name;
              CurrentRequestLog().tenant = caller->tenant;
            }
            if (std::optional<HttpError> refused = Admit(caller, v1::ApiKey::SCOPE_WRITE)) {
              if (refused->status == 429) res.set_header("Retry-After", "1");
              return Answer(res, refused->status, refused->message);
            }
          }
          for (const RecordError& e : parsed->errors) {
            if (e.too_large) {
              counters_.Reject("too_large");
              ++counters_.too_large;
              return Answer(res, 400, std::string(e.status.message()));
            }
          }
          counters_.Reject("invalid", static_cast<int64_t>(parsed->errors.size()));
          std::vector<const Event*> events;
          events.reserve(parsed->events.size());
          for (Event& e : parsed->events) {
            e.set_tenant(caller->tenant);
            events.push_back(&e);
          }
          const auto start = std::chrono::steady_clock::now();
          std::vector<absl::StatusOr<IngestResult>> results;
          if (!events.empty()) {
            results = engine_->IngestBatch(events);
            counters_.ingest_seconds.Observe(
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
          }
          for (const absl::StatusOr<IngestResult>& r : results) {
            if (r.ok()) {
              counters_.merges += static_cast<int64_t>(r->merged.size());
              counters_.merge_refusals += static_cast<int64_t>(r->refusals.size());
              ++(r->duplicate ? counters_.events_duplicate : counters_.events_accepted);
              continue;
            }
            const std::string reason = Reason(r.status());
            if (reason.empty()) {
              // A storage failure: answered 503 so that the sender retries the whole request.
              HttpError error = FromStatus(r.status(), request_id);
              res.set_header("Retry-After", "5");
              return Answer(res, error.status, error.message);
            }
            counters_.Reject(reason);
          }
          // A delete call erases the person; it needs the operator scope as well.
          for (const ErasureRequest& erasure : parsed->erasures) {
            if (!caller->Allows(v1::ApiKey::SCOPE_OPERATOR)) {
              counters_.Reject("delete_without_operator_scope");
              continue;
            }
            for (const auto& [id_type, value] : erasure.identifiers) {
              absl::StatusOr<std::vector<ProfileId>> erased =
                  engine_->EraseIdentifier({caller->tenant, id_type, value});
              if (!erased.ok() && erased.status().code() != absl::StatusCode::kNotFound) {
                HttpError error = FromStatus(erased.status(), request_id);
                return Answer(res, error.status, error.message);
              }
            }
          }
          (void)req;
          actions_.Wake();  // An event may have made actions due.
          Answer(res, 200);
        },
        /*tracking=*/true);
  }
  // Browsers (analytics.js on another origin) ask before they post with an Authorization header.
  http->Options(R"(/v1/(identify|track|page|screen|group|alias|batch|b))",
                [](const httplib::Request&, httplib::Response& res) {
                  res.set_header("Access-Control-Allow-Origin", "*");
                  res.set_header("Access-Control-Allow-Methods", "POST, OPTIONS");
                  res.set_header("Access-Control-Allow-Headers",
                                 "Authorization, Content-Type, Content-Encoding");
                  res.set_header("Access-Control-Max-Age", "86400");
                  res.status = 204;
                });
}

}  // namespace omnijourney::server
