// Admission: validation and the state checks (usable identifiers, the tenant's profile limit),
// with the refusals counted by the option they name.
#include "engine/admission.h"

#include "engine_test_util.h"
#include "omnijourney/validate.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace omnijourney::internal {
namespace {

using ::testing::HasSubstr;
using testing::Ev;

TEST(AdmissionTest, CountsRefusalsByTheOptionTheyName) {
  EngineOptions options;
  options.max_profiles_per_tenant = 1;
  SimulatedClock clock(testing::At(0));
  Admission admission(options, &clock);
  auto graph = IdentityGraph::Create({});
  ASSERT_TRUE(graph.ok());
  const Ev a = Ev("a", 0, v1::EVENT_KIND_TRACK, "Viewed").Id("email", "a@example.com");
  const Ev b = Ev("b", 0, v1::EVENT_KIND_TRACK, "Viewed").Id("email", "b@example.com");
  const Ev junk = Ev("j", 0, v1::EVENT_KIND_TRACK, "Viewed").Id("email", "null");
  EXPECT_TRUE(admission.Validate(a.event()).ok());
  EXPECT_TRUE(admission.CheckState(**graph, a.event()).ok());
  ASSERT_TRUE((*graph)->Link(a.event()).ok());
  absl::Status full = admission.CheckState(**graph, b.event());
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(ExceededLimit(full), "max_profiles_per_tenant");
  absl::Status unusable = admission.CheckState(**graph, junk.event());
  EXPECT_EQ(unusable.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(unusable.message(), HasSubstr("identifiers: none usable (email:"));
  Event bad = a.event();
  bad.clear_event_id();
  EXPECT_FALSE(admission.Validate(bad).ok());
  const Admission::Counters counters = admission.counters();
  EXPECT_EQ(counters.rejected, 3);
  EXPECT_EQ(counters.limit_hits.at("max_profiles_per_tenant"), 1);
  EXPECT_TRUE(admission.MayReachProfileLimit(**graph, {&b.event()}));
  EXPECT_EQ((*graph)->Stats().identifiers, 1);  // The checks changed nothing.
}

}  // namespace
}  // namespace omnijourney::internal
