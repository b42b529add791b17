// The domain state machine while Let's Encrypt is not enabled (the seed: "disabled by
// default"): domains wait, idle, without self-checks, orders, failures or retries; the reload
// that enables it starts every waiting domain at once.
#include <gtest/gtest.h>

#include "tests/actors/fsm_test_records.hpp"

namespace certfleet::actors {
namespace {

using namespace fsm_test;

context disabled_at(timestamp now) { return at(now, true, false); }

TEST(domain_fsm_disabled, a_new_domain_waits_without_failing) {
  const step s = transition(pending_record(), started{}, disabled_at(t0));
  EXPECT_EQ(s.state.phase, domain_phase::disabled);
  EXPECT_FALSE(starts_work(s)) << "no self-check, no order";
  EXPECT_TRUE(all_of<schedule_wake>(s).empty()) << "no retry";
  EXPECT_EQ(s.state.failure_count, 0u);
  EXPECT_EQ(s.state.next_attempt, no_time);
  EXPECT_TRUE(s.persist) << "status reads the store";
  EXPECT_FALSE(needs_warning(s.state, t0 + days{30}, default_policy()));
  EXPECT_TRUE(is_error(s.state)) << "listed by --only-errors";

  const step again = transition(s.state, wake{}, disabled_at(t0 + days{1}));
  EXPECT_EQ(again.state, s.state);
  EXPECT_FALSE(again.persist);
  EXPECT_TRUE(inert(again));
}

TEST(domain_fsm_disabled, failures_from_before_are_dropped_at_start) {
  const step s = transition(failing_record(), started{}, disabled_at(t0));
  EXPECT_EQ(s.state.phase, domain_phase::disabled);
  EXPECT_EQ(s.state.failure_count, 0u);
  EXPECT_TRUE(s.state.last_error.empty());
  EXPECT_EQ(s.state.last_failure, failing_record().last_failure) << "kept as history";
  EXPECT_FALSE(needs_warning(s.state, t0 + days{1}, default_policy()));
}

TEST(domain_fsm_disabled, a_valid_certificate_is_kept_until_its_renewal_would_start) {
  const domain_record valid = valid_record();
  step s = transition(valid, wake{}, disabled_at(valid.next_attempt - 1h));
  EXPECT_EQ(s.state.phase, domain_phase::valid);
  s = transition(valid, wake{}, disabled_at(valid.next_attempt));
  EXPECT_EQ(s.state.phase, domain_phase::disabled);
  EXPECT_TRUE(s.state.has_cert()) << "the certificate stays in use";
  EXPECT_FALSE(starts_work(s));
}

TEST(domain_fsm_disabled, enabling_starts_at_once_and_resumes_a_stored_order) {
  domain_record r = transition(pending_record(), started{}, disabled_at(t0)).state;
  step s = transition(r, acme_enabled{}, at(t0 + days{3}));
  EXPECT_EQ(s.state.phase, domain_phase::self_checking);
  EXPECT_TRUE(only<run_self_check>(s));

  r.order_url = order1;
  s = transition(r, acme_enabled{}, at(t0 + days{3}));
  ASSERT_TRUE(only<start_order>(s)) << "a stored order is resumed, not replaced";
  EXPECT_EQ(only<start_order>(s)->resume_url, order1);

  s = transition(r, started{}, at(t0 + days{3}));
  EXPECT_TRUE(starts_work(s)) << "a restart with Let's Encrypt enabled starts it too";
}

TEST(domain_fsm_disabled, enabling_a_domain_with_a_certificate_renews_only_when_due) {
  domain_record r = valid_record();
  r.phase = domain_phase::disabled;
  r.next_attempt = no_time;
  step s = transition(r, acme_enabled{}, at(t0 + days{1}));
  EXPECT_EQ(s.state.phase, domain_phase::valid);
  EXPECT_FALSE(starts_work(s));
  s = transition(r, acme_enabled{}, at(t0 + days{80}));
  EXPECT_EQ(s.state.phase, domain_phase::self_checking);
}

TEST(domain_fsm_disabled, retry_says_not_enabled_and_starts_nothing) {
  for (const domain_phase p :
       {domain_phase::pending, domain_phase::failing, domain_phase::disabled}) {
    const step s = transition(record_in(p), retry_requested{}, disabled_at(t0 + days{1}));
    EXPECT_EQ(reply_of(s), retry_outcome::not_enabled) << phase_name(p);
    EXPECT_FALSE(starts_work(s)) << phase_name(p);
    EXPECT_EQ(s.state.phase, domain_phase::disabled) << phase_name(p);
  }
  const step s = transition(record_in(domain_phase::disabled), retry_requested{}, at(t0));
  EXPECT_EQ(reply_of(s), retry_outcome::retrying);
  EXPECT_TRUE(starts_work(s));
}

TEST(domain_fsm_disabled, an_order_the_acme_service_refused_as_not_enabled_is_not_a_failure) {
  domain_record r = record_in(domain_phase::queued);
  r.order_url = order1;
  const step s = transition(r, order_failed{not_enabled_error(), false}, disabled_at(t0 + 1min));
  EXPECT_EQ(s.state.phase, domain_phase::disabled);
  EXPECT_EQ(s.state.failure_count, 0u);
  EXPECT_EQ(s.state.order_url, order1) << "kept, to be resumed once enabled";
  EXPECT_TRUE(s.persist);

  const step passed =
      transition(record_in(domain_phase::self_checking), self_check_passed{}, disabled_at(t0));
  EXPECT_EQ(passed.state.phase, domain_phase::disabled) << "disabled during the self-check";
  EXPECT_FALSE(starts_work(passed));
}

TEST(domain_fsm_disabled, a_late_certificate_is_taken) {
  const step s =
      transition(record_in(domain_phase::disabled), issued{t0, t0 + days{90}}, disabled_at(t0));
  EXPECT_EQ(s.state.phase, domain_phase::valid);
  EXPECT_TRUE(s.takes_certificate);
}

}  // namespace
}  // namespace certfleet::actors
