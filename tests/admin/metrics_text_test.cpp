// The Prometheus text: the families an operator alerts on, and Debian's promtool's verdict on
// the whole page (a real parser of the exposition format, not ours).
#include "admin/metrics_text.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "tests/support/temp_dir.hpp"

namespace certfleet::admin {
namespace {

using namespace std::chrono_literals;
using std::chrono::days;

const timestamp now = from_unix_us(1'800'000'000'000'000);

fleet_summary sample_fleet() {
  fleet_summary f;
  storage::domain_record r;
  r.name = "a.example";
  r.phase = storage::domain_phase::valid;
  r.cert_not_before = now - days{80};
  r.cert_not_after = now + days{10};
  f.add(r, now);
  return f;
}

bool has_line(const std::string& page, const std::string& line) {
  return page.find("\n" + line + "\n") != std::string::npos || page.starts_with(line + "\n");
}

// promtool's exit code and output for `page`.
std::pair<int, std::string> promtool_check(const std::string& page) {
  testing::temp_dir dir;
  const auto file = dir.path() / "metrics.txt";
  std::ofstream(file) << page;
  std::string out;
  FILE* pipe = ::popen(("promtool check metrics < " + file.string() + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return {-1, "popen failed"};
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  const int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

TEST(metrics_text, shows_the_fleet_the_queue_and_the_counters) {
  metrics::registry counters;
  counters.ca_requests[static_cast<std::size_t>(metrics::ca_endpoint::new_order)]
                      [static_cast<std::size_t>(metrics::ca_result::ok)] = 7;
  counters.ca_latency[static_cast<std::size_t>(metrics::ca_endpoint::new_order)].observe(300ms);
  counters.ca_latency[static_cast<std::size_t>(metrics::ca_endpoint::new_order)].observe(90s);
  counters.renewals = 2;
  counters.self_check_failures[static_cast<std::size_t>(metrics::self_check_failure::dns)] = 4;
  const std::string page =
      render_metrics(sample_fleet(), order_gauges{3, 16, 40, 5, 0, true}, counters, now);

  EXPECT_TRUE(has_line(page, "certfleet_domains{phase=\"valid\"} 1")) << page;
  EXPECT_TRUE(has_line(page, "certfleet_certificates_expiring{within_days=\"7\"} 0"));
  EXPECT_TRUE(has_line(page, "certfleet_certificates_expiring{within_days=\"14\"} 1"));
  EXPECT_TRUE(has_line(page, "certfleet_certificate_soonest_expiry_seconds 864000"));
  EXPECT_TRUE(has_line(page, "certfleet_orders_in_flight 3"));
  EXPECT_TRUE(has_line(page, "certfleet_orders_queued 40"));
  EXPECT_TRUE(has_line(page, "certfleet_order_budget_available 5"));
  EXPECT_TRUE(has_line(page, "certfleet_ca_requests_total{endpoint=\"newOrder\",result=\"ok\"} 7"));
  EXPECT_TRUE(has_line(
      page, "certfleet_ca_request_duration_seconds_bucket{endpoint=\"newOrder\",le=\"0.5\"} 1"));
  EXPECT_TRUE(has_line(
      page, "certfleet_ca_request_duration_seconds_bucket{endpoint=\"newOrder\",le=\"+Inf\"} 2"));
  EXPECT_TRUE(
      has_line(page, "certfleet_ca_request_duration_seconds_sum{endpoint=\"newOrder\"} 90.3"));
  EXPECT_TRUE(has_line(page, "certfleet_self_check_failures_total{reason=\"dns\"} 4"));
  EXPECT_TRUE(has_line(page, "certfleet_renewals_total 2"));
  EXPECT_TRUE(has_line(page, "certfleet_acme_service_up 1"));
  EXPECT_EQ(page.find("a.example"), std::string::npos) << "no label names a domain";
  EXPECT_EQ(page.find("certfleet_cluster_"), std::string::npos) << "alone: no cluster gauges";

  const auto [rc, verdict] = promtool_check(page);
  EXPECT_EQ(rc, 0) << verdict;
  EXPECT_EQ(verdict, "") << "promtool's lint finds nothing either";
}

TEST(metrics_text, a_cluster_node_says_whether_it_takes_part) {
  metrics::registry counters;
  counters.cluster_active = 0;
  counters.cluster_members = 2;
  counters.cluster_etcd_up = 0;
  const std::string page = render_metrics(sample_fleet(), order_gauges{}, counters, now);
  EXPECT_TRUE(has_line(page, "certfleet_cluster_node_active 0")) << page;
  EXPECT_TRUE(has_line(page, "certfleet_cluster_members 2"));
  EXPECT_TRUE(has_line(page, "certfleet_cluster_etcd_up 0"));
  const auto [rc, verdict] = promtool_check(page);
  EXPECT_EQ(rc, 0) << verdict;
  EXPECT_EQ(verdict, "");
}

TEST(metrics_text, an_empty_fleet_and_a_silent_acme_service_still_make_a_valid_page) {
  const std::string page =
      render_metrics(fleet_summary{}, order_gauges{}, metrics::registry{}, now);
  EXPECT_TRUE(has_line(page, "certfleet_acme_service_up 0"));
  EXPECT_EQ(page.find("\ncertfleet_certificate_soonest_expiry_seconds "), std::string::npos)
      << "no sample without a certificate";
  const auto [rc, verdict] = promtool_check(page);
  EXPECT_EQ(rc, 0) << verdict;
}

}  // namespace
}  // namespace certfleet::admin
