// The CA's scoped limits as data: which limit a rateLimited answer names, which failures
// the CA counts against a hostname, and the token-bucket ledger.
#include "actors/ca_limits.hpp"

#include <gtest/gtest.h>

namespace certfleet::actors {
namespace {

using namespace std::chrono_literals;
using time_point = limit_ledger::time_point;
const time_point t0{std::chrono::hours(1000)};

const ca_limit& limit_of(limit_scope scope) {
  for (const ca_limit& l : lets_encrypt_limits())
    if (l.scope == scope) return l;
  throw std::logic_error("no such limit");
}

TEST(ca_limits, lets_encrypt_table_matches_its_rate_limit_page) {
  const auto& registered = limit_of(limit_scope::registered_domain);
  EXPECT_EQ(registered.burst, 50u);
  EXPECT_EQ(registered.period, std::chrono::days(7));
  EXPECT_FALSE(registered.renewals_count);
  const auto& names = limit_of(limit_scope::name_set);
  EXPECT_EQ(names.burst, 5u);
  EXPECT_TRUE(names.renewals_count);
  const auto& failures = limit_of(limit_scope::hostname_failures);
  EXPECT_EQ(failures.burst, 5u);
  EXPECT_EQ(failures.period, 1h);
}

// The texts are Let's Encrypt's problem details (boulder), as clients have logged them.
TEST(ca_limits, the_scope_of_a_rate_limit_is_read_from_the_problem_detail) {
  EXPECT_EQ(
      scope_of_rate_limit("Error creating new order :: too many new orders (300) from this "
                          "account in the last 3h0m0s, retry after 2025-01-01 00:00:00 UTC: "
                          "see https://letsencrypt.org/docs/rate-limits/#new-orders-per-account"),
      limit_scope::account);
  EXPECT_EQ(scope_of_rate_limit("too many certificates (50) already issued for \"example.com\" in "
                                "the last 168h0m0s, retry after 2025-01-01 00:00:00 UTC"),
            limit_scope::registered_domain);
  EXPECT_EQ(scope_of_rate_limit("too many certificates (5) already issued for this exact set of "
                                "identifiers in the last 168h0m0s"),
            limit_scope::name_set);
  EXPECT_EQ(scope_of_rate_limit("Error creating new order :: too many certificates already issued "
                                "for exact set of domains: a.example.com"),
            limit_scope::name_set);
  EXPECT_EQ(scope_of_rate_limit("too many failed authorizations (5) for \"a.example.com\" in the "
                                "last 1h0m0s"),
            limit_scope::hostname_failures);
  EXPECT_EQ(scope_of_rate_limit("see https://letsencrypt.org/docs/rate-limits/"
                                "#authorization-failures-per-hostname-per-account"),
            limit_scope::hostname_failures);
  EXPECT_EQ(scope_of_rate_limit("Service busy; retry later."), limit_scope::account)
      << "an unknown scope pauses the account: the safe side";
}

TEST(ca_limits, only_validation_failures_count_against_a_hostname) {
  EXPECT_TRUE(counts_as_failed_authorization({error_kind::connection, "x"}));
  EXPECT_TRUE(counts_as_failed_authorization({error_kind::unauthorized, "x"}));
  EXPECT_TRUE(counts_as_failed_authorization({error_kind::dns, "x"}));
  EXPECT_FALSE(counts_as_failed_authorization({error_kind::network, "x"}));
  EXPECT_FALSE(counts_as_failed_authorization({error_kind::server_internal, "x"}));
  EXPECT_FALSE(counts_as_failed_authorization({error_kind::rate_limited, "x"}));
}

// The fleet simulator found it: the CA counts a certificate when it issues it, after the
// client spent its token at the order's start, so the client's 51st name of a registered
// domain reached the CA before the CA's bucket had refilled. Checked against dropping the
// lag from available_at.
TEST(ca_limits, certificate_limits_allow_for_the_ca_counting_at_issuance) {
  const ca_limit& l = limit_of(limit_scope::registered_domain);
  EXPECT_EQ(l.ca_counts_later, 30min);
  limit_ledger ledger;
  for (int i = 0; i < 50; ++i) ledger.spend(l, "shop.test", t0);
  const auto refill = std::chrono::duration_cast<limit_ledger::duration>(l.period) / 50;
  EXPECT_EQ(ledger.available_at(l, "shop.test", t0), t0 + refill + 30min);
  ledger.block_until(l, "other.test", t0 + 2h);
  EXPECT_EQ(ledger.available_at(l, "other.test", t0), t0 + 2h) << "a Retry-After is the CA's own";
  EXPECT_EQ(limit_of(limit_scope::hostname_failures).ca_counts_later, 0s);
}

TEST(ca_limits, the_ledger_holds_burst_then_one_per_interval) {
  const ca_limit l{limit_scope::hostname_failures, 5, 1h, true};
  limit_ledger ledger;
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(ledger.available_at(l, "a", t0), t0) << i;
    ledger.spend(l, "a", t0);
  }
  EXPECT_EQ(ledger.available_at(l, "a", t0), t0 + 12min);
  EXPECT_EQ(ledger.available_at(l, "b", t0), t0) << "keys are separate";
  ledger.refund(l, "a", t0);
  EXPECT_EQ(ledger.available_at(l, "a", t0), t0);
  ledger.block_until(l, "b", t0 + 3h);
  EXPECT_EQ(ledger.available_at(l, "b", t0), t0 + 3h);
  EXPECT_EQ(ledger.keys(), 2u);
  ledger.forget_full(t0 + 1h);
  EXPECT_EQ(ledger.keys(), 1u) << "a is full again after an hour; b is still blocked";
  const ca_limit other_scope{limit_scope::name_set, 5, 1h, true};
  EXPECT_EQ(ledger.available_at(other_scope, "b", t0), t0) << "scopes are separate";
}

}  // namespace
}  // namespace certfleet::actors
