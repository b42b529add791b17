#pragma once
// Records in each phase, events and effect helpers shared by the domain state machine tests.

#include <gtest/gtest.h>

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "actors/domain_fsm.hpp"

namespace certfleet::actors::fsm_test {

using namespace std::chrono_literals;
using storage::domain_phase;
using storage::domain_record;

inline const timestamp t0 = from_unix_us(1'704'067'200'000'000);  // 2024-01-01T00:00:00Z
inline const std::string order1 = "https://ca.example/acme/order/1";

inline constexpr std::array all_phases = {domain_phase::pending,    domain_phase::self_checking,
                                          domain_phase::queued,     domain_phase::ordering,
                                          domain_phase::validating, domain_phase::finalizing,
                                          domain_phase::valid,      domain_phase::failing,
                                          domain_phase::retired,    domain_phase::disabled};
inline constexpr std::array in_flight_phases = {domain_phase::self_checking, domain_phase::queued,
                                                domain_phase::ordering, domain_phase::validating,
                                                domain_phase::finalizing};

inline std::vector<event> all_events() {
  return {started{},
          wake{},
          self_check_passed{},
          self_check_failed{error{error_kind::self_check, "Self-check failed: DNS lookup failed."}},
          order_started{},
          order_created{order1},
          challenge_submitted{},
          csr_submitted{},
          issued{t0, t0 + days{90}},
          order_failed{error{error_kind::rate_limited, "rate limited", true, 2h}},
          retry_requested{},
          deconfigured{},
          reconfigured{},
          renewal_info_received{t0 + days{90}, t0 + days{50}, t0 + days{52}, "", 6h},
          renewal_info_failed{t0 + days{90}, true, error{error_kind::network, "no route", true}},
          certificate_revoked{t0 + days{90}},
          acme_enabled{}};
}

inline context at(timestamp now, bool self_check = true, bool acme_enabled = true) {
  return {now, &default_policy(), self_check, 0, acme_enabled};
}

// ---- records in each phase ------------------------------------------------------------

inline domain_record pending_record() {
  domain_record r;
  r.name = "www.example.com";
  return r;
}

// Valid with a 90-day certificate issued at t0; its renewal point is stored.
inline domain_record valid_record() {
  domain_record r = pending_record();
  r.phase = domain_phase::valid;
  r.cert_not_before = t0;
  r.cert_not_after = t0 + days{90};
  r.last_success = t0;
  r.next_attempt = renewal_point(r.cert_not_before, r.cert_not_after, r.name);
  return r;
}

// Failing twice in a row, no certificate; next retry at t0 + 2 min.
inline domain_record failing_record() {
  domain_record r = pending_record();
  r.phase = domain_phase::failing;
  r.failure_count = 2;
  r.first_failure = t0 - 1min;
  r.last_failure = t0;
  r.last_error = "The CA is unreachable.";
  r.next_attempt = t0 + 2min;
  return r;
}

inline domain_record record_in(domain_phase p) {
  domain_record r;
  switch (p) {
    case domain_phase::valid:
      return valid_record();
    case domain_phase::failing:
      return failing_record();
    case domain_phase::retired:
      r = valid_record();
      r.phase = domain_phase::retired;
      r.configured = false;
      r.next_attempt = no_time;
      return r;
    case domain_phase::disabled:
      r = pending_record();
      r.phase = domain_phase::disabled;
      return r;
    default:
      r = pending_record();
      r.phase = p;
      if (p != domain_phase::pending) r.next_attempt = t0 + 30min;  // the attempt's deadline
      return r;
  }
}

// ---- effect helpers ---------------------------------------------------------------------

template <class E>
std::vector<E> all_of(const step& s) {
  std::vector<E> out;
  for (const effect& e : s.effects)
    if (const E* p = std::get_if<E>(&e)) out.push_back(*p);
  return out;
}

template <class E>
std::optional<E> only(const step& s) {
  auto v = all_of<E>(s);
  if (v.size() != 1) return std::nullopt;
  return v.front();
}

inline bool starts_work(const step& s) {
  return !all_of<run_self_check>(s).empty() || !all_of<start_order>(s).empty();
}

inline std::optional<retry_outcome> reply_of(const step& s) {
  auto r = only<reply_retry>(s);
  return r ? std::optional{r->outcome} : std::nullopt;
}

// Only log effects (if any): nothing for the actor to do.
inline bool inert(const step& s) { return all_of<log_entry>(s).size() == s.effects.size(); }

// Fails an attempt at `now` (wake -> self-check -> order -> failure) and returns the record.
inline domain_record fail_once(domain_record r, timestamp now,
                               std::optional<std::chrono::seconds> after = {}) {
  step s = transition(r, wake{}, at(now));
  EXPECT_TRUE(starts_work(s)) << "due at " << format_rfc3339(now);
  s = transition(s.state, self_check_passed{}, at(now));
  s = transition(s.state, order_failed{error{error_kind::connection, "CA down.", true, after}},
                 at(now));
  EXPECT_EQ(s.state.phase, domain_phase::failing);
  EXPECT_TRUE(s.persist);
  EXPECT_EQ(only<schedule_wake>(s)->at, s.state.next_attempt);
  return s.state;
}

}  // namespace certfleet::actors::fsm_test
