// The rules that protect the CA, without actors or a clock.
#include "actors/order_queue.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace certfleet::actors {
namespace {

using namespace std::chrono_literals;
using queue = order_queue<int>;
const queue::steady_time t0{std::chrono::hours(1000)};

queue::order fresh(std::string name, int id = 0) {
  return {std::move(name), {}, false, {}, false, false, id};
}
queue::order renewal(std::string name, timestamp not_after, int id = 0) {
  return {std::move(name), {}, true, not_after, false, false, id};
}
queue::order failing(queue::order o) {
  o.failing = true;
  return o;
}
// A new name under registered domain `registered`.
queue::order fresh_under(std::string name, std::string registered) {
  return {std::move(name), std::move(registered), false, {}, false, false, 0};
}
queue::order renewal_under(std::string name, std::string registered) {
  return {std::move(name), std::move(registered), true, from_unix_us(5), false, false, 0};
}
const order_end issued{order_end::outcome::issued};
const order_end failed{order_end::outcome::failed};
const order_end authorization_failed{order_end::outcome::authorization_failed};
order_end rate_limited(limit_scope scope, queue::steady_time until) {
  return {order_end::outcome::rate_limited, scope, until};
}

TEST(order_queue, caps_orders_in_flight_and_frees_a_slot_on_finish) {
  queue q({300, 3h}, 2, t0);
  for (int i = 0; i < 3; ++i) q.push(fresh("d" + std::to_string(i)));
  EXPECT_EQ(q.pop(t0)->domain, "d0");
  EXPECT_TRUE(q.pop(t0));
  EXPECT_FALSE(q.pop(t0)) << "a third order would exceed orders_in_flight";
  EXPECT_FALSE(q.retry_at(t0)) << "only a finished order can help";
  q.finished("unknown", issued, t0);
  EXPECT_FALSE(q.pop(t0)) << "an order that never started frees nothing";
  q.finished("d0", issued, t0);
  auto third = q.pop(t0);
  ASSERT_TRUE(third);
  EXPECT_EQ(third->domain, "d2");
}

// Issue #18: renewals went last, so a backlog of new domains could let certificates expire.
TEST(order_queue, renewals_first_soonest_expiry_first_then_new_domains_first_come) {
  queue q({300, 3h}, 10, t0);
  q.push(fresh("new1"));
  q.push(renewal("late", from_unix_us(3'000'000)));
  q.push(fresh("new2"));
  q.push(renewal("soon", from_unix_us(1'000'000)));
  std::vector<std::string> order;
  while (auto o = q.pop(t0)) order.push_back(o->domain);
  EXPECT_EQ(order, (std::vector<std::string>{"soon", "late", "new1", "new2"}));
}

// Issue #18: 1% of 100k names failing at the CA, retried twice a day, took 2000 of the
// 2400 orders a day holds. Checked against dropping the "then those not failing" line.
TEST(order_queue, names_that_keep_failing_wait_behind_the_others_of_their_kind) {
  queue q({300, 3h}, 10, t0);
  q.push(failing(fresh("broken")));
  q.push(fresh("new"));
  q.push(failing(renewal("broken-renewal", from_unix_us(1))));
  q.push(renewal("renewal", from_unix_us(2)));
  std::vector<std::string> order;
  while (auto o = q.pop(t0)) order.push_back(o->domain);
  EXPECT_EQ(order, (std::vector<std::string>{"renewal", "broken-renewal", "new", "broken"}));
}

// Issue #19: Let's Encrypt exempts an order that replaces a certificate inside its ARI
// window from every limit. Checked against ARI renewals spending tokens like the rest.
TEST(order_queue, ari_renewals_spend_nothing_and_go_first) {
  queue q({1, 3h}, 10, t0, lets_encrypt_limits());
  queue::order ari = renewal("ari.example", from_unix_us(9));
  ari.ari_renewal = true;
  q.push(fresh("new"));
  q.push(renewal("plain.example", from_unix_us(1)));
  q.push(ari);
  EXPECT_NEAR(q.backlog(t0).count(), 3 * 3600.0, 1.0) << "two need tokens, one is there";
  EXPECT_EQ(q.pop(t0)->domain, "ari.example");
  EXPECT_EQ(q.tokens(), 1.0) << "it spent nothing";
  EXPECT_EQ(q.pop(t0)->domain, "plain.example");
  EXPECT_FALSE(q.pop(t0)) << "the budget of one is spent";
  queue::order again = renewal("ari2.example", from_unix_us(9));
  again.ari_renewal = true;
  q.push(again);
  EXPECT_EQ(*q.retry_at(t0), t0) << "an ARI renewal may start at once";
  EXPECT_EQ(q.pop(t0)->domain, "ari2.example") << "even with the budget spent";
  for (int i = 0; i < 6; ++i) {  // and past the five-a-week limit of one name
    q.finished("ari2.example", issued, t0);
    q.push(again);
    ASSERT_TRUE(q.pop(t0)) << i;
  }
}

TEST(order_queue, the_end_of_an_order_is_read_as_the_ca_meant_it) {
  using outcome = order_end::outcome;
  EXPECT_EQ(order_end_of(true, {}, t0).what, outcome::issued);
  EXPECT_EQ(order_end_of(false, {error_kind::server_internal, "503"}, t0).what, outcome::failed);
  EXPECT_EQ(order_end_of(false, {error_kind::unauthorized, "404 for the token"}, t0).what,
            outcome::authorization_failed);
  const order_end limited = order_end_of(
      false, {error_kind::rate_limited, "too many failed authorizations (5)", true, 600s}, t0);
  EXPECT_EQ(limited.what, outcome::rate_limited);
  EXPECT_EQ(limited.scope, limit_scope::hostname_failures);
  EXPECT_EQ(limited.until, t0 + 600s);
  EXPECT_EQ(order_end_of(false, {error_kind::rate_limited, "x", true, 24h * 7}, t0).until, t0 + 12h)
      << "capped at the seed's 12 hours";
  EXPECT_EQ(order_end_of(false, {error_kind::rate_limited, "x"}, t0).until, t0 + 60s);
}

TEST(order_queue, new_orders_spend_the_budget_and_wait_for_refill) {
  queue q({3, 3h}, 100, t0);  // one token per hour
  for (int i = 0; i < 4; ++i) q.push(fresh("d" + std::to_string(i)));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(q.pop(t0)) << i;
  EXPECT_FALSE(q.pop(t0)) << "the budget of 3 is spent";
  auto again = q.retry_at(t0);
  ASSERT_TRUE(again);
  EXPECT_NEAR(std::chrono::duration<double>(*again - t0).count(), 3600.0, 1.0);
  EXPECT_FALSE(q.pop(t0 + 59min));
  EXPECT_TRUE(q.pop(t0 + 61min));
}

// Issue #18: at Let's Encrypt only ARI renewals are exempt from the new-order limit; with
// renewals exempt, 100k domains on 45-day certificates would send ~420 orders per 3 h.
TEST(order_queue, renewals_spend_the_budget_too) {
  queue q({2, 3h}, 100, t0);
  for (int i = 0; i < 3; ++i) q.push(renewal("r" + std::to_string(i), from_unix_us(5)));
  q.push(fresh("a"));
  EXPECT_EQ(q.pop(t0)->domain, "r0");
  EXPECT_EQ(q.pop(t0)->domain, "r1");
  EXPECT_FALSE(q.pop(t0)) << "two renewals spent the budget of two";
  EXPECT_EQ(q.waiting(), 2u);
  EXPECT_NEAR(q.backlog(t0).count(), 2 * 5400.0, 1.0) << "two more orders, one per 90 min";
}

TEST(order_queue, rate_limited_pauses_every_order_until_retry_after) {
  queue q({300, 3h}, 10, t0);
  q.push(renewal("r", from_unix_us(5)));
  q.push(fresh("n"));
  q.pause_until(t0 + 120s);
  EXPECT_FALSE(q.pop(t0 + 119s));
  EXPECT_EQ(*q.retry_at(t0), t0 + 120s);
  EXPECT_TRUE(q.pop(t0 + 120s));
}

TEST(order_queue, drain_returns_and_forgets_everything_waiting) {
  queue q({300, 3h}, 1, t0);
  q.push(fresh("a", 1));
  q.push(fresh("b", 2));
  auto all = q.drain();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].payload, 1);
  EXPECT_EQ(q.waiting(), 0u);
  EXPECT_FALSE(q.pop(t0));
}

TEST(order_queue, a_domain_that_asks_again_keeps_one_entry_and_its_place) {
  // Checked against push() inserting a second entry (the old multiset): pops "a" twice.
  queue q({2, 3h}, 10, t0);
  q.push(fresh("a", 1));
  q.push(fresh("b", 2));
  q.push(fresh("a", 3));  // e.g. a retry while "a" waits: its latest payload wins
  EXPECT_EQ(q.waiting(), 2u);
  auto first = q.pop(t0);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->domain, "a");
  EXPECT_EQ(first->payload, 3);
  EXPECT_EQ(q.pop(t0)->domain, "b");
  EXPECT_FALSE(q.pop(t0 + 1s)) << "two tokens, two distinct domains";
  // Once started, the domain may queue again (its next attempt).
  q.push(fresh("a", 4));
  EXPECT_EQ(q.waiting(), 1u);
}

TEST(order_queue, the_time_to_full_restores_a_spent_budget) {
  queue q({3, 3h}, 100, t0);  // one token per hour
  EXPECT_EQ(q.time_to_full(t0).count(), 0.0);
  for (int i = 0; i < 3; ++i) q.push(fresh("d" + std::to_string(i)));
  while (q.pop(t0)) {
  }
  EXPECT_NEAR(q.time_to_full(t0 + 30min).count(), 2.5 * 3600, 1.0);

  queue restarted({3, 3h}, 100, t0 + 30min);
  restarted.restore_time_to_full(q.time_to_full(t0 + 30min), t0 + 30min);
  restarted.push(fresh("x"));
  EXPECT_FALSE(restarted.pop(t0 + 59min)) << "half a token left: the budget stays spent";
  EXPECT_TRUE(restarted.pop(t0 + 61min));
  restarted.restore_time_to_full(std::chrono::hours(100), t0);
  EXPECT_EQ(restarted.tokens(), 0.0) << "clamped";
}

TEST(order_queue, backlog_is_the_wait_of_the_last_order_at_the_budget) {
  queue q({300, 3h}, 16, t0);  // a token every 36 s
  EXPECT_EQ(q.backlog(t0).count(), 0.0);
  for (int i = 0; i < 1000; ++i) q.push(fresh("n" + std::to_string(i)));
  q.push(renewal("r", from_unix_us(5)));
  EXPECT_EQ(q.waiting_new(), 1000u);
  EXPECT_EQ(q.waiting(), 1001u);
  // 300 start now; the last of the 1001 needs 701 more tokens: 701 x 36 s.
  EXPECT_NEAR(q.backlog(t0).count(), 701 * 36.0, 0.5);
  q.pause_until(t0 + 1h);
  EXPECT_NEAR(q.backlog(t0).count(), 3600 + 701 * 36.0, 0.5) << "a pause comes first";
  q.cancel("n0");
  q.push(renewal("n1", from_unix_us(9)));  // got a certificate meanwhile: now a renewal
  EXPECT_EQ(q.waiting_new(), 998u);
}

TEST(order_queue, cancel_drops_only_the_waiting_entry_of_that_domain) {
  queue q({300, 3h}, 10, t0);
  q.push(fresh("a"));
  q.push(fresh("b"));
  EXPECT_TRUE(q.cancel("a"));
  EXPECT_FALSE(q.cancel("a"));
  EXPECT_FALSE(q.cancel("unknown"));
  EXPECT_EQ(q.pop(t0)->domain, "b");
  EXPECT_FALSE(q.pop(t0));
  q.push(fresh("a"));
  EXPECT_EQ(q.pop(t0)->domain, "a") << "a cancelled domain can queue again";
}

// ---- the CA's scoped limits (issue #18) ----------------------------------------------

// Checked against held_until() ignoring the limits: the 51st name of one registered domain
// starts, and Let's Encrypt refuses it.
TEST(order_queue, the_51st_new_name_of_a_registered_domain_waits_and_others_go_on) {
  queue q({1000, 1h}, 100, t0, lets_encrypt_limits());
  for (int i = 0; i < 51; ++i)
    q.push(fresh_under("n" + std::to_string(i) + ".shop.test", "shop.test"));
  q.push(fresh_under("other.test", "other.test"));
  q.push(renewal_under("old.shop.test", "shop.test"));
  std::vector<std::string> started;
  while (auto o = q.pop(t0)) started.push_back(o->domain);
  // The last token of the 50 waits out the CA's lag (it counts at issuance, up to 30 min on).
  ASSERT_EQ(started.size(), 51u) << "49 new of shop.test, its renewal, and other.test";
  EXPECT_EQ(started.front(), "old.shop.test") << "renewals are exempt and go first";
  EXPECT_EQ(started.back(), "other.test") << "the held names do not block the queue";
  EXPECT_EQ(q.held(), 2u);
  EXPECT_EQ(q.pop(t0 + 30min)->domain, "n49.shop.test");
  EXPECT_FALSE(q.pop(t0 + 30min));
  // One certificate per 7 days / 50 = 201.6 minutes refills, plus the CA's lag.
  auto again = q.retry_at(t0 + 30min);
  ASSERT_TRUE(again);
  EXPECT_NEAR(std::chrono::duration<double>(*again - t0).count(), 7 * 86400.0 / 50 + 1800, 1.0);
  EXPECT_FALSE(q.pop(*again - 1s));
  EXPECT_EQ(q.pop(*again)->domain, "n50.shop.test");
}

TEST(order_queue, a_failed_order_gives_its_certificate_tokens_back) {
  queue q({1000, 1h}, 100, t0, lets_encrypt_limits());
  for (int i = 0; i < 50; ++i) q.push(fresh_under("n" + std::to_string(i), "shop.test"));
  while (auto o = q.pop(t0)) q.finished(o->domain, failed, t0);
  q.push(fresh_under("late", "shop.test"));
  EXPECT_TRUE(q.pop(t0)) << "50 orders failed: no certificate was counted";
}

// Checked against spend_certificate_tokens() skipping name_set: a sixth order of one name.
TEST(order_queue, one_name_gets_at_most_five_certificates_a_week) {
  queue q({1000, 1h}, 100, t0, lets_encrypt_limits());
  auto now = t0;
  for (int i = 0; i < 5; ++i) {
    q.push(renewal("same.test", from_unix_us(5)));
    auto o = q.pop(now);
    ASSERT_TRUE(o) << i;
    q.finished(o->domain, issued, now);
    now += 10min;  // the CA's 30-minute lag leaves the fifth until t0 + 30 min
  }
  q.push(renewal("same.test", from_unix_us(5)));
  EXPECT_FALSE(q.pop(now)) << "a sixth certificate for the same name within a week";
  EXPECT_EQ(q.held(), 1u);
  const auto refill = std::chrono::minutes(7 * 24 * 60) / 5;  // one token per 33.6 h
  EXPECT_FALSE(q.pop(t0 + refill)) << "the CA may count the fifth up to 30 min late";
  EXPECT_TRUE(q.pop(t0 + refill + 30min));
}

// Checked against finished() not spending a failure token: the sixth failure in an hour.
TEST(order_queue, five_failed_authorizations_hold_that_hostname_only) {
  queue q({1000, 1h}, 100, t0, lets_encrypt_limits());
  auto now = t0;
  for (int i = 0; i < 5; ++i) {
    q.push(fresh("broken.test"));
    auto o = q.pop(now);
    ASSERT_TRUE(o) << i;
    q.finished(o->domain, authorization_failed, now);
    now += 1min;
  }
  q.push(fresh("broken.test"));
  q.push(fresh("healthy.test"));
  EXPECT_EQ(q.pop(now)->domain, "healthy.test");
  EXPECT_FALSE(q.pop(now));
  // The first failure's token is back 12 minutes after it was spent.
  EXPECT_EQ(*q.retry_at(now), t0 + 12min);
  EXPECT_EQ(q.pop(t0 + 12min)->domain, "broken.test");
}

TEST(order_queue, a_rate_limit_of_a_registered_domain_holds_only_its_names) {
  queue q({1000, 1h}, 100, t0, lets_encrypt_limits());
  q.push(fresh_under("a.shop.test", "shop.test"));
  auto a = q.pop(t0);
  ASSERT_TRUE(a);
  q.finished(a->domain, rate_limited(limit_scope::registered_domain, t0 + 2h), t0);
  q.push(fresh_under("b.shop.test", "shop.test"));
  q.push(fresh_under("c.other.test", "other.test"));
  EXPECT_EQ(q.pop(t0)->domain, "c.other.test");
  EXPECT_FALSE(q.pop(t0 + 119min));
  EXPECT_EQ(q.pop(t0 + 2h)->domain, "b.shop.test");
}

TEST(order_queue, a_rate_limit_of_the_account_or_an_unknown_scope_pauses_everything) {
  for (const queue::steady_time::duration pause : {1h, 2h}) {
    queue q({1000, 1h}, 100, t0);  // no scoped limits configured (e.g. pebble)
    q.push(fresh("a"));
    auto a = q.pop(t0);
    ASSERT_TRUE(a);
    const limit_scope scope = pause == 1h ? limit_scope::account : limit_scope::registered_domain;
    q.finished(a->domain, rate_limited(scope, t0 + pause), t0);
    q.push(fresh("b"));
    EXPECT_FALSE(q.pop(t0 + pause - 1s)) << scope_name(scope);
    EXPECT_TRUE(q.pop(t0 + pause)) << scope_name(scope);
  }
}

// A domain whose attempt timed out can ask again while its first order still runs.
TEST(order_queue, never_two_orders_for_one_domain_at_once) {
  queue q({1000, 1h}, 100, t0);
  q.push(fresh("a"));
  ASSERT_TRUE(q.pop(t0));
  q.push(fresh("a"));
  q.push(fresh("b"));
  EXPECT_EQ(q.pop(t0)->domain, "b");
  EXPECT_FALSE(q.pop(t0)) << "a's first order is still in flight";
  EXPECT_FALSE(q.retry_at(t0)) << "only its end can help";
  q.finished("a", failed, t0);
  EXPECT_EQ(q.pop(t0)->domain, "a");
}

TEST(order_queue, held_entries_count_as_waiting_and_can_be_cancelled_or_drained) {
  queue q({1000, 1h}, 100, t0, lets_encrypt_limits());
  for (int i = 0; i < 52; ++i) q.push(fresh_under("n" + std::to_string(i), "shop.test"));
  while (q.pop(t0)) {
  }
  EXPECT_EQ(q.held(), 3u) << "the 50th waits out the CA's lag, two more a refill";
  EXPECT_EQ(q.waiting(), 3u);
  EXPECT_EQ(q.waiting_new(), 3u);
  EXPECT_NEAR(q.backlog(t0).count(), 1800, 1.0) << "the hold, not the budget";
  EXPECT_TRUE(q.cancel("n50"));
  q.push(fresh_under("n51", "shop.test"));  // asks again while held: still one entry
  EXPECT_EQ(q.waiting(), 2u);
  EXPECT_EQ(q.drain().size(), 2u);
  EXPECT_EQ(q.waiting_new(), 0u);
}

// The status page shows a queued domain's place: the next order to start is 1.
TEST(order_queue, a_waiting_domain_knows_its_place) {
  queue q({1, 3h}, 10, t0);
  q.push(fresh("new1"));
  q.push(fresh("new2"));
  q.push(renewal("soon", from_unix_us(1'000'000)));
  EXPECT_EQ(q.place_of("soon"), 1u) << "renewals first";
  EXPECT_EQ(q.place_of("new1"), 2u);
  EXPECT_EQ(q.place_of("new2"), 3u);
  EXPECT_FALSE(q.place_of("unknown"));
  EXPECT_EQ(q.pop(t0)->domain, "soon");  // the one token
  EXPECT_FALSE(q.place_of("soon")) << "in flight, not waiting";
  EXPECT_EQ(q.place_of("new1"), 1u);

  queue limited({1000, 1h}, 100, t0, lets_encrypt_limits());
  for (int i = 0; i < 52; ++i) limited.push(fresh_under("n" + std::to_string(i), "shop.test"));
  while (limited.pop(t0)) {
  }
  EXPECT_EQ(limited.place_of("n51"), 0u) << "held by the registered domain's limit";
}

}  // namespace
}  // namespace certfleet::actors
