// GET /metrics: the server's and the engine's figures in Prometheus' text format, for admin keys
// (they count every tenant). Names and meanings: docs/server.md.
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/service.h"

namespace omnijourney::server {
namespace {

void Family(std::string* out, const std::string& name, const std::string& type,
            const std::string& help) {
  absl::StrAppend(out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
}

void One(std::string* out, const std::string& name, const std::string& type,
         const std::string& help, double value) {
  Family(out, name, type, help);
  absl::StrAppend(out, name, " ", absl::StrFormat("%.17g", value), "\n");
}

}  // namespace

void Service::RegisterMetrics(httplib::Server* http) {
  Route(
      http, "GET", "/metrics", v1::ApiKey::SCOPE_ADMIN, 0,
      [this](const Caller*, const std::string&, const httplib::Request&, httplib::Response& res,
             const std::string&) {
        std::string out;
        const Counters& c = counters_;
        Family(&out, "omnijourney_http_requests_total", "counter",
               "Requests to the server's endpoints.");
        absl::StrAppend(&out, "omnijourney_http_requests_total ", c.requests.load(), "\n");
        Family(&out, "omnijourney_http_request_duration_seconds", "histogram",
               "Time to handle a request, by route (streams: until the stream starts).");
        for (const auto& [route, histogram] : latency_) {
          histogram->Write("omnijourney_http_request_duration_seconds",
                           absl::StrCat("route=\"", LabelValue(route), "\""), &out);
        }
        One(&out, "omnijourney_tracking_requests_total", "counter", "Requests to the tracking API.",
            static_cast<double>(c.tracking_requests.load()));
        One(&out, "omnijourney_events_ingested_total", "counter",
            "Events the engine took from the tracking API.",
            static_cast<double>(c.events_accepted.load()));
        One(&out, "omnijourney_events_duplicate_total", "counter",
            "Events the tracking API received again (same tenant, source and messageId).",
            static_cast<double>(c.events_duplicate.load()));
        Family(&out, "omnijourney_events_rejected_total", "counter",
               "Messages and events refused, by reason (invalid, too_large, malformed_json, limit, "
               "...).");
        {
          std::lock_guard<std::mutex> lock(counters_.mu);
          for (const auto& [reason, n] : counters_.rejected) {
            absl::StrAppend(&out, "omnijourney_events_rejected_total{reason=\"", LabelValue(reason),
                            "\"} ", n, "\n");
          }
        }
        Family(&out, "omnijourney_ingest_duration_seconds", "histogram",
               "Time of the engine's IngestBatch for one tracking request.");
        c.ingest_seconds.Write("omnijourney_ingest_duration_seconds", "", &out);
        Family(&out, "omnijourney_context_duration_seconds", "histogram",
               "Time of the engine's Context read for one context request.");
        c.context_seconds.Write("omnijourney_context_duration_seconds", "", &out);
        One(&out, "omnijourney_merges_total", "counter",
            "Profiles merged into others by tracked events.", static_cast<double>(c.merges.load()));
        One(&out, "omnijourney_merge_refusals_total", "counter",
            "Merges refused by the identity rules (limits, super-nodes, splits) for tracked "
            "events.",
            static_cast<double>(c.merge_refusals.load()));
        Family(&out, "omnijourney_limit_hits_total", "counter",
               "Requests refused by the server's limits, by limit.");
        for (const auto& [limit, n] :
             {std::pair<const char*, int64_t>{"rate", c.rate_limited.load()},
              {"concurrency", c.concurrency_limited.load()},
              {"size", c.too_large.load()}}) {
          absl::StrAppend(&out, "omnijourney_limit_hits_total{limit=\"", limit, "\"} ", n, "\n");
        }
        One(&out, "omnijourney_unauthorized_total", "counter",
            "Requests without a known key (401).", static_cast<double>(c.unauthorized.load()));
        One(&out, "omnijourney_forbidden_total", "counter",
            "Requests whose key lacks the scope (403).", static_cast<double>(c.forbidden.load()));
        One(&out, "omnijourney_server_errors_total", "counter",
            "Storage and internal failures answered 5xx.",
            static_cast<double>(c.server_errors.load()));
        const ActionHub::Figures a = actions_.figures();
        One(&out, "omnijourney_actions_pending", "gauge",
            "Actions taken from the engine and not acknowledged.", static_cast<double>(a.pending));
        One(&out, "omnijourney_actions_oldest_pending_seconds", "gauge",
            "Age of the oldest unacknowledged action since the server took it.", a.oldest_seconds);
        One(&out, "omnijourney_actions_acknowledged_total", "counter",
            "Actions acknowledged through the server.", static_cast<double>(a.acknowledged));
        One(&out, "omnijourney_actions_lease_expired_total", "counter",
            "Actions offered again because their lease ran out unacknowledged.",
            static_cast<double>(a.leases_expired));
        const EngineStats s = engine_->Stats();
        One(&out, "omnijourney_engine_events_total", "counter",
            "Events the engine holds as ingested since Open.", static_cast<double>(s.events));
        One(&out, "omnijourney_engine_rejected_total", "counter",
            "Events the engine refused since Open.", static_cast<double>(s.rejected));
        One(&out, "omnijourney_engine_profiles", "gauge", "Profiles with retained events.",
            static_cast<double>(s.profiles));
        One(&out, "omnijourney_engine_identifiers", "gauge",
            "Live identifiers in the identity graph.", static_cast<double>(s.identity.identifiers));
        One(&out, "omnijourney_engine_identity_refusals_total", "counter",
            "Merges the identity graph refused.", static_cast<double>(s.identity.refusals));
        One(&out, "omnijourney_engine_pending_actions", "gauge",
            "Actions released and not acknowledged.", static_cast<double>(s.pending_actions));
        One(&out, "omnijourney_engine_recovered_records", "gauge",
            "Log records replayed by Open after its snapshot.", static_cast<double>(s.recovered));
        One(&out, "omnijourney_engine_snapshot_position", "gauge",
            "Log position of the snapshot Open started from.",
            static_cast<double>(s.snapshot_position));
        One(&out, "omnijourney_engine_snapshots_written_total", "counter",
            "Snapshots written since Open.", static_cast<double>(s.snapshots_written));
        One(&out, "omnijourney_engine_snapshot_failing", "gauge",
            "1 when the last snapshot could not be written.", s.snapshot_error.empty() ? 0 : 1);
        Family(&out, "omnijourney_engine_limit_hits_total", "counter",
               "Engine resource limits hit since Open, by option (EngineStats::limit_hits).");
        for (const auto& [option, n] : s.limit_hits) {
          absl::StrAppend(&out, "omnijourney_engine_limit_hits_total{option=\"", LabelValue(option),
                          "\"} ", n, "\n");
        }
        One(&out, "omnijourney_ready", "gauge",
            "0 once the engine refuses changes after a storage failure.", storage_failed() ? 0 : 1);
        res.status = 200;
        res.set_content(std::move(out), "text/plain; version=0.0.4; charset=utf-8");
      });
}

}  // namespace omnijourney::server
