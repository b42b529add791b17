#include "actors/renewal_policy.hpp"

#include <gtest/gtest.h>

#include <array>
#include <set>
#include <string>

namespace certfleet::actors {
namespace {

using namespace std::chrono_literals;
using std::chrono::microseconds;

const timestamp t0 = from_unix_us(1'704'067'200'000'000);  // 2024-01-01T00:00:00Z

TEST(fnv1a64, matches_reference_vectors) {
  EXPECT_EQ(fnv1a64(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(fnv1a64("a"), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(fnv1a64("foobar"), 0x85944171f73967e8ull);
}

struct renewal_case {
  const char* label;
  microseconds lifetime;
  microseconds threshold;   // the rule: renew when this much lifetime remains
  microseconds max_jitter;  // min(1% of lifetime, 6 h)
};

class renewal_point_rule : public testing::TestWithParam<renewal_case> {};

TEST_P(renewal_point_rule, is_the_rule_minus_a_bounded_deterministic_jitter) {
  const renewal_case& c = GetParam();
  const timestamp nb = t0;
  const timestamp na = t0 + c.lifetime;
  const timestamp rule = na - c.threshold;
  for (int i = 0; i < 200; ++i) {
    const std::string name = "d" + std::to_string(i) + ".example.com";
    const timestamp p = renewal_point(nb, na, name);
    EXPECT_LE(p, rule) << name;
    EXPECT_GE(p, rule - c.max_jitter) << name;
    EXPECT_EQ(p, renewal_point(nb, na, name)) << "deterministic per name";
    const auto expected_jitter = microseconds{static_cast<microseconds::rep>(
        fnv1a64(name) % (static_cast<std::uint64_t>(c.max_jitter.count()) + 1))};
    EXPECT_EQ(p, rule - expected_jitter) << name;
  }
}

INSTANTIATE_TEST_SUITE_P(
    lifetimes, renewal_point_rule,
    testing::Values(
        // 90 days: 30 days remaining (= one third); jitter capped at 6 h (1% = 21.6 h)
        renewal_case{"days90", days{90}, days{30}, 6h},
        // 180 days: 30 days beats one third (60 days)
        renewal_case{"days180", days{180}, days{30}, 6h},
        // 45 days: one third (15 days) comes first; 1% = 10.8 h > 6 h
        renewal_case{"days45", days{45}, days{15}, 6h},
        // exactly 10 days: still the one-third rule; 1% = 2.4 h
        renewal_case{"days10", days{10}, microseconds{days{10}} / 3, microseconds{days{10}} / 100},
        // 7 days: half the lifetime (3.5 days); 1% = 1.68 h
        renewal_case{"days7", days{7}, 84h, microseconds{days{7}} / 100},
        // 6 days (Let's Encrypt short-lived): 3 days
        renewal_case{"days6", days{6}, days{3}, microseconds{days{6}} / 100},
        // 120 s: 60 s; jitter at most 1.2 s
        renewal_case{"s120", 120s, 60s, 1200ms}),
    [](const auto& info) { return std::string{info.param.label}; });

TEST(renewal_point, ninety_day_certificate_renews_thirty_days_before_expiry) {
  const timestamp na = t0 + days{90};
  const timestamp p = renewal_point(t0, na, "www.example.com");
  EXPECT_LE(p, na - days{30});
  EXPECT_GT(p, na - days{30} - 6h - 1us);
}

TEST(renewal_point, jitter_differs_between_names) {
  std::set<timestamp> points;
  for (int i = 0; i < 50; ++i)
    points.insert(renewal_point(t0, t0 + days{90}, "host" + std::to_string(i) + ".example.net"));
  EXPECT_GT(points.size(), 45u);
}

TEST(renewal_point, jitter_is_a_pure_function_of_name_and_lifetime) {
  EXPECT_EQ(renewal_jitter(microseconds{days{90}}, "a.example"),
            renewal_jitter(microseconds{days{90}}, "a.example"));
  EXPECT_EQ(renewal_jitter(microseconds::zero(), "a.example"), microseconds::zero());
  EXPECT_LE(renewal_jitter(microseconds{days{365}}, "a.example"), microseconds{jitter_max});
}

TEST(renewal_point, nonsensical_validity_renews_at_not_after) {
  EXPECT_EQ(renewal_point(t0, t0, "x.example"), t0);
  EXPECT_EQ(renewal_point(t0 + 1h, t0, "x.example"), t0);
}

TEST(retry_at, first_failure_retries_after_one_minute_then_grows_to_twelve_hours) {
  const policy& pol = default_policy();
  const std::vector<std::chrono::seconds> expected = {1min, 2min, 5min, 10min, 30min, 1h,
                                                      2h,   4h,   8h,   12h,   12h,   12h};
  std::chrono::seconds previous{0};
  for (std::uint32_t n = 1; n <= expected.size(); ++n) {
    const auto delay = retry_at(n, t0, std::nullopt, pol) - t0;
    EXPECT_EQ(delay, expected[n - 1]) << "failure " << n;
    EXPECT_GE(delay, previous);
    EXPECT_LE(delay, 12h);
    previous = std::chrono::duration_cast<std::chrono::seconds>(delay);
  }
  EXPECT_EQ(retry_at(1'000'000, t0, std::nullopt, pol), t0 + 12h);
  EXPECT_EQ(retry_at(UINT32_MAX, t0, std::nullopt, pol), t0 + 12h);
  EXPECT_EQ(retry_at(0, t0, std::nullopt, pol), t0 + 1min) << "0 is treated as the first";
}

TEST(retry_at, longer_retry_after_wins_shorter_does_not) {
  const policy& pol = default_policy();
  EXPECT_EQ(retry_at(1, t0, 3h, pol), t0 + 3h);
  EXPECT_EQ(retry_at(3, t0, 30s, pol), t0 + 5min);
  EXPECT_EQ(retry_at(10, t0, 11h, pol), t0 + 12h) << "the table's 12 h is longer";
}

// Issue #18: a Retry-After is capped at the seed's 12 hours between retries (it was a day).
TEST(retry_at, retry_after_is_capped_at_twelve_hours_and_negative_is_ignored) {
  const policy& pol = default_policy();
  EXPECT_EQ(retry_at(1, t0, std::chrono::seconds{days{365}}, pol), t0 + 12h);
  EXPECT_EQ(retry_at(1, t0, 20h, pol), t0 + 12h);
  EXPECT_EQ(retry_at(1, t0, -5h, pol), t0 + 1min);
}

TEST(retry_at, table_entries_above_the_cap_are_capped) {
  policy pol;
  pol.retry_delays = {30s, 48h};
  EXPECT_EQ(retry_at(1, t0, std::nullopt, pol), t0 + 30s);
  EXPECT_EQ(retry_at(2, t0, std::nullopt, pol), t0 + 12h);
  EXPECT_EQ(retry_at(9, t0, std::nullopt, pol), t0 + 12h);
}

TEST(default_policy, is_the_documented_schedule) {
  const policy& pol = default_policy();
  ASSERT_EQ(pol.retry_delays.size(), 10u);
  EXPECT_EQ(pol.retry_delays.front(), 1min);
  EXPECT_EQ(pol.retry_delays.back(), 12h);
  EXPECT_EQ(pol.warning_after, 1h);
  EXPECT_EQ(&pol, &default_policy()) << "one shared instance";
}

}  // namespace
}  // namespace certfleet::actors

namespace certfleet::actors {
namespace {

using namespace std::chrono_literals;

// RFC 9773 §4.2: a uniformly random moment of the window, stable per domain and window.
TEST(ari_renewal_point, spreads_a_fleet_over_the_window_and_keeps_each_moment) {
  const timestamp start = from_unix_us(1'800'000'000'000'000), end = start + 48h;
  const timestamp fallback = end + 10 * 24h, now = start - 24h;
  std::array<int, 4> quarter{};
  for (int i = 0; i < 2000; ++i) {
    const std::string name = "d" + std::to_string(i) + ".example.com";
    const timestamp at = ari_renewal_point(start, end, name, fallback, now);
    ASSERT_GE(at, start) << name;
    ASSERT_LT(at, end) << name;
    ASSERT_EQ(at, ari_renewal_point(start, end, name, fallback, now + 1h)) << "stable";
    ++quarter[static_cast<std::size_t>((at - start) / 12h)];
  }
  for (int q : quarter) EXPECT_NEAR(q, 500, 100) << "each quarter of the window gets its share";
  EXPECT_NE(ari_renewal_point(start, end, "a.example.com", fallback, now),
            ari_renewal_point(start + 1h, end + 1h, "a.example.com", fallback, now) - 1h)
      << "a moved window draws again";
}

// Checked against returning the window's moment whatever the fallback says.
TEST(ari_renewal_point, never_later_than_the_fallback_rule_and_at_once_when_past) {
  const timestamp start = from_unix_us(1'800'000'000'000'000), end = start + 48h;
  EXPECT_EQ(ari_renewal_point(start, end, "a.example.com", start - 1h, start - 2h), start - 1h)
      << "a window after the fallback point is not waited for";
  EXPECT_EQ(ari_renewal_point(start, end, "a.example.com", end + 24h, end + 1h), end + 1h)
      << "a window already over: renew now";
  const timestamp inside = ari_renewal_point(start, end, "a.example.com", end + 24h, start + 47h);
  EXPECT_GE(inside, start + 47h) << "never in the past";
  EXPECT_EQ(ari_renewal_point(end, start, "a.example.com", end + 24h, start), end + 24h)
      << "an empty window is ignored";
}

}  // namespace
}  // namespace certfleet::actors
