// The domain state machine: each event in each phase (retry, start, wake, configuration,
// stale events).

#include "tests/actors/fsm_test_records.hpp"

namespace certfleet::actors::fsm_test {
namespace {

// ---- retry_requested in every phase -----------------------------------------------------------

struct retry_case {
  const char* label;
  domain_record record;
  timestamp now;
  retry_outcome outcome;
  bool starts;
};

class retry_in_phase : public testing::TestWithParam<retry_case> {};

TEST_P(retry_in_phase, replies_and_starts_only_when_allowed) {
  const retry_case& c = GetParam();
  const step s = transition(c.record, retry_requested{}, at(c.now));
  EXPECT_EQ(reply_of(s), c.outcome);
  EXPECT_EQ(starts_work(s), c.starts);
  if (!c.starts) {
    EXPECT_EQ(s.state, c.record);
    EXPECT_FALSE(s.persist);
  } else {
    EXPECT_EQ(s.state.phase, domain_phase::self_checking);
    EXPECT_TRUE(s.persist) << "an operator's retry survives a restart";
  }
}

domain_record with_phase(domain_phase p) { return record_in(p); }

INSTANTIATE_TEST_SUITE_P(
    phases, retry_in_phase,
    testing::Values(
        retry_case{"pending", with_phase(domain_phase::pending), t0, retry_outcome::retrying, true},
        retry_case{"valid_outside_window", with_phase(domain_phase::valid), t0 + days{10},
                   retry_outcome::not_in_renewal_window, false},
        retry_case{"valid_just_before_window", with_phase(domain_phase::valid),
                   valid_record().next_attempt - 1us, retry_outcome::not_in_renewal_window, false},
        retry_case{"valid_at_renewal_point", with_phase(domain_phase::valid),
                   valid_record().next_attempt, retry_outcome::retrying, true},
        retry_case{"valid_inside_window", with_phase(domain_phase::valid), t0 + days{70},
                   retry_outcome::retrying, true},
        retry_case{"failing_before_due", with_phase(domain_phase::failing), t0,
                   retry_outcome::retrying, true},
        retry_case{"self_checking", with_phase(domain_phase::self_checking), t0,
                   retry_outcome::already_in_progress, false},
        retry_case{"queued", with_phase(domain_phase::queued), t0,
                   retry_outcome::already_in_progress, false},
        retry_case{"ordering", with_phase(domain_phase::ordering), t0,
                   retry_outcome::already_in_progress, false},
        retry_case{"validating", with_phase(domain_phase::validating), t0,
                   retry_outcome::already_in_progress, false},
        retry_case{"finalizing", with_phase(domain_phase::finalizing), t0,
                   retry_outcome::already_in_progress, false},
        retry_case{"retired", with_phase(domain_phase::retired), t0 + days{70},
                   retry_outcome::not_configured, false}),
    [](const auto& info) { return std::string{info.param.label}; });

TEST(domain_fsm, retry_of_failing_domain_keeps_its_failure_run) {
  const step s = transition(failing_record(), retry_requested{}, at(t0));
  EXPECT_EQ(s.state.failure_count, 2u);
  EXPECT_EQ(s.state.first_failure, t0 - 1min);
}

// ---- started in every phase -------------------------------------------------------------------

TEST(domain_fsm, started_pending_begins_an_attempt) {
  const step s = transition(pending_record(), started{}, at(t0));
  EXPECT_EQ(s.state.phase, domain_phase::self_checking);
  EXPECT_TRUE(only<run_self_check>(s));
}

TEST(domain_fsm, started_valid_schedules_the_renewal_point) {
  domain_record r = valid_record();
  r.ari_check_at = t0 + days{2};  // asked for the window before the restart
  const step s = transition(r, started{}, at(t0 + days{1}));
  EXPECT_EQ(s.state.next_attempt, t0 + days{2}) << "the window request comes first";
  EXPECT_EQ(s.state.ari_check_at, t0 + days{2});
  EXPECT_FALSE(s.persist);
  EXPECT_FALSE(starts_work(s));
  ASSERT_TRUE(only<schedule_wake>(s));
  EXPECT_EQ(only<schedule_wake>(s)->at, t0 + days{2});
  r.ari_check_at = t0 + days{70};  // later than the renewal point
  EXPECT_EQ(transition(r, started{}, at(t0 + days{1})).state.next_attempt,
            valid_record().next_attempt);
}

// A start after a pause does not ask for every window at once: each domain asks at its own
// moment of the next 6 hours. Not stored: every start derives the schedule again.
TEST(domain_fsm, started_valid_spreads_its_window_request_and_stores_nothing) {
  for (timestamp stale : {no_time, t0 + 1h}) {
    domain_record r = valid_record();
    r.next_attempt = no_time;
    r.ari_check_at = stale;
    const timestamp now = t0 + days{1};
    const step s = transition(r, started{}, at(now));
    EXPECT_EQ(s.state.ari_check_at, ari_first_check(r.name, now, 6h));
    EXPECT_GE(s.state.ari_check_at, now);
    EXPECT_LE(s.state.ari_check_at, now + 6h);
    EXPECT_EQ(s.state.next_attempt, s.state.ari_check_at);
    EXPECT_FALSE(s.persist);
  }
}

TEST(domain_fsm, started_valid_past_its_renewal_point_renews) {
  const step s = transition(valid_record(), started{}, at(t0 + days{61}));
  EXPECT_EQ(s.state.phase, domain_phase::self_checking);
  EXPECT_TRUE(only<run_self_check>(s));
}

TEST(domain_fsm, started_failing_waits_for_or_runs_the_retry) {
  const domain_record r = failing_record();
  step s = transition(r, started{}, at(t0 + 1min));
  EXPECT_EQ(s.state, r);
  EXPECT_FALSE(starts_work(s));
  EXPECT_EQ(only<schedule_wake>(s)->at, t0 + 2min);
  s = transition(r, started{}, at(t0 + 2min));
  EXPECT_TRUE(only<run_self_check>(s));
}

TEST(domain_fsm, started_mid_attempt_resumes_the_stored_order) {
  for (const domain_phase p : in_flight_phases) {
    domain_record r = record_in(p);
    r.order_url = order1;
    const step s = transition(r, started{}, at(t0 + 1h));
    EXPECT_EQ(s.state.phase, domain_phase::queued) << phase_name(p);
    EXPECT_TRUE(all_of<run_self_check>(s).empty()) << phase_name(p);
    ASSERT_TRUE(only<start_order>(s)) << phase_name(p);
    EXPECT_EQ(only<start_order>(s)->resume_url, order1) << phase_name(p);
    EXPECT_EQ(s.state.next_attempt, t0 + 1h + default_policy().queued_recheck);
  }
}

TEST(domain_fsm, started_mid_attempt_without_order_starts_over) {
  for (const domain_phase p : in_flight_phases) {
    const step s = transition(record_in(p), started{}, at(t0 + 1h));
    EXPECT_EQ(s.state.phase, domain_phase::self_checking) << phase_name(p);
    EXPECT_TRUE(only<run_self_check>(s)) << phase_name(p);
    EXPECT_TRUE(all_of<start_order>(s).empty());

    const step d = transition(record_in(p), started{}, at(t0 + 1h, false));
    EXPECT_EQ(d.state.phase, domain_phase::queued) << phase_name(p);
    EXPECT_FALSE(only<start_order>(d)->resume_url);
  }
}

TEST(domain_fsm, started_retired_does_nothing) {
  const domain_record r = record_in(domain_phase::retired);
  const step s = transition(r, started{}, at(t0));
  EXPECT_EQ(s.state, r);
  EXPECT_TRUE(inert(s));
}

// ---- wake ---------------------------------------------------------------------------------------

TEST(domain_fsm, wake_before_due_is_ignored_and_rearmed) {
  for (const domain_record& r : {valid_record(), failing_record()}) {
    const step s = transition(r, wake{}, at(r.next_attempt - 1s));
    EXPECT_EQ(s.state, r);
    EXPECT_FALSE(s.persist);
    EXPECT_FALSE(starts_work(s));
    EXPECT_EQ(only<schedule_wake>(s)->at, r.next_attempt);
  }
}

TEST(domain_fsm, wake_when_due_begins_an_attempt) {
  for (const domain_record& r : {valid_record(), failing_record()}) {
    const step s = transition(r, wake{}, at(r.next_attempt));
    EXPECT_EQ(s.state.phase, domain_phase::self_checking);
    EXPECT_TRUE(only<run_self_check>(s));
    EXPECT_EQ(s.state.cert_not_after, r.cert_not_after);
  }
}

// ---- configuration changes
// ------------------------------------------------------------------------

TEST(domain_fsm, deconfigured_retires_from_every_phase) {
  for (const domain_phase p : all_phases) {
    if (p == domain_phase::retired) continue;
    domain_record r = record_in(p);
    r.order_url = order1;
    const step s = transition(r, deconfigured{}, at(t0));
    EXPECT_EQ(s.state.phase, domain_phase::retired) << phase_name(p);
    EXPECT_FALSE(s.state.configured);
    EXPECT_TRUE(s.persist);
    EXPECT_FALSE(starts_work(s)) << "stops all work";
    EXPECT_TRUE(all_of<schedule_wake>(s).empty()) << phase_name(p);
    // A waiting order leaves the queue (checked against retire() without cancel_order).
    EXPECT_EQ(all_of<cancel_order>(s).size(), p == domain_phase::queued ? 1u : 0u) << phase_name(p);
    EXPECT_TRUE(s.state.order_url.empty());
    EXPECT_FALSE(needs_warning(s.state, t0 + days{1}, default_policy()));
  }
}

TEST(domain_fsm, late_results_after_retirement_are_ignored) {
  step s = transition(record_in(domain_phase::finalizing), deconfigured{}, at(t0));
  const domain_record retired = s.state;
  for (const event& ev : all_events()) {
    if (std::holds_alternative<reconfigured>(ev)) continue;
    const step late = transition(retired, ev, at(t0 + 1min));
    EXPECT_EQ(late.state, retired) << event_name(ev);
    EXPECT_FALSE(late.persist) << event_name(ev);
    EXPECT_FALSE(starts_work(late)) << event_name(ev);
    EXPECT_TRUE(all_of<schedule_wake>(late).empty()) << event_name(ev);
  }
}

TEST(domain_fsm, reconfigured_with_valid_certificate_waits_for_renewal) {
  const domain_record r = record_in(domain_phase::retired);
  const step s = transition(r, reconfigured{}, at(t0 + days{5}));
  EXPECT_EQ(s.state.phase, domain_phase::valid);
  EXPECT_TRUE(s.state.configured);
  EXPECT_EQ(renewal_due(s.state, t0 + days{5}), valid_record().next_attempt);
  EXPECT_EQ(s.state.next_attempt, ari_first_check(r.name, t0 + days{5}, 6h))
      << "asks for the renewal window first";
  EXPECT_EQ(only<schedule_wake>(s)->at, s.state.next_attempt);
  EXPECT_FALSE(starts_work(s));
}

TEST(domain_fsm, reconfigured_inside_window_or_without_certificate_begins_an_attempt) {
  step s = transition(record_in(domain_phase::retired), reconfigured{}, at(t0 + days{80}));
  EXPECT_EQ(s.state.phase, domain_phase::self_checking);
  EXPECT_TRUE(s.state.configured);

  domain_record r = failing_record();
  r = transition(r, deconfigured{}, at(t0)).state;
  s = transition(r, reconfigured{}, at(t0 + days{1}));
  EXPECT_EQ(s.state.phase, domain_phase::self_checking);
  EXPECT_EQ(s.state.failure_count, 0u) << "a fresh start";
  EXPECT_TRUE(s.state.last_error.empty());
}

TEST(domain_fsm, reconfigured_while_configured_is_ignored) {
  for (const domain_phase p : all_phases) {
    if (p == domain_phase::retired) continue;
    const domain_record r = record_in(p);
    const step s = transition(r, reconfigured{}, at(t0));
    EXPECT_EQ(s.state, r) << phase_name(p);
    EXPECT_TRUE(inert(s));
  }
}

// ---- every phase x every event
// --------------------------------------------------------------------

TEST(domain_fsm, every_phase_and_event_keeps_the_invariants) {
  const std::array nows = {t0, t0 + 1min, t0 + days{70}, t0 + days{100}};
  for (const bool enabled : {true, false}) {
    for (const bool self_check : {true, false}) {
      for (const timestamp now : nows) {
        for (const domain_phase p : all_phases) {
          const domain_record r = record_in(p);
          for (const event& ev : all_events()) {
            const std::string where = std::string{phase_name(p)} + " + " +
                                      std::string{event_name(ev)} + " at " + format_rfc3339(now) +
                                      (enabled ? "" : ", Let's Encrypt not enabled");
            const step s = transition(r, ev, at(now, self_check, enabled));
            const bool operators_word = std::holds_alternative<retry_requested>(ev) ||
                                        std::holds_alternative<certificate_revoked>(ev);
            EXPECT_EQ(s.persist, must_persist(r, s.state) || (operators_word && !(s.state == r)))
                << where;
            if (!s.persist && !(s.state == r)) {
              // Only an attempt's steps and a valid domain's schedule go unstored: a restart
              // redoes them.
              const bool schedule_only =
                  r.phase == domain_phase::valid && s.state.phase == domain_phase::valid;
              EXPECT_TRUE(in_progress(s.state.phase) || schedule_only) << where;
              EXPECT_EQ(s.state.order_url, r.order_url) << where;
            }
            EXPECT_EQ(s.state.name, r.name) << where;
            // The store keeps a certificate only when the record takes it.
            if (const auto* cert = std::get_if<issued>(&ev)) {
              EXPECT_EQ(s.takes_certificate, s.state.phase == domain_phase::valid &&
                                                 s.state.cert_not_after == cert->not_after &&
                                                 !(s.state == r))
                  << where;
            } else {
              EXPECT_FALSE(s.takes_certificate) << where;
            }
            EXPECT_EQ(s.state.configured, s.state.phase != domain_phase::retired) << where;
            EXPECT_LE(all_of<reply_retry>(s).size(),
                      std::holds_alternative<retry_requested>(ev) ? 1u : 0u)
                << where;
            if (std::holds_alternative<retry_requested>(ev)) {
              EXPECT_TRUE(reply_of(s)) << where;
            }
            if (p == domain_phase::retired && !std::holds_alternative<reconfigured>(ev)) {
              EXPECT_EQ(s.state, r) << where;
              EXPECT_FALSE(starts_work(s)) << where;
            }
            if (starts_work(s)) {
              EXPECT_TRUE(in_progress(s.state.phase)) << where;
            }
            if (!self_check) {
              EXPECT_TRUE(all_of<run_self_check>(s).empty()) << where;
            }
            if (!enabled) {
              // Disabled means idle: nothing starts, nothing fails, no retry is armed.
              EXPECT_FALSE(starts_work(s)) << where;
              if (!in_progress(r.phase) && r.phase != domain_phase::failing)
                EXPECT_NE(s.state.phase, domain_phase::failing) << where;
            }
            switch (s.state.phase) {
              case domain_phase::valid:
                EXPECT_TRUE(s.state.has_cert()) << where;
                EXPECT_EQ(s.state.failure_count, 0u) << where;
                break;
              case domain_phase::failing:
                EXPECT_GT(s.state.failure_count, 0u) << where;
                EXPECT_FALSE(s.state.last_error.empty()) << where;
                if (r.phase != domain_phase::failing) {
                  EXPECT_GT(s.state.next_attempt, now) << where;
                }
                break;
              default:
                break;
            }
            // Whenever the domain starts waiting for a time (renewal point, retry, attempt
            // deadline), a wake is armed for it.
            const bool starts_waiting =
                (s.state.phase != r.phase && (s.state.phase == domain_phase::valid ||
                                              s.state.phase == domain_phase::failing)) ||
                // A new attempt (not the next step of a running one) arms its deadline.
                (starts_work(s) && (!in_progress(r.phase) || std::holds_alternative<started>(ev)));
            if (starts_waiting) {
              ASSERT_TRUE(only<schedule_wake>(s)) << where;
              EXPECT_EQ(only<schedule_wake>(s)->at, s.state.next_attempt) << where;
            }
          }
        }
      }
    }
  }
}

struct stale_case {
  domain_phase phase;
  event ev;
};

TEST(domain_fsm, events_that_do_not_fit_the_phase_are_ignored) {
  const issued cert{t0, t0 + days{90}};
  const order_failed failure{error{error_kind::connection, "x"}};
  const self_check_failed sc_failed{error{error_kind::self_check, "Self-check failed: x"}};
  const std::vector<stale_case> cases = {
      {domain_phase::pending, self_check_passed{}},
      {domain_phase::pending, issued{cert}},
      {domain_phase::pending, order_failed{failure}},
      {domain_phase::pending, reconfigured{}},
      {domain_phase::self_checking, order_created{order1}},
      {domain_phase::self_checking, challenge_submitted{}},
      {domain_phase::self_checking, csr_submitted{}},
      {domain_phase::ordering, self_check_passed{}},
      {domain_phase::ordering, self_check_failed{sc_failed}},
      {domain_phase::validating, order_created{order1}},
      {domain_phase::validating, challenge_submitted{}},
      {domain_phase::finalizing, challenge_submitted{}},
      {domain_phase::finalizing, csr_submitted{}},
      {domain_phase::valid, self_check_passed{}},
      {domain_phase::valid, self_check_failed{sc_failed}},
      {domain_phase::valid, issued{cert}},
      {domain_phase::valid, order_failed{failure}},
      {domain_phase::valid, order_created{order1}},
      {domain_phase::failing, order_failed{failure}},
      {domain_phase::failing, self_check_passed{}},
      {domain_phase::retired, issued{cert}},
      {domain_phase::retired, started{}},
      {domain_phase::retired, wake{}},
      {domain_phase::retired, deconfigured{}},
  };
  for (const stale_case& c : cases) {
    const domain_record r = record_in(c.phase);
    const step s = transition(r, c.ev, at(t0 + days{100}));
    EXPECT_EQ(s.state, r) << phase_name(c.phase) << " + " << event_name(c.ev);
    EXPECT_FALSE(s.persist);
    EXPECT_TRUE(inert(s)) << phase_name(c.phase) << " + " << event_name(c.ev);
  }
}

}  // namespace
}  // namespace certfleet::actors::fsm_test
