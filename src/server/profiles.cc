// The profile API: a customer by any identifier (or their profile id), in the key's tenant: the
// context, traits, the paginated timeline, journeys and the explanation; the journey definitions
// and the stats.
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "omnijourney/context.h"
#include "omnijourney/event.h"
#include "omnijourney/profile_id.h"
#include "server/service.h"

namespace omnijourney::server {
namespace {

using nlohmann::ordered_json;

// A trait's value as the JSON type it was sent with.
ordered_json TraitJson(const TraitValue& t) {
  ordered_json value = t.value;
  if (t.kind != TraitValue::Kind::kString) {
    ordered_json parsed = ordered_json::parse(t.value, nullptr, /*allow_exceptions=*/false);
    if (!parsed.is_discarded()) value = std::move(parsed);
  }
  return {{"value", value}, {"source", t.source}, {"time", Rfc3339(t.time)}};
}

// The cursor of the next page: the key of the last entry returned, opaque to the caller.
std::string EncodeCursor(const TimelineKey& key) {
  return absl::WebSafeBase64Escape(
      ordered_json::array({absl::ToUnixMicros(key.time), key.source, key.event_id}).dump());
}

std::optional<TimelineKey> DecodeCursor(const std::string& text) {
  std::string raw;
  if (!absl::WebSafeBase64Unescape(text, &raw)) return std::nullopt;
  ordered_json j = ordered_json::parse(raw, nullptr, false);
  if (!j.is_array() || j.size() != 3 || !j[0].is_number_integer() || !j[1].is_string() ||
      !j[2].is_string()) {
    return std::nullopt;
  }
  return TimelineKey{absl::FromUnixMicros(j[0].get<int64_t>()), j[1].get<std::string>(),
                     j[2].get<std::string>()};
}

std::string_view ActionName(AuditEntry::Action a) {
  switch (a) {
    case AuditEntry::Action::kLinked:
      return "linked";
    case AuditEntry::Action::kMerged:
      return "merged";
    case AuditEntry::Action::kRefused:
      return "refused";
    case AuditEntry::Action::kDropped:
      return "dropped";
    case AuditEntry::Action::kNotLinking:
      return "not_linking";
    case AuditEntry::Action::kUnlinked:
      return "unlinked";
    case AuditEntry::Action::kSplit:
      return "split";
    case AuditEntry::Action::kErased:
      return "erased";
    case AuditEntry::Action::kFolded:
      return "folded";
  }
  return "unknown";
}

ordered_json TracesJson(const std::vector<JourneyTrace>& traces) {
  ordered_json out = ordered_json::array();
  for (const JourneyTrace& t : traces) {
    ordered_json steps = ordered_json::array();
    for (const JourneyTrace::Step& s : t.steps) {
      steps.push_back({{"time", Rfc3339(s.time)},
                       {"from", s.from},
                       {"to", s.to},
                       {"transition", s.transition},
                       {"cause", s.cause}});
    }
    out.push_back({{"journey", t.journey},
                   {"version", t.version},
                   {"state", t.state},
                   {"ended", t.ended},
                   {"started", Rfc3339(t.started)},
                   {"entered", Rfc3339(t.entered)},
                   {"steps", std::move(steps)}});
  }
  return out;
}

// A query parameter as a count in [1, max], else `fallback`; nullopt when it is not a number.
std::optional<size_t> Count(const httplib::Request& req, const char* name, size_t fallback,
                            size_t max) {
  if (!req.has_param(name)) return fallback;
  size_t n = 0;
  if (!absl::SimpleAtoi(req.get_param_value(name), &n) || n == 0) return std::nullopt;
  return std::min(n, max);
}

}  // namespace

absl::StatusOr<CustomerContext> Service::ContextOf(const Caller& caller, const std::string& text) {
  const size_t colon = text.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    return absl::InvalidArgumentError(
        "profiles/{type}:{value}: expected an identifier such as phone:+420601123456, or "
        "profile:p-...");
  }
  const std::string type = text.substr(0, colon), value = text.substr(colon + 1);
  if (type == "profile") {
    absl::StatusOr<ProfileId> id = ParseProfileId(value);
    if (!id.ok())
      return absl::InvalidArgumentError(
          absl::StrCat("profile:", value, ": not a profile id (p-...)"));
    return engine_->Context(caller.tenant, *id);  // NotFound for a profile of another tenant.
  }
  return engine_->Context({caller.tenant, type, value});
}

absl::StatusOr<ProfileId> Service::ResolveProfile(const Caller& caller, const std::string& text) {
  absl::StatusOr<CustomerContext> ctx = ContextOf(caller, text);
  if (!ctx.ok()) return ctx.status();
  return ctx->profile;
}

void Service::RegisterProfiles(httplib::Server* http) {
  const v1::ApiKey::Scope read = v1::ApiKey::SCOPE_READ;
  Route(http, "GET", R"(/v1/profiles/([^/]+)/context)", read, 0,
        [this](const Caller* caller, const std::string&, const httplib::Request& req,
               httplib::Response& res, const std::string& rid) {
          const auto start = std::chrono::steady_clock::now();
          absl::StatusOr<CustomerContext> context = ContextOf(*caller, req.matches[1]);
          counters_.context_seconds.Observe(
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
          if (!context.ok()) return SendError(res, FromStatus(context.status(), rid), rid);
          SendJson(res, 200, ContextToJson(*context));
        });
  Route(http, "GET", R"(/v1/profiles/([^/]+)/traits)", read, 0,
        [this](const Caller* caller, const std::string&, const httplib::Request& req,
               httplib::Response& res, const std::string& rid) {
          absl::StatusOr<CustomerContext> context = ContextOf(*caller, req.matches[1]);
          if (!context.ok()) return SendError(res, FromStatus(context.status(), rid), rid);
          ordered_json traits = ordered_json::object();
          for (const auto& [name, t] : context->traits) traits[name] = TraitJson(t);
          ordered_json identifiers = ordered_json::object();
          for (const auto& [type, values] : context->identifiers) identifiers[type] = values;
          SendJson(res, 200,
                   ordered_json({{"profile", FormatProfileId(context->profile)},
                                 {"identifiers", std::move(identifiers)},
                                 {"traits", std::move(traits)}})
                       .dump(-1, ' ', false, ordered_json::error_handler_t::replace));
        });
  Route(http, "GET", R"(/v1/profiles/([^/]+)/events)", read, 0,
        [this](const Caller* caller, const std::string&, const httplib::Request& req,
               httplib::Response& res, const std::string& rid) {
          TimelinePage page;
          std::optional<size_t> limit = Count(req, "limit", 50, 500);
          if (!limit)
            return SendError(res, {400, "invalid_argument", "limit: expected a number 1-500"}, rid);
          page.limit = *limit;
          if (req.has_param("cursor")) {
            page.after = DecodeCursor(req.get_param_value("cursor"));
            if (!page.after) {
              return SendError(
                  res, {400, "invalid_argument", "cursor: not a cursor this API returned"}, rid);
            }
          }
          absl::StatusOr<ProfileId> id = ResolveProfile(*caller, req.matches[1]);
          if (!id.ok()) return SendError(res, FromStatus(id.status(), rid), rid);
          absl::StatusOr<TimelineSlice> slice = engine_->Timeline(caller->tenant, *id, page);
          if (!slice.ok()) return SendError(res, FromStatus(slice.status(), rid), rid);
          std::string body = absl::StrCat(R"({"profile":")", FormatProfileId(*id), R"(","total":)",
                                          slice->total, R"(,"events":[)");
          for (size_t i = 0; i < slice->entries.size(); ++i) {
            if (i > 0) body += ',';
            body += TimelineEntryToJson(slice->entries[i]);
          }
          body += R"(],"next_cursor":)";
          body += slice->next ? absl::StrCat("\"", EncodeCursor(*slice->next), "\"") : "null";
          body += "}";
          SendJson(res, 200, std::move(body));
        });
  Route(http, "GET", R"(/v1/profiles/([^/]+)/journeys)", read, 0,
        [this](const Caller* caller, const std::string&, const httplib::Request& req,
               httplib::Response& res, const std::string& rid) {
          absl::StatusOr<ProfileId> id = ResolveProfile(*caller, req.matches[1]);
          if (!id.ok()) return SendError(res, FromStatus(id.status(), rid), rid);
          absl::StatusOr<ProfileExplanation> e =
              engine_->Explain(caller->tenant, *id, AuditPage{0, 0});
          if (!e.ok()) return SendError(res, FromStatus(e.status(), rid), rid);
          SendJson(res, 200,
                   ordered_json(
                       {{"profile", FormatProfileId(*id)}, {"journeys", TracesJson(e->journeys)}})
                       .dump(-1, ' ', false, ordered_json::error_handler_t::replace));
        });
  Route(http, "GET", R"(/v1/profiles/([^/]+)/explain)", read, 0,
        [this](const Caller* caller, const std::string&, const httplib::Request& req,
               httplib::Response& res, const std::string& rid) {
          std::optional<size_t> limit = Count(req, "limit", 100, 1000);
          size_t offset = 0;
          if (!limit || (req.has_param("offset") &&
                         !absl::SimpleAtoi(req.get_param_value("offset"), &offset))) {
            return SendError(
                res, {400, "invalid_argument", "offset, limit: expected numbers (limit 1-1000)"},
                rid);
          }
          absl::StatusOr<ProfileId> id = ResolveProfile(*caller, req.matches[1]);
          if (!id.ok()) return SendError(res, FromStatus(id.status(), rid), rid);
          absl::StatusOr<ProfileExplanation> e =
              engine_->Explain(caller->tenant, *id, AuditPage{offset, *limit});
          if (!e.ok()) return SendError(res, FromStatus(e.status(), rid), rid);
          ordered_json ids = ordered_json::array();
          for (const IdentifierValue& v : e->identifiers)
            ids.push_back({{"type", v.type}, {"value", v.value}});
          ordered_json audit = ordered_json::array();
          for (const AuditEntry& a : e->audit) {
            ordered_json entry = {{"action", ActionName(a.action)}, {"time", Rfc3339(a.time)}};
            if (!a.source.empty()) entry["event"] = a.source + "/" + a.event_id;
            if (!a.identifier.type.empty())
              entry["identifier"] = {{"type", a.identifier.type}, {"value", a.identifier.value}};
            if (a.other != 0) entry["other"] = FormatProfileId(a.other);
            entry["reason"] = a.reason;
            entry["text"] = a.ToString();
            audit.push_back(std::move(entry));
          }
          SendJson(res, 200,
                   ordered_json({{"profile", FormatProfileId(e->profile)},
                                 {"identifiers", std::move(ids)},
                                 {"audit", std::move(audit)},
                                 {"audit_total", e->audit_total},
                                 {"audit_folded", e->audit_folded},
                                 {"journeys", TracesJson(e->journeys)}})
                       .dump(-1, ' ', false, ordered_json::error_handler_t::replace));
        });
  // The journey definitions are the server's, the same for every tenant.
  Route(http, "GET", "/v1/journeys", read, 0,
        [this](const Caller*, const std::string&, const httplib::Request&, httplib::Response& res,
               const std::string& rid) {
          std::string body = R"({"journeys":[)";
          bool first = true;
          for (const JourneyDefinition& j : engine_->Journeys()) {
            std::string one;
            google::protobuf::util::JsonPrintOptions options;
            options.preserve_proto_field_names = true;
            if (!google::protobuf::util::MessageToJsonString(j, &one, options).ok()) {
              return SendError(
                  res, {500, "internal", "a journey definition could not be written as JSON"}, rid);
            }
            if (!first) body += ',';
            first = false;
            body += one;
          }
          body += "]}";
          SendJson(res, 200, std::move(body));
        });
  Route(http, "GET", "/v1/stats", read, 0,
        [this](const Caller* caller, const std::string&, const httplib::Request&,
               httplib::Response& res, const std::string&) {
          ordered_json rejected = ordered_json::object();
          {
            std::lock_guard<std::mutex> lock(counters_.mu);
            for (const auto& [reason, n] : counters_.rejected) rejected[reason] = n;
          }
          ordered_json out = {{"tenant", caller->tenant},
                              {"profiles", engine_->TenantProfiles(caller->tenant)}};
          // The server's and the engine's figures count every tenant: admin keys only.
          if (!(caller->scopes & (1u << v1::ApiKey::SCOPE_ADMIN)))
            return SendJson(res, 200, out.dump());
          out["server"] = {{"requests", counters_.requests.load()},
                           {"tracking_requests", counters_.tracking_requests.load()},
                           {"events_accepted", counters_.events_accepted.load()},
                           {"events_duplicate", counters_.events_duplicate.load()},
                           {"rejected", std::move(rejected)},
                           {"unauthorized", counters_.unauthorized.load()},
                           {"forbidden", counters_.forbidden.load()},
                           {"rate_limited", counters_.rate_limited.load()},
                           {"concurrency_limited", counters_.concurrency_limited.load()},
                           {"too_large", counters_.too_large.load()},
                           {"server_errors", counters_.server_errors.load()}};
          {
            const EngineStats s = engine_->Stats();
            out["engine"] = {{"events", s.events},
                             {"duplicates", s.duplicates},
                             {"rejected", s.rejected},
                             {"profiles", s.profiles},
                             {"timeline_entries", s.timeline_entries},
                             {"pending_actions", s.pending_actions},
                             {"recovered", s.recovered},
                             {"snapshots_written", s.snapshots_written},
                             {"snapshot_error", s.snapshot_error}};
          }
          SendJson(res, 200, out.dump(-1, ' ', false, ordered_json::error_handler_t::replace));
        });
}

}  // namespace omnijourney::server
