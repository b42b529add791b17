// The domain state machine after the operator's `certfleet revoke`: the revoked certificate
// is replaced at once, as an ARI renewal, and a restart before the replacement keeps it due.
#include <gtest/gtest.h>

#include "tests/actors/fsm_test_records.hpp"

namespace certfleet::actors {
namespace {

using namespace fsm_test;

const certificate_revoked revoked_current{t0 + days{90}};

TEST(domain_fsm_revoke, a_valid_certificate_is_replaced_at_once_without_spending_budget) {
  const timestamp now = t0 + days{10};  // far from its renewal point
  const step s = transition(valid_record(), revoked_current, at(now));
  ASSERT_TRUE(only<run_self_check>(s));
  EXPECT_EQ(s.state.phase, domain_phase::self_checking);
  EXPECT_TRUE(s.persist) << "a restart must still replace the revoked certificate";
  EXPECT_LE(renewal_due(s.state, now), now);
  EXPECT_FALSE(all_of<log_entry>(s).empty());

  const step queued = transition(s.state, self_check_passed{}, at(now + 1s));
  ASSERT_TRUE(only<start_order>(queued));
  EXPECT_TRUE(only<start_order>(queued)->ari_renewal)
      << "replaces the revoked certificate, as after a CA's revocation";
}

TEST(domain_fsm_revoke, a_restart_before_the_replacement_still_replaces_it) {
  const timestamp now = t0 + days{10};
  domain_record stored = transition(valid_record(), revoked_current, at(now)).state;
  // What a restart finds: storage keeps the window, the attempt in flight is redone.
  stored.phase = domain_phase::valid;
  const step restarted = transition(stored, started{}, at(now + 5min));
  EXPECT_TRUE(only<run_self_check>(restarted));
}

TEST(domain_fsm_revoke, a_failing_renewal_does_not_wait_for_its_next_retry) {
  domain_record r = fail_once(valid_record(), t0 + days{60});
  ASSERT_TRUE(r.has_cert());
  const timestamp now = t0 + days{60} + 10s;
  ASSERT_LT(now, r.next_attempt);
  const step s = transition(r, revoked_current, at(now));
  EXPECT_TRUE(only<run_self_check>(s));
  EXPECT_TRUE(s.persist);
}

TEST(domain_fsm_revoke, an_attempt_in_flight_goes_on_and_the_revocation_is_kept) {
  domain_record r = valid_record();
  r.phase = domain_phase::ordering;
  r.next_attempt = t0 + days{61};
  const step s = transition(r, revoked_current, at(t0 + days{60}));
  EXPECT_FALSE(starts_work(s));
  EXPECT_EQ(s.state.phase, domain_phase::ordering);
  EXPECT_TRUE(s.persist);
  EXPECT_LE(renewal_due(s.state, t0 + days{60}), t0 + days{60});
}

TEST(domain_fsm_revoke, news_of_an_older_certificate_or_none_changes_nothing) {
  const step older = transition(valid_record(), certificate_revoked{t0 + days{30}}, at(t0));
  EXPECT_EQ(older.state, valid_record());
  EXPECT_FALSE(starts_work(older));
  EXPECT_FALSE(older.persist);

  const step pending = transition(pending_record(), revoked_current, at(t0));
  EXPECT_EQ(pending.state, pending_record());
  EXPECT_TRUE(inert(pending));
}

}  // namespace
}  // namespace certfleet::actors
