// The fleet scenarios (issues #18, #19) at 2k domains over a virtual year: the real domain state
// machine and order queue against the simulated CA with Let's Encrypt's limits (bench/fleet_sim).
// The order budget is scaled with the fleet: 6 per 3h for 2k domains is 300 per 3h for 100k,
// so the ratio of demand to budget that decides every outcome is the one a 100k fleet meets
// at the default. bench/run runs the same scenarios at 100k with the default budget.

#include <gtest/gtest.h>

#include <algorithm>

#include "bench/fleet_sim/scenarios.hpp"

namespace certfleet::sim {
namespace {

constexpr std::size_t domains = 2000;
const order_budget scaled_budget{6, std::chrono::hours(3)};

class fleet_sim_scenario : public ::testing::TestWithParam<std::string> {};

// The ARI scenarios at 500 domains: their renewals spend no budget, so the ratio of demand
// to budget does not decide them, and their cost is the polling (four requests per
// certificate a day), 100 s at 2k domains in the coverage build.
std::vector<scenario> test_scenarios() {
  std::vector<scenario> all = all_scenarios(domains, 365, scaled_budget);
  for (scenario& sc : all)
    if (sc.name.starts_with("ari_")) sc.settings.domains = 500;
  return all;
}

const scenario& find(const std::string& name) {
  static const std::vector<scenario> all = test_scenarios();
  for (const scenario& sc : all)
    if (sc.name == name) return sc;
  throw std::logic_error("no scenario " + name);
}

TEST_P(fleet_sim_scenario, meets_its_criteria) {
  const scenario& sc = find(GetParam());
  const fleet_result r = run_fleet(sc.settings);
  const auto failed = sc.check(sc.settings, r);
  EXPECT_TRUE(failed.empty()) << summary_json(sc, r, failed, 0);
  EXPECT_GT(r.ca.certificates, 0u) << "the run issued nothing: the checks proved nothing";
}

INSTANTIATE_TEST_SUITE_P(fleet_sim, fleet_sim_scenario,
                         ::testing::Values("onboarding", "year_90d", "broken_5pct", "outage_24h",
                                           "outage_72h", "restarts", "ari_90d", "ari_45d"));

// The report's point for shorter lifetimes: without ARI's exemption, 45-day certificates need
// ~420 renewals per 3 h from 100k domains, over the 300 budget. The queue then renews later
// and later (soonest expiry first) until the cycle fits the budget: nothing expires and the
// CA never says no, but the margin before expiry shrinks from 30 days to a few, so an outage
// of that length would expire certificates. The simulator must show that shrinking.
TEST(fleet_sim, forty_five_day_certificates_leave_days_not_weeks_without_ari) {
  const scenario& sc = find("year_45d");
  const fleet_result r = run_fleet(sc.settings);
  ASSERT_FALSE(r.expiry_min_days.empty());
  const double margin = *std::min_element(r.expiry_min_days.begin(), r.expiry_min_days.end());
  EXPECT_LT(margin, 7.0) << summary_json(sc, r, {}, 0);
  EXPECT_EQ(r.ca.rate_limited, 0u) << "short of budget, the queue waits; the CA never says no";
  EXPECT_GT(r.backlog_per_hour.back(), 0u) << "renewals wait for the budget";
}

TEST(fleet_sim, the_same_seed_gives_the_same_year) {
  fleet_settings s = find("restarts").settings;
  s.domains = 300;
  s.days = 120;
  const fleet_result a = run_fleet(s), b = run_fleet(s);
  EXPECT_EQ(a.orders_per_hour, b.orders_per_hour);
  EXPECT_EQ(a.transitions, b.transitions);
}

}  // namespace
}  // namespace certfleet::sim
