// The rules that protect the CA, without actors or a clock.
#include "actors/order_queue.hpp"

#include <gtest/gtest.h>

namespace certfleet::actors {
namespace {

using namespace std::chrono_literals;
using queue = order_queue<int>;
const queue::steady_time t0{std::chrono::hours(1000)};

queue::order fresh(std::string name, int id = 0) { return {std::move(name), false, {}, id}; }
queue::order renewal(std::string name, timestamp not_after, int id = 0) {
  return {std::move(name), true, not_after, id};
}

TEST(order_queue, caps_orders_in_flight_and_frees_a_slot_on_finish) {
  queue q({300, 3h}, 2, t0);
  for (int i = 0; i < 3; ++i) q.push(fresh("d" + std::to_string(i)));
  EXPECT_TRUE(q.pop(t0));
  EXPECT_TRUE(q.pop(t0));
  EXPECT_FALSE(q.pop(t0)) << "a third order would exceed orders_in_flight";
  EXPECT_FALSE(q.retry_at(t0)) << "only a finished order can help";
  q.finished();
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

}  // namespace
}  // namespace certfleet::actors
