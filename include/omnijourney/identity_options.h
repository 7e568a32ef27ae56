// Identity rules: how each identifier type is normalised, whether and how far it links profiles, and
// which values are junk. A default-constructed IdentityOptions has sensible rules for the common types.
#ifndef OMNIJOURNEY_IDENTITY_OPTIONS_H_
#define OMNIJOURNEY_IDENTITY_OPTIONS_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "omnijourney/clock.h"

namespace omnijourney {

// How raw identifier values are turned into match keys.
enum class Normalizer {
  kTrim,            // Trim surrounding whitespace; case kept (opaque ids, cookies, tokens).
  kLowercaseTrim,   // Trim and lowercase ASCII (device ids, generic handles).
  kEmail,           // The address of "Name <local@domain>" or "mailto:local@domain", Unicode case
                    // folded (utf8proc); for gmail.com/googlemail.com dots and +tags of the local part
                    // dropped. Anything that is not one local@domain address is refused.
  kPhone,           // E.164 via libphonenumber. A number with a country code ("+", "00") as written;
                    // a national one in the identifier's region, else its tenant's
                    // (IdentityOptions::tenant_phone_regions), else default_phone_region; with none
                    // of them it is refused ("no region"), never guessed. See phone_validation.
  kHandle,          // Trim, lowercase, drop one leading '@' (chat and social handles).
  kAlnumUppercase,  // Keep letters and digits only, uppercase (loyalty cards, ssn, passport and
                    // national and tax ids: "521-21-2123" and "521212123" are one).
};

// How far a phone number is checked before it links.
enum class PhoneValidation {
  kValid,     // libphonenumber's IsValidNumber: in an assigned range of its country (~4 us per new
              // number; repeated spellings are cached).
  kPossible,  // IsPossibleNumber: a possible length for its country (a local-only length, e.g. a US
              // number without its area code, is refused).
};

// The rule for one identifier type.
struct IdentifierRule {
  // Match-key normaliser. Default: kTrim.
  Normalizer normalizer = Normalizer::kTrim;
  // Whether identifiers of this type link profiles at all. A non-linking identifier is still
  // recorded on the event's profile (it resolves) but never joins two profiles. Default: true.
  bool links = true;
  // Most values of this type one profile may hold; a merge that would exceed it is refused.
  // 1 makes the type unique (crm_id, user_id). 0 means unlimited. Default: 0.
  int max_per_profile = 0;
  // Trust: higher-priority identifiers decide the event's profile and are kept when a conflict
  // forces a choice. Default: 50.
  int priority = 50;
  // Exact values (compared after normalisation, and also case-insensitively before it) that are
  // placeholders and never identify anyone, e.g. "test@test.com". Default: none (see also
  // IdentityOptions::blocked_values, which apply to every type).
  std::vector<std::string> blocked_values;
  // Regular expressions (RE2 syntax); a normalised value fully matching one is blocked.
  // Default: none.
  std::vector<std::string> blocked_patterns;
  // Whether a value names a person, not a visit, a browser or an app install (cookies, anonymous
  // ids, device ids and push tokens are not: one person collects many). The super-node guard
  // counts a join of a profile holding a personal identifier against every identifier of the
  // record that joins it (a shared address or a switchboard number is the hub); a join of a profile
  // of non-personal identifiers only counts against those. Default: true.
  bool personal = true;
};

// What happens to an identifier of a type without a rule in IdentityOptions::rules (a typo such as
// "emial" would otherwise make a new type without a word).
enum class UnknownTypes {
  kAccept,  // Linked under default_rule.
  kWarn,    // Linked under default_rule, with a warning (LinkResult::warnings, IngestResult::warnings)
            // and a count (IdentityStats::unknown_type_identifiers).
  kReject,  // Dropped (LinkResult::dropped, reason "unknown identifier type").
};

// What happens when linking the identifiers of one event would break a limit.
enum class ConflictPolicy {
  // Link greedily in priority order: each identifier whose profile cannot join is refused on its
  // own; the event's other identifiers still link.
  kRefuseLink,
  // As Segment Unify does: drop the event's lowest-priority identifiers from the link until what
  // remains can merge, then link the rest.
  kDropLowestPriority,
};

// Default rules: email, phone, user_id, crm_id, anonymous_id, cookie, device_id, push_token,
// chat_handle, whatsapp, viber, telegram, facebook, instagram, loyalty_card, ssn, national_id,
// passport, tax_id.
std::map<std::string, IdentifierRule> DefaultIdentifierRules();
// null, undefined, none, nil, n/a, anonymous, unknown, 0, -1, test@test.com, 1111111111, ...
std::vector<std::string> DefaultBlockedValues();
// One character repeated ("0000000", "xxxx").
std::vector<std::string> DefaultBlockedPatterns();

struct IdentityOptions {
  // Time stamped on operator actions (unlink, split, erasure) in the audit trail. Not owned; must
  // outlive the graph. Default: nullptr (RealClock()). The Engine passes its own clock.
  const Clock* clock = nullptr;
  // Rules by identifier type (lowercase snake_case). Default: DefaultIdentifierRules().
  std::map<std::string, IdentifierRule> rules = DefaultIdentifierRules();
  // Rule for types not in `rules`. Default: kTrim, links, unlimited, priority 40.
  IdentifierRule default_rule{Normalizer::kTrim, true, 0, 40, {}, {}};
  // Identifiers of types not in `rules`. Default: kWarn.
  UnknownTypes unknown_types = UnknownTypes::kWarn;
  // Placeholder values blocked for every type (compared case-insensitively after trimming, and
  // after normalisation). Default: DefaultBlockedValues().
  std::vector<std::string> blocked_values = DefaultBlockedValues();
  // Patterns blocked for every type (full match of the normalised value).
  // Default: DefaultBlockedPatterns() (one character repeated, e.g. "0000000", "xxxxx").
  std::vector<std::string> blocked_patterns = DefaultBlockedPatterns();
  // ISO 3166 region (two letters, e.g. "CZ", "US") of phone numbers written without a country
  // code, for tenants without their own region. Default: "" (none: such numbers are refused with
  // the reason "no region").
  std::string default_phone_region;
  // Tenant -> its ISO 3166 region, in place of default_phone_region. Default: none.
  std::map<std::string, std::string> tenant_phone_regions;
  // Default: kValid.
  PhoneValidation phone_validation = PhoneValidation::kValid;
  // Conflict policy. Default: kRefuseLink.
  ConflictPolicy conflict_policy = ConflictPolicy::kRefuseLink;
  // Super-node guard: an identifier that has tried to join more than this many other profiles
  // stops linking; the join that would make it a hub is refused and reported in the audit. Counted
  // whatever the priorities: an identifier joining another profile, and every identifier of the
  // record on the other side when that profile holds a personal identifier (IdentifierRule::
  // personal). Default: 10.
  int super_node_limit = 10;
  // An alias call (EVENT_KIND_ALIAS) says that its previous_id and its identifiers are one person:
  // its merge goes ahead even when the profile then holds two identifiers of previous_id's type
  // beyond that type's max_per_profile (a person's old and new user_id under user_id's limit of
  // 1); the other limits, splits and the super-node guard still apply. false: an alias is refused
  // like any other event. Default: true.
  bool alias_renames = true;
  // An alias's previous_id of type anonymous_id (Segment's default: its previousId is an
  // anonymousId or an earlier userId) that the tenant knows, as one of these types and not as an
  // anonymous_id, is that identifier. Known means linked before, or named by an earlier event of
  // the same batch. Default: {"user_id"}.
  std::vector<std::string> alias_previous_types = {"user_id"};
  // Caps on one profile; merges beyond them are refused and reported. Defaults: 1000 identifiers,
  // 1000 merges.
  int max_identifiers_per_profile = 1000;
  int max_merges_per_profile = 1000;
  // Explain's audit reads at most this many of the profile's newest link records (the events that
  // linked, merged or were refused: one entry each, or a few); older ones are folded into one
  // summary entry ("N older link records folded"). A profile that saw a million cookies over the
  // years then explains in milliseconds. 0: no limit. Default: 1000.
  int max_audit_records = 1000;
  // Seed of the profile-id hash. Profile ids are a keyed hash of the profile's oldest identifier,
  // so they are stable across runs and do not reveal the identifier. Keep it fixed for a store.
  // Default: a fixed constant.
  uint64_t profile_id_seed = 0x6f6d6e696a6f7572ULL;
  // Entries in the cache of raw value -> identifier (saves re-normalising repeated values;
  // cleared when full). Default: 1 << 20.
  size_t raw_value_cache_entries = 1 << 20;
};

}  // namespace omnijourney

#endif  // OMNIJOURNEY_IDENTITY_OPTIONS_H_
