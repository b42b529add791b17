#pragma once
// Which ACME order may start now. Pure (no CAF, no clock reads), so the CA-protecting
// rules are unit-tested directly:
//   - at most `max_in_flight` orders run at once;
//   - every order spends a token-bucket budget (`orders` per `per`): Let's Encrypt counts
//     renewals against its new-order limit too (only ARI renewals are exempt, and certfleet
//     does not send those yet);
//   - a rateLimited answer pauses every order until its Retry-After;
//   - when the budget is short, renewals go first, soonest expiry first (an expiring
//     certificate hurts more than a new domain that waits), then new domains, first come;
//   - one waiting entry per domain: a domain that asks again (a retry, a re-check while it
//     waits) updates its entry and keeps its place, so the budget is never spent twice on
//     one name (which would also count against the CA's duplicate-certificate limit).

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/order_budget.hpp"
#include "core/time.hpp"

namespace certfleet::actors {

template <class Payload>
class order_queue {
 public:
  using steady_time = std::chrono::steady_clock::time_point;

  struct order {
    std::string domain;
    bool has_cert = false;
    timestamp cert_not_after{};
    Payload payload{};
  };

  order_queue(order_budget budget, std::uint32_t max_in_flight, steady_time now)
      : budget_(budget), max_in_flight_(max_in_flight), tokens_(budget.orders), tokens_at_(now) {}

  /// Queues `o`, or updates the waiting entry of the same domain in place (its place in
  /// the queue is kept when its certificate's expiry is unchanged).
  void push(order o) {
    auto found = index_.find(o.domain);
    std::uint64_t seq = next_seq_++;
    if (found != index_.end()) {
      seq = found->second->seq;
      erase(found->second);
    }
    auto it = waiting_.insert(entry{std::move(o), seq}).first;
    index_.emplace(it->o.domain, it);
    if (!it->o.has_cert) ++waiting_new_;
  }

  /// Drops the waiting entry of `domain` (retired, or no longer wants an order); true when
  /// there was one. An order already started is not affected.
  bool cancel(std::string_view domain) {
    auto found = index_.find(domain);
    if (found == index_.end()) return false;
    erase(found->second);
    return true;
  }

  /// The next order allowed to start at `now`, counted as in flight; nullopt when
  /// none may start (see retry_at for when to ask again).
  std::optional<order> pop(steady_time now) {
    if (waiting_.empty() || in_flight_ >= max_in_flight_ || now < paused_until_)
      return std::nullopt;
    refill(now);
    if (tokens_ < 1.0) return std::nullopt;
    tokens_ -= 1.0;
    auto it = waiting_.begin();
    order o = it->o;
    erase(it);
    ++in_flight_;
    return o;
  }

  /// An order started by pop() has ended.
  void finished() {
    if (in_flight_ > 0) --in_flight_;
  }

  /// The CA said rateLimited: no order starts before `until`.
  void pause_until(steady_time until) { paused_until_ = std::max(paused_until_, until); }

  /// When pop() may succeed again although it returned nullopt now; nullopt when only
  /// a finished() (a free slot) can help, or nothing waits.
  std::optional<steady_time> retry_at(steady_time now) {
    if (waiting_.empty() || in_flight_ >= max_in_flight_) return std::nullopt;
    if (now < paused_until_) return paused_until_;
    refill(now);
    if (tokens_ >= 1.0) return now;
    const double seconds = (1.0 - tokens_) / rate();
    return now + std::chrono::duration_cast<steady_time::duration>(
                     std::chrono::duration<double>(seconds));
  }

  /// Removes and returns every waiting order (e.g. to fail them all).
  std::vector<order> drain() {
    std::vector<order> out;
    for (const auto& e : waiting_) out.push_back(e.o);
    index_.clear();
    waiting_.clear();
    waiting_new_ = 0;
    return out;
  }

  void reconfigure(order_budget budget, std::uint32_t max_in_flight, steady_time now) {
    refill(now);
    budget_ = budget;
    max_in_flight_ = max_in_flight;
    tokens_ = std::min<double>(tokens_, budget.orders);
  }

  /// How long until the budget is full again (zero when it is): what a restart must not
  /// forget, or every restart would hand out a fresh budget.
  std::chrono::duration<double> time_to_full(steady_time now) {
    refill(now);
    return std::chrono::duration<double>((budget_.orders - tokens_) / rate());
  }
  /// Restores the budget a stored time_to_full describes (clamped to the budget's size).
  void restore_time_to_full(std::chrono::duration<double> d, steady_time now) {
    refill(now);
    tokens_ = std::clamp(budget_.orders - std::max(d.count(), 0.0) * rate(), 0.0,
                         static_cast<double>(budget_.orders));
  }

  /// How long until the last order waiting may start, at the budget and after a pause (the
  /// in-flight cap is left out: it frees as orders end). Zero when all may start now.
  std::chrono::duration<double> backlog(steady_time now) {
    refill(now);
    const std::chrono::duration<double> pause = paused_for(now);
    const double short_by = static_cast<double>(waiting_.size()) - tokens_;
    if (short_by <= 0) return pause;
    return pause + std::chrono::duration<double>(short_by / rate());
  }
  /// Left of a rateLimited pause at `now` (zero when none).
  steady_time::duration paused_for(steady_time now) const {
    return now < paused_until_ ? paused_until_ - now : steady_time::duration::zero();
  }

  std::size_t waiting() const { return waiting_.size(); }
  std::size_t waiting_new() const { return waiting_new_; }
  std::uint32_t max_in_flight() const { return max_in_flight_; }
  const order_budget& budget() const { return budget_; }
  std::uint32_t in_flight() const { return in_flight_; }
  double tokens() const { return tokens_; }

 private:
  struct entry {
    order o;
    std::uint64_t seq;
    bool operator<(const entry& other) const {
      if (o.has_cert != other.o.has_cert) return o.has_cert;  // renewals first
      if (o.cert_not_after != other.o.cert_not_after)
        return o.cert_not_after < other.o.cert_not_after;
      return seq < other.seq;
    }
  };

  using entries = std::set<entry>;

  // The index holds a view of the domain name inside the entry: erase it first.
  void erase(typename entries::iterator it) {
    if (!it->o.has_cert) --waiting_new_;
    index_.erase(std::string_view(it->o.domain));
    waiting_.erase(it);
  }

  double rate() const {
    return static_cast<double>(budget_.orders) /
           static_cast<double>(std::max<long>(1, budget_.per.count()));
  }
  void refill(steady_time now) {
    const double elapsed = std::chrono::duration<double>(now - tokens_at_).count();
    if (elapsed > 0) tokens_ = std::min<double>(budget_.orders, tokens_ + elapsed * rate());
    tokens_at_ = now;
  }

  order_budget budget_;
  std::uint32_t max_in_flight_;
  double tokens_;
  steady_time tokens_at_;
  steady_time paused_until_{};
  std::uint32_t in_flight_ = 0;
  std::uint64_t next_seq_ = 0;
  entries waiting_;              ///< seq is unique, so a set
  std::size_t waiting_new_ = 0;  ///< entries without a certificate
  std::unordered_map<std::string_view, typename entries::iterator> index_;  ///< by domain
};

}  // namespace certfleet::actors
