// warning_hook's alerts: who is in alert, what changed since the hook was told, the document
// it reads, and one scan with a real hook (a shell command) and a real state directory.
#include "admin/alerts.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "admin/warning_alerts.hpp"
#include "core/metrics.hpp"
#include "tests/admin/admin_samples.hpp"
#include "tests/support/temp_dir.hpp"

namespace certfleet::admin {
namespace {

using namespace std::chrono_literals;
using std::chrono::days;
using storage::domain_phase;
using storage::domain_record;

using samples::failing;
using samples::now;
using samples::valid;

domain_record never_issued(const std::string& name) {
  domain_record r;
  r.name = name;
  return r;
}

TEST(alert_state, follows_the_seeds_warning_then_the_expiry_days) {
  EXPECT_EQ(alert_state_of(valid("a", 24h * 60), now, days{14}), alert_state::ok);
  EXPECT_EQ(alert_state_of(valid("a", 24h * 10), now, days{14}), alert_state::expiring);
  EXPECT_EQ(alert_state_of(valid("a", 24h * 10), now, days{0}), alert_state::ok)
      << "0 days: the expiry alert is off";
  EXPECT_EQ(alert_state_of(failing(valid("a", 24h * 40), 30min, "x"), now, days{14}),
            alert_state::ok)
      << "a renewal failing for less than an hour is not yet a warning";
  EXPECT_EQ(alert_state_of(failing(valid("a", 24h * 40), 2h, "x"), now, days{14}),
            alert_state::warning);
  EXPECT_EQ(alert_state_of(failing(never_issued("b"), 1min, "x"), now, days{14}),
            alert_state::warning)
      << "no certificate and one failure: the seed's warning at once";
  EXPECT_EQ(alert_state_of(failing(valid("a", 24h * 3), 10min, "x"), now, days{14}),
            alert_state::expiring)
      << "whatever its state, close to expiry alerts";
  domain_record retired = failing(never_issued("c"), 2h, "x");
  retired.configured = false;
  EXPECT_EQ(alert_state_of(retired, now, days{14}), alert_state::removed);
}

TEST(alert_changes, entered_left_and_moved_in_name_order) {
  const alert_set told = {{"a", alert_state::warning},
                          {"b", alert_state::warning},
                          {"c", alert_state::expiring},
                          {"gone", alert_state::warning}};
  const alert_set current = {
      {"b", alert_state::warning}, {"c", alert_state::warning}, {"d", alert_state::expiring}};
  std::map<std::string, domain_record> records = {{"a", valid("a", 24h * 80)}};
  const auto changes = alert_changes(told, current, records);
  ASSERT_EQ(changes.size(), 4u);
  EXPECT_EQ(changes[0].domain, "a");
  EXPECT_EQ(changes[0].to, alert_state::ok);
  EXPECT_EQ(changes[1].domain, "c");
  EXPECT_EQ(changes[1].from, alert_state::expiring);
  EXPECT_EQ(changes[1].to, alert_state::warning);
  EXPECT_EQ(changes[2].domain, "d");
  EXPECT_EQ(changes[2].from, alert_state::ok);
  EXPECT_EQ(changes[3].domain, "gone");
  EXPECT_EQ(changes[3].to, alert_state::removed) << "no longer stored";
  EXPECT_TRUE(alert_changes(current, current, records).empty());
}

TEST(alert_document, carries_what_the_issue_asks_for) {
  const domain_record broken = failing(never_issued("broken.example"), 1min,
                                       "Self-check failed: DNS lookup failed. Check DNS");
  const domain_record fixed = valid("fixed.example", 24h * 90);
  const std::map<std::string, domain_record> records = {{broken.name, broken}, {fixed.name, fixed}};
  const auto doc = nlohmann::json::parse(
      alert_document({{"broken.example", alert_state::ok, alert_state::warning},
                      {"fixed.example", alert_state::warning, alert_state::ok}},
                     records, 1, "mail.example", now));
  EXPECT_EQ(doc["node"], "mail.example");
  EXPECT_EQ(doc["time"], format_rfc3339(now));
  EXPECT_EQ(doc["alerting"], 1);
  ASSERT_EQ(doc["changes"].size(), 2u);
  const auto& b = doc["changes"][0];
  EXPECT_EQ(b["domain"], "broken.example");
  EXPECT_EQ(b["state"], "warning");
  EXPECT_EQ(b["previous_state"], "ok");
  EXPECT_EQ(b["error"], "Registration failed: Self-check failed: DNS lookup failed. Check DNS");
  EXPECT_EQ(b["last_failure_time"], format_rfc3339(broken.last_failure));
  EXPECT_EQ(b["next_retry_time"], format_rfc3339(broken.next_attempt));
  EXPECT_TRUE(b["cert_expiration_time"].is_null());
  const auto& f = doc["changes"][1];
  EXPECT_EQ(f["state"], "ok");
  EXPECT_TRUE(f["error"].is_null());
  EXPECT_EQ(f["cert_expiration_time"], format_rfc3339(fixed.cert_not_after));
}

TEST(alert_set_file, round_trips_and_refuses_damage_with_what_to_do) {
  const alert_set set = {{"a.example", alert_state::warning}, {"b.example", alert_state::expiring}};
  auto back = decode_alert_set(encode_alert_set(set));
  ASSERT_TRUE(back) << back.err().detail;
  EXPECT_EQ(*back, set);
  for (const char* bad : {"", "[]", "{\"told\":{\"a\":\"shouting\"}}", "{\"told\":3}"}) {
    auto r = decode_alert_set(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.err().detail.find("delete it"), std::string::npos) << r.err().detail;
  }
}

// One scan over records held here, with a shell hook that appends its stdin to a file.
class alert_round_test : public ::testing::Test {
 protected:
  void SetUp() override {
    sources_.settings = [this] { return settings_; };
    sources_.for_each_domain = [this](const std::function<void(const domain_record&)>& fn) {
      for (const auto& r : records_) fn(r);
      return result<void>{};
    };
    sources_.now = [] { return now; };
    sources_.activity = [] { return std::uint64_t{0}; };
    sources_.state_dir = dir_.path() / "state";
    sources_.node = "mail.example";
    settings_.hook = "cat >> " + (dir_.path() / "told").string();
    settings_.timeout = 10s;
    settings_.expiry_alert = days{14};
  }
  std::vector<nlohmann::json> documents() const {
    std::ifstream in(dir_.path() / "told");
    std::stringstream all;
    all << in.rdbuf();
    std::vector<nlohmann::json> out;
    // Each document is one pretty-printed object ending "}\n"; split on that.
    std::string text = all.str();
    for (std::size_t start = 0, end; (end = text.find("\n}\n", start)) != std::string::npos;
         start = end + 3)
      out.push_back(nlohmann::json::parse(text.substr(start, end + 2 - start)));
    return out;
  }
  std::uint64_t runs(metrics::hook_result r) const {
    return metrics::global().warning_hook_runs[static_cast<std::size_t>(r)].load();
  }

  testing::temp_dir dir_;
  alert_settings settings_;
  alert_sources sources_;
  std::vector<domain_record> records_;
  alert_set told_;
};

TEST_F(alert_round_test, tells_each_change_once_and_keeps_what_it_told) {
  records_ = {valid("fine.example", 24h * 80), failing(never_issued("broken.example"), 1min, "e"),
              valid("soon.example", 24h * 3)};
  const auto ok_before = runs(metrics::hook_result::ok);
  auto first = run_alert_round(sources_, told_);
  ASSERT_TRUE(first.hook) << first.hook.err().detail;
  EXPECT_EQ(first.changes, 2u);
  EXPECT_EQ(first.alerting, 2u);
  EXPECT_EQ(runs(metrics::hook_result::ok), ok_before + 1);
  EXPECT_EQ(metrics::global().alerting_domains.load(), 2u);

  auto again = run_alert_round(sources_, told_);
  EXPECT_EQ(again.changes, 0u) << "nothing changed: the hook does not run";

  records_[1] = valid("broken.example", 24h * 90);  // issued at last
  auto fixed = run_alert_round(sources_, told_);
  EXPECT_EQ(fixed.changes, 1u);

  const auto docs = documents();
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[0]["changes"][0]["domain"], "broken.example");
  EXPECT_EQ(docs[0]["changes"][0]["state"], "warning");
  EXPECT_EQ(docs[0]["changes"][1]["domain"], "soon.example");
  EXPECT_EQ(docs[0]["changes"][1]["state"], "expiring");
  EXPECT_EQ(docs[1]["changes"][0]["domain"], "broken.example");
  EXPECT_EQ(docs[1]["changes"][0]["state"], "ok");
  EXPECT_EQ(docs[1]["alerting"], 1);

  // A restart reads what was told: the same records tell nothing again.
  auto loaded = load_told(sources_.state_dir);
  ASSERT_TRUE(loaded) << loaded.err().detail;
  EXPECT_EQ(*loaded, told_);
  struct stat st {};
  ASSERT_EQ(::stat((sources_.state_dir / "alerts.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  alert_set restarted = *loaded;
  EXPECT_EQ(run_alert_round(sources_, restarted).changes, 0u);
}

TEST_F(alert_round_test, a_failed_hook_is_logged_counted_and_told_again) {
  records_ = {failing(never_issued("broken.example"), 1min, "e")};
  settings_.hook = "exit 2";
  const auto failed_before = runs(metrics::hook_result::failed);
  auto r = run_alert_round(sources_, told_);
  ASSERT_FALSE(r.hook);
  EXPECT_EQ(r.hook.err().detail, "warning_hook \"exit 2\" failed (exit status 2)");
  EXPECT_EQ(runs(metrics::hook_result::failed), failed_before + 1);
  EXPECT_TRUE(told_.empty()) << "not told: the next scan tries again";

  settings_.hook = "cat >> " + (dir_.path() / "told").string();
  auto retried = run_alert_round(sources_, told_);
  ASSERT_TRUE(retried.hook);
  EXPECT_EQ(retried.changes, 1u);
  ASSERT_EQ(documents().size(), 1u);
}

TEST_F(alert_round_test, a_hook_past_its_timeout_counts_as_timeout) {
  records_ = {failing(never_issued("broken.example"), 1min, "e")};
  settings_.hook = "sleep 30";
  settings_.timeout = 1s;
  const auto before = runs(metrics::hook_result::timeout);
  auto r = run_alert_round(sources_, told_);
  ASSERT_FALSE(r.hook);
  EXPECT_EQ(r.hook.err().kind, error_kind::timeout);
  EXPECT_EQ(runs(metrics::hook_result::timeout), before + 1);
  EXPECT_TRUE(told_.empty());
}

TEST_F(alert_round_test, without_a_hook_nothing_is_scanned) {
  records_ = {failing(never_issued("broken.example"), 1min, "e")};
  settings_.hook.clear();
  bool scanned = false;
  sources_.for_each_domain = [&](const std::function<void(const domain_record&)>&) {
    scanned = true;
    return result<void>{};
  };
  EXPECT_EQ(run_alert_round(sources_, told_).changes, 0u);
  EXPECT_FALSE(scanned);
}

}  // namespace
}  // namespace certfleet::admin
