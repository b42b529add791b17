#pragma once
// When the ACME client's requests go out to the CA:
//
// - Poll waits that may end early. A poll (of a challenge or an order) waits its
//   delay, but once a fifth of it is left it also ends when an answer from the CA has
//   woken the thread anyway: the poll then goes out in that wake-up instead of one of
//   its own. On this 2-core machine a wake-up of an idle process costs about as much
//   CPU as the work it does (bench/analysis.md).
// - A gate for new orders and authorization fetches: one of them at a time. Pebble
//   2.4 deadlocks when it handles a new order and an authorization fetch at once
//   while a write to its store is pending (bench/analysis.md has the goroutine dump),
//   and the tests and benchmarks run against pebble. With Let's Encrypt's order rate
//   limits a gate of one round trip per step costs no throughput.
//
// Coroutines waiting here hold the pacing by shared_ptr, so it outlives the client
// when the io_context destroys them after the client is gone. One thread only.

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <map>
#include <memory>

namespace certfleet::protocol {

class ca_pacing {
 public:
  /// Holds the gate until destroyed (or moved from).
  class gate_pass {
   public:
    gate_pass() = default;
    explicit gate_pass(std::shared_ptr<ca_pacing> pacing) : pacing_(std::move(pacing)) {}
    gate_pass(gate_pass&&) noexcept = default;
    gate_pass& operator=(gate_pass&&) = delete;
    ~gate_pass();

   private:
    std::shared_ptr<ca_pacing> pacing_;
  };

  /// Waits `delay`, or less once only a fifth of it is left and wake_due() is called.
  static boost::asio::awaitable<void> poll_wait(std::shared_ptr<ca_pacing> self,
                                                std::chrono::milliseconds delay);
  /// Ends the poll waits whose earliest acceptable time has come. Call after each answer.
  void wake_due();

  /// Waits for the gate (first come, first served).
  static boost::asio::awaitable<gate_pass> enter_gate(std::shared_ptr<ca_pacing> self);

  std::size_t polls_waiting() const { return polls_.size(); }

 private:
  struct waiting_poll {
    boost::asio::steady_timer* timer;
    bool woken = false;
  };
  struct gate_waiter {
    boost::asio::steady_timer* turn;  // cancelled to hand the gate over
    bool handed = false;              // leave_gate chose it
    bool passed = false;              // it resumed and holds a gate_pass
  };
  void leave_gate();

  /// By earliest acceptable time: the delay less a fifth.
  std::multimap<std::chrono::steady_clock::time_point, waiting_poll*> polls_;
  bool gate_taken_ = false;
  std::deque<gate_waiter*> gate_queue_;  // handed the gate in this order
};

}  // namespace certfleet::protocol
