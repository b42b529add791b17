// The domain state machine with the CA's renewal windows (RFC 9773, ARI): when it asks,
// what it does with each kind of answer, and when it renews.
#include <gtest/gtest.h>

#include "tests/actors/fsm_test_records.hpp"

namespace certfleet::actors {
namespace {

using namespace fsm_test;

// valid_record's certificate: issued at t0 for 90 days, renewed at ~t0 + 60 days.
const timestamp cert_end = t0 + days{90};

// Valid, its window request due at `check_at`, and the window the CA gave before, if any.
domain_record asking_record(timestamp check_at, timestamp window_start = no_time,
                            timestamp window_end = no_time) {
  domain_record r = valid_record();
  r.ari_check_at = check_at;
  r.next_attempt = check_at;
  r.ari_window_start = window_start;
  r.ari_window_end = window_end;
  return r;
}

renewal_info_received window(timestamp start, timestamp end,
                             std::optional<std::chrono::seconds> retry_after = 6h) {
  return renewal_info_received{cert_end, start, end, "", retry_after};
}

bool logged(const step& s, std::string_view text) {
  for (const auto& entry : all_of<log_entry>(s))
    if (entry.message.find(text) != std::string::npos) return true;
  return false;
}

TEST(domain_fsm_ari, asks_for_the_window_when_its_request_is_due) {
  const domain_record r = asking_record(t0 + days{1});
  const step early = transition(r, wake{}, at(t0 + days{1} - 1s));
  EXPECT_TRUE(all_of<fetch_renewal_info>(early).empty());

  const step s = transition(r, wake{}, at(t0 + days{1}));
  EXPECT_TRUE(only<fetch_renewal_info>(s));
  EXPECT_FALSE(starts_work(s));
  EXPECT_EQ(s.state.phase, domain_phase::valid);
  // A lost answer delays the next request by 6 hours, no more.
  EXPECT_EQ(s.state.ari_check_at, t0 + days{1} + 6h);
  EXPECT_EQ(only<schedule_wake>(s)->at, t0 + days{1} + 6h);
  EXPECT_FALSE(s.persist) << "a valid domain's schedule is derived at every start";
}

TEST(domain_fsm_ari, a_future_window_moves_the_renewal_to_this_domains_moment_in_it) {
  const timestamp now = t0 + days{1};
  const timestamp start = t0 + days{30}, end = t0 + days{32};
  renewal_info_received w = window(start, end);
  w.explanation_url = "https://ca.example/incident/42";
  const step s = transition(asking_record(now), w, at(now));
  const timestamp fallback = valid_record().next_attempt;
  const timestamp moment = ari_renewal_point(start, end, "www.example.com", fallback, now);
  EXPECT_GE(moment, start);
  EXPECT_LT(moment, end);
  EXPECT_EQ(renewal_due(s.state, now), moment);
  EXPECT_EQ(s.state.ari_window_start, start);
  EXPECT_EQ(s.state.ari_window_end, end);
  EXPECT_EQ(s.state.ari_check_at, now + 6h);
  EXPECT_EQ(s.state.next_attempt, now + 6h) << "the next request comes before the window";
  EXPECT_TRUE(s.persist) << "a new window is stored";
  EXPECT_TRUE(logged(s, "https://ca.example/incident/42"));
  EXPECT_FALSE(starts_work(s));

  // The same answer again changes nothing but the next request's time, and logs nothing.
  const step again = transition(s.state, w, at(now + 6h));
  EXPECT_FALSE(again.persist);
  EXPECT_FALSE(logged(again, "suggests"));

  // A restart keeps the moment: it is a function of the domain and the window.
  domain_record stored = s.state;
  stored.ari_check_at = t0 + days{40};
  const step restarted = transition(stored, started{}, at(now + 1h));
  EXPECT_EQ(restarted.state.next_attempt, moment);
}

TEST(domain_fsm_ari, a_window_that_has_begun_renews_now_as_an_ari_renewal) {
  const timestamp now = t0 + days{20};
  const step s = transition(asking_record(now), window(now - 1h, now + 1min), at(now));
  ASSERT_TRUE(only<run_self_check>(s)) << "renews at once: the moment is past";
  EXPECT_TRUE(logged(s, "suggested renewal window has begun"));
  const step queued = transition(s.state, self_check_passed{}, at(now + 1s));
  ASSERT_TRUE(only<start_order>(queued));
  EXPECT_TRUE(only<start_order>(queued)->ari_renewal) << "inside the window: no budget spent";

  // An operator's retry inside the window is not an early renewal.
  domain_record r = asking_record(now);
  r.ari_window_start = now - 1h;
  r.ari_window_end = now + 1h;
  r.next_attempt = now + 1h;
  const step retried = transition(r, retry_requested{}, at(now));
  EXPECT_EQ(reply_of(retried), retry_outcome::retrying);
}

TEST(domain_fsm_ari, a_window_after_the_fallback_rule_is_not_waited_for) {
  const timestamp now = t0 + days{1};
  const timestamp fallback = valid_record().next_attempt;
  const step s = transition(asking_record(now), window(t0 + days{80}, t0 + days{85}), at(now));
  EXPECT_EQ(renewal_due(s.state, now), fallback) << "an expired certificate is worse";
  const step due = transition(s.state, wake{}, at(fallback));
  ASSERT_TRUE(only<run_self_check>(due));
  const step queued = transition(due.state, self_check_passed{}, at(fallback));
  EXPECT_FALSE(only<start_order>(queued)->ari_renewal) << "outside the window: spends budget";
}

TEST(domain_fsm_ari, a_window_that_is_already_over_renews_at_once) {
  const timestamp now = t0 + days{10};
  const step s = transition(asking_record(now), window(t0 + days{5}, t0 + days{6}), at(now));
  EXPECT_TRUE(only<run_self_check>(s));
}

TEST(domain_fsm_ari, the_cas_retry_after_is_kept_within_six_hours_and_a_day) {
  const timestamp now = t0 + days{1};
  const timestamp start = t0 + days{50}, end = t0 + days{52};
  EXPECT_EQ(transition(asking_record(now), window(start, end, 60s), at(now)).state.ari_check_at,
            now + 6h);
  EXPECT_EQ(transition(asking_record(now), window(start, end, 12h), at(now)).state.ari_check_at,
            now + 12h);
  EXPECT_EQ(
      transition(asking_record(now), window(start, end, days{30}), at(now)).state.ari_check_at,
      now + 24h);
  EXPECT_EQ(
      transition(asking_record(now), window(start, end, std::nullopt), at(now)).state.ari_check_at,
      now + 6h);
}

TEST(domain_fsm_ari, an_answer_about_an_older_certificate_is_ignored) {
  const timestamp now = t0 + days{1};
  const domain_record r = asking_record(now);
  renewal_info_received old = window(now - 1h, now + 1h);
  old.cert_not_after = cert_end - days{90};
  const step s = transition(r, old, at(now));
  EXPECT_EQ(s.state, r);
  EXPECT_FALSE(starts_work(s));
  const step f = transition(r, renewal_info_failed{old.cert_not_after, false, error{}}, at(now));
  EXPECT_EQ(f.state, r);
}

TEST(domain_fsm_ari, a_ca_without_ari_is_not_asked_again_until_the_next_start) {
  const timestamp now = t0 + days{1};
  const domain_record r = asking_record(now, t0 + days{50}, t0 + days{51});
  const step s = transition(r, renewal_info_failed{cert_end, false, error{}}, at(now));
  EXPECT_EQ(s.state.ari_check_at, no_time);
  EXPECT_EQ(s.state.ari_window_start, no_time);
  EXPECT_EQ(s.state.next_attempt, valid_record().next_attempt) << "the fallback rule";
  EXPECT_EQ(only<schedule_wake>(s)->at, valid_record().next_attempt);
}

TEST(domain_fsm_ari, an_unusable_answer_drops_the_window_and_asks_again_tomorrow) {
  const timestamp now = t0 + days{1};
  const domain_record r = asking_record(now, t0 + days{20}, t0 + days{21});
  const step s = transition(
      r,
      renewal_info_failed{cert_end, true,
                          error{error_kind::bad_response, "the window ends before it starts"}},
      at(now));
  EXPECT_EQ(s.state.ari_window_start, no_time) << "RFC 9773 §4.2: not used";
  EXPECT_EQ(s.state.ari_check_at, now + 24h);
  EXPECT_EQ(renewal_due(s.state, now), valid_record().next_attempt);
  EXPECT_TRUE(logged(s, "renewing by certfleet's own rule"));
  EXPECT_TRUE(s.persist);
}

TEST(domain_fsm_ari, an_unreachable_ca_keeps_the_window_and_asks_again_in_six_hours) {
  const timestamp now = t0 + days{1};
  const domain_record r = asking_record(now, t0 + days{20}, t0 + days{21});
  const step s = transition(
      r, renewal_info_failed{cert_end, true, error{error_kind::network, "refused", true}}, at(now));
  EXPECT_EQ(s.state.ari_window_start, t0 + days{20});
  EXPECT_EQ(s.state.ari_check_at, now + 6h);
  EXPECT_FALSE(s.persist);
}

TEST(domain_fsm_ari, a_new_certificate_forgets_the_old_window_and_asks_soon) {
  domain_record r = record_in(domain_phase::finalizing);
  r.cert_not_before = t0 - days{60};
  r.cert_not_after = t0 + days{30};
  r.ari_window_start = t0 - 1h;
  r.ari_window_end = t0 + 1h;
  const step s = transition(r, issued{t0, t0 + days{90}}, at(t0));
  EXPECT_EQ(s.state.ari_window_start, no_time);
  EXPECT_EQ(s.state.ari_window_end, no_time);
  EXPECT_GE(s.state.ari_check_at, t0);
  EXPECT_LE(s.state.ari_check_at, t0 + 6h);
}

TEST(domain_fsm_ari, a_window_arriving_mid_attempt_is_kept_and_the_attempt_goes_on) {
  domain_record r = record_in(domain_phase::ordering);
  r.cert_not_before = t0 - days{60};
  r.cert_not_after = t0 + days{30};
  renewal_info_received w{r.cert_not_after, t0, t0 + 1h, "", 6h};
  const step s = transition(r, w, at(t0));
  EXPECT_EQ(s.state.phase, domain_phase::ordering);
  EXPECT_EQ(s.state.ari_window_start, t0);
  EXPECT_FALSE(starts_work(s));
}

// Six-day (shortlived) certificates poll as 90-day ones do; a 10-minute one cannot wait
// 6 hours to hear of its window: it asks within a twentieth of its lifetime.
TEST(domain_fsm_ari, short_certificates_ask_within_a_twentieth_of_their_lifetime) {
  const step six_days =
      transition(record_in(domain_phase::finalizing), issued{t0, t0 + days{6}}, at(t0));
  EXPECT_LE(six_days.state.ari_check_at, t0 + 6h);
  EXPECT_EQ(ari_poll_bounds_for(std::chrono::microseconds{days{6}}, default_policy()).min, 6h);

  const step ten_minutes =
      transition(record_in(domain_phase::finalizing), issued{t0, t0 + 10min}, at(t0));
  EXPECT_LE(ten_minutes.state.ari_check_at, t0 + 30s);
  const step answered =
      transition(ten_minutes.state, renewal_info_received{t0 + 10min, t0 + 6min, t0 + 7min, "", 1s},
                 at(t0 + 30s));
  EXPECT_EQ(answered.state.ari_check_at, t0 + 60s) << "Retry-After within [30 s, 150 s]";
  EXPECT_EQ(ari_poll_bounds_for(std::chrono::microseconds{10min}, default_policy()).max, 150s);
}

}  // namespace
}  // namespace certfleet::actors
