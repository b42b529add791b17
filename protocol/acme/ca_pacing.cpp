#include "protocol/acme/ca_pacing.hpp"

#include <algorithm>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace certfleet::protocol {

namespace asio = boost::asio;
using clock = std::chrono::steady_clock;

asio::awaitable<void> ca_pacing::poll_wait(std::shared_ptr<ca_pacing> self,
                                           std::chrono::milliseconds delay) {
  const auto now = clock::now();
  asio::steady_timer timer(co_await asio::this_coro::executor, now + delay);
  waiting_poll me{&timer};
  // Listed while waiting; unlisted however the wait ends (expiry, wake_due, or the
  // coroutine destroyed while suspended).
  struct listing {
    ca_pacing& pacing;
    decltype(polls_)::iterator entry;
    ~listing() { pacing.polls_.erase(entry); }
  } listed{*self, self->polls_.emplace(now + delay - delay / 5, &me)};
  boost::system::error_code woken_early;  // operation_aborted
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, woken_early));
}

void ca_pacing::wake_due() {
  const auto now = clock::now();
  for (auto it = polls_.begin(); it != polls_.end() && it->first <= now; ++it) {
    if (it->second->woken) continue;  // its coroutine has not run yet
    it->second->woken = true;
    it->second->timer->cancel();
  }
}

asio::awaitable<ca_pacing::gate_pass> ca_pacing::enter_gate(std::shared_ptr<ca_pacing> self) {
  if (!self->gate_taken_) {
    self->gate_taken_ = true;
    co_return gate_pass(self);
  }
  asio::steady_timer turn(co_await asio::this_coro::executor, clock::time_point::max());
  gate_waiter me{&turn};
  self->gate_queue_.push_back(&me);
  // If the coroutine is destroyed while waiting: leave the queue, or pass on the gate
  // it was handed and never took.
  struct queued {
    ca_pacing& pacing;
    gate_waiter& me;
    ~queued() {
      if (!me.handed) {
        auto& q = pacing.gate_queue_;
        q.erase(std::remove(q.begin(), q.end(), &me), q.end());
      } else if (!me.passed) {
        pacing.leave_gate();
      }
    }
  } in_queue{*self, me};
  boost::system::error_code handed_over;  // operation_aborted
  co_await turn.async_wait(asio::redirect_error(asio::use_awaitable, handed_over));
  me.passed = true;
  co_return gate_pass(self);
}

void ca_pacing::leave_gate() {
  if (gate_queue_.empty()) {
    gate_taken_ = false;
    return;
  }
  gate_waiter* next = gate_queue_.front();
  gate_queue_.pop_front();
  next->handed = true;  // the gate stays taken: it passes to that waiter
  next->turn->cancel();
}

ca_pacing::gate_pass::~gate_pass() {
  if (pacing_) pacing_->leave_gate();
}

}  // namespace certfleet::protocol
