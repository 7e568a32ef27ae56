#include "identity/rules.h"

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
    auto p = NormalizePhone(raw, "CZ", false);
    ASSERT_TRUE(p.ok()) << raw << ": " << p.status();
    EXPECT_EQ(*p, "+420601123456") << raw;
  }
  EXPECT_EQ(*NormalizePhone("+1 650-253-0000", "CZ", false), "+16502530000");
  EXPECT_EQ(*NormalizePhone("650-253-0000", "US", false), "+16502530000");
  // Italian numbers keep their leading zero (slow path).
  EXPECT_EQ(*NormalizePhone("+39 06 698 12345", "CZ", false), "+390669812345");
}

TEST(NormalizePhoneTest, RejectsImpossibleNumbers) {
  EXPECT_THAT(std::string(NormalizePhone("hello", "CZ", false).status().message()), HasSubstr("not a phone number"));
  EXPECT_FALSE(NormalizePhone("12", "CZ", false).ok());
  EXPECT_FALSE(NormalizePhone("+420 1234", "CZ", false).ok());
  EXPECT_FALSE(NormalizePhone("+4206011234567890", "CZ", false).ok());
  // Strict validation also checks assigned ranges.
  EXPECT_TRUE(NormalizePhone("+420 601 123 456", "CZ", true).ok());
}

std::unique_ptr<RuleSet> Rules(IdentityOptions options = {}) {
  auto rules = RuleSet::Create(options);
  EXPECT_TRUE(rules.ok()) << rules.status();
  return *std::move(rules);
}

TEST(RuleSetTest, NormalisesPerType) {
  auto rules = Rules();
  auto norm = [&](const char* type, const char* raw) {
    Normalized n = rules->Normalize(rules->Intern(type), raw);
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
  auto rules = Rules();
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
    const Normalized once = rules->Normalize(t, raw);
    if (once.status != Normalized::Status::kOk) continue;
    const Normalized twice = rules->Normalize(t, once.value);
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
    return rules->Normalize(rules->Intern(type), raw).status == Normalized::Status::kBlocked;
  };
  EXPECT_TRUE(blocked("email", "test@test.com"));
  EXPECT_TRUE(blocked("email", " TEST@Test.com "));
  EXPECT_TRUE(blocked("user_id", "null"));
  EXPECT_TRUE(blocked("user_id", "NULL"));
  EXPECT_TRUE(blocked("anonymous_id", "undefined"));
  EXPECT_TRUE(blocked("crm_id", "-1"));
  EXPECT_TRUE(blocked("crm_id", "0"));
  EXPECT_TRUE(blocked("phone", "1111111111"));
  EXPECT_TRUE(blocked("phone", "+420 000 000 000"));  // Blocked after normalisation.
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
  auto other = BlockPattern::Compile("(.)\\1{3}");  // Not the native form: std::regex.
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->repeat_min, 0u);
  EXPECT_TRUE(other->Matches("aaaa"));
  EXPECT_FALSE(other->Matches("aaaaa"));
  EXPECT_FALSE(BlockPattern::Compile("(.\\1{3,}").ok());
}

TEST(RuleSetTest, CustomBlockRules) {
  IdentityOptions options;
  options.rules["phone"].blocked_values.push_back("+420 800 123 456");
  options.rules["email"].blocked_patterns.push_back(".*@example\\.invalid");
  auto rules = Rules(options);
  EXPECT_EQ(rules->Normalize(rules->Intern("phone"), "800123456").status, Normalized::Status::kBlocked);
  EXPECT_EQ(rules->Normalize(rules->Intern("email"), "a@example.invalid").status, Normalized::Status::kBlocked);
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

}  // namespace
}  // namespace omnijourney::internal
