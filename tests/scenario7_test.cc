// Scenario 7: the same synthetic population with stitching on and off (examples/omnichannel_compare.h).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "omnichannel_compare.h"
#include "omnijourney/journey.h"

namespace omnijourney::examples {
namespace {

TEST(Scenario7, StitchingGivesAgentsHistoryAndFewerRepeatContacts) {
  std::ifstream in(std::string(OMNIJOURNEY_EXAMPLE_DATA_DIR) + "/journeys.textproto");
  std::stringstream text;
  text << in.rdbuf();
  auto journeys = ParseJourneySetText(text.str());
  ASSERT_TRUE(journeys.ok()) << journeys.status();
  synth::PopulationOptions p;
  p.customers = 3000;
  auto multi = RunMode(false, p, *journeys);
  auto omni = RunMode(true, p, *journeys);
  ASSERT_TRUE(multi.ok()) << multi.status();
  ASSERT_TRUE(omni.ok()) << omni.status();
  EXPECT_EQ(multi->rejected, 0);
  EXPECT_EQ(omni->rejected, 0);

  // Without stitching no profile spans two channels and no agent sees another channel's history.
  EXPECT_EQ(multi->engine.paths.multichannel_profiles, 0);
  EXPECT_EQ(multi->engine.kpis.contacts_with_history, 0);
  EXPECT_GT(omni->engine.kpis.history_rate(), 0.5);
  // Stitching finds most customers: far fewer profiles, never fewer than customers who registered.
  EXPECT_GT(multi->engine.kpis.profiles, 2 * omni->engine.kpis.profiles);
  EXPECT_GE(omni->engine.kpis.profiles, 3000);
  // The true customers: the same people, so the same count; with context, follow-ups resolve more
  // often, so fewer customers come back within 7 days and more issues end resolved.
  EXPECT_EQ(multi->customers.kpis.profiles, 3000);
  EXPECT_EQ(omni->customers.kpis.profiles, 3000);
  EXPECT_LT(omni->customers.kpis.repeat_long_rate(), multi->customers.kpis.repeat_long_rate());
  EXPECT_GT(static_cast<double>(omni->issues_resolved) / omni->issues,
            static_cast<double>(multi->issues_resolved) / multi->issues);
  // The multichannel engine cannot see cross-channel repeats: it reports better first-contact
  // resolution than the customers got.
  EXPECT_GT(multi->engine.kpis.first_contact_resolution(), multi->customers.kpis.first_contact_resolution());
  // Purchases in the store are another channel's customers without stitching.
  EXPECT_LT(multi->engine.funnels[0].conversion_rate(), omni->engine.funnels[0].conversion_rate());
}

}  // namespace
}  // namespace omnijourney::examples
