// The domain state machine with a fallback CA: attempts that fail by the CA's fault are
// counted in a row; from acme_fallback_after of them on, orders go to the fallback CA, and
// after a certificate the next renewal tries the primary again.
#include <gtest/gtest.h>

#include "tests/actors/fsm_test_records.hpp"

namespace certfleet::actors {
namespace {

using namespace fsm_test;

context with_fallback(timestamp now, std::uint32_t after = 3) {
  context c = at(now);
  c.fallback_after = after;
  return c;
}

// One attempt from a due wake: returns whether its order went to the fallback CA, and
// leaves `r` as the failure `err` at the CA makes it.
bool failed_attempt(domain_record& r, const error& err, std::uint32_t after = 3,
                    std::optional<timestamp> when = std::nullopt) {
  const timestamp now = when ? *when : std::max(r.next_attempt, t0);
  step s = transition(r, wake{}, with_fallback(now, after));
  s = transition(s.state, self_check_passed{}, with_fallback(now, after));
  const auto order = only<start_order>(s);
  EXPECT_TRUE(order) << "no order";
  s = transition(s.state, order_started{}, with_fallback(now, after));
  s = transition(s.state, order_failed{err}, with_fallback(now, after));
  EXPECT_TRUE(s.persist) << "the count must survive a restart";
  r = s.state;
  return order && order->fallback;
}

const error rate_limited{error_kind::rate_limited, "too many new orders", true};
const error ca_down{error_kind::network, "connection refused by the CA", true};
const error validation_failed{error_kind::connection, "the CA could not connect", true};

TEST(domain_fsm_fallback, the_cas_failures_move_orders_to_the_fallback_until_an_issue) {
  domain_record r = pending_record();
  EXPECT_FALSE(failed_attempt(r, rate_limited));
  EXPECT_FALSE(failed_attempt(r, ca_down));
  EXPECT_EQ(r.ca_failures, 2u);
  EXPECT_FALSE(failed_attempt(r, rate_limited)) << "the third still goes to the primary";
  EXPECT_EQ(r.ca_failures, 3u);
  EXPECT_TRUE(failed_attempt(r, ca_down)) << "after 3 of the CA's failures";
  EXPECT_TRUE(failed_attempt(r, rate_limited)) << "failures at the fallback keep it there";

  step s = transition(r, wake{}, with_fallback(r.next_attempt));
  s = transition(s.state, self_check_passed{}, with_fallback(r.next_attempt));
  ASSERT_TRUE(only<start_order>(s));
  EXPECT_TRUE(only<start_order>(s)->fallback);
  s = transition(s.state, order_started{}, with_fallback(r.next_attempt));
  s = transition(s.state, issued{r.next_attempt, r.next_attempt + days{90}},
                 with_fallback(r.next_attempt));
  EXPECT_EQ(s.state.ca_failures, 0u);
  r = s.state;
  EXPECT_FALSE(failed_attempt(r, rate_limited, 3, renewal_due(r, r.cert_not_after)))
      << "the renewal tries the primary again";
}

TEST(domain_fsm_fallback, a_failure_of_the_domains_own_ends_the_run) {
  domain_record r = pending_record();
  failed_attempt(r, rate_limited);
  failed_attempt(r, rate_limited);
  failed_attempt(r, validation_failed);
  EXPECT_EQ(r.ca_failures, 0u) << "a failed validation would fail at any CA";

  failed_attempt(r, rate_limited);
  failed_attempt(r, rate_limited);
  step s = transition(r, wake{}, with_fallback(r.next_attempt));
  s = transition(s.state, self_check_failed{error{error_kind::self_check, "DNS lookup failed"}},
                 with_fallback(r.next_attempt));
  EXPECT_EQ(s.state.ca_failures, 0u);
}

TEST(domain_fsm_fallback, a_self_check_that_never_answers_is_not_the_cas_fault) {
  domain_record r = pending_record();
  failed_attempt(r, rate_limited);
  step s = transition(r, wake{}, with_fallback(r.next_attempt));
  ASSERT_EQ(s.state.phase, domain_phase::self_checking);
  s = transition(s.state, wake{}, with_fallback(s.state.next_attempt));
  ASSERT_EQ(s.state.phase, domain_phase::failing) << "the self-check's deadline passed";
  EXPECT_EQ(s.state.ca_failures, 0u);
}

TEST(domain_fsm_fallback, without_a_fallback_ca_orders_stay_at_the_primary) {
  domain_record r = pending_record();
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(failed_attempt(r, rate_limited, 0));
  EXPECT_EQ(r.ca_failures, 5u) << "counted all the same, for a fallback configured later";
}

TEST(domain_fsm_fallback, the_move_is_logged_once) {
  domain_record r = pending_record();
  failed_attempt(r, rate_limited);
  failed_attempt(r, rate_limited);
  step s = transition(r, wake{}, with_fallback(r.next_attempt));
  s = transition(s.state, self_check_passed{}, with_fallback(r.next_attempt));
  s = transition(s.state, order_failed{ca_down}, with_fallback(r.next_attempt));
  bool said = false;
  for (const auto& e : all_of<log_entry>(s))
    said = said || e.message.find("the next ones go to the fallback CA") != std::string::npos;
  EXPECT_TRUE(said);
  s = transition(s.state, wake{}, with_fallback(s.state.next_attempt));
  s = transition(s.state, self_check_passed{}, with_fallback(s.state.next_attempt));
  s = transition(s.state, order_failed{ca_down}, with_fallback(s.state.next_attempt));
  for (const auto& e : all_of<log_entry>(s))
    EXPECT_EQ(e.message.find("fallback CA"), std::string::npos) << e.message;
}

}  // namespace
}  // namespace certfleet::actors
