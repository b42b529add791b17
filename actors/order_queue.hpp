#pragma once
// Which ACME order may start now. Pure (no CAF, no clock reads), so the CA-protecting
// rules are unit-tested directly and the fleet simulator runs the same code:
//   - at most `max_in_flight` orders run at once, and never two for one domain;
//   - every order spends the account's token-bucket budget (`orders` per `per`): Let's
//     Encrypt counts renewals against its new-order limit too (only ARI renewals are
//     exempt, and certfleet does not send those yet);
//   - the CA's scoped limits (ca_limits.hpp: per registered domain, per name set, failed
//     authorizations per hostname) are spent ahead of time: an order that would break one
//     is held until its bucket refills, and the orders behind it go on;
//   - a rateLimited answer pauses only its scope: every order for the account, or just the
//     registered domain or the name it names;
//   - when the budget is short, renewals go first, soonest expiry first (an expiring
//     certificate hurts more than a new domain that waits), then new domains, first come;
//     within each, domains whose last attempt failed go after the others, so names that
//     keep failing (broken DNS, a firewall in front of the CA) never spend the budget of
//     healthy ones;
//   - an ARI renewal (an order that `replaces` a certificate inside the CA's suggested
//     window) spends nothing and goes first: Let's Encrypt exempts it from every limit;
//   - one waiting entry per domain: a domain that asks again (a retry, a re-check while it
//     waits) updates its entry and keeps its place, so the budget is never spent twice on
//     one name (which would also count against the CA's duplicate-certificate limit).

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "actors/ca_limits.hpp"
#include "core/order_budget.hpp"
#include "core/time.hpp"

namespace certfleet::actors {

/// How an order that pop() started ended, for its scoped limits.
struct order_end {
  enum class outcome : std::uint8_t {
    issued,                ///< a certificate: the scoped tokens stay spent
    failed,                ///< no certificate: the certificate tokens come back
    authorization_failed,  ///< the CA could not validate the name: spends a failure token
    rate_limited,          ///< the CA said no: `scope` is paused until `until`
  } what = outcome::failed;
  limit_scope scope = limit_scope::account;
  std::chrono::steady_clock::time_point until{};
};

/// How an order ended as the ACME service tells the queue: `ok`, or failed with `e` at `now`.
/// A rateLimited answer pauses the scope its detail names for its Retry-After (a minute when
/// it gives none), at most the seed's 12 hours between retries.
inline order_end order_end_of(bool ok, const error& e, std::chrono::steady_clock::time_point now) {
  using outcome = order_end::outcome;
  if (ok) return {outcome::issued};
  if (e.kind == error_kind::rate_limited) {
    const auto pause = std::min<std::chrono::seconds>(
        e.retry_after.value_or(std::chrono::seconds(60)), std::chrono::hours(12));
    return {outcome::rate_limited, scope_of_rate_limit(e.detail), now + pause};
  }
  if (counts_as_failed_authorization(e)) return {outcome::authorization_failed};
  return {outcome::failed};
}

template <class Payload>
class order_queue {
 public:
  using steady_time = std::chrono::steady_clock::time_point;

  struct order {
    std::string domain;
    std::string registered_domain;  ///< empty: the domain is its own
    bool has_cert = false;
    timestamp cert_not_after{};
    bool failing = false;  ///< the domain's last attempt failed
    /// Replaces a certificate inside its ARI window (RFC 9773 §5): exempt from the budget and
    /// the scoped limits, as at Let's Encrypt.
    bool ari_renewal = false;
    Payload payload{};
  };

  /// `limits` are the CA's scoped limits (lets_encrypt_limits(), or none); they must
  /// outlive the queue.
  order_queue(order_budget budget, std::uint32_t max_in_flight, steady_time now,
              std::span<const ca_limit> limits = {})
      : budget_(budget),
        max_in_flight_(max_in_flight),
        limits_(limits),
        tokens_(budget.orders),
        tokens_at_(now) {}

  /// Queues `o`, or updates the waiting entry of the same domain in place (its place in
  /// the queue is kept when its certificate's expiry is unchanged).
  void push(order o) {
    std::uint64_t seq = next_seq_++;
    if (auto found = index_.find(o.domain); found != index_.end()) {
      seq = found->second.seq;
      erase(found);
    }
    insert_waiting(entry{std::move(o), seq});
  }

  /// Drops the waiting entry of `domain` (retired, or no longer wants an order); true when
  /// there was one. An order already started is not affected.
  bool cancel(std::string_view domain) {
    auto found = index_.find(domain);
    if (found == index_.end()) return false;
    erase(found);
    return true;
  }

  /// The next order allowed to start at `now`, counted as in flight; nullopt when
  /// none may start (see retry_at for when to ask again).
  std::optional<order> pop(steady_time now) {
    if (in_flight_.size() >= max_in_flight_ || now < paused_until_) return std::nullopt;
    release_held(now);
    if (waiting_.empty()) return std::nullopt;
    refill(now);
    while (!waiting_.empty()) {
      auto it = waiting_.begin();
      // ARI renewals sort first: once one needs a token, so do all behind it.
      if (!it->o.ari_renewal && tokens_ < 1.0) return std::nullopt;
      if (auto until = held_until(it->o, now)) {
        hold(it, *until);
        continue;
      }
      if (!it->o.ari_renewal) {
        tokens_ -= 1.0;
        spend_certificate_tokens(it->o, now);
      }
      order o = it->o;
      erase(index_.find(o.domain));
      in_flight_.emplace(o.domain, in_flight_order{o.registered_domain, o.has_cert, o.ari_renewal});
      if (++pops_ % forget_every == 0) ledger_.forget_full(now);
      return o;
    }
    return std::nullopt;
  }

  /// The order of `domain` that pop() started has ended as `end` says.
  void finished(const std::string& domain, const order_end& end, steady_time now) {
    auto found = in_flight_.find(domain);
    if (found == in_flight_.end()) return;
    const in_flight_order ended = found->second;
    in_flight_.erase(found);
    using outcome = order_end::outcome;
    if (end.what != outcome::issued && !ended.ari_renewal)
      refund_certificate_tokens(domain, ended, now);
    if (end.what == outcome::authorization_failed) {
      for (const ca_limit& l : limits_)
        if (l.scope == limit_scope::hostname_failures) ledger_.spend(l, domain, now);
    }
    if (end.what == outcome::rate_limited) pause(domain, ended, end.scope, end.until);
    // A new entry of the same domain waited behind this order.
    if (auto waiting = index_.find(domain); waiting != index_.end() && waiting->second.held)
      unhold(waiting);
  }

  /// No order of the account starts before `until` (a rateLimited answer for the account).
  void pause_until(steady_time until) { paused_until_ = std::max(paused_until_, until); }

  /// When pop() may succeed again although it returned nullopt now; nullopt when only
  /// a finished() (a free slot) can help, or nothing waits.
  std::optional<steady_time> retry_at(steady_time now) {
    if (in_flight_.size() >= max_in_flight_) return std::nullopt;
    if (waiting_.empty() && held_.empty()) return std::nullopt;
    if (now < paused_until_) return paused_until_;
    refill(now);
    steady_time token_at = now;
    if (tokens_ < 1.0) token_at = now + to_duration((1.0 - tokens_) / rate());
    if (!waiting_.empty()) return waiting_.begin()->o.ari_renewal ? now : token_at;
    const steady_time first_release = held_.begin()->until;
    if (first_release == steady_time::max()) return std::nullopt;  // behind orders in flight
    return std::max(token_at, first_release);
  }

  /// Removes and returns every waiting order, held ones too (e.g. to fail them all).
  std::vector<order> drain() {
    std::vector<order> out;
    for (const auto& e : waiting_) out.push_back(e.o);
    for (const auto& h : held_) out.push_back(h.e.o);
    index_.clear();
    waiting_.clear();
    held_.clear();
    waiting_new_ = 0;
    waiting_ari_ = 0;
    return out;
  }

  void reconfigure(order_budget budget, std::uint32_t max_in_flight, steady_time now,
                   std::span<const ca_limit> limits = {}) {
    refill(now);
    budget_ = budget;
    max_in_flight_ = max_in_flight;
    limits_ = limits;
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

  /// How long until the last order waiting may start, at the budget, after a pause and
  /// after the scoped limits that hold some (the in-flight cap is left out: it frees as
  /// orders end). Zero when all may start now.
  std::chrono::duration<double> backlog(steady_time now) {
    refill(now);
    const std::chrono::duration<double> pause = paused_for(now);
    const double short_by = static_cast<double>(waiting() - waiting_ari_) - tokens_;
    std::chrono::duration<double> out = pause;
    if (short_by > 0) out += std::chrono::duration<double>(short_by / rate());
    for (auto it = held_.rbegin(); it != held_.rend(); ++it) {
      if (it->until == steady_time::max()) continue;
      if (it->until > now) out = std::max<std::chrono::duration<double>>(out, it->until - now);
      break;
    }
    return out;
  }
  /// Left of a rateLimited pause of the account at `now` (zero when none).
  steady_time::duration paused_for(steady_time now) const {
    return now < paused_until_ ? paused_until_ - now : steady_time::duration::zero();
  }

  /// Every waiting order, held ones included.
  std::size_t waiting() const { return waiting_.size() + held_.size(); }
  /// Waiting orders held by a scoped limit (or behind their domain's order in flight).
  std::size_t held() const { return held_.size(); }
  /// Where `domain` waits: 1 for the next order to start, 2 after it...; 0 when a scoped
  /// limit or a pause holds it; nullopt when it is not waiting. Linear in the orders ahead.
  std::optional<std::size_t> place_of(std::string_view domain) const {
    const auto found = index_.find(domain);
    if (found == index_.end()) return std::nullopt;
    if (found->second.held) return 0;
    return static_cast<std::size_t>(std::distance(waiting_.begin(), found->second.w)) + 1;
  }
  std::size_t waiting_new() const { return waiting_new_; }
  std::uint32_t max_in_flight() const { return max_in_flight_; }
  const order_budget& budget() const { return budget_; }
  std::uint32_t in_flight() const { return static_cast<std::uint32_t>(in_flight_.size()); }
  double tokens() const { return tokens_; }

 private:
  static constexpr std::uint64_t forget_every = 4096;  // pops between ledger clean-ups

  struct entry {
    order o;
    std::uint64_t seq;
    bool operator<(const entry& other) const {
      if (o.ari_renewal != other.o.ari_renewal) return o.ari_renewal;  // free ones first
      if (o.has_cert != other.o.has_cert) return o.has_cert;           // then renewals
      if (o.failing != other.o.failing) return other.o.failing;        // then those not failing
      if (o.cert_not_after != other.o.cert_not_after)
        return o.cert_not_after < other.o.cert_not_after;
      return seq < other.seq;
    }
  };
  struct held_entry {
    steady_time until;
    entry e;
    bool operator<(const held_entry& other) const {
      if (until != other.until) return until < other.until;
      return e.seq < other.e.seq;
    }
  };
  using entries = std::set<entry>;
  using held_entries = std::set<held_entry>;
  struct place {
    std::uint64_t seq;
    bool held;
    typename entries::iterator w;
    typename held_entries::iterator h;
  };
  using index = std::unordered_map<std::string_view, place>;
  struct in_flight_order {
    std::string registered_domain;
    bool has_cert;
    bool ari_renewal;  ///< spent nothing, so gets nothing back
  };

  static steady_time::duration to_duration(double seconds) {
    return std::chrono::duration_cast<steady_time::duration>(
        std::chrono::duration<double>(seconds));
  }
  static const std::string& registered_of(const std::string& domain,
                                          const std::string& registered) {
    return registered.empty() ? domain : registered;
  }
  static bool applies(const ca_limit& l, bool has_cert) { return l.renewals_count || !has_cert; }

  // The index holds a view of the domain name inside the entry: erase it first.
  void insert_waiting(entry e) {
    if (!e.o.has_cert) ++waiting_new_;
    if (e.o.ari_renewal) ++waiting_ari_;
    auto it = waiting_.insert(std::move(e)).first;
    index_.emplace(std::string_view(it->o.domain), place{it->seq, false, it, {}});
  }
  void erase(typename index::iterator found) {
    const place p = found->second;
    index_.erase(found);
    const entry& e = p.held ? p.h->e : *p.w;
    if (!e.o.has_cert) --waiting_new_;
    if (e.o.ari_renewal) --waiting_ari_;
    if (p.held)
      held_.erase(p.h);
    else
      waiting_.erase(p.w);
  }
  void hold(typename entries::iterator it, steady_time until) {
    entry e = *it;
    index_.erase(std::string_view(it->o.domain));
    waiting_.erase(it);
    auto h = held_.insert(held_entry{until, std::move(e)}).first;
    index_.emplace(std::string_view(h->e.o.domain), place{h->e.seq, true, {}, h});
  }
  void unhold(typename index::iterator found) {
    auto h = found->second.h;
    entry e = h->e;
    index_.erase(found);
    held_.erase(h);
    if (!e.o.has_cert) --waiting_new_;  // insert_waiting counts them again
    if (e.o.ari_renewal) --waiting_ari_;
    insert_waiting(std::move(e));
  }
  void release_held(steady_time now) {
    while (!held_.empty() && held_.begin()->until <= now)
      unhold(index_.find(std::string_view(held_.begin()->e.o.domain)));
  }

  // When the scoped limits let `o` start, if not now; max() while its domain has an
  // order in flight (finished() releases it).
  std::optional<steady_time> held_until(const order& o, steady_time now) const {
    if (in_flight_.count(o.domain)) return steady_time::max();
    if (o.ari_renewal) return std::nullopt;  // exempt from every limit
    steady_time latest = now;
    for (const ca_limit& l : limits_) {
      if (!applies(l, o.has_cert)) continue;
      latest = std::max(
          latest, ledger_.available_at(l, key_of(l.scope, o.domain, o.registered_domain), now));
    }
    if (latest > now) return latest;
    return std::nullopt;
  }
  static const std::string& key_of(limit_scope scope, const std::string& domain,
                                   const std::string& registered) {
    return scope == limit_scope::registered_domain ? registered_of(domain, registered) : domain;
  }
  // Certificates are counted when the order starts, so orders in flight count too; the
  // failure limit is spent when a failure happens, and only checked here.
  void spend_certificate_tokens(const order& o, steady_time now) {
    for (const ca_limit& l : limits_) {
      if (l.scope == limit_scope::hostname_failures || !applies(l, o.has_cert)) continue;
      ledger_.spend(l, key_of(l.scope, o.domain, o.registered_domain), now);
    }
  }
  void refund_certificate_tokens(const std::string& domain, const in_flight_order& o,
                                 steady_time now) {
    for (const ca_limit& l : limits_) {
      if (l.scope == limit_scope::hostname_failures || !applies(l, o.has_cert)) continue;
      ledger_.refund(l, key_of(l.scope, domain, o.registered_domain), now);
    }
  }
  void pause(const std::string& domain, const in_flight_order& o, limit_scope scope,
             steady_time until) {
    if (scope == limit_scope::account) return pause_until(until);
    for (const ca_limit& l : limits_)
      if (l.scope == scope)
        ledger_.block_until(l, key_of(scope, domain, o.registered_domain), until);
    // Without that limit configured the CA still said no: hold the whole account.
    if (std::none_of(limits_.begin(), limits_.end(),
                     [scope](const ca_limit& l) { return l.scope == scope; }))
      pause_until(until);
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
  std::span<const ca_limit> limits_;
  limit_ledger ledger_;
  double tokens_;
  steady_time tokens_at_;
  steady_time paused_until_{};
  std::uint64_t next_seq_ = 0;
  std::uint64_t pops_ = 0;
  entries waiting_;              ///< may start, in the order they should
  held_entries held_;            ///< held by a scoped limit until `until`
  std::size_t waiting_new_ = 0;  ///< entries without a certificate, held ones too
  std::size_t waiting_ari_ = 0;  ///< ARI renewals (they need no token), held ones too
  index index_;                  ///< every waiting entry by domain
  std::unordered_map<std::string, in_flight_order> in_flight_;  ///< by domain
};

}  // namespace certfleet::actors
