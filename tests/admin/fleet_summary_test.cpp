// The fleet in a few numbers: what the metrics and the status page count.
#include "admin/fleet_summary.hpp"

#include <gtest/gtest.h>

#include "tests/admin/admin_samples.hpp"

namespace certfleet::admin {
namespace {

using namespace std::chrono_literals;
using std::chrono::days;
using storage::domain_phase;
using storage::domain_record;

using samples::now;

domain_record with_cert(const std::string& name, std::chrono::hours left) {
  return samples::valid(name, left);
}

TEST(fleet_summary, counts_phases_failures_and_expiry_windows_of_configured_domains) {
  fleet_summary f;
  f.add(with_cert("a.example", 24h * 5), now);   // within 7, 14 and 30 days
  f.add(with_cert("b.example", 24h * 10), now);  // within 14 and 30
  f.add(with_cert("c.example", 24h * 60), now);  // none
  domain_record expired = with_cert("d.example", -1h);
  expired.phase = domain_phase::failing;
  expired.failure_count = 3;
  expired.first_failure = now - days{2};
  f.add(expired, now);
  domain_record fresh;
  fresh.name = "e.example";
  f.add(fresh, now);
  domain_record retired = with_cert("gone.example", 1h);
  retired.configured = false;
  retired.phase = domain_phase::retired;
  f.add(retired, now);

  EXPECT_EQ(f.domains, 5u) << "retired domains are not counted";
  EXPECT_EQ(f.by_phase[static_cast<std::size_t>(domain_phase::valid)], 3u);
  EXPECT_EQ(f.by_phase[static_cast<std::size_t>(domain_phase::failing)], 1u);
  EXPECT_EQ(f.by_phase[static_cast<std::size_t>(domain_phase::pending)], 1u);
  EXPECT_EQ(f.by_phase[static_cast<std::size_t>(domain_phase::retired)], 0u);
  EXPECT_EQ(f.with_certificate, 4u);
  EXPECT_EQ(f.failing, 1u);
  EXPECT_EQ(f.warning, 1u) << "renewal failing for two days";
  EXPECT_EQ(f.expired, 1u);
  EXPECT_EQ(f.expiring_within, (std::array<std::uint64_t, 3>{1, 2, 2}));
  EXPECT_EQ(f.soonest_expiry, now - 1h);
  // 5 days, 10 days and 60 days; the expired one is in no bin.
  EXPECT_EQ(f.expiry_histogram, (std::array<std::uint64_t, 9>{1, 1, 0, 0, 0, 0, 1, 0, 0}));
}

TEST(fleet_summary, nothing_stored_is_all_zero) {
  const fleet_summary f;
  EXPECT_EQ(f.domains, 0u);
  EXPECT_EQ(f.soonest_expiry, no_time);
}

}  // namespace
}  // namespace certfleet::admin
