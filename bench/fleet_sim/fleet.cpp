#include "bench/fleet_sim/fleet.hpp"

#include <algorithm>
#include <memory>
#include <optional>
#include <variant>

#include "config/registered_domain.hpp"

namespace certfleet::sim {

namespace {

using namespace std::chrono_literals;
using steady_time = std::chrono::steady_clock::time_point;

enum class health : std::uint8_t { healthy, broken_dns, broken_at_ca };

/// What the daemon holds of one domain, and what the simulation knows about it.
struct sim_domain {
  storage::domain_record rec;   ///< in memory (the domain actor's state)
  storage::domain_record disk;  ///< as last persisted
  std::string registered;
  health h = health::healthy;
  std::uint32_t wake_gen = 0;
  bool ever_issued = false;
  bool revoked = false;        ///< its certificate was revoked and is not replaced yet
  timestamp counted_expiry{};  ///< not_after already counted as an expiry
  // The order this domain has at the CA in this process (lost on restart).
  std::string order_url;
  std::optional<error> order_error;  ///< set: the order ends with this error
};

struct order_payload {
  std::optional<std::string> resume_url;
  bool replaces = false;  ///< names the certificate it replaces (RFC 9773 §5)
};
using queue = actors::order_queue<order_payload>;

enum class ev_kind : std::uint8_t {
  wake,
  self_check_done,
  window_answer,
  order_end,
  pump,
  restart,
  hourly,
  outage_start,
  outage_end,
  revocation
};

struct sim_event {
  timestamp at;
  std::uint64_t seq;
  ev_kind kind;
  std::uint32_t index = 0;  ///< the domain, or the outage
  std::uint32_t gen = 0;    ///< wake generation
  std::uint32_t epoch = 0;  ///< the daemon process it belongs to
  bool operator>(const sim_event& o) const { return at != o.at ? at > o.at : seq > o.seq; }
};

class fleet {
 public:
  explicit fleet(const fleet_settings& s)
      : s_(s),
        ca_(ca_settings{s.budget, s.lets_encrypt_limits, s.lifetime, s.ari}),
        rng_(s.seed),
        origin_(from_unix_us(1'798'761'600'000'000)),  // 2027-01-01T00:00:00Z
        now_(origin_) {
    ca_.set_origin(origin_);
    pol_ = actors::default_policy();
  }

  fleet_result run();

 private:
  steady_time steady(timestamp t) const {
    return steady_time(std::chrono::duration_cast<steady_time::duration>(t - origin_) + 1000h);
  }
  timestamp wall(steady_time t) const {
    return origin_ + std::chrono::duration_cast<std::chrono::microseconds>(
                         t - steady_time(std::chrono::duration_cast<steady_time::duration>(1000h)));
  }
  void push(timestamp at, ev_kind kind, std::uint32_t index = 0, std::uint32_t gen = 0) {
    events_.push(sim_event{std::max(at, now_), seq_++, kind, index, gen, epoch_});
  }

  void populate();
  void start_process();
  void apply(std::uint32_t i, const actors::event& ev);
  void observe(sim_domain& d, const storage::domain_record& before, const actors::event& ev);
  void pump();
  void schedule_pump(steady_time at);
  void start_order(queue::order o);
  void end_order(std::uint32_t i);
  void answer_window(std::uint32_t i);
  void revoke_share();
  void restart();
  void hourly();
  void daily_sample();
  void count_expiry(sim_domain& d, timestamp not_after);
  fleet_result finish();

  fleet_settings s_;
  sim_ca ca_;
  std::mt19937_64 rng_;
  actors::policy pol_;
  timestamp origin_, now_;
  std::vector<sim_domain> domains_;
  std::unordered_map<std::string, std::uint32_t> by_name_;
  std::unique_ptr<queue> queue_;
  timestamp budget_full_at_{};  ///< the stored budget record
  bool pump_pending_ = false;
  steady_time pump_at_{};
  timestamp pump_wall_{};  ///< the time of the pump event that is current
  std::priority_queue<sim_event, std::vector<sim_event>, std::greater<>> events_;
  std::uint64_t seq_ = 0;
  std::uint32_t epoch_ = 0;
  std::uint64_t healthy_issued_ = 0;
  std::uint64_t revoked_left_ = 0;
  timestamp revoked_at_{};
  fleet_result r_;
};

void fleet::populate() {
  std::uniform_real_distribution<double> u(0, 1);
  const std::size_t grouped = static_cast<std::size_t>(s_.grouped * s_.domains);
  const auto threshold =
      std::min<std::chrono::hours>(actors::renew_before_max, s_.lifetime / actors::renewal_divisor);
  domains_.resize(s_.domains);
  for (std::size_t i = 0; i < s_.domains; ++i) {
    sim_domain& d = domains_[i];
    const std::string name = i < grouped ? "n" + std::to_string(i) + ".group" +
                                               std::to_string(i / s_.group_size) + ".example"
                                         : "www.customer" + std::to_string(i) + ".example";
    d.registered = config::registered_domain(name);
    const double roll = u(rng_);
    d.h = roll < s_.broken_dns                     ? health::broken_dns
          : roll < s_.broken_dns + s_.broken_at_ca ? health::broken_at_ca
                                                   : health::healthy;
    (d.h == health::healthy ? r_.healthy : r_.broken) += 1;
    d.rec.name = name;
    if (!s_.start_new && d.h == health::healthy) {
      // Its renewal point falls uniformly over the coming (lifetime - threshold), as in a
      // fleet that has renewed at an even pace; none is already due.
      const auto lifetime = std::chrono::duration_cast<std::chrono::microseconds>(s_.lifetime);
      const auto span = lifetime - std::chrono::duration_cast<std::chrono::microseconds>(threshold);
      const auto due_in = std::chrono::microseconds(
          static_cast<std::int64_t>(u(rng_) * static_cast<double>(span.count())));
      const auto jitter = actors::renewal_jitter(lifetime, name);
      d.rec.cert_not_before = std::min(now_, now_ + due_in + threshold + jitter - lifetime);
      d.rec.cert_not_after = d.rec.cert_not_before + s_.lifetime;
      d.rec.last_success = d.rec.cert_not_before;
      d.rec.phase = storage::domain_phase::valid;
      d.rec.next_attempt = actors::renewal_point(d.rec.cert_not_before, d.rec.cert_not_after, name);
      d.ever_issued = true;
      ++healthy_issued_;
      ca_.seed_issued(name, d.rec.cert_not_before);
    }
    d.disk = d.rec;
    by_name_.emplace(name, static_cast<std::uint32_t>(i));
  }
}

// A daemon process starts: the queue from the stored budget, every domain from disk.
void fleet::start_process() {
  const steady_time now = steady(now_);
  queue_ = std::make_unique<queue>(
      s_.budget, s_.orders_in_flight, now,
      s_.lets_encrypt_limits ? actors::lets_encrypt_limits() : std::span<const actors::ca_limit>{});
  if (budget_full_at_ > now_) queue_->restore_time_to_full(budget_full_at_ - now_, now);
  pump_pending_ = false;
  for (std::uint32_t i = 0; i < domains_.size(); ++i) {
    sim_domain& d = domains_[i];
    d.rec = d.disk;
    d.order_url.clear();
    d.order_error.reset();
    apply(i, actors::started{});
  }
}

void fleet::apply(std::uint32_t i, const actors::event& ev) {
  sim_domain& d = domains_[i];
  actors::context ctx{now_, &pol_, true};
  actors::step st = actors::transition(d.rec, ev, ctx);
  ++r_.transitions;
  const storage::domain_record before = std::move(d.rec);
  d.rec = std::move(st.state);
  if (st.persist) d.disk = d.rec;  // the storage actor's durable write
  observe(d, before, ev);
  for (const actors::effect& e : st.effects) {
    if (std::holds_alternative<actors::run_self_check>(e)) {
      push(now_ + 2s, ev_kind::self_check_done, i, d.wake_gen);
    } else if (auto* order = std::get_if<actors::start_order>(&e)) {
      queue_->push({d.rec.name, d.registered, d.rec.has_cert(), d.rec.cert_not_after,
                    d.rec.failure_count > 0, order->ari_renewal,
                    order_payload{order->resume_url, d.rec.has_cert()}});
      pump();
    } else if (std::holds_alternative<actors::cancel_order>(e)) {
      queue_->cancel(d.rec.name);
    } else if (auto* w = std::get_if<actors::schedule_wake>(&e)) {
      push(w->at, ev_kind::wake, i, ++d.wake_gen);
    } else if (std::holds_alternative<actors::fetch_renewal_info>(e)) {
      push(now_ + 1s, ev_kind::window_answer, i);
    }
  }
}

void fleet::observe(sim_domain& d, const storage::domain_record& before, const actors::event& ev) {
  using storage::domain_phase;
  if (d.h != health::healthy) return;
  if (d.rec.phase == domain_phase::failing && before.phase != domain_phase::failing) {
    const auto* failed = std::get_if<actors::order_failed>(&ev);
    const bool outage = failed && failed->err.kind == error_kind::server_error;
    if (!outage) ++r_.false_failures;
  }
  if (d.rec.cert_not_after != before.cert_not_after) {
    // The certificate was replaced: was the old one already expired?
    if (before.has_cert()) count_expiry(d, before.cert_not_after);
    if (d.revoked) {
      d.revoked = false;
      if (--revoked_left_ == 0)
        r_.hours_to_replace_revoked =
            std::chrono::duration<double>(now_ - revoked_at_).count() / 3600;
    }
    if (!d.ever_issued) {
      d.ever_issued = true;
      if (++healthy_issued_ == r_.healthy)
        r_.hours_to_issue_all_healthy =
            std::chrono::duration<double>(now_ - origin_).count() / 3600;
    }
  }
}

void fleet::schedule_pump(steady_time at) {
  if (pump_pending_ && pump_at_ <= at) return;
  pump_pending_ = true;
  pump_at_ = at;
  pump_wall_ = std::max(wall(at), now_);
  push(pump_wall_, ev_kind::pump);
}

// The ACME service's pump: start what the queue allows, store the spent budget.
void fleet::pump() {
  const steady_time now = steady(now_);
  bool spent = false;
  while (auto o = queue_->pop(now)) {
    spent = true;
    start_order(std::move(*o));
  }
  r_.max_in_flight = std::max<std::uint64_t>(r_.max_in_flight, queue_->in_flight());
  if (spent)
    budget_full_at_ =
        now_ + std::chrono::duration_cast<std::chrono::microseconds>(queue_->time_to_full(now));
  if (auto again = queue_->retry_at(now)) schedule_pump(std::max(*again, now + 10ms));
}

void fleet::start_order(queue::order o) {
  const std::uint32_t i = by_name_.at(o.domain);
  sim_domain& d = domains_[i];
  apply(i, actors::order_started{});
  const ca_answer a = ca_.new_order(o.domain, d.registered, o.payload.resume_url.value_or(""), now_,
                                    o.payload.replaces);
  d.order_error.reset();
  d.order_url = a.order_url;
  if (!a.accepted) {
    d.order_error = a.refusal;
    push(now_ + 1s, ev_kind::order_end, i);
    return;
  }
  if (!o.payload.resume_url || *o.payload.resume_url != a.order_url)
    apply(i, actors::order_created{a.order_url});
  // Validation, finalization and download: about 15 s at Let's Encrypt.
  push(now_ + (a.already_valid ? 1s : 15s), ev_kind::order_end, i);
}

void fleet::end_order(std::uint32_t i) {
  sim_domain& d = domains_[i];
  const steady_time now = steady(now_);
  bool ok = false;
  error e;
  if (d.order_error) {
    e = *d.order_error;
  } else if (!ca_.validate(d.order_url, d.h != health::broken_at_ca, now_)) {
    e = error{error_kind::connection,
              "the CA could not connect to " + d.rec.name + " to validate the challenge", true};
  } else {
    ok = true;
  }
  const std::string name = d.rec.name;
  if (ok) {
    const auto [nb, na] = ca_.issue(d.order_url, now_);
    apply(i, actors::issued{nb, na});
  } else {
    apply(i, actors::order_failed{e});
  }
  queue_->finished(name, actors::order_end_of(ok, e, now), now);
  pump();
}

// The ACME service's renewalInfo request, answered a second after it was asked for.
void fleet::answer_window(std::uint32_t i) {
  sim_domain& d = domains_[i];
  if (!d.rec.has_cert()) return;
  const auto w = ca_.renewal_info(d.rec.name, d.rec.cert_not_before, now_);
  if (!w)
    apply(i, actors::renewal_info_failed{d.rec.cert_not_after, false, error{}});
  else
    apply(i, actors::renewal_info_received{d.rec.cert_not_after, w->start, w->end, "", 6h});
}

// A mass revocation: the CA revokes a share of the healthy domains' certificates, and
// their windows begin now.
void fleet::revoke_share() {
  std::uniform_real_distribution<double> u(0, 1);
  revoked_at_ = now_;
  for (sim_domain& d : domains_) {
    if (d.h != health::healthy || !d.rec.has_cert() || u(rng_) >= s_.revoked_share) continue;
    ca_.revoke(d.rec.name, now_);
    d.revoked = true;
    ++revoked_left_;
    ++r_.revoked;
  }
}

void fleet::restart() {
  ++epoch_;  // every event of the old process is dropped
  events_ = {};
  pump_pending_ = false;
  start_process();
}

void fleet::hourly() {
  r_.backlog_per_hour.push_back(static_cast<std::uint32_t>(queue_->waiting()));
  if (r_.backlog_per_hour.size() % 24 == 0) daily_sample();
}

// Counts a healthy domain's certificate valid until `not_after` as expired, once.
void fleet::count_expiry(sim_domain& d, timestamp not_after) {
  if (d.h != health::healthy || not_after >= now_ || d.counted_expiry == not_after) return;
  ++r_.expiries_healthy;
  d.counted_expiry = not_after;
}

void fleet::daily_sample() {
  std::vector<double> left;
  left.reserve(domains_.size());
  for (sim_domain& d : domains_) {
    if (d.rec.has_cert()) count_expiry(d, d.rec.cert_not_after);
    if (d.h == health::healthy && d.rec.has_cert())
      left.push_back(std::chrono::duration<double>(d.rec.cert_not_after - now_).count() / 86400);
  }
  if (left.empty()) {
    r_.expiry_min_days.push_back(0);
    r_.expiry_p1_days.push_back(0);
    r_.expiry_p50_days.push_back(0);
    return;
  }
  auto nth = [&](double q) {
    auto at = left.begin() + static_cast<std::ptrdiff_t>(q * static_cast<double>(left.size() - 1));
    std::nth_element(left.begin(), at, left.end());
    return *at;
  };
  r_.expiry_min_days.push_back(*std::min_element(left.begin(), left.end()));
  r_.expiry_p1_days.push_back(nth(0.01));
  r_.expiry_p50_days.push_back(nth(0.5));
}

fleet_result fleet::finish() {
  for (sim_domain& d : domains_) {
    if (d.rec.has_cert()) count_expiry(d, d.rec.cert_not_after);
    const bool warns = actors::needs_warning(d.rec, now_, pol_);
    if (d.h == health::healthy) {
      r_.warnings_healthy_end += warns;
      r_.valid_healthy_end += d.rec.has_cert() && d.rec.cert_not_after > now_;
    } else {
      r_.warnings_broken_end += warns;
    }
  }
  r_.ca = ca_.counts();
  r_.orders_per_hour = ca_.orders_per_hour();
  r_.orders_per_hour.resize(static_cast<std::size_t>(s_.days) * 24, 0);
  r_.ari_requests_per_hour = ca_.ari_requests_per_hour();
  r_.ari_requests_per_hour.resize(static_cast<std::size_t>(s_.days) * 24, 0);
  std::uint64_t total = 0;
  for (const std::uint32_t n : r_.orders_per_hour) total += n;
  r_.max_orders_per_hour = busiest_window(r_.orders_per_hour, 1);
  r_.max_orders_3h = busiest_window(r_.orders_per_hour, 3);
  r_.mean_orders_per_hour = static_cast<double>(total) / static_cast<double>(std::max<std::size_t>(
                                                             1, r_.orders_per_hour.size()));
  return std::move(r_);
}

fleet_result fleet::run() {
  populate();
  const timestamp end = origin_ + std::chrono::days(s_.days);
  start_process();
  // The simulation's own timeline: hourly samples, outages, restarts (every epoch).
  std::vector<std::pair<timestamp, ev_kind>> timeline;
  for (timestamp t = origin_ + 1h; t <= end; t += 1h) timeline.emplace_back(t, ev_kind::hourly);
  for (const outage& o : s_.outages) {
    timeline.emplace_back(origin_ + std::chrono::days(o.start_day), ev_kind::outage_start);
    timeline.emplace_back(origin_ + std::chrono::days(o.start_day) + o.length, ev_kind::outage_end);
  }
  std::uniform_int_distribution<std::int64_t> when(
      1, std::chrono::duration_cast<std::chrono::seconds>(end - origin_).count() - 1);
  if (s_.revocation_day >= 0)
    timeline.emplace_back(origin_ + std::chrono::days(s_.revocation_day), ev_kind::revocation);
  for (int k = 0; k < s_.restarts; ++k)
    timeline.emplace_back(origin_ + std::chrono::seconds(when(rng_)), ev_kind::restart);
  std::sort(timeline.begin(), timeline.end());
  std::size_t next = 0;

  while (true) {
    const bool domain_event = !events_.empty();
    const timestamp domain_at = domain_event ? events_.top().at : timestamp::max();
    if (next < timeline.size() && timeline[next].first <= domain_at) {
      now_ = timeline[next].first;
      const ev_kind k = timeline[next++].second;
      if (k == ev_kind::hourly) hourly();
      if (k == ev_kind::outage_start) ca_.set_down(true);
      if (k == ev_kind::outage_end) ca_.set_down(false);
      if (k == ev_kind::restart) restart();
      if (k == ev_kind::revocation) revoke_share();
      continue;
    }
    if (!domain_event || domain_at > end) break;
    const sim_event ev = events_.top();
    events_.pop();
    if (ev.epoch != epoch_) continue;
    now_ = ev.at;
    sim_domain* d = ev.index < domains_.size() ? &domains_[ev.index] : nullptr;
    switch (ev.kind) {
      case ev_kind::wake:
        if (ev.gen == d->wake_gen) apply(ev.index, actors::wake{});
        break;
      case ev_kind::self_check_done:
        if (d->h == health::broken_dns)
          apply(ev.index, actors::self_check_failed{error{
                              error_kind::self_check,
                              "Self-check failed: DNS lookup failed. Check DNS and verify that " +
                                  d->rec.name + " points to this server"}});
        else
          apply(ev.index, actors::self_check_passed{});
        break;
      case ev_kind::order_end:
        end_order(ev.index);
        break;
      case ev_kind::window_answer:
        answer_window(ev.index);
        break;
      case ev_kind::pump:
        if (pump_pending_ && pump_wall_ == ev.at) {
          pump_pending_ = false;
          pump();
        }
        break;
      default:
        break;
    }
  }
  now_ = end;
  return finish();
}

}  // namespace

std::uint64_t busiest_window(const std::vector<std::uint32_t>& per_hour, std::size_t hours) {
  std::uint64_t best = 0, sum = 0;
  for (std::size_t h = 0; h < per_hour.size(); ++h) {
    sum += per_hour[h];
    if (h >= hours) sum -= per_hour[h - hours];
    best = std::max(best, sum);
  }
  return best;
}

fleet_result run_fleet(const fleet_settings& settings) { return fleet(settings).run(); }

}  // namespace certfleet::sim
