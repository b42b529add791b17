// The status page and its JSON API: what a query selects, one page of it, and a page that
// escapes whatever a CA or a configuration put in a record.
#include "admin/status_page.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "admin/routes.hpp"
#include "tests/admin/admin_samples.hpp"

namespace certfleet::admin {
namespace {

using namespace std::chrono_literals;
using std::chrono::days;
using storage::domain_phase;
using storage::domain_record;

using samples::broken;
using samples::now;
using samples::valid;

// 1000 valid domains, every 100th failing: as stored, in name order.
std::vector<domain_record> fleet_of_1000() {
  std::vector<domain_record> out;
  for (int i = 0; i < 1000; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "d%04d.example", i);
    out.push_back(i % 100 == 7 ? broken(name, "Self-check failed: DNS lookup failed.")
                               : valid(name, 24h * (20 + i % 70)));
  }
  return out;
}

admin_sources sources_over(const std::vector<domain_record>& records) {
  admin_sources s;
  s.for_each_domain = [&records](const std::function<void(const domain_record&)>& fn) {
    for (const auto& r : records) fn(r);
  };
  s.orders = [] { return order_gauges{3, 16, 40, 100, 0, true}; };
  s.now = [] { return now; };
  s.node = "mail.example";
  return s;
}

protocol::plain_response get(const admin_sources& s, std::string target,
                             std::string authorization = "") {
  return answer_admin({"GET", std::move(target), std::move(authorization)}, s);
}

TEST(domain_query, reads_the_form_and_falls_back_on_nonsense) {
  auto q = parse_domain_query("/?q=+Shop%2Eexample+&show=failing&page=3&per_page=20");
  EXPECT_EQ(q.search, "shop.example");
  EXPECT_EQ(q.filter, domain_filter::failing);
  EXPECT_EQ(q.page, 3u);
  EXPECT_EQ(q.per_page, 20u);
  auto bad = parse_domain_query("/?show=everything&page=-1&per_page=100000&q=%zz");
  EXPECT_EQ(bad.filter, domain_filter::problems);
  EXPECT_EQ(bad.page, 1u);
  EXPECT_EQ(bad.per_page, 500u);
  EXPECT_EQ(bad.search, "%zz");
  EXPECT_EQ(query_string(q, 4), "?q=shop.example&show=failing&page=4&per_page=20");
  EXPECT_EQ(query_string(parse_domain_query("/?q=a%20b"), 1), "?q=a%20b&show=problems&page=1");
}

TEST(domain_page, keeps_one_page_and_counts_every_match) {
  const auto records = fleet_of_1000();
  domain_query q;
  q.filter = domain_filter::all;
  q.page = 3;
  q.per_page = 50;
  domain_page page;
  for (const auto& r : records) page.add(q, r, now);
  EXPECT_EQ(page.matching, 1000u);
  EXPECT_EQ(page.pages(q.per_page), 20u);
  ASSERT_EQ(page.rows.size(), 50u);
  EXPECT_EQ(page.rows.front().name, "d0100.example");

  domain_page problems;
  for (const auto& r : records) problems.add(domain_query{}, r, now);
  EXPECT_EQ(problems.matching, 10u) << "the failing ones (no certificate: warning too)";

  domain_query search;
  search.search = "d09";
  search.filter = domain_filter::all;
  domain_page found;
  for (const auto& r : records) found.add(search, r, now);
  EXPECT_EQ(found.matching, 100u);
}

TEST(status_page, shows_the_fleet_the_histogram_and_the_failing_domains) {
  const auto records = fleet_of_1000();
  const auto s = sources_over(records);
  const auto page = get(s, "/");
  ASSERT_EQ(page.status, 200u);
  EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
  EXPECT_NE(page.body.find("<div class=\"value\" id=\"summary-domains\">1000</div>"),
            std::string::npos);
  EXPECT_NE(page.body.find("id=\"summary-warning\">10<"), std::string::npos);
  EXPECT_NE(page.body.find("id=\"summary-orders\">3 / 40<"), std::string::npos);
  std::size_t bars = 0;
  for (auto at = page.body.find("<rect class=\"bar\""); at != std::string::npos;
       at = page.body.find("<rect class=\"bar\"", at + 1))
    ++bars;
  EXPECT_EQ(bars, expiry_histogram_days.size() + 1);
  EXPECT_NE(page.body.find("d0107.example"), std::string::npos);
  EXPECT_NE(page.body.find("Registration failed: Self-check failed: DNS lookup failed."),
            std::string::npos);
  EXPECT_EQ(page.body.find("d0100.example"), std::string::npos) << "valid: not a problem";
  EXPECT_EQ(page.body.find("<script"), std::string::npos);
  ASSERT_EQ(page.headers.size(), 1u);
  EXPECT_EQ(page.headers[0].first, "Content-Security-Policy");
}

TEST(status_page, says_what_each_domain_is_doing) {
  domain_record retrying = broken("retrying.example", "Self-check failed: timeout");
  retrying.phase = domain_phase::ordering;
  retrying.next_attempt = now - 10s;  // due, and being attempted
  domain_record waiting = broken("waiting.example", "Self-check failed: timeout");
  domain_record queued = broken("queued.example", "Self-check failed: timeout");
  queued.phase = domain_phase::queued;
  const std::vector<domain_record> records = {queued, retrying, waiting};
  const auto body = get(sources_over(records), "/").body;
  EXPECT_NE(body.find("retrying: ordering</span>"), std::string::npos) << body;
  EXPECT_NE(body.find("queued for the order budget</span>"), std::string::npos)
      << "no place without an ACME service to ask";
  EXPECT_NE(body.find("waiting to retry</span> <span class=\"tag bad\">warning</span>"),
            std::string::npos);
  const auto retry = body.find("next retry");
  ASSERT_NE(retry, std::string::npos);
  EXPECT_EQ(retry, body.rfind("next retry")) << "only the waiting one: no retry time in the past";
}

// Queued rows of the page shown are asked for their place; no other domain is.
TEST(status_page, a_queued_domain_shows_its_place_in_the_order_queue) {
  domain_record first = broken("first.example", "x");
  first.phase = domain_phase::queued;
  domain_record held = broken("held.example", "x");
  held.phase = domain_phase::queued;
  const std::vector<domain_record> records = {first, held, broken("other.example", "x")};
  auto s = sources_over(records);
  std::vector<std::string> asked;
  s.queue_places = [&](const std::vector<std::string>& names) {
    asked = names;
    return std::vector<std::int64_t>{12, 0};
  };
  const auto body = get(s, "/").body;
  EXPECT_EQ(asked, (std::vector<std::string>{"first.example", "held.example"}));
  EXPECT_NE(body.find("queued for the order budget: 12 of 40</span>"), std::string::npos) << body;
  EXPECT_NE(body.find("queued: held by a CA rate limit</span>"), std::string::npos);
  const auto api = nlohmann::json::parse(get(s, "/api/domains").body);
  EXPECT_EQ(api["domains"][0]["queue_place"], 12);
  EXPECT_EQ(api["domains"][1]["queue_place"], 0);
  EXPECT_TRUE(api["domains"][2]["queue_place"].is_null());
}

TEST(status_page, escapes_what_a_ca_wrote) {
  const std::vector<domain_record> records = {
      broken("evil.example", "<script>alert('x')</script> & \"quoted\"")};
  const auto s = sources_over(records);
  const auto page = get(s, "/");
  EXPECT_EQ(page.body.find("<script>"), std::string::npos);
  EXPECT_NE(page.body.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quoted"),
            std::string::npos);
  const auto echoed = get(s, "/?q=%3Cscript%3E");
  EXPECT_EQ(echoed.body.find("<script>"), std::string::npos);
  EXPECT_NE(echoed.body.find("value=\"&lt;script&gt;\""), std::string::npos);
}

TEST(status_api, summary_and_domains_are_json) {
  const auto records = fleet_of_1000();
  const auto s = sources_over(records);
  const auto summary = nlohmann::json::parse(get(s, "/api/summary").body);
  EXPECT_EQ(summary["domains"], 1000);
  EXPECT_EQ(summary["failing"], 10);
  EXPECT_EQ(summary["expiry_histogram"].size(), expiry_histogram_days.size() + 1);
  std::uint64_t binned = 0;
  for (const auto& b : summary["expiry_histogram"])
    binned += b["certificates"].get<std::uint64_t>();
  EXPECT_EQ(binned, 990u);
  EXPECT_EQ(summary["orders"]["queued"], 40);

  const auto answer = get(s, "/api/domains?show=failing&per_page=4&page=2");
  EXPECT_EQ(answer.content_type, "application/json");
  const auto domains = nlohmann::json::parse(answer.body);
  EXPECT_EQ(domains["matching"], 10);
  EXPECT_EQ(domains["pages"], 3);
  ASSERT_EQ(domains["domains"].size(), 4u);
  EXPECT_EQ(domains["domains"][0]["domain"], "d0407.example");
  EXPECT_EQ(domains["domains"][0]["error"],
            "Registration failed: Self-check failed: DNS lookup failed.");
  EXPECT_TRUE(domains["domains"][0]["warning"].get<bool>());
}

TEST(status_page, a_browser_gives_the_token_as_its_password) {
  const std::vector<domain_record> none;
  auto s = sources_over(none);
  s.token = "s3cret-token";
  const auto refused = get(s, "/");
  EXPECT_EQ(refused.status, 401u);
  ASSERT_EQ(refused.headers.size(), 1u);
  EXPECT_EQ(refused.headers[0].second, "Basic realm=\"certfleet\", charset=\"UTF-8\"");
  // base64("admin:s3cret-token") and base64("admin:wrong")
  EXPECT_EQ(get(s, "/", "Basic YWRtaW46czNjcmV0LXRva2Vu").status, 200u);
  EXPECT_EQ(get(s, "/", "Basic YWRtaW46d3Jvbmc=").status, 401u);
  EXPECT_EQ(get(s, "/", "Basic !!!!").status, 401u);
  EXPECT_EQ(get(s, "/api/summary", "Bearer s3cret-token").status, 200u);
}

}  // namespace
}  // namespace certfleet::admin
