// The actions API: GET /v1/actions (long poll), GET /v1/actions/stream (Server-Sent Events) and
// POST /v1/actions/ack, for keys with the operator scope, each on its key's tenant only.
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "server/service.h"

namespace omnijourney::server {

void Service::RegisterActions(httplib::Server* http) {
  const v1::ApiKey::Scope op = v1::ApiKey::SCOPE_OPERATOR;
  Route(http, "GET", "/v1/actions", op, 0,
        [this](const Caller* caller, const std::string&, const httplib::Request& req,
               httplib::Response& res, const std::string& rid) {
          size_t limit = 100;
          int wait = 0;
          if ((req.has_param("limit") && (!absl::SimpleAtoi(req.get_param_value("limit"), &limit) ||
                                          limit == 0 || limit > 1000)) ||
              (req.has_param("wait") &&
               (!absl::SimpleAtoi(req.get_param_value("wait"), &wait) || wait < 0 || wait > 60))) {
            return SendError(res, {400, "invalid_argument", "limit: 1-1000, wait: 0-60 seconds"},
                             rid);
          }
          std::vector<std::string> actions =
              actions_.Lease(caller->tenant, limit, std::chrono::seconds(wait));
          std::string body = R"({"actions":[)";
          for (size_t i = 0; i < actions.size(); ++i) {
            if (i > 0) body += ',';
            body += actions[i];
          }
          body += "]}";
          SendJson(res, 200, std::move(body));
        });
  Route(http, "GET", "/v1/actions/stream", op, 0,
        [this](const Caller* caller, const std::string&, const httplib::Request&,
               httplib::Response& res, const std::string& rid) {
          // Each stream holds one of the server's threads: at most half of them stream.
          if (streams_.load() >= std::max(1, limits_.threads / 2)) {
            res.set_header("Retry-After", "5");
            return SendError(
                res,
                {429, "too_many_streams", "as many action streams are open as the server allows"},
                rid);
          }
          ++streams_;
          res.set_header("Cache-Control", "no-store");
          const std::string tenant = caller->tenant;
          res.set_chunked_content_provider(
              "text/event-stream",
              [this, tenant](size_t, httplib::DataSink& sink) {
                if (actions_.stopping()) return false;
                std::vector<std::string> actions =
                    actions_.Lease(tenant, 100, std::chrono::seconds(15));
                std::string out;
                for (const std::string& a : actions) {
                  const nlohmann::json j = nlohmann::json::parse(a, nullptr, false);
                  absl::StrAppend(&out,
                                  "event: action\nid: ", j.is_object() ? j.value("id", "") : "",
                                  "\ndata: ", a, "\n\n");
                }
                if (out.empty())
                  out = ": keep-alive\n\n";  // Also how a closed connection is noticed.
                return sink.is_writable() && sink.write(out.data(), out.size());
              },
              [this](bool) { --streams_; });
        });
  Route(http, "POST", "/v1/actions/ack", op, limits_.max_body_bytes,
        [this](const Caller* caller, const std::string& body, const httplib::Request&,
               httplib::Response& res, const std::string& rid) {
          const nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
          if (!j.is_object() || !j.contains("ids") || !j["ids"].is_array()) {
            return SendError(
                res, {400, "invalid_argument", R"(body: expected {"ids": ["action id", ...]})"},
                rid);
          }
          std::vector<std::string> ids;
          for (size_t i = 0; i < j["ids"].size(); ++i) {
            if (!j["ids"][i].is_string()) {
              return SendError(
                  res, {400, "invalid_argument", absl::StrCat("ids[", i, "]: expected a string")},
                  rid);
            }
            ids.push_back(j["ids"][i].get<std::string>());
          }
          if (absl::Status s = actions_.Ack(caller->tenant, ids); !s.ok())
            return SendError(res, FromStatus(s, rid), rid);
          SendJson(res, 200, nlohmann::json({{"acknowledged", ids.size()}}).dump());
        });
}

}  // namespace omnijourney::server
