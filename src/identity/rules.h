// Compiled identifier rules: normalisation and blocking of raw identifier values.
#ifndef OMNIJOURNEY_SRC_IDENTITY_RULES_H_
#define OMNIJOURNEY_SRC_IDENTITY_RULES_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "omnijourney/identity_options.h"
#include "omnijourney/v1/event.pb.h"

namespace re2 {
class RE2;
}  // namespace re2

namespace omnijourney::internal {

// Index of an identifier type in the rule table.
using TypeIndex = uint16_t;

// A blocked-value pattern (whole-value match). The shipped default "(.)\\1{3,}" and any "(.)\\1{N,}"
// (one character repeated) are checked natively; other patterns run on RE2 (linear time in the
// value, whatever the pattern: they see every customer-supplied value).
struct BlockPattern {
  static absl::StatusOr<BlockPattern> Compile(const std::string& pattern);
  bool Matches(std::string_view value) const;

  size_t repeat_min = 0;  // > 0: the native "one character, at least this many times" check.
  std::shared_ptr<const re2::RE2> regex;
};

struct CompiledRule {
  std::string type;
  IdentifierRule rule;
  absl::flat_hash_set<std::string> blocked;  // Lowercased.
  // Blocked values written as national numbers, normalised in each region the options name (the
  // default and the tenants' regions): region -> match keys. A national number means a different
  // number in each country: it blocks an identifier read in that region (a tenant's region, or the
  // identifier's own region hint) only.
  absl::flat_hash_map<std::string, absl::flat_hash_set<std::string>> blocked_in_region;
  std::vector<BlockPattern> patterns;
};

// Outcome of normalising one raw value.
struct Normalized {
  enum class Status { kOk, kBlocked, kInvalid };
  Status status = Status::kOk;
  std::string value;   // The match key when kOk.
  std::string reason;  // Why, when not kOk.
};

class RuleSet {
 public:
  static absl::StatusOr<std::unique_ptr<RuleSet>> Create(const IdentityOptions& options);

  // The type's index; unknown types get the default rule and a new index. Types are bounded by the
  // validator (<= 32 chars) but not in number; the table is small in practice.
  TypeIndex Intern(std::string_view type);
  // REQUIRES: `index` came from Intern. Existing index for a known type, or -1.
  int Find(std::string_view type) const;
  const CompiledRule& rule(TypeIndex index) const { return *rules_[index]; }
  // Whether the type has a rule in IdentityOptions::rules (not only the default rule). `index` as
  // Find returns it: -1 (never interned) has none.
  bool Configured(int index) const { return index >= 0 && static_cast<size_t>(index) < configured_; }
  size_t size() const { return rules_.size(); }

  // `region`: the ISO 3166 region of national phone numbers ("" none: they are refused).
  Normalized Normalize(TypeIndex type, std::string_view raw, std::string_view region) const;
  // Normalize for any type name: unknown types use the default rule (nothing is interned).
  Normalized NormalizeByName(std::string_view type, std::string_view raw, std::string_view region) const;
  // A tenant's phone region: IdentityOptions::tenant_phone_regions, else default_phone_region.
  const std::string& RegionOf(std::string_view tenant) const;
  // True when a stored match key equal to `raw` is raw's own match key, so lookups may probe the
  // index with `raw` before normalising (an opaque id without surrounding spaces, a lowercase
  // handle or non-gmail email, "+" and digits for phones). Sound because every match key
  // normalises to itself; a canonical value that is not a key simply misses and is normalised.
  bool IsCanonical(TypeIndex type, std::string_view raw) const;

 private:
  explicit RuleSet(const IdentityOptions& options) : options_(options) {}
  absl::StatusOr<std::unique_ptr<CompiledRule>> Compile(std::string type, const IdentifierRule& rule) const;
  bool IsBlocked(const CompiledRule& rule, std::string_view value) const;
  Normalized NormalizeWith(const CompiledRule& rule, std::string_view raw, std::string_view region) const;
  // The match key of `trimmed` under the rule's normaliser, without blocking; `*national` (may be
  // null): a phone's national significant number (blocked values and patterns are checked on it too).
  absl::StatusOr<std::string> NormalizeValue(const CompiledRule& rule, std::string_view trimmed,
                                             std::string_view region, std::string* national) const;

  IdentityOptions options_;
  absl::flat_hash_set<std::string> global_blocked_;
  std::vector<BlockPattern> global_patterns_;
  std::vector<std::unique_ptr<CompiledRule>> rules_;
  absl::flat_hash_map<std::string, TypeIndex> index_;  // Type -> index (searched beyond kScanTypes).
  size_t configured_ = 0;  // The first indices are IdentityOptions::rules'.
  static constexpr size_t kScanTypes = 32;
};

// An event whose phone identifiers carry a region (v1::Identifier::region) with those numbers in
// E.164 and their region cleared, so that everything after (the graph, stored events, erasure,
// replays) reads them as written with their country code; nullopt when no identifier has a
// region. A number that is not one in its region keeps its value and region: the graph refuses it
// with the reason.
std::optional<v1::Event> ApplyRegionHints(const IdentityOptions& options, const v1::Event& event);

// Exposed for tests.
absl::StatusOr<std::string> NormalizeEmail(std::string_view raw);
// E.164; `region` "" refuses national numbers ("no region"); `national` (may be null): the national
// significant number.
absl::StatusOr<std::string> NormalizePhone(std::string_view raw, std::string_view region, PhoneValidation validation,
                                           std::string* national = nullptr);

}  // namespace omnijourney::internal

#endif  // OMNIJOURNEY_SRC_IDENTITY_RULES_H_
