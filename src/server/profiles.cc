// The profile API: a customer's context by any identifier.
#include <string>

#include "absl/strings/str_cat.h"
#include "omnijourney/context.h"
#include "server/service.h"

namespace omnijourney::server {
namespace {

// "{type}:{value}" of the path: the type up to the first ':'.
std::optional<IdentifierQuery> Identifier(const std::string& tenant, const std::string& text) {
  const size_t colon = text.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) return std::nullopt;
  return IdentifierQuery{tenant, text.substr(0, colon), text.substr(colon + 1)};
}

}  // namespace

void Service::RegisterProfiles(httplib::Server* http) {
  Route(http, "GET", R"(/v1/profiles/([^/]+)/context)", v1::ApiKey::SCOPE_READ, 0,
        [this](const Caller* caller, const std::string&, const httplib::Request& req, httplib::Response& res,
               const std::string& request_id) {
          std::optional<IdentifierQuery> query = Identifier(caller->tenant, req.matches[1]);
          if (!query) {
            return SendError(res, {400, "invalid_argument", "profiles/{type}:{value}: expected an identifier such as phone:+420601123456"},
                             request_id);
          }
          absl::StatusOr<CustomerContext> context = engine_->Context(*query);
          if (!context.ok()) return SendError(res, FromStatus(context.status(), request_id), request_id);
          SendJson(res, 200, ContextToJson(*context));
        });
}

}  // namespace omnijourney::server
