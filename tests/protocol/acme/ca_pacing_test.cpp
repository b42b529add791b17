// ca_pacing on a plain io_context: poll waits end at their delay, or early only once a
// fifth of it is left; the gate lets one holder through at a time, first come first
// served; coroutines destroyed while waiting leave nothing behind.
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "protocol/acme/ca_pacing.hpp"

namespace certfleet::protocol {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;

// Runs `io` until it has no work, at most `limit` (a hung test fails, never blocks).
void run_bounded(asio::io_context& io, std::chrono::milliseconds limit = 5000ms) {
  io.run_for(limit);
  ASSERT_TRUE(io.stopped()) << "work left after " << limit.count() << " ms";
}

asio::awaitable<void> timed_poll(std::shared_ptr<ca_pacing> pacing, std::chrono::milliseconds delay,
                                 clock::duration& took) {
  const auto start = clock::now();
  co_await ca_pacing::poll_wait(pacing, delay);
  took = clock::now() - start;
}

asio::awaitable<void> wake_after(std::shared_ptr<ca_pacing> pacing,
                                 std::chrono::milliseconds when) {
  asio::steady_timer t(co_await asio::this_coro::executor, when);
  co_await t.async_wait(asio::use_awaitable);
  pacing->wake_due();
}

TEST(ca_pacing, a_poll_wait_nothing_wakes_lasts_its_delay) {
  asio::io_context io;
  auto pacing = std::make_shared<ca_pacing>();
  clock::duration took{};
  asio::co_spawn(io, timed_poll(pacing, 100ms, took), asio::detached);
  run_bounded(io);
  EXPECT_GE(took, 100ms);
  EXPECT_EQ(pacing->polls_waiting(), 0u);
}

TEST(ca_pacing, a_wake_up_ends_a_poll_wait_only_in_its_last_fifth) {
  asio::io_context io;
  auto pacing = std::make_shared<ca_pacing>();
  clock::duration took{};
  asio::co_spawn(io, timed_poll(pacing, 1000ms, took), asio::detached);
  asio::co_spawn(io, wake_after(pacing, 100ms), asio::detached);  // too early: ignored
  asio::co_spawn(io, wake_after(pacing, 850ms), asio::detached);  // in the last fifth
  run_bounded(io);
  EXPECT_GE(took, 800ms);
  EXPECT_LT(took, 980ms) << "ended by the wake-up at 850 ms, not by its timer at 1000";
}

asio::awaitable<void> hold_gate(std::shared_ptr<ca_pacing> pacing, std::string name,
                                std::vector<std::string>& log) {
  auto pass = co_await ca_pacing::enter_gate(pacing);
  log.push_back(name + " in");
  asio::steady_timer t(co_await asio::this_coro::executor, 20ms);
  co_await t.async_wait(asio::use_awaitable);
  log.push_back(name + " out");
}

TEST(ca_pacing, the_gate_lets_one_through_at_a_time_in_arrival_order) {
  asio::io_context io;
  auto pacing = std::make_shared<ca_pacing>();
  std::vector<std::string> log;
  for (const char* name : {"a", "b", "c"})
    asio::co_spawn(io, hold_gate(pacing, name, log), asio::detached);
  run_bounded(io);
  EXPECT_EQ(log, (std::vector<std::string>{"a in", "a out", "b in", "b out", "c in", "c out"}));
  // Free again: a new holder gets through at once.
  asio::io_context again;
  asio::co_spawn(again, hold_gate(pacing, "d", log), asio::detached);
  run_bounded(again);
  EXPECT_EQ(log.back(), "d out");
}

TEST(ca_pacing, coroutines_destroyed_while_waiting_leave_nothing_behind) {
  auto pacing = std::make_shared<ca_pacing>();
  std::vector<std::string> log;
  {
    asio::io_context io;
    clock::duration took{};
    asio::co_spawn(io, timed_poll(pacing, 10s, took), asio::detached);
    asio::co_spawn(io, hold_gate(pacing, "holder", log), asio::detached);
    asio::co_spawn(io, hold_gate(pacing, "queued", log), asio::detached);
    io.run_for(5ms);  // all three suspended: one poll, the holder in, one queued
    EXPECT_EQ(pacing->polls_waiting(), 1u);
    EXPECT_EQ(log, std::vector<std::string>{"holder in"});
  }  // the io_context destroys the suspended coroutines
  EXPECT_EQ(pacing->polls_waiting(), 0u);
  asio::io_context io;
  asio::co_spawn(io, hold_gate(pacing, "next", log), asio::detached);
  run_bounded(io);
  EXPECT_EQ(log.back(), "next out") << "the gate is free again";
}

}  // namespace
}  // namespace certfleet::protocol
