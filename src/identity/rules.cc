#include "identity/rules.h"

#include <phonenumbers/phonenumberutil.h>
#include <re2/re2.h>
#include <utf8proc.h>

#include <algorithm>
#include <cstdlib>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "identity/phone_validity.h"

namespace omnijourney {

std::map<std::string, IdentifierRule> DefaultIdentifierRules() {
  using N = Normalizer;
  // {normalizer, links, max_per_profile, priority, blocked values, blocked patterns[, personal]}
  return {
      {"crm_id", {N::kTrim, true, 1, 100, {}, {}}},
      {"user_id", {N::kTrim, true, 1, 90, {}, {}}},
      {"loyalty_card", {N::kAlnumUppercase, true, 3, 80, {}, {}}},
      {"email", {N::kEmail, true, 5, 70, {"test@test.com", "test@example.com", "no@email.com",
                                          "noemail@noemail.com", "none@none.com", "email@email.com",
                                          "a@a.com", "x@x.com", "mail@mail.com"}, {}}},
      {"phone", {N::kPhone, true, 5, 60, {"+420000000000", "+420123456789", "+11234567890"}, {}}},
      {"whatsapp", {N::kPhone, true, 3, 55, {}, {}}},
      {"viber", {N::kPhone, true, 3, 55, {}, {}}},
      {"telegram", {N::kHandle, true, 3, 55, {}, {}}},
      {"chat_handle", {N::kHandle, true, 10, 50, {}, {}}},
      {"facebook", {N::kHandle, true, 3, 50, {}, {}}},
      {"instagram", {N::kHandle, true, 3, 50, {}, {}}},
      {"device_id", {N::kLowercaseTrim, true, 20, 30,
                     {"00000000-0000-0000-0000-000000000000"}, {}, /*personal=*/false}},
      {"push_token", {N::kTrim, true, 20, 25, {}, {}, /*personal=*/false}},
      {"anonymous_id", {N::kTrim, true, 0, 10, {}, {}, /*personal=*/false}},
      {"cookie", {N::kTrim, true, 0, 10, {}, {}, /*personal=*/false}},
      // Official numbers: one person's, written with or without separators.
      {"ssn", {N::kAlnumUppercase, true, 1, 95, {"000000000", "123456789"}, {}}},
      {"national_id", {N::kAlnumUppercase, true, 1, 95, {}, {}}},
      {"passport", {N::kAlnumUppercase, true, 3, 85, {}, {}}},
      {"tax_id", {N::kAlnumUppercase, true, 1, 85, {}, {}}},
  };
}

std::vector<std::string> DefaultBlockedValues() {
  return {"null", "undefined", "none", "nil", "nan", "n/a", "na", "-", ".", "?", "anonymous", "unknown",
          "guest", "test", "0", "-1", "true", "false", "[object object]", "{}", "[]",
          "test@test.com", "1111111111", "0000000000", "1234567890", "123456789", "9999999999"};
}

std::vector<std::string> DefaultBlockedPatterns() { return {"(.)\\1{3,}"}; }

namespace internal {
namespace {

using ::i18n::phonenumbers::PhoneNumber;
using ::i18n::phonenumbers::PhoneNumberUtil;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && absl::ascii_isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && absl::ascii_isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) { return absl::AsciiStrToLower(ToAbsl(s)); }

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "+<country code><national number>" without a leading national zero: builds the number without
// libphonenumber's (slow) parser. Returns false when the fast path does not apply.
bool FastE164(std::string_view s, PhoneNumber* number) {
  if (s.size() < 8 || s.size() > 16 || s[0] != '+' || !AllDigits(s.substr(1)) || s[1] == '0') {
    return false;
  }
  auto* util = PhoneNumberUtil::GetInstance();
  for (size_t cc_len = 1; cc_len <= 3; ++cc_len) {
    const std::string_view cc = s.substr(1, cc_len);
    int code = 0;
    for (char c : cc) code = code * 10 + (c - '0');
    std::string region;
    util->GetRegionCodeForCountryCode(code, &region);
    if (region == "ZZ") continue;
    const std::string_view national = s.substr(1 + cc_len);
    if (national.empty() || national[0] == '0') return false;  // Italian leading zero: slow path.
    uint64_t n = 0;
    for (char c : national) n = n * 10 + static_cast<uint64_t>(c - '0');
    number->set_country_code(code);
    number->set_national_number(n);
    return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<std::string> NormalizeEmail(std::string_view raw) {
  std::string_view s = Trim(raw);
  // "Nastassia <patak@universal.com>", "\"Jay Jones\" <jjones@fmail.com>": the address in the angle
  // brackets at the end.
  if (!s.empty() && s.back() == '>') {
    const size_t open = s.rfind('<');
    if (open == std::string_view::npos) return absl::InvalidArgumentError("not an email address (unmatched '>')");
    s = Trim(s.substr(open + 1, s.size() - open - 2));
  }
  if (s.size() > 7 && absl::EqualsIgnoreCase(ToAbsl(s.substr(0, 7)), "mailto:")) {
    s.remove_prefix(7);
    if (const size_t query = s.find('?'); query != std::string_view::npos) s = s.substr(0, query);
  }
  if (s.size() > 254) return absl::InvalidArgumentError("not an email address (longer than 254 bytes)");
  // Unicode case folding after canonical composition ("ZOË@" and "zoë@" are one); ASCII directly.
  std::string folded;
  if (std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; })) {
    folded = Lower(s);
  } else {
    utf8proc_uint8_t* out = nullptr;
    const utf8proc_ssize_t n =
        utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data()), static_cast<utf8proc_ssize_t>(s.size()), &out,
                     static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD));
    if (n < 0) {
      std::free(out);
      return absl::InvalidArgumentError("not an email address (not UTF-8)");
    }
    folded.assign(reinterpret_cast<const char*>(out), static_cast<size_t>(n));
    std::free(out);
  }
  const size_t at = folded.find('@');
  if (at == std::string::npos || at == 0 || at + 1 >= folded.size() || folded.find('@', at + 1) != std::string::npos) {
    return absl::InvalidArgumentError("not an email address (expected local@domain)");
  }
  std::string local = folded.substr(0, at);
  std::string domain = folded.substr(at + 1);
  auto forbidden = [](char c) {
    return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || std::string_view("<>()[]\\,;:\"").find(c) != std::string_view::npos;
  };
  if (local.size() > 64 || std::any_of(local.begin(), local.end(), forbidden) || local.front() == '.' ||
      local.back() == '.' || local.find("..") != std::string::npos) {
    return absl::InvalidArgumentError("not an email address (bad local part)");
  }
  if (domain.find('.') == std::string::npos || domain.front() == '.' || domain.back() == '.' ||
      domain.find("..") != std::string::npos || std::any_of(domain.begin(), domain.end(), forbidden) ||
      domain.front() == '-' || domain.find("-.") != std::string::npos || domain.find(".-") != std::string::npos ||
      domain.find('_') != std::string::npos) {
    return absl::InvalidArgumentError("not an email address (bad domain)");
  }
  if (domain == "gmail.com" || domain == "googlemail.com") {
    // Gmail ignores dots and +tags in the local part; other providers may not.
    if (size_t plus = local.find('+'); plus != std::string::npos) local.resize(plus);
    local.erase(std::remove(local.begin(), local.end(), '.'), local.end());
    if (local.empty()) return absl::InvalidArgumentError("not an email address (empty local part)");
    domain = "gmail.com";
  }
  return absl::StrCat(local, "@", domain);
}

absl::StatusOr<std::string> NormalizePhone(std::string_view raw, std::string_view region, PhoneValidation validation,
                                           std::string* national) {
  auto* util = PhoneNumberUtil::GetInstance();
  std::string_view trimmed = Trim(raw);
  if (trimmed.size() > 4 && absl::EqualsIgnoreCase(ToAbsl(trimmed.substr(0, 4)), "tel:")) trimmed.remove_prefix(4);
  PhoneNumber number;
  // "+420 601-123 456", "(+420) 601 123 456", a line break inside: separators dropped; what is left
  // may be plain E.164, or "00" and the country code.
  std::string compact;
  compact.reserve(trimmed.size());
  bool plain = true;
  for (char c : trimmed) {
    if ((c >= '0' && c <= '9') || c == '+') {
      compact.push_back(c);
    } else if (!absl::ascii_isspace(static_cast<unsigned char>(c)) && c != '-' && c != '(' && c != ')' && c != '.' &&
               c != '/') {
      plain = false;
      break;
    }
  }
  if (plain && compact.size() > 2 && compact[0] == '0' && compact[1] == '0') compact = "+" + compact.substr(2);
  const bool international = plain ? !compact.empty() && compact[0] == '+' : !trimmed.empty() && trimmed[0] == '+';
  if (!international && region.empty()) {
    return absl::InvalidArgumentError(
        "no region: a national number needs its country (the identifier's region, identity.tenant_phone_regions "
        "or identity.default_phone_region)");
  }
  if (!plain || !FastE164(compact, &number)) {
    const std::string parse_region = international ? "ZZ" : std::string(region);
    const auto error = util->Parse(plain ? compact : std::string(trimmed), parse_region, &number);
    if (error == PhoneNumberUtil::INVALID_COUNTRY_CODE_ERROR && !international) {
      return absl::InvalidArgumentError(absl::StrCat("region '", ToAbsl(region), "' is not a supported ISO 3166 region"));
    }
    if (error != PhoneNumberUtil::NO_PARSING_ERROR) return absl::InvalidArgumentError("not a phone number");
  }
  if (validation == PhoneValidation::kValid ? !PhoneValidity::Get().IsValid(number)
                                            : util->IsPossibleNumberWithReason(number) != PhoneNumberUtil::IS_POSSIBLE) {
    return absl::InvalidArgumentError(validation == PhoneValidation::kValid
                                          ? "not a valid phone number for its country"
                                          : "not a possible phone number (length)");
  }
  if (national != nullptr) util->GetNationalSignificantNumber(number, national);
  std::string out;
  util->Format(number, PhoneNumberUtil::E164, &out);
  return out;
}

std::optional<v1::Event> ApplyRegionHints(const IdentityOptions& options, const v1::Event& event) {
  auto hinted = [](const v1::Identifier& id) { return !id.region().empty(); };
  if (std::none_of(event.identifiers().begin(), event.identifiers().end(), hinted) &&
      !(event.has_previous_id() && hinted(event.previous_id()))) {
    return std::nullopt;
  }
  std::optional<v1::Event> out(event);
  auto apply = [&](v1::Identifier& id) {
    if (id.region().empty()) return;
    auto rule = options.rules.find(id.type());
    const Normalizer normalizer = rule != options.rules.end() ? rule->second.normalizer : options.default_rule.normalizer;
    if (normalizer != Normalizer::kPhone) {
      id.clear_region();  // Only phone numbers have one.
      return;
    }
    absl::StatusOr<std::string> e164 = NormalizePhone(id.value(), id.region(), options.phone_validation);
    if (!e164.ok()) return;
    id.set_value(*std::move(e164));
    id.clear_region();
  };
  for (v1::Identifier& id : *out->mutable_identifiers()) apply(id);
  if (out->has_previous_id()) apply(*out->mutable_previous_id());
  return out;
}

absl::StatusOr<std::unique_ptr<RuleSet>> RuleSet::Create(const IdentityOptions& options) {
  auto set = std::unique_ptr<RuleSet>(new RuleSet(options));
  auto* util = PhoneNumberUtil::GetInstance();
  std::set<std::string> regions;
  util->GetSupportedRegions(&regions);
  auto supported = [&regions](const std::string& path, const std::string& region) -> absl::Status {
    if (regions.contains(region)) return absl::OkStatus();
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": '", region, "' is not a supported ISO 3166 region (e.g. \"US\", \"CZ\")"));
  };
  if (!options.default_phone_region.empty()) {
    RETURN_IF_ERROR(supported("default_phone_region", options.default_phone_region));
  }
  for (const auto& [tenant, region] : options.tenant_phone_regions) {
    RETURN_IF_ERROR(supported(absl::StrCat("tenant_phone_regions[", tenant, "]"), region));
  }
  if (options.super_node_limit < 1) return absl::InvalidArgumentError("super_node_limit: must be >= 1");
  if (options.max_identifiers_per_profile < 1) {
    return absl::InvalidArgumentError("max_identifiers_per_profile: must be >= 1");
  }
  if (options.max_merges_per_profile < 0) {
    return absl::InvalidArgumentError("max_merges_per_profile: must be >= 0");
  }
  if (options.max_audit_records < 0) return absl::InvalidArgumentError("max_audit_records: must be >= 0");
  for (const std::string& v : options.blocked_values) set->global_blocked_.insert(Lower(Trim(v)));
  for (size_t i = 0; i < options.blocked_patterns.size(); ++i) {
    auto pattern = BlockPattern::Compile(options.blocked_patterns[i]);
    if (!pattern.ok()) return Prefixed(absl::StrCat("blocked_patterns[", i, "]: "), pattern.status());
    set->global_patterns_.push_back(*std::move(pattern));
  }
  for (const auto& [type, rule] : options.rules) {
    ASSIGN_OR_RETURN(auto compiled, set->Compile(type, rule));
    set->index_[type] = static_cast<TypeIndex>(set->rules_.size());
    set->rules_.push_back(std::move(compiled));
  }
  set->configured_ = set->rules_.size();
  return set;
}

absl::StatusOr<std::unique_ptr<CompiledRule>> RuleSet::Compile(std::string type,
                                                                const IdentifierRule& rule) const {
  const std::string path = absl::StrCat("rules[", type, "]");
  if (type.empty() || type.size() > 32 ||
      !std::all_of(type.begin(), type.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; })) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": type must be 1-32 of [a-z0-9_]"));
  }
  if (rule.max_per_profile < 0) return absl::InvalidArgumentError(absl::StrCat(path, ".max_per_profile: must be >= 0"));
  auto out = std::make_unique<CompiledRule>();
  out->type = std::move(type);
  out->rule = rule;
  std::set<std::string> regions;
  if (!options_.default_phone_region.empty()) regions.insert(options_.default_phone_region);
  for (const auto& [tenant, region] : options_.tenant_phone_regions) regions.insert(region);
  for (const std::string& v : rule.blocked_values) {
    // Blocked as written and in normalised form ("+420 800 123 456" blocks every spelling); a
    // national number ("800 123 456") only where it is read in a region it is valid in; anything
    // else (a placeholder) as written, everywhere.
    if (auto normalized = NormalizeValue(*out, Trim(v), "", nullptr); normalized.ok()) {
      out->blocked.insert(Lower(Trim(v)));
      out->blocked.insert(Lower(*normalized));
      continue;
    }
    bool national = false;
    for (const std::string& region : regions) {
      if (auto normalized = NormalizeValue(*out, Trim(v), region, nullptr); normalized.ok()) {
        out->blocked_in_region[region].insert(Lower(*normalized));
        national = true;
      }
    }
    if (!national) out->blocked.insert(Lower(Trim(v)));
  }
  for (size_t i = 0; i < rule.blocked_patterns.size(); ++i) {
    auto pattern = BlockPattern::Compile(rule.blocked_patterns[i]);
    if (!pattern.ok()) return Prefixed(absl::StrCat(path, ".blocked_patterns[", i, "]: "), pattern.status());
    out->patterns.push_back(*std::move(pattern));
  }
  return out;
}

TypeIndex RuleSet::Intern(std::string_view type) {
  if (const int found = Find(type); found >= 0) return static_cast<TypeIndex>(found);
  // Unknown types take the default rule; the type string was validated by ValidateEvent.
  auto compiled = Compile(std::string(type), options_.default_rule);
  std::unique_ptr<CompiledRule> rule;
  if (compiled.ok()) {
    rule = *std::move(compiled);
  } else {
    rule = std::make_unique<CompiledRule>();
    rule->type = std::string(type);
    rule->rule = options_.default_rule;
  }
  const auto index = static_cast<TypeIndex>(rules_.size());
  index_[std::string(type)] = index;
  rules_.push_back(std::move(rule));
  return index;
}

const std::string& RuleSet::RegionOf(std::string_view tenant) const {
  if (!options_.tenant_phone_regions.empty()) {
    auto it = options_.tenant_phone_regions.find(std::string(tenant));
    if (it != options_.tenant_phone_regions.end()) return it->second;
  }
  return options_.default_phone_region;
}

Normalized RuleSet::NormalizeByName(std::string_view type, std::string_view raw, std::string_view region) const {
  if (const int t = Find(type); t >= 0) return Normalize(static_cast<TypeIndex>(t), raw, region);
  auto compiled = Compile(std::string(type), options_.default_rule);
  if (!compiled.ok()) {
    Normalized out;
    out.status = Normalized::Status::kInvalid;
    out.reason = std::string(compiled.status().message());
    return out;
  }
  return NormalizeWith(**compiled, raw, region);
}

int RuleSet::Find(std::string_view type) const {
  // Few types (the default rules are 16): comparing them costs less than hashing.
  if (rules_.size() <= kScanTypes) {
    for (size_t i = 0; i < rules_.size(); ++i) {
      if (rules_[i]->type == type) return static_cast<int>(i);
    }
    return -1;
  }
  auto it = index_.find(ToAbsl(type));
  return it == index_.end() ? -1 : it->second;
}

bool RuleSet::IsCanonical(TypeIndex type, std::string_view raw) const {
  if (raw.empty() || absl::ascii_isspace(static_cast<unsigned char>(raw.front())) ||
      absl::ascii_isspace(static_cast<unsigned char>(raw.back()))) {
    return false;
  }
  switch (rules_[type]->rule.normalizer) {
    case Normalizer::kTrim:
      return true;
    case Normalizer::kHandle:
      if (raw.front() == '@') return false;
      [[fallthrough]];
    case Normalizer::kLowercaseTrim:
      return std::none_of(raw.begin(), raw.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
    case Normalizer::kEmail: {
      // Lowercase ASCII local@domain outside gmail: a stored key equal to it is its normalisation
      // (normalising a key gives the key back).
      const size_t at = raw.find('@');
      if (at == std::string_view::npos || raw.find('@', at + 1) != std::string_view::npos) return false;
      const std::string_view domain = raw.substr(at + 1);
      if (domain == "gmail.com" || domain == "googlemail.com") return false;
      return std::none_of(raw.begin(), raw.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || c == ' ' || c == '<' || c == ':' || static_cast<unsigned char>(c) >= 0x80;
      });
    }
    case Normalizer::kPhone:
      // "+" and digits: if it is a stored key it is an E.164 form, which normalises to itself.
      return raw.size() > 1 && raw[0] == '+' && AllDigits(raw.substr(1));
    default:
      return false;
  }
}

absl::StatusOr<BlockPattern> BlockPattern::Compile(const std::string& pattern) {
  BlockPattern out;
  // "(.)\1{N,}": parsed here, matched without a regular expression (it runs for every new identifier).
  constexpr std::string_view kPrefix = "(.)\\1{";
  if (pattern.size() > kPrefix.size() + 2 && std::string_view(pattern).substr(0, kPrefix.size()) == kPrefix &&
      pattern.substr(pattern.size() - 2) == ",}") {
    const std::string_view digits =
        std::string_view(pattern).substr(kPrefix.size(), pattern.size() - kPrefix.size() - 2);
    if (AllDigits(digits) && digits.size() <= 4) {
      size_t n = 0;
      for (char c : digits) n = n * 10 + static_cast<size_t>(c - '0');
      out.repeat_min = n + 1;  // The captured character plus N repeats.
      return out;
    }
  }
  RE2::Options options;
  options.set_log_errors(false);
  auto regex = std::make_shared<const RE2>(pattern, options);
  if (!regex->ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid regular expression (RE2 syntax, no backreferences): ", regex->error()));
  }
  out.regex = std::move(regex);
  return out;
}

bool BlockPattern::Matches(std::string_view value) const {
  if (repeat_min > 0) {
    // As the regular expression: '.' matches any character but a line break.
    const char c = value.empty() ? '\n' : value.front();
    return value.size() >= repeat_min && c != '\n' &&
           std::all_of(value.begin(), value.end(), [c](char x) { return x == c; });
  }
  return RE2::FullMatch(re2::StringPiece(value.data(), value.size()), *regex);
}

bool RuleSet::IsBlocked(const CompiledRule& rule, std::string_view value) const {
  // Lowercase into a stack buffer (no allocation for ordinary values).
  char buf[128];
  std::string heap;
  std::string_view lower;
  if (value.size() <= sizeof(buf)) {
    for (size_t i = 0; i < value.size(); ++i) buf[i] = absl::ascii_tolower(static_cast<unsigned char>(value[i]));
    lower = std::string_view(buf, value.size());
  } else {
    heap = Lower(value);
    lower = heap;
  }
  if (global_blocked_.contains(ToAbsl(lower)) || rule.blocked.contains(ToAbsl(lower))) return true;
  for (const auto& p : global_patterns_) {
    if (p.Matches(value)) return true;
  }
  for (const auto& p : rule.patterns) {
    if (p.Matches(value)) return true;
  }
  return false;
}

Normalized RuleSet::Normalize(TypeIndex type, std::string_view raw, std::string_view region) const {
  return NormalizeWith(*rules_[type], raw, region);
}

Normalized RuleSet::NormalizeWith(const CompiledRule& rule, std::string_view raw, std::string_view region) const {
  Normalized out;
  const std::string_view trimmed = Trim(raw);
  if (trimmed.empty()) {
    out.status = Normalized::Status::kInvalid;
    out.reason = "blank value";
    return out;
  }
  // Placeholders are recognised in the raw form too ("NULL", "Test@Test.com"), and a phone's in its
  // digits without separators ("000-000-0000").
  std::string digits;
  if (rule.rule.normalizer == Normalizer::kPhone) {
    for (char c : trimmed) {
      if (c >= '0' && c <= '9') digits.push_back(c);
    }
  }
  if (IsBlocked(rule, trimmed) || (!digits.empty() && digits != trimmed && IsBlocked(rule, digits))) {
    out.status = Normalized::Status::kBlocked;
    out.reason = "blocked placeholder value";
    return out;
  }
  std::string national;
  absl::StatusOr<std::string> value = NormalizeValue(rule, trimmed, region, &national);
  if (!value.ok()) {
    out.status = Normalized::Status::kInvalid;
    out.reason = std::string(value.status().message());
    return out;
  }
  if (value->empty()) {
    out.status = Normalized::Status::kInvalid;
    out.reason = "empty after normalisation";
    return out;
  }
  // A phone's placeholders are its national digits ("+1 111-111-1111": 1111111111).
  auto blocked_here = [&] {
    if (rule.blocked_in_region.empty()) return false;
    auto it = rule.blocked_in_region.find(ToAbsl(region));
    return it != rule.blocked_in_region.end() && it->second.contains(ToAbsl(Lower(*value)));
  };
  if ((*value != trimmed && IsBlocked(rule, *value)) || (!national.empty() && IsBlocked(rule, national)) ||
      blocked_here()) {
    out.status = Normalized::Status::kBlocked;
    out.reason = "blocked placeholder value";
    return out;
  }
  out.value = *std::move(value);
  return out;
}

absl::StatusOr<std::string> RuleSet::NormalizeValue(const CompiledRule& rule, std::string_view trimmed,
                                                    std::string_view region, std::string* national) const {
  absl::StatusOr<std::string> value;
  switch (rule.rule.normalizer) {
    case Normalizer::kTrim:
      value = std::string(trimmed);
      break;
    case Normalizer::kLowercaseTrim:
      value = Lower(trimmed);
      break;
    case Normalizer::kEmail:
      value = NormalizeEmail(trimmed);
      break;
    case Normalizer::kPhone:
      value = NormalizePhone(trimmed, region, options_.phone_validation, national);
      break;
    case Normalizer::kHandle: {
      std::string_view h = trimmed;
      if (!h.empty() && h.front() == '@') h.remove_prefix(1);
      value = Lower(h);
      break;
    }
    case Normalizer::kAlnumUppercase: {
      std::string s;
      for (char c : trimmed) {
        if (absl::ascii_isalnum(static_cast<unsigned char>(c))) s.push_back(absl::ascii_toupper(static_cast<unsigned char>(c)));
      }
      value = std::move(s);
      break;
    }
  }
  return value;
}

}  // namespace internal
}  // namespace omnijourney
