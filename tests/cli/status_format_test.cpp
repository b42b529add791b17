#include "tools/cli/status_format.hpp"

#include "actors/domain_fsm.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace certfleet::cli {
namespace {

using namespace std::chrono_literals;
using storage::domain_phase;
using storage::domain_record;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Instants of the GreenArrow documentation's example.
const timestamp last_failure = from_unix_us(1583498884740131);  // 2020-03-06T12:48:04.740131Z
const timestamp next_retry = from_unix_us(1583502484740128);    // 2020-03-06T13:48:04.740128Z
const timestamp expires_json = from_unix_us(1590697415000000);  // 2020-05-28T20:23:35Z
// The documentation's table shows 2020-05-26 as the expiration of working.example.com while its
// JSON shows 2020-05-28T20:23:35Z: the two examples were taken at different times. Each golden
// test uses the certificate its example shows.
const timestamp expires_table = expires_json - 48h;  // 2020-05-26T20:23:35Z

const std::string self_check_error =
    "Self-check failed: DNS lookup failed. Check DNS and verify that \"broken.example.com\" "
    "resolves to an IP address on this host.";

domain_record working(timestamp not_after) {
  domain_record d;
  d.name = "working.example.com";
  d.phase = domain_phase::valid;
  d.cert_not_before = not_after - 90 * 24h;
  d.cert_not_after = not_after;
  d.last_success = d.cert_not_before;
  d.next_attempt = not_after - 30 * 24h;
  return d;
}

domain_record broken() {
  domain_record d;
  d.name = "broken.example.com";
  d.phase = domain_phase::failing;
  d.first_failure = last_failure - 2h;
  d.last_failure = last_failure;
  d.failure_count = 4;
  d.next_attempt = next_retry;
  d.last_error = self_check_error;
  return d;
}

domain_record pending(std::string name) {
  domain_record d;
  d.name = std::move(name);
  return d;
}

class status_format : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tz = std::getenv("TZ");
    if (tz != nullptr) saved_tz_ = tz;
    had_tz_ = tz != nullptr;
    ::setenv("TZ", "America/Chicago", 1);
    ::tzset();
  }
  void TearDown() override {
    if (had_tz_)
      ::setenv("TZ", saved_tz_.c_str(), 1);
    else
      ::unsetenv("TZ");
    ::tzset();
  }

 private:
  bool had_tz_ = false;
  std::string saved_tz_;
};

// Copied from the GreenArrow documentation (greenarrow-tls-certificates.txt).
const std::string seed_table =
    R"(Domain                                             Cert Exists     Cert Expiration
----------------------------------------------------------------------------------
working.example.com                                 yes             2020-05-26
broken.example.com                                  no
  Error message:     Registration failed: Self-check failed: DNS lookup failed. Check DNS and verify that "broken.example.com" resolves to an IP address on this host.
  Last failure time: 2020-03-06 06:48:04 -0600
  Next retry time:   2020-03-06 07:48:04 -0600
)";

const std::string seed_json = R"({
    "domains": [
        {
            "domain": "working.example.com",
            "has_cert": true,
            "cert_expiration_time": "2020-05-28T20:23:35Z",
            "last_failure_error_message": null,
            "last_failure_time": null,
            "next_retry_time": null
        },
        {
            "domain": "broken.example.com",
            "has_cert": false,
            "cert_expiration_time": null,
            "last_failure_error_message": "Registration failed: Self-check failed: DNS lookup failed. Check DNS and verify that \"broken.example.com\" resolves to an IP address on this host.",
            "last_failure_time": "2020-03-06T12:48:04.740131Z",
            "next_retry_time": "2020-03-06T13:48:04.740128Z"
        }
    ]
}
)";

const std::string header =
    "Domain                                             Cert Exists     Cert Expiration\n"
    "----------------------------------------------------------------------------------\n";

TEST_F(status_format, table_matches_the_documentation) {
  EXPECT_EQ(format_status_table({working(expires_table), broken()}, false), seed_table);
}

TEST_F(status_format, json_matches_the_documentation) {
  const std::string json = format_status_json({working(expires_json), broken()}, false);
  EXPECT_EQ(json, seed_json);
  EXPECT_TRUE(nlohmann::json::accept(json));
}

TEST_F(status_format, empty_list) {
  EXPECT_EQ(format_status_table({}, false), header);
  EXPECT_EQ(format_status_json({}, false), "{\n    \"domains\": []\n}\n");
}

TEST_F(status_format, only_errors_keeps_failing_and_never_attempted_domains) {
  const std::vector<domain_record> all = {working(expires_table), broken(),
                                          pending("new.example.com")};
  EXPECT_EQ(format_status_table(all, true),
            header +
                "broken.example.com                                  no\n"
                "  Error message:     Registration failed: " +
                self_check_error +
                "\n"
                "  Last failure time: 2020-03-06 06:48:04 -0600\n"
                "  Next retry time:   2020-03-06 07:48:04 -0600\n"
                "new.example.com                                     no\n");
  const auto json = nlohmann::json::parse(format_status_json(all, true));
  ASSERT_EQ(json["domains"].size(), 2u);
  EXPECT_EQ(json["domains"][0]["domain"], "broken.example.com");
  EXPECT_EQ(json["domains"][1]["domain"], "new.example.com");
  EXPECT_TRUE(json["domains"][1]["last_failure_error_message"].is_null());
  EXPECT_TRUE(json["domains"][1]["next_retry_time"].is_null());
}

TEST_F(status_format, retired_domains_are_never_listed) {
  domain_record retired = broken();
  retired.name = "gone.example.com";
  retired.configured = false;
  retired.phase = domain_phase::retired;
  domain_record retired_with_cert = working(expires_table);
  retired_with_cert.name = "old.example.com";
  retired_with_cert.configured = false;
  const std::vector<domain_record> all = {retired, working(expires_table), retired_with_cert};
  for (const bool only_errors : {false, true}) {
    EXPECT_THAT(format_status_table(all, only_errors), ::testing::Not(HasSubstr("gone.")));
    EXPECT_THAT(format_status_table(all, only_errors), ::testing::Not(HasSubstr("old.")));
    EXPECT_THAT(format_status_json(all, only_errors), ::testing::Not(HasSubstr("gone.")));
    EXPECT_THAT(format_status_json(all, only_errors), ::testing::Not(HasSubstr("old.")));
  }
  EXPECT_THAT(format_status_table(all, false), HasSubstr("working.example.com"));
}

// Let's Encrypt not enabled: one line per domain says so and what to do, with no failure
// time and no retry time (nothing failed, nothing is retried).
TEST_F(status_format, a_disabled_domain_says_lets_encrypt_is_not_enabled_in_one_line) {
  domain_record d = pending("new.example.com");
  d.phase = domain_phase::disabled;
  const std::string why = actors::not_enabled_error().detail;
  EXPECT_EQ(format_status_table({d}, true),
            header +
                "new.example.com                                     no\n"
                "  Error message:     " +
                why + "\n");
  const auto json = nlohmann::json::parse(format_status_json({d}, false));
  EXPECT_EQ(json["domains"][0]["last_failure_error_message"], why);
  EXPECT_TRUE(json["domains"][0]["last_failure_time"].is_null());
  EXPECT_TRUE(json["domains"][0]["next_retry_time"].is_null());
  EXPECT_THAT(why, HasSubstr("lets_encrypt_agree_to_terms_of_service yes"));
  EXPECT_TRUE(renewal_warnings({d}, from_unix_us(1'600'000'000'000'000)).empty())
      << "waiting is not a failure";
}

TEST_F(status_format, any_failing_counts_configured_failures_only) {
  domain_record disabled = pending("new.example.com");
  disabled.phase = domain_phase::disabled;
  EXPECT_FALSE(any_failing({working(expires_table), pending("p.example.com"), disabled}));
  EXPECT_TRUE(any_failing({working(expires_table), broken()}));
  domain_record retired = broken();
  retired.configured = false;
  retired.phase = domain_phase::retired;
  EXPECT_FALSE(any_failing({retired})) << "removed from the configuration";
}

TEST_F(status_format, failing_renewal_says_renewal_failed) {
  domain_record d = working(expires_table);
  d.phase = domain_phase::failing;
  d.failure_count = 1;
  d.first_failure = d.last_failure = last_failure;
  d.next_attempt = next_retry;
  d.last_error = "The CA refused the order (rateLimited).";
  const std::string table = format_status_table({d}, true);
  EXPECT_THAT(table,
              HasSubstr("working.example.com                                 yes             "
                        "2020-05-26\n  Error message:     Renewal failed: The CA refused"));
  const auto json = nlohmann::json::parse(format_status_json({d}, false));
  EXPECT_EQ(json["domains"][0]["last_failure_error_message"],
            "Renewal failed: The CA refused the order (rateLimited).");
  EXPECT_EQ(json["domains"][0]["cert_expiration_time"], "2020-05-26T20:23:35Z");
}

TEST_F(status_format, local_time_follows_tz_including_daylight_saving) {
  domain_record d = broken();
  d.last_failure = from_unix_us(1593000000000000);  // 2020-06-24T12:00:00Z, CDT
  d.next_attempt = d.last_failure + 1h;
  EXPECT_THAT(format_status_table({d}, false),
              HasSubstr("  Last failure time: 2020-06-24 07:00:00 -0500\n"
                        "  Next retry time:   2020-06-24 08:00:00 -0500\n"));
}

TEST_F(status_format, long_names_stay_separated_from_the_next_column) {
  domain_record d = working(expires_table);
  d.name = std::string(60, 'a') + ".example.com";
  EXPECT_THAT(format_status_table({d}, false), HasSubstr(d.name + " yes             2020-05-26\n"));
}

TEST_F(status_format, json_is_laid_out_as_a_four_space_dump) {
  for (const std::vector<domain_record>& list :
       {std::vector<domain_record>{broken()},
        std::vector<domain_record>{working(expires_json), pending("new.example.com"), broken()}}) {
    const std::string json = format_status_json(list, false);
    EXPECT_EQ(json, nlohmann::ordered_json::parse(json).dump(4) + "\n");
  }
}

TEST_F(status_format, invalid_utf8_in_an_error_does_not_break_json) {
  domain_record d = broken();
  d.last_error = "bad \xff byte";
  const std::string json = format_status_json({d}, false);
  EXPECT_TRUE(nlohmann::json::accept(json));
}

// --- renewal_warnings ---

const timestamp now = from_unix_us(1583600000000000);

domain_record failing_renewal(std::chrono::minutes failing_for) {
  domain_record d = working(expires_table);
  d.phase = domain_phase::failing;
  d.failure_count = 3;
  d.first_failure = now - failing_for;
  d.last_failure = now - 1min;
  d.next_attempt = now + 10min;
  d.last_error = "Self-check failed: connection refused";
  return d;
}

TEST(renewal_warnings, renewal_failing_for_59_minutes_is_not_yet_a_warning) {
  EXPECT_THAT(renewal_warnings({failing_renewal(59min)}, now), IsEmpty());
}

TEST(renewal_warnings, renewal_failing_for_an_hour_is_a_warning) {
  const auto warnings = renewal_warnings({failing_renewal(60min)}, now);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_THAT(warnings[0], HasSubstr("working.example.com"));
  EXPECT_THAT(warnings[0], HasSubstr("failed to renew since " + format_rfc3339(now - 60min)));
  EXPECT_THAT(warnings[0], HasSubstr("Self-check failed: connection refused"));
}

TEST(renewal_warnings, no_cert_and_one_failure_is_a_warning_at_once) {
  domain_record d = broken();
  d.failure_count = 1;
  d.first_failure = d.last_failure = now - 1s;
  const auto warnings = renewal_warnings({d}, now);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0],
            "broken.example.com has no certificate: registration has failed 1 time "
            "since " +
                format_rfc3339(now - 1s) + ". Last error: " + self_check_error +
                " Next retry at 2020-03-06T13:48:04Z. Fix the cause, then run: certfleet retry "
                "broken.example.com");
}

TEST(renewal_warnings, healthy_and_never_attempted_domains_are_quiet) {
  EXPECT_THAT(renewal_warnings({working(expires_table), pending("new.example.com")}, now),
              IsEmpty());
}

TEST(renewal_warnings, retired_domains_are_quiet) {
  domain_record a = failing_renewal(5h);
  a.configured = false;
  domain_record b = broken();
  b.configured = false;
  EXPECT_THAT(renewal_warnings({a, b}, now), IsEmpty());
}

TEST(renewal_warnings, one_sentence_per_domain_in_order) {
  domain_record other = broken();
  other.name = "other.example.com";
  const auto warnings = renewal_warnings({broken(), failing_renewal(2h), other}, now);
  ASSERT_EQ(warnings.size(), 3u);
  EXPECT_THAT(warnings[0], HasSubstr("broken.example.com"));
  EXPECT_THAT(warnings[1], HasSubstr("working.example.com"));
  EXPECT_THAT(warnings[2], HasSubstr("other.example.com"));
}

}  // namespace
}  // namespace certfleet::cli
