// The domain state machine: the happy path, failures and retries, the queries.

#include "tests/actors/fsm_test_records.hpp"

namespace certfleet::actors::fsm_test {
namespace {

// ---- happy path ---------------------------------------------------------------------------

TEST(domain_fsm, happy_path_from_pending_to_valid) {
  domain_record r = pending_record();

  step s = transition(r, started{}, at(t0));
  EXPECT_EQ(s.state.phase, domain_phase::self_checking);
  EXPECT_FALSE(s.persist) << "a crash now starts the same attempt again";
  EXPECT_TRUE(only<run_self_check>(s));
  EXPECT_TRUE(all_of<start_order>(s).empty());
  ASSERT_TRUE(only<schedule_wake>(s));
  EXPECT_EQ(only<schedule_wake>(s)->at, t0 + default_policy().attempt_timeout) << "watchdog";

  s = transition(s.state, self_check_passed{}, at(t0 + 1s));
  EXPECT_EQ(s.state.phase, domain_phase::queued);
  EXPECT_FALSE(s.persist);
  ASSERT_TRUE(only<start_order>(s));
  EXPECT_FALSE(only<start_order>(s)->resume_url) << "a new order";
  EXPECT_EQ(only<schedule_wake>(s)->at, t0 + 1s + default_policy().queued_recheck);

  s = transition(s.state, order_started{}, at(t0 + 2s));
  EXPECT_EQ(s.state.phase, domain_phase::ordering);
  EXPECT_FALSE(s.persist);
  EXPECT_EQ(only<schedule_wake>(s)->at, t0 + 2s + default_policy().attempt_timeout)
      << "the attempt's deadline starts with the order";

  s = transition(s.state, order_created{order1}, at(t0 + 2s));
  EXPECT_EQ(s.state.phase, domain_phase::ordering);
  EXPECT_EQ(s.state.order_url, order1);
  EXPECT_TRUE(s.persist) << "the order URL is persisted for crash resume";
  EXPECT_TRUE(s.effects.empty());

  s = transition(s.state, challenge_submitted{}, at(t0 + 3s));
  EXPECT_EQ(s.state.phase, domain_phase::validating);
  EXPECT_FALSE(s.persist) << "the stored order URL is enough to resume";

  s = transition(s.state, csr_submitted{}, at(t0 + 4s));
  EXPECT_EQ(s.state.phase, domain_phase::finalizing);
  EXPECT_FALSE(s.persist);

  const timestamp now = t0 + 5s;
  s = transition(s.state, issued{t0, t0 + days{90}}, at(now));
  EXPECT_EQ(s.state.phase, domain_phase::valid);
  EXPECT_TRUE(s.persist);
  EXPECT_EQ(s.state.cert_not_before, t0);
  EXPECT_EQ(s.state.cert_not_after, t0 + days{90});
  EXPECT_EQ(s.state.last_success, now);
  EXPECT_EQ(s.state.failure_count, 0u);
  EXPECT_TRUE(s.state.order_url.empty());
  EXPECT_TRUE(s.state.last_error.empty());
  const timestamp rule = t0 + days{60};
  const timestamp expected =
      rule - renewal_jitter(std::chrono::microseconds{days{90}}, "www.example.com");
  EXPECT_EQ(renewal_due(s.state, now), expected);
  EXPECT_LE(renewal_due(s.state, now), rule);
  EXPECT_GE(renewal_due(s.state, now), rule - 6h);
  // The first wake asks the CA for the renewal window, within 6 hours.
  EXPECT_EQ(s.state.ari_check_at, ari_first_check("www.example.com", now, 6h));
  EXPECT_EQ(s.state.next_attempt, s.state.ari_check_at);
  ASSERT_TRUE(only<schedule_wake>(s));
  EXPECT_EQ(only<schedule_wake>(s)->at, s.state.ari_check_at);
  EXPECT_FALSE(is_error(s.state));
}

TEST(domain_fsm, self_check_disabled_goes_straight_to_the_order_queue) {
  const step s = transition(pending_record(), started{}, at(t0, false));
  EXPECT_EQ(s.state.phase, domain_phase::queued);
  EXPECT_TRUE(all_of<run_self_check>(s).empty());
  ASSERT_TRUE(only<start_order>(s));
  EXPECT_FALSE(only<start_order>(s)->resume_url);
}

TEST(domain_fsm, an_order_the_ca_never_saw_stays_resumable_whatever_the_error) {
  domain_record r = record_in(domain_phase::ordering);
  r.order_url = order1;
  // An account registration the CA refused: the kind alone would replace the order.
  const error refused{error_kind::external_account_required, "EAB required."};
  ASSERT_TRUE(invalidates_order(refused));
  step s = transition(r, order_failed{refused, /*order_contacted=*/false}, at(t0));
  EXPECT_EQ(s.state.order_url, order1);
  s = transition(r, order_failed{refused}, at(t0));
  EXPECT_TRUE(s.state.order_url.empty());
}

// Issue #18: with 100k new domains and 300 orders per 3 h, an order waits up to 42 days for
// its turn. Checked against queue_order() setting the attempt_timeout deadline (the old rule):
// the wake after 30 minutes then fails the waiting domain.
TEST(domain_fsm, a_queued_order_waits_without_a_deadline_and_asks_again_twice_a_day) {
  domain_record r = record_in(domain_phase::self_checking);
  r.order_url = order1;
  step s = transition(r, self_check_passed{}, at(t0));
  ASSERT_EQ(s.state.phase, domain_phase::queued);
  EXPECT_EQ(default_policy().queued_recheck, 12h);
  const auto recheck = default_policy().queued_recheck;
  for (timestamp now = t0 + recheck; now <= t0 + days{42}; now += recheck) {
    s = transition(s.state, wake{}, at(now));
    ASSERT_EQ(s.state.phase, domain_phase::queued) << format_rfc3339(now);
    ASSERT_EQ(s.state.failure_count, 0u);
    ASSERT_FALSE(s.persist) << "a restart queues the order again";
    ASSERT_TRUE(only<start_order>(s)) << "asks again: the queue keeps one entry per domain";
    ASSERT_EQ(only<start_order>(s)->resume_url, order1);
    ASSERT_EQ(only<schedule_wake>(s)->at, now + default_policy().queued_recheck);
  }
  const timestamp begun = t0 + days{42} + 5min;
  s = transition(s.state, order_started{}, at(begun));
  EXPECT_EQ(s.state.phase, domain_phase::ordering);
  s = transition(s.state, wake{}, at(begun + default_policy().attempt_timeout));
  EXPECT_EQ(s.state.phase, domain_phase::failing) << "once started, the deadline holds";
  EXPECT_EQ(s.state.failure_count, 1u);
}

TEST(domain_fsm, news_of_a_queued_order_means_it_started) {
  // The queue's order_started and the CA's stages come from different senders.
  step s = transition(record_in(domain_phase::queued), order_created{order1}, at(t0));
  EXPECT_EQ(s.state.phase, domain_phase::ordering);
  EXPECT_EQ(s.state.order_url, order1);
  EXPECT_EQ(s.state.next_attempt, t0 + default_policy().attempt_timeout);
  s = transition(record_in(domain_phase::queued), csr_submitted{}, at(t0));
  EXPECT_EQ(s.state.phase, domain_phase::finalizing);
  s = transition(record_in(domain_phase::ordering), order_started{}, at(t0));
  EXPECT_EQ(s.state, record_in(domain_phase::ordering)) << "a late order_started is ignored";
}

// Issue #18: on_issued stored every certificate, also those the state machine ignored.
TEST(domain_fsm, a_late_certificate_of_a_timed_out_attempt_is_taken) {
  for (const domain_phase p :
       {domain_phase::failing, domain_phase::self_checking, domain_phase::queued}) {
    domain_record r = record_in(p);
    r.order_url = order1;
    const step s = transition(r, issued{t0, t0 + days{90}}, at(t0 + 1min));
    EXPECT_TRUE(s.takes_certificate) << phase_name(p);
    EXPECT_EQ(s.state.phase, domain_phase::valid) << phase_name(p);
    EXPECT_EQ(s.state.cert_not_after, t0 + days{90});
    EXPECT_EQ(s.state.failure_count, 0u);
    EXPECT_TRUE(s.state.order_url.empty());
    EXPECT_TRUE(s.persist);
    // A queued new attempt is dropped from the queue: no second order.
    EXPECT_EQ(all_of<cancel_order>(s).size(), p == domain_phase::queued ? 1u : 0u) << phase_name(p);
  }
  for (const domain_phase p : {domain_phase::valid, domain_phase::retired, domain_phase::pending}) {
    const step s = transition(record_in(p), issued{t0 + 1h, t0 + days{91}}, at(t0 + 1h));
    EXPECT_FALSE(s.takes_certificate) << phase_name(p);
    EXPECT_EQ(s.state, record_in(p)) << phase_name(p);
  }
}

TEST(domain_fsm, ordering_may_finalize_or_issue_directly) {
  EXPECT_EQ(transition(record_in(domain_phase::ordering), csr_submitted{}, at(t0)).state.phase,
            domain_phase::finalizing);
  EXPECT_EQ(
      transition(record_in(domain_phase::ordering), issued{t0, t0 + days{90}}, at(t0)).state.phase,
      domain_phase::valid);
}

TEST(domain_fsm, short_lived_certificates_renew_at_half_life) {
  domain_record r = record_in(domain_phase::finalizing);
  step s = transition(r, issued{t0, t0 + days{7}}, at(t0));
  EXPECT_LE(renewal_due(s.state, t0), t0 + 84h);
  EXPECT_GE(renewal_due(s.state, t0), t0 + 84h - std::chrono::microseconds{days{7}} / 100);

  s = transition(r, issued{t0, t0 + 120s}, at(t0));
  EXPECT_LE(renewal_due(s.state, t0), t0 + 60s);
  EXPECT_GE(renewal_due(s.state, t0), t0 + 60s - 1200ms);
}

TEST(domain_fsm, certificate_issued_inside_its_window_does_not_loop) {
  // A backdated 120 s certificate is already past its half life when it arrives.
  const step s = transition(record_in(domain_phase::finalizing), issued{t0 - 1h, t0 + 60s}, at(t0));
  EXPECT_EQ(s.state.phase, domain_phase::valid);
  EXPECT_EQ(s.state.next_attempt, t0 + 1min);
}

// ---- failures and retries -------------------------------------------------------------------
TEST(domain_fsm, retry_schedule_one_minute_then_growing_capped_then_reset_by_success) {
  domain_record r = pending_record();
  const std::vector<std::chrono::seconds> delays = {1min, 2min, 5min, 10min, 30min, 1h,
                                                    2h,   4h,   8h,   12h,   12h,   12h};
  timestamp now = t0;
  for (std::size_t i = 0; i < delays.size(); ++i) {
    r = fail_once(r, now);
    EXPECT_EQ(r.failure_count, i + 1);
    EXPECT_EQ(r.first_failure, t0) << "start of the run";
    EXPECT_EQ(r.last_failure, now);
    EXPECT_EQ(r.last_error, "CA down.");
    EXPECT_EQ(r.next_attempt, now + delays[i]) << "failure " << i + 1;
    now = r.next_attempt;
  }
  // Success resets the run; the next failure retries after one minute again.
  step s = transition(r, wake{}, at(now));
  s = transition(s.state, self_check_passed{}, at(now));
  s = transition(s.state, issued{now, now + days{90}}, at(now));
  EXPECT_EQ(s.state.failure_count, 0u);
  EXPECT_EQ(s.state.first_failure, no_time);
  EXPECT_EQ(s.state.last_failure, now - 12h) << "kept for history";
  now = renewal_due(s.state, now);
  r = fail_once(s.state, now);
  EXPECT_EQ(r.failure_count, 1u);
  EXPECT_EQ(r.first_failure, now);
  EXPECT_EQ(r.next_attempt, now + 1min);
  EXPECT_TRUE(r.has_cert()) << "a failed renewal keeps the old certificate";
}

TEST(domain_fsm, retry_after_wins_when_longer) {
  domain_record r = fail_once(pending_record(), t0, 3h);
  EXPECT_EQ(r.next_attempt, t0 + 3h);
  r = fail_once(r, r.next_attempt, 10s);
  EXPECT_EQ(r.next_attempt, t0 + 3h + 2min);
}

TEST(domain_fsm, expired_certificate_retries_on_the_same_schedule) {
  domain_record r = valid_record();
  const timestamp now = r.cert_not_after + days{3};
  r = fail_once(r, now);
  EXPECT_EQ(r.next_attempt, now + 1min);
  EXPECT_EQ(r.cert_not_after, t0 + days{90});
  r = fail_once(r, r.next_attempt);
  EXPECT_EQ(r.next_attempt, now + 1min + 2min);
}

TEST(domain_fsm, self_check_failure_message_begins_with_self_check_failed) {
  const domain_record r = record_in(domain_phase::self_checking);
  step s = transition(
      r, self_check_failed{error{error_kind::self_check, "Self-check failed: DNS lookup failed."}},
      at(t0));
  EXPECT_EQ(s.state.phase, domain_phase::failing);
  EXPECT_EQ(s.state.last_error, "Self-check failed: DNS lookup failed.");
  EXPECT_EQ(s.state.next_attempt, t0 + 1min);
  s = transition(r, self_check_failed{error{error_kind::self_check, "Connection refused."}},
                 at(t0));
  EXPECT_EQ(s.state.last_error, "Self-check failed: Connection refused.");
}

TEST(domain_fsm, usable_order_is_resumed_unusable_is_replaced) {
  domain_record r = record_in(domain_phase::ordering);
  r.order_url = order1;
  step s = transition(r, order_failed{error{error_kind::server_error, "503."}}, at(t0));
  EXPECT_EQ(s.state.order_url, order1);
  s = transition(s.state, wake{}, at(t0 + 1min));
  s = transition(s.state, self_check_passed{}, at(t0 + 1min));
  ASSERT_TRUE(only<start_order>(s));
  EXPECT_EQ(only<start_order>(s)->resume_url, order1);

  s = transition(r, order_failed{error{error_kind::malformed, "Order expired."}}, at(t0));
  EXPECT_TRUE(s.state.order_url.empty());
  s = transition(s.state, wake{}, at(t0 + 1min));
  s = transition(s.state, self_check_passed{}, at(t0 + 1min));
  EXPECT_FALSE(only<start_order>(s)->resume_url);
}

TEST(domain_fsm, the_failure_log_line_ends_the_error_sentence_once) {
  const domain_record r = record_in(domain_phase::ordering);
  for (const std::string detail : {"reading from 127.0.0.1:1 timed out", "Order expired."}) {
    const step s = transition(r, order_failed{error{error_kind::timeout, detail}}, at(t0));
    std::string warning;
    for (const log_entry& e : all_of<log_entry>(s))
      if (e.level == log_level::warning) warning = e.message;
    const std::string sentence = detail.back() == '.' ? detail : detail + ".";
    EXPECT_NE(warning.find(sentence + " Next retry at "), std::string::npos) << warning;
    EXPECT_EQ(warning.find(".."), std::string::npos) << warning;
  }
}

TEST(domain_fsm, stalled_attempt_fails_at_its_deadline) {
  const domain_record r = record_in(domain_phase::validating);  // deadline t0 + 30 min
  step s = transition(r, wake{}, at(t0 + 29min));
  EXPECT_EQ(s.state, r);
  EXPECT_FALSE(s.persist);
  s = transition(r, wake{}, at(t0 + 30min));
  EXPECT_EQ(s.state.phase, domain_phase::failing);
  EXPECT_EQ(s.state.failure_count, 1u);
  EXPECT_NE(s.state.last_error.find("did not finish"), std::string::npos);
  EXPECT_EQ(s.state.next_attempt, t0 + 31min);
}

// ---- queries
// --------------------------------------------------------------------------------------

TEST(needs_warning, renewal_failing_for_an_hour) {
  domain_record r = valid_record();
  r = fail_once(r, t0 + days{60});
  const timestamp first = r.first_failure;
  EXPECT_FALSE(needs_warning(r, first + 59min, default_policy()));
  EXPECT_FALSE(needs_warning(r, first + 59min + 59s, default_policy()));
  EXPECT_TRUE(needs_warning(r, first + 60min, default_policy()));
  r.configured = false;
  EXPECT_FALSE(needs_warning(r, first + 2h, default_policy()));
}

TEST(needs_warning, registration_failed_once) {
  domain_record r = pending_record();
  EXPECT_FALSE(needs_warning(r, t0, default_policy()));
  r = fail_once(r, t0);
  EXPECT_TRUE(needs_warning(r, t0, default_policy()));
}

TEST(needs_warning, healthy_certificate_does_not_warn) {
  EXPECT_FALSE(needs_warning(valid_record(), t0 + days{89}, default_policy()));
}

TEST(is_error, pending_or_failing) {
  EXPECT_TRUE(is_error(pending_record()));
  EXPECT_TRUE(is_error(failing_record()));
  EXPECT_FALSE(is_error(valid_record()));
  EXPECT_FALSE(is_error(record_in(domain_phase::ordering)));
  domain_record retrying = failing_record();
  retrying.phase = domain_phase::ordering;
  EXPECT_TRUE(is_error(retrying)) << "still failing while the retry runs";
}

TEST(names, phases_and_events_have_stable_names) {
  EXPECT_EQ(phase_name(domain_phase::self_checking), "self_checking");
  EXPECT_EQ(phase_name(domain_phase::retired), "retired");
  EXPECT_EQ(event_name(order_failed{}), "order_failed");
  EXPECT_EQ(event_name(csr_submitted{}), "csr_submitted");
}

}  // namespace
}  // namespace certfleet::actors::fsm_test
