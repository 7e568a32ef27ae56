// PhoneValidity against libphonenumber's own IsValidNumber: the same answer for every region's
// example numbers, for numbers one digit away from them, and for random numbers of every calling
// code and length.
#include "identity/phone_validity.h"

#include <phonenumbers/phonenumberutil.h>

#include <random>
#include <set>
#include <string>

#include "gtest/gtest.h"

namespace omnijourney::internal {
namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

constexpr PhoneNumberUtil::PhoneNumberType kTypes[] = {
    PhoneNumberUtil::FIXED_LINE, PhoneNumberUtil::MOBILE,          PhoneNumberUtil::TOLL_FREE,
    PhoneNumberUtil::PREMIUM_RATE, PhoneNumberUtil::SHARED_COST,   PhoneNumberUtil::VOIP,
    PhoneNumberUtil::PERSONAL_NUMBER, PhoneNumberUtil::PAGER,      PhoneNumberUtil::UAN,
    PhoneNumberUtil::VOICEMAIL};

class PhoneValidityTest : public ::testing::Test {
 protected:
  // Counts the numbers checked and the valid ones among them; a disagreement fails with the number.
  void Check(const PhoneNumber& number) {
    const bool expected = util_->IsValidNumber(number);
    ASSERT_EQ(PhoneValidity::Get().IsValid(number), expected)
        << "+" << number.country_code() << " " << number.national_number()
        << (number.italian_leading_zero() ? " (leading zeros)" : "");
    ++checked_;
    valid_ += expected ? 1 : 0;
  }

  // The example number with digit `position` (from the end) replaced by each other digit.
  void CheckNeighbours(const PhoneNumber& example) {
    const std::string digits = std::to_string(example.national_number());
    for (size_t position = 0; position < std::min<size_t>(digits.size(), 4); ++position) {
      for (char d = '0'; d <= '9'; ++d) {
        std::string changed = digits;
        changed[changed.size() - 1 - position] = d;
        PhoneNumber n = example;
        n.set_national_number(std::stoull(changed));
        Check(n);
        if (HasFatalFailure()) return;
      }
    }
    // One digit more and one fewer.
    PhoneNumber longer = example;
    longer.set_national_number(example.national_number() * 10 + 7);
    Check(longer);
    PhoneNumber shorter = example;
    shorter.set_national_number(example.national_number() / 10);
    Check(shorter);
  }

  const PhoneNumberUtil* util_ = PhoneNumberUtil::GetInstance();
  int checked_ = 0;
  int valid_ = 0;
};

TEST_F(PhoneValidityTest, AgreesOnEveryRegionsExampleNumbersAndTheirNeighbours) {
  std::set<std::string> regions;
  util_->GetSupportedRegions(&regions);
  ASSERT_GT(regions.size(), 200u);
  for (const std::string& region : regions) {
    for (PhoneNumberUtil::PhoneNumberType type : kTypes) {
      PhoneNumber example;
      if (!util_->GetExampleNumberForType(region, type, &example)) continue;
      Check(example);
      ASSERT_FALSE(HasFatalFailure()) << region;
      CheckNeighbours(example);
      ASSERT_FALSE(HasFatalFailure()) << region;
    }
  }
  std::set<int> global;
  util_->GetSupportedGlobalNetworkCallingCodes(&global);
  for (int code : global) {
    for (PhoneNumberUtil::PhoneNumberType type : kTypes) {
      PhoneNumber example;
      if (!util_->GetExampleNumberForNonGeoEntity(code, &example)) continue;
      Check(example);
      CheckNeighbours(example);
      ASSERT_FALSE(HasFatalFailure()) << code;
      (void)type;
      break;
    }
  }
  EXPECT_GT(checked_, 20000);
  EXPECT_GT(valid_, 3000);  // Both answers are exercised.
  EXPECT_GT(checked_ - valid_, 2000);
}

TEST_F(PhoneValidityTest, AgreesOnRandomNumbersOfEveryCallingCodeAndLength) {
  std::set<int> codes;
  util_->GetSupportedCallingCodes(&codes);
  codes.insert(0);
  codes.insert(999);  // No such calling codes.
  std::mt19937_64 rng(20261202);
  for (int code : codes) {
    for (int length = 1; length <= 17; ++length) {
      uint64_t low = 1;
      for (int i = 1; i < length; ++i) low *= 10;
      for (int i = 0; i < 12; ++i) {
        PhoneNumber n;
        n.set_country_code(code);
        n.set_national_number(low + rng() % (low * 9));
        if (i % 4 == 3) {
          n.set_italian_leading_zero(true);
          n.set_number_of_leading_zeros(1 + static_cast<int>(rng() % 2));
        }
        Check(n);
        ASSERT_FALSE(HasFatalFailure());
      }
    }
  }
  EXPECT_GT(checked_, 40000);
}

// The calling codes shared by several regions (+1, +7, +44, ...) pick the region by leading digits
// or by patterns, in the library's order.
TEST_F(PhoneValidityTest, AgreesOnSharedCallingCodes) {
  for (const char* text : {"+1 212 555 0100", "+1 416 555 0100", "+1 876 555 0100", "+1 684 733 1234",
                           "+7 701 123 4567", "+7 912 345 6789", "+44 7700 900123", "+44 1624 456789",
                           "+44 7924 123456", "+590 690 001234", "+262 692 123456", "+39 06 6982 0000",
                           "+39 335 123 4567", "+47 79 12 34 56", "+61 8 9162 1234", "+212 5288 12345",
                           "+800 1234 5678", "+882 34 123456", "+1 800 555 0199", "+1 900 555 0199"}) {
    PhoneNumber n;
    ASSERT_EQ(util_->Parse(text, "ZZ", &n), PhoneNumberUtil::NO_PARSING_ERROR) << text;
    Check(n);
    ASSERT_FALSE(HasFatalFailure()) << text;
  }
  EXPECT_GT(valid_, 10);
}

}  // namespace
}  // namespace omnijourney::internal
