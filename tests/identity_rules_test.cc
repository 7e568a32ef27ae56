#include "identity/rules.h"

#include <regex>  // The reference the native pattern is checked against.

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace omnijourney::internal {
namespace {

using ::testing::HasSubstr;

TEST(NormalizeEmailTest, LowercasesAndTrims) {
  EXPECT_EQ(*NormalizeEmail("  Eva.Novak@Example.COM "), "eva.novak@example.com");
  // Plus tags and dots matter outside gmail.
  EXPECT_EQ(*NormalizeEmail("eva.novak+shop@example.com"), "eva.novak+shop@example.com");
}

TEST(NormalizeEmailTest, GmailIgnoresDotsAndPlusTags) {
  EXPECT_EQ(*NormalizeEmail("Eva.Novak+shop@gmail.com"), "evanovak@gmail.com");
  EXPECT_EQ(*NormalizeEmail("e.v.a.novak@googlemail.com"), "evanovak@gmail.com");
}

TEST(NormalizeEmailTest, RejectsNonAddresses) {
  for (const char* bad : {"eva", "@example.com", "eva@", "eva@@example.com", "eva@example", "eva @x.com",
                          "a@b.com,c@d.com", "+@gmail.com"}) {
    EXPECT_FALSE(NormalizeEmail(bad).ok()) << bad;
  }
}

TEST(NormalizePhoneTest, AllSpellingsGiveE164) {
  for (const char* raw : {"+420 601 123 456", "+420601123456", "00420601123456", "601 123 456",
                          "(+420) 601-123-456", " 601123456 "}) {
    auto p = NormalizePhone(raw, "CZ", PhoneValidation::kPossible);
    ASSERT_TRUE(p.ok()) << raw << ": " << p.status();
    EXPECT_EQ(*p, "+420601123456") << raw;
  }
  EXPECT_EQ(*NormalizePhone("+1 650-253-0000", "CZ", PhoneValidation::kPossible), "+16502530000");
  EXPECT_EQ(*NormalizePhone("650-253-0000", "US", PhoneValidation::kPossible), "+16502530000");
  // Italian numbers keep their leading zero (slow path).
  EXPECT_EQ(*NormalizePhone("+39 06 698 12345", "CZ", PhoneValidation::kPossible), "+390669812345");
}

TEST(NormalizePhoneTest, RejectsImpossibleNumbers) {
  EXPECT_THAT(std::string(NormalizePhone("hello", "CZ", PhoneValidation::kPossible).status().message()), HasSubstr("not a phone number"));
  EXPECT_FALSE(NormalizePhone("12", "CZ", PhoneValidation::kPossible).ok());
  EXPECT_FALSE(NormalizePhone("+420 1234", "CZ", PhoneValidation::kPossible).ok());
  EXPECT_FALSE(NormalizePhone("+4206011234567890", "CZ", PhoneValidation::kPossible).ok());
  // kValid also checks assigned ranges.
  EXPECT_TRUE(NormalizePhone("+420 601 123 456", "CZ", PhoneValidation::kValid).ok());
}

std::unique_ptr<RuleSet> Rules(IdentityOptions options = {}) {
  auto rules = RuleSet::Create(options);
  EXPECT_TRUE(rules.ok()) << rules.status();
  return *std::move(rules);
}

TEST(RuleSetTest, NormalisesPerType) {
  auto rules = Rules();
  auto norm = [&](const char* type, const char* raw) {
    Normalized n = rules->Normalize(rules->Intern(type), raw, "CZ");
    return n.status == Normalized::Status::kOk ? n.value : "<" + n.reason + ">";
  };
  EXPECT_EQ(norm("email", " EVA@Example.com"), "eva@example.com");
  EXPECT_EQ(norm("phone", "601 123 456"), "+420601123456");
  EXPECT_EQ(norm("whatsapp", "+420 601 123 456"), "+420601123456");
  EXPECT_EQ(norm("chat_handle", " @Eva_N "), "eva_n");
  EXPECT_EQ(norm("instagram", "@EvaN"), "evan");
  EXPECT_EQ(norm("loyalty_card", "lc-0042 7781"), "LC00427781");
  EXPECT_EQ(norm("crm_id", " CRM-88121 "), "CRM-88121");
  EXPECT_EQ(norm("device_id", "B5372DB0-C21E"), "b5372db0-c21e");
  EXPECT_EQ(norm("some_new_type", " Value "), "Value");
  EXPECT_EQ(norm("email", "not-an-email"), "<not an email address (expected local@domain)>");
}

// The graph probes its index with a raw value directly when IsCanonical says so. A hit means the
// raw value equals a stored match key; that is the right node only if every match key normalises
// to itself (then the raw value's own normalisation is that key). "+4407700900123" is canonical
// but not a key (it normalises to +447700900123, which is): a direct probe misses and it is
// normalised as usual.
TEST(RuleSetTest, CanonicalValuesAreTheirOwnMatchKeys) {
  IdentityOptions options;
  options.phone_validation = PhoneValidation::kPossible;  // Also the drama range +44 7700 900xxx.
  auto rules = Rules(options);
  const std::vector<std::pair<const char*, const char*>> samples = {
      {"email", "eva@example.com"},      {"email", " EVA@Example.com"},   {"email", "e.va+x@gmail.com"},
      {"email", "eva@googlemail.com"},   {"email", "a@b@c.com"},          {"email", "eva@example"},
      {"email", "Eva@example.com"},      {"phone", "+420601123456"},      {"phone", "601 123 456"},
      {"phone", "+39 06 1234 5678"},     {"phone", "+3906123456789"},     {"phone", "+4407700900123"},
      {"phone", "+1 (650) 253-0000"},    {"phone", "+12"},                {"whatsapp", "+447700900123"},
      {"chat_handle", "@eva"},           {"chat_handle", "eva_n"},        {"instagram", "EvaN"},
      {"loyalty_card", "LC00427781"},    {"loyalty_card", "lc-0042"},     {"crm_id", "CRM-1"},
      {"device_id", "b5372db0-c21e"},    {"device_id", "B5372DB0"},       {"cookie", " c1 "},
  };
  int canonical = 0;
  for (const auto& [type, raw] : samples) {
    const TypeIndex t = rules->Intern(type);
    const Normalized once = rules->Normalize(t, raw, "CZ");
    if (once.status != Normalized::Status::kOk) continue;
    const Normalized twice = rules->Normalize(t, once.value, "CZ");
    ASSERT_EQ(twice.status, Normalized::Status::kOk) << type << " " << raw;
    EXPECT_EQ(twice.value, once.value) << type << " " << raw << ": the match key is not a fixed point";
    if (rules->IsCanonical(t, raw) && once.value == raw) ++canonical;
    // Every key a canonical spelling could hit is canonical itself, so the direct probe is used.
    if (rules->IsCanonical(t, raw)) {
      EXPECT_TRUE(rules->IsCanonical(t, once.value)) << type << " " << raw;
    }
  }
  EXPECT_GE(canonical, 7);  // The checks above ran on real canonical values.
  EXPECT_TRUE(rules->IsCanonical(rules->Intern("email"), "eva@example.com"));
  EXPECT_FALSE(rules->IsCanonical(rules->Intern("email"), "eva@gmail.com"));
  EXPECT_TRUE(rules->IsCanonical(rules->Intern("phone"), "+420601123456"));
  EXPECT_FALSE(rules->IsCanonical(rules->Intern("phone"), "601123456"));
}

TEST(RuleSetTest, BlocksPlaceholders) {
  auto rules = Rules();
  auto blocked = [&](const char* type, const char* raw) {
    return rules->Normalize(rules->Intern(type), raw, "CZ").status == Normalized::Status::kBlocked;
  };
  EXPECT_TRUE(blocked("email", "test@test.com"));
  EXPECT_TRUE(blocked("email", " TEST@Test.com "));
  EXPECT_TRUE(blocked("user_id", "null"));
  EXPECT_TRUE(blocked("user_id", "NULL"));
  EXPECT_TRUE(blocked("anonymous_id", "undefined"));
  EXPECT_TRUE(blocked("crm_id", "-1"));
  EXPECT_TRUE(blocked("crm_id", "0"));
  EXPECT_TRUE(blocked("phone", "1111111111"));
  EXPECT_TRUE(blocked("phone", "+420 777 777 777"));  // Blocked after normalisation (national digits).
  // Not a valid number at all: refused before it could be a placeholder.
  EXPECT_EQ(rules->Normalize(rules->Intern("phone"), "+420 000 000 000", "").status, Normalized::Status::kInvalid);
  EXPECT_TRUE(blocked("cookie", "xxxxxxxx"));          // Repeated character pattern.
  EXPECT_TRUE(blocked("device_id", "00000000-0000-0000-0000-000000000000"));
  EXPECT_FALSE(blocked("email", "eva@example.com"));
  EXPECT_FALSE(blocked("crm_id", "1001"));
  EXPECT_FALSE(blocked("chat_handle", "aa"));
}

// "(.)\1{N,}" is matched natively; it must agree with std::regex on every kind of value.
TEST(BlockPatternTest, NativeRepeatAgreesWithStdRegex) {
  for (const std::string pattern : {"(.)\\1{3,}", "(.)\\1{0,}", "(.)\\1{5,}"}) {
    auto native = BlockPattern::Compile(pattern);
    ASSERT_TRUE(native.ok()) << native.status();
    EXPECT_GT(native->repeat_min, 0u) << pattern;
    const std::regex reference(pattern, std::regex::ECMAScript);
    for (const std::string value : {"", "a", "aaa", "aaaa", "aaaaaaaa", "aaab", "baaa", "1111111111", "\n\n\n\n",
                                    "----", "ab", "zzzzzz", "\xc3\xa9\xc3\xa9"}) {
      EXPECT_EQ(native->Matches(value), std::regex_match(value, reference)) << pattern << " on '" << value << "'";
    }
  }
  // Other patterns run on RE2, which has no backreferences: refused with a clear error.
  auto backreference = BlockPattern::Compile("(.)\\1{3}");
  ASSERT_FALSE(backreference.ok());
  EXPECT_THAT(std::string(backreference.status().message()), HasSubstr("RE2 syntax, no backreferences"));
  auto other = BlockPattern::Compile("a{4}");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->repeat_min, 0u);
  EXPECT_TRUE(other->Matches("aaaa"));
  EXPECT_FALSE(other->Matches("aaaaa"));
  EXPECT_FALSE(BlockPattern::Compile("(.\\1{3,}").ok());
}

// A pattern that backtracking engines take exponential time on: RE2 answers in linear time.
TEST(BlockPatternTest, PatternsRunInLinearTime) {
  auto pattern = BlockPattern::Compile("(a+)+$x");
  ASSERT_TRUE(pattern.ok()) << pattern.status();
  EXPECT_FALSE(pattern->Matches(std::string(5000, 'a') + "!"));
  auto test = BlockPattern::Compile("test[0-9]*@.*");
  ASSERT_TRUE(test.ok());
  EXPECT_TRUE(test->Matches("test123@example.com"));
  EXPECT_FALSE(test->Matches("eva@example.com"));
}

TEST(RuleSetTest, CustomBlockRules) {
  IdentityOptions options;
  options.rules["phone"].blocked_values.push_back("+420 800 123 456");
  options.rules["email"].blocked_patterns.push_back(".*@example\\.invalid");
  auto rules = Rules(options);
  EXPECT_EQ(rules->Normalize(rules->Intern("phone"), "800123456", "CZ").status, Normalized::Status::kBlocked);
  EXPECT_EQ(rules->Normalize(rules->Intern("email"), "a@example.invalid", "CZ").status, Normalized::Status::kBlocked);
}

// Defect: a blocked value written as a national number was read in the default region only, so a
// tenant with a region of its own never blocked it.
TEST(RuleSetTest, ABlockedNationalNumberIsBlockedInTheRegionsItIsMeantIn) {
  IdentityOptions options;
  options.tenant_phone_regions = {{"acme-cz", "CZ"}, {"acme-us", "US"}};
  options.rules["phone"].blocked_values.push_back("601 123 456");      // A Czech hotline, written nationally.
  options.rules["phone"].blocked_values.push_back("(201) 555-0123");   // An American one.
  auto rules = Rules(options);
  const TypeIndex phone = rules->Intern("phone");
  EXPECT_EQ(rules->Normalize(phone, "+420 601 123 456", "CZ").status, Normalized::Status::kBlocked);
  EXPECT_EQ(rules->Normalize(phone, "601123456", "CZ").status, Normalized::Status::kBlocked);
  EXPECT_EQ(rules->Normalize(phone, "+1 201-555-0123", "US").status, Normalized::Status::kBlocked);
  EXPECT_EQ(rules->Normalize(phone, "2015550123", "US").status, Normalized::Status::kBlocked);
  // The same digits are another number elsewhere, or none: a customer's number in another country
  // is not blocked by a national form meant for one.
  EXPECT_EQ(rules->Normalize(phone, "+420 601 123 457", "CZ").status, Normalized::Status::kOk);
  EXPECT_EQ(rules->Normalize(phone, "+1 201-555-0123", "CZ").status, Normalized::Status::kOk);
}

TEST(RuleSetTest, BadOptionsAreErrors) {
  IdentityOptions bad_regex;
  bad_regex.rules["email"].blocked_patterns.push_back("([unclosed");
  auto r1 = RuleSet::Create(bad_regex);
  ASSERT_FALSE(r1.ok());
  EXPECT_THAT(std::string(r1.status().message()), HasSubstr("rules[email].blocked_patterns[0]: invalid regular expression"));

  IdentityOptions bad_region;
  bad_region.default_phone_region = "XX";
  EXPECT_THAT(std::string(RuleSet::Create(bad_region).status().message()), HasSubstr("default_phone_region"));

  IdentityOptions bad_limit;
  bad_limit.rules["email"].max_per_profile = -1;
  EXPECT_THAT(std::string(RuleSet::Create(bad_limit).status().message()), HasSubstr("rules[email].max_per_profile"));

  IdentityOptions bad_type;
  bad_type.rules["E-mail"] = {};
  EXPECT_THAT(std::string(RuleSet::Create(bad_type).status().message()), HasSubstr("rules[E-mail]: type"));
}

// Defects found with real data: national numbers were made Czech whatever their country, and
// numbers outside any assigned range were linked.
TEST(NormalizePhoneTest, NationalNumbersWithoutARegionAreRefusedNotMadeCzech) {
  for (const char* national : {"(415) 555-2671", "0151 23456789", "601 123 456", "6502530000"}) {
    auto p = NormalizePhone(national, "", PhoneValidation::kValid);
    ASSERT_FALSE(p.ok()) << national << " became " << *p;
    EXPECT_THAT(std::string(p.status().message()), HasSubstr("no region")) << national;
  }
  // With their country code they need no region.
  EXPECT_EQ(*NormalizePhone("+1 650 253 0000", "", PhoneValidation::kValid), "+16502530000");
  EXPECT_EQ(*NormalizePhone("0049 151 23456789", "", PhoneValidation::kValid), "+4915123456789");
}

TEST(NormalizePhoneTest, NationalNumbersTakeTheirRegion) {
  EXPECT_EQ(*NormalizePhone("(650) 253-0000", "US", PhoneValidation::kValid), "+16502530000");
  EXPECT_EQ(*NormalizePhone("0151 23456789", "DE", PhoneValidation::kValid), "+4915123456789");
  // The same number written in E.164 and nationally is one key.
  EXPECT_EQ(*NormalizePhone("601 123 456", "CZ", PhoneValidation::kValid),
            *NormalizePhone("+420601123456", "", PhoneValidation::kValid));
  EXPECT_THAT(std::string(NormalizePhone("601 123 456", "XX", PhoneValidation::kValid).status().message()),
              HasSubstr("region 'XX'"));
}

TEST(NormalizePhoneTest, UsSevenDigitLocalNumberIsRefused) {
  for (const PhoneValidation v : {PhoneValidation::kValid, PhoneValidation::kPossible}) {
    EXPECT_FALSE(NormalizePhone("386-5286", "US", v).ok());
  }
}

TEST(NormalizePhoneTest, NumbersOutsideAssignedRangesAreRefusedByDefault) {
  // A possible length, but no such range (US area code 123).
  EXPECT_FALSE(NormalizePhone("(123) 456-7890", "US", PhoneValidation::kValid).ok());
  EXPECT_TRUE(NormalizePhone("(223) 456-7890", "US", PhoneValidation::kPossible).ok());
  IdentityOptions defaults;
  EXPECT_EQ(defaults.phone_validation, PhoneValidation::kValid);
  EXPECT_EQ(defaults.default_phone_region, "");
}

TEST(NormalizePhoneTest, TabsAndLineBreaksInsideANumberAreSeparators) {
  EXPECT_EQ(*NormalizePhone("+420 601\t123\n456", "", PhoneValidation::kValid), "+420601123456");
  EXPECT_EQ(*NormalizePhone("tel:+420-601-123-456", "", PhoneValidation::kValid), "+420601123456");
}

TEST(RuleSetTest, PhonePlaceholdersWithSeparatorsAreBlocked) {
  auto rules = Rules();
  const TypeIndex phone = rules->Intern("phone");
  for (const char* placeholder : {"000-000-0000", "111-111-1111", "(999) 999-9999", "123-456-7890"}) {
    EXPECT_EQ(rules->Normalize(phone, placeholder, "US").status, Normalized::Status::kBlocked) << placeholder;
  }
  // The repeated-digit pattern sees the national digits of a normalised number.
  EXPECT_EQ(rules->Normalize(phone, "+420 777 777 777", "").status, Normalized::Status::kBlocked);
  EXPECT_EQ(rules->Normalize(phone, "+420 601 123 456", "").status, Normalized::Status::kOk);
}

TEST(NormalizeEmailTest, DisplayNameFormsAndMailtoGiveTheAddress) {
  EXPECT_EQ(*NormalizeEmail("Nastassia<patak@universal.com>"), "patak@universal.com");
  EXPECT_EQ(*NormalizeEmail("\"Jay Jones\" <jjones@fmail.com>"), "jjones@fmail.com");
  EXPECT_EQ(*NormalizeEmail("mailto:X@Y.com"), "x@y.com");
  EXPECT_EQ(*NormalizeEmail("MAILTO:x@y.com?subject=hi"), "x@y.com");
  EXPECT_FALSE(NormalizeEmail("Nastassia patak@universal.com>").ok());
}

TEST(NormalizeEmailTest, UnicodeCaseIsFolded) {
  EXPECT_EQ(*NormalizeEmail("ZOË@example.com"), *NormalizeEmail("zoë@example.com"));
  EXPECT_EQ(*NormalizeEmail("ZOË@example.com"), "zoë@example.com");
  // Composed and decomposed ë are one address.
  EXPECT_EQ(*NormalizeEmail("zoe\xcc\x88@example.com"), "zoë@example.com");
  EXPECT_EQ(*NormalizeEmail("STRASSE@ÄRZTE.DE"), "strasse@ärzte.de");
}

TEST(NormalizeEmailTest, InvalidAddressesAreRefusedWithAReason) {
  for (const char* bad : {"a..b@example.com", ".a@example.com", "a.@example.com", "a@-example.com", "a@exa_mple.com",
                          "a(b)@example.com", "a@example..com"}) {
    auto e = NormalizeEmail(bad);
    ASSERT_FALSE(e.ok()) << bad << " became " << *e;
    EXPECT_THAT(std::string(e.status().message()), HasSubstr("not an email address")) << bad;
  }
}

TEST(RuleSetTest, OfficialNumbersIgnoreSeparators) {
  auto rules = Rules();
  auto norm = [&](const char* type, const char* raw) { return rules->Normalize(rules->Intern(type), raw, "").value; };
  EXPECT_EQ(norm("ssn", "521-21-2123"), norm("ssn", "521212123"));
  EXPECT_EQ(norm("ssn", "521-21-2123"), "521212123");
  EXPECT_EQ(norm("passport", "c01x 00t47"), "C01X00T47");
  EXPECT_EQ(norm("national_id", "850101/1234"), "8501011234");
  EXPECT_EQ(norm("tax_id", "CZ 12345678"), "CZ12345678");
}

TEST(RuleSetTest, TenantRegionsComeBeforeTheDefault) {
  IdentityOptions options;
  options.default_phone_region = "CZ";
  options.tenant_phone_regions["acme"] = "US";
  auto rules = Rules(options);
  EXPECT_EQ(rules->RegionOf("acme"), "US");
  EXPECT_EQ(rules->RegionOf("globex"), "CZ");
  IdentityOptions bad;
  bad.tenant_phone_regions["acme"] = "XX";
  EXPECT_THAT(std::string(RuleSet::Create(bad).status().message()), HasSubstr("tenant_phone_regions[acme]"));
}

TEST(ApplyRegionHintsTest, HintedPhonesBecomeE164AndOthersStay) {
  IdentityOptions options;
  v1::Event event;
  auto* phone = event.add_identifiers();
  phone->set_type("phone");
  phone->set_value("0151 23456789");
  phone->set_region("DE");
  auto* email = event.add_identifiers();
  email->set_type("email");
  email->set_value("eva@example.com");
  email->set_region("DE");
  auto* wrong = event.add_identifiers();
  wrong->set_type("phone");
  wrong->set_value("12");
  wrong->set_region("DE");
  std::optional<v1::Event> out = ApplyRegionHints(options, event);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->identifiers(0).value(), "+4915123456789");
  EXPECT_EQ(out->identifiers(0).region(), "");
  EXPECT_EQ(out->identifiers(1).value(), "eva@example.com");
  EXPECT_EQ(out->identifiers(1).region(), "");
  EXPECT_EQ(out->identifiers(2).value(), "12");  // Not a number there: the graph refuses it.
  EXPECT_EQ(out->identifiers(2).region(), "DE");
  event.mutable_identifiers(0)->clear_region();
  event.mutable_identifiers(1)->clear_region();
  event.mutable_identifiers(2)->clear_region();
  EXPECT_FALSE(ApplyRegionHints(options, event).has_value());
}

}  // namespace
}  // namespace omnijourney::internal
