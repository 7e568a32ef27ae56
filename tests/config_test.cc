#include "omnijourney/config.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace omnijourney {
namespace {

using ::testing::HasSubstr;

TEST(ConfigTest, TextprotoSetsIdentityValidationAndTimeMode) {
  EngineOptions options;
  ASSERT_TRUE(ApplyConfigText(R"(
      time_mode: TIME_MODE_EVENT_TIME
      identity {
        default_phone_region: "US"
        tenant_phone_regions { key: "acme-cz" value: "CZ" }
        phone_validation: PHONE_VALIDATION_POSSIBLE
        unknown_types: UNKNOWN_TYPES_REJECT
        blocked_values: "n.a."
        super_node_limit: 25
        alias_renames: false
        alias_previous_types: "crm_id"
        alias_previous_types: "user_id"
        conflict_policy: CONFLICT_POLICY_DROP_LOWEST_PRIORITY
        rules { key: "phone" value { max_per_profile: 3 blocked_values: "+1 800 555 0100" } }
        rules { key: "rewards_number" value { normalizer: NORMALIZER_ALNUM_UPPERCASE max_per_profile: 1 priority: 85 } }
      }
      validation { max_event_bytes: 65536 max_future_skew: "90m" })",
                              ConfigFormat::kTextproto, "test", &options)
                  .ok());
  EXPECT_EQ(options.time_mode, EngineOptions::TimeMode::kEventTime);
  EXPECT_EQ(options.identity.default_phone_region, "US");
  EXPECT_EQ(options.identity.tenant_phone_regions.at("acme-cz"), "CZ");
  EXPECT_EQ(options.identity.phone_validation, PhoneValidation::kPossible);
  EXPECT_EQ(options.identity.unknown_types, UnknownTypes::kReject);
  EXPECT_EQ(options.identity.blocked_values.back(), "n.a.");
  EXPECT_GT(options.identity.blocked_values.size(), 1u);  // Added to the shipped ones.
  EXPECT_EQ(options.identity.super_node_limit, 25);
  EXPECT_FALSE(options.identity.alias_renames);
  EXPECT_EQ(options.identity.alias_previous_types, (std::vector<std::string>{"crm_id", "user_id"}));
  EXPECT_EQ(options.identity.conflict_policy, ConflictPolicy::kDropLowestPriority);
  const IdentifierRule& phone = options.identity.rules.at("phone");
  EXPECT_EQ(phone.max_per_profile, 3);
  EXPECT_EQ(phone.normalizer, Normalizer::kPhone);  // Kept.
  EXPECT_EQ(phone.priority, 60);                     // Kept.
  EXPECT_EQ(phone.blocked_values.back(), "+1 800 555 0100");
  const IdentifierRule& rewards = options.identity.rules.at("rewards_number");
  EXPECT_EQ(rewards.normalizer, Normalizer::kAlnumUppercase);
  EXPECT_EQ(rewards.priority, 85);
  EXPECT_TRUE(rewards.links);  // From the default rule.
  EXPECT_EQ(options.validation.max_event_bytes, 65536u);
  EXPECT_EQ(options.validation.max_future_skew, absl::Minutes(90));
  EXPECT_EQ(options.validation.max_identifiers, 32);  // Not in the file: kept.
}

TEST(ConfigTest, JsonUsesTheProtobufMapping) {
  EngineOptions options;
  ASSERT_TRUE(ApplyConfigText(R"({"identity":{"tenantPhoneRegions":{"shop-de":"DE"},"replaceBlockedValues":true,
                                  "blockedValues":["x"]}})",
                              ConfigFormat::kJson, "test.json", &options)
                  .ok());
  EXPECT_EQ(options.identity.tenant_phone_regions.at("shop-de"), "DE");
  EXPECT_EQ(options.identity.blocked_values, std::vector<std::string>{"x"});
}

TEST(ConfigTest, ErrorsNameTheFileLineAndFieldAndApplyNothing) {
  EngineOptions options;
  absl::Status s = ApplyConfigText("identity {\n  default_phone_regoin: \"US\"\n}\n", ConfigFormat::kTextproto,
                                   "us.textproto", &options);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("us.textproto: line 2, column"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("default_phone_regoin"));
  s = ApplyConfigText(R"(identity { default_phone_region: "US" } validation { max_future_skew: "soon" })",
                      ConfigFormat::kTextproto, "c", &options);
  EXPECT_THAT(std::string(s.message()), HasSubstr("validation.max_future_skew: 'soon'"));
  EXPECT_EQ(options.identity.default_phone_region, "");  // Nothing applied.
  s = ApplyConfigText(R"({"identity":{"unknown":1}})", ConfigFormat::kJson, "c.json", &options);
  EXPECT_THAT(std::string(s.message()), HasSubstr("c.json: not an omnijourney.v1.EngineConfig"));
  EXPECT_EQ(ApplyConfigFile("/nonexistent/omnijourney.textproto", &options).code(), absl::StatusCode::kNotFound);
}

TEST(ConfigTest, ShippedExamplesLoad) {
  for (const char* file : {"cz.textproto", "us.textproto", "multi_country.json"}) {
    EngineOptions options;
    EXPECT_TRUE(ApplyConfigFile(std::string(OMNIJOURNEY_EXAMPLE_CONFIG_DIR) + "/" + file, &options).ok()) << file;
  }
}

}  // namespace
}  // namespace omnijourney
