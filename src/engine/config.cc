#include "omnijourney/config.h"

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/status_macros.h"
#include "common/text_errors.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"

namespace omnijourney {
namespace {

using internal::ToAbsl;

void ApplyRule(const v1::IdentifierRuleConfig& c, IdentifierRule* rule) {
  using N = v1::IdentifierRuleConfig;
  switch (c.normalizer()) {
    case N::NORMALIZER_TRIM: rule->normalizer = Normalizer::kTrim; break;
    case N::NORMALIZER_LOWERCASE_TRIM: rule->normalizer = Normalizer::kLowercaseTrim; break;
    case N::NORMALIZER_EMAIL: rule->normalizer = Normalizer::kEmail; break;
    case N::NORMALIZER_PHONE: rule->normalizer = Normalizer::kPhone; break;
    case N::NORMALIZER_HANDLE: rule->normalizer = Normalizer::kHandle; break;
    case N::NORMALIZER_ALNUM_UPPERCASE: rule->normalizer = Normalizer::kAlnumUppercase; break;
    default: break;
  }
  if (c.has_links()) rule->links = c.links();
  if (c.has_max_per_profile()) rule->max_per_profile = c.max_per_profile();
  if (c.has_priority()) rule->priority = c.priority();
  if (c.has_personal()) rule->personal = c.personal();
  for (const std::string& v : c.blocked_values()) rule->blocked_values.push_back(v);
  for (const std::string& p : c.blocked_patterns()) rule->blocked_patterns.push_back(p);
}

}  // namespace

absl::Status ApplyConfig(const v1::EngineConfig& config, EngineOptions* options) {
  EngineOptions out = *options;
  switch (config.time_mode()) {
    case v1::EngineConfig::TIME_MODE_CLOCK: out.time_mode = EngineOptions::TimeMode::kClock; break;
    case v1::EngineConfig::TIME_MODE_EVENT_TIME: out.time_mode = EngineOptions::TimeMode::kEventTime; break;
    default: break;
  }
  const v1::IdentityConfig& id = config.identity();
  IdentityOptions& identity = out.identity;
  if (!id.default_phone_region().empty()) identity.default_phone_region = id.default_phone_region();
  for (const auto& [tenant, region] : id.tenant_phone_regions()) identity.tenant_phone_regions[tenant] = region;
  switch (id.phone_validation()) {
    case v1::IdentityConfig::PHONE_VALIDATION_VALID: identity.phone_validation = PhoneValidation::kValid; break;
    case v1::IdentityConfig::PHONE_VALIDATION_POSSIBLE: identity.phone_validation = PhoneValidation::kPossible; break;
    default: break;
  }
  switch (id.unknown_types()) {
    case v1::IdentityConfig::UNKNOWN_TYPES_ACCEPT: identity.unknown_types = UnknownTypes::kAccept; break;
    case v1::IdentityConfig::UNKNOWN_TYPES_WARN: identity.unknown_types = UnknownTypes::kWarn; break;
    case v1::IdentityConfig::UNKNOWN_TYPES_REJECT: identity.unknown_types = UnknownTypes::kReject; break;
    default: break;
  }
  if (id.replace_blocked_values()) identity.blocked_values.clear();
  for (const std::string& v : id.blocked_values()) identity.blocked_values.push_back(v);
  for (const std::string& p : id.blocked_patterns()) identity.blocked_patterns.push_back(p);
  for (const auto& [type, rule] : id.rules()) {
    auto it = identity.rules.find(type);
    if (it == identity.rules.end()) it = identity.rules.emplace(type, identity.default_rule).first;
    ApplyRule(rule, &it->second);
  }
  if (id.has_super_node_limit()) identity.super_node_limit = id.super_node_limit();
  if (id.has_max_identifiers_per_profile()) identity.max_identifiers_per_profile = id.max_identifiers_per_profile();
  if (id.has_max_merges_per_profile()) identity.max_merges_per_profile = id.max_merges_per_profile();
  if (id.has_max_audit_records()) identity.max_audit_records = id.max_audit_records();
  if (id.has_alias_renames()) identity.alias_renames = id.alias_renames();
  if (id.alias_previous_types_size() > 0) {
    identity.alias_previous_types.assign(id.alias_previous_types().begin(), id.alias_previous_types().end());
  }
  switch (id.conflict_policy()) {
    case v1::IdentityConfig::CONFLICT_POLICY_REFUSE_LINK: identity.conflict_policy = ConflictPolicy::kRefuseLink; break;
    case v1::IdentityConfig::CONFLICT_POLICY_DROP_LOWEST_PRIORITY:
      identity.conflict_policy = ConflictPolicy::kDropLowestPriority;
      break;
    default: break;
  }
  const v1::ValidationConfig& v = config.validation();
  ValidationOptions& validation = out.validation;
  if (v.has_max_event_bytes()) validation.max_event_bytes = static_cast<size_t>(v.max_event_bytes());
  if (v.has_max_identifiers()) validation.max_identifiers = v.max_identifiers();
  if (v.has_max_identifier_bytes()) validation.max_identifier_bytes = static_cast<size_t>(v.max_identifier_bytes());
  if (v.has_max_id_bytes()) validation.max_id_bytes = static_cast<size_t>(v.max_id_bytes());
  if (v.has_max_string_bytes()) validation.max_string_bytes = static_cast<size_t>(v.max_string_bytes());
  if (v.has_max_struct_depth()) validation.max_struct_depth = v.max_struct_depth();
  if (!v.max_future_skew().empty()) {
    absl::Duration d;
    if (!absl::ParseDuration(v.max_future_skew(), &d) || d < absl::ZeroDuration()) {
      return absl::InvalidArgumentError(absl::StrCat("validation.max_future_skew: '", v.max_future_skew(),
                                                     "' is not a duration such as \"24h\" or \"90m\""));
    }
    validation.max_future_skew = d;
  }
  *options = std::move(out);
  return absl::OkStatus();
}

absl::Status ApplyConfigText(std::string_view text, ConfigFormat format, std::string_view name,
                             EngineOptions* options) {
  v1::EngineConfig config;
  if (format == ConfigFormat::kJson) {
    google::protobuf::util::JsonParseOptions json;
    json.ignore_unknown_fields = false;
    const auto status = google::protobuf::util::JsonStringToMessage(
        google::protobuf::StringPiece(text.data(), text.size()), &config, json);
    if (!status.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(ToAbsl(name), ": not an omnijourney.v1.EngineConfig: ",
                                                     absl::string_view(status.message().data(), status.message().size())));
    }
  } else {
    google::protobuf::TextFormat::Parser parser;
    internal::FirstTextError errors;
    parser.RecordErrorsTo(&errors);
    if (!parser.ParseFromString(std::string(text), &config)) {
      return absl::InvalidArgumentError(absl::StrCat(ToAbsl(name), ": ", errors.first()));
    }
  }
  if (absl::Status s = ApplyConfig(config, options); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat(ToAbsl(name), ": ", s.message()));
  }
  return absl::OkStatus();
}

absl::Status ApplyConfigFile(const std::string& path, EngineOptions* options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("config ", path, ": cannot be read"));
  std::ostringstream text;
  text << in.rdbuf();
  const ConfigFormat format = absl::EndsWith(path, ".json") ? ConfigFormat::kJson : ConfigFormat::kTextproto;
  return ApplyConfigText(text.str(), format, path, options);
}

}  // namespace omnijourney
