#include "actors/domain_fsm.hpp"

#include <algorithm>
#include <limits>
#include <utility>

namespace certfleet::actors {
namespace {

using storage::domain_record;
using phase = storage::domain_phase;

constexpr std::string_view self_check_prefix = "Self-check failed:";

template <class... Fs>
struct overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
overloaded(Fs...) -> overloaded<Fs...>;

// Builds one step; the record is copied once and edited in place.
struct builder {
  const context& ctx;
  const policy& pol;
  step out;

  builder(const domain_record& in, const context& c)
      : ctx(c), pol(c.pol ? *c.pol : default_policy()), out{in, false, {}} {}

  domain_record& rec() { return out.state; }
  // In place: moving a whole effect variant trips GCC 12's false -Wmaybe-uninitialized.
  template <class E>
  void emit(E e) {
    out.effects.emplace_back(std::in_place_type<E>, std::move(e));
  }
  void log(log_level level, std::string message) {
    emit(log_entry{level, rec().name + ": " + std::move(message)});
  }
  void reply(retry_outcome o) { emit(reply_retry{o}); }

  // Starts an attempt: the self-check first unless disabled or resuming a stored order
  // after a crash. next_attempt becomes the self-check's deadline, so a lost reply ends in
  // a wake that fails the attempt instead of leaving the domain in flight forever.
  void begin_attempt(bool resume_order) {
    if (!ctx.acme_enabled) return wait_until_enabled();
    domain_record& r = rec();
    const bool resume = resume_order && !r.order_url.empty();
    if (ctx.self_check_enabled && !resume) {
      r.phase = phase::self_checking;
      r.next_attempt = ctx.now + pol.attempt_timeout;
      emit(run_self_check{});
      emit(schedule_wake{r.next_attempt});
    } else {
      queue_order();
    }
  }

  // Asks the ACME service for the order and waits for its turn, re-asking now and then
  // (the queue keeps one entry per domain). No deadline runs while the order waits.
  void queue_order() {
    if (!ctx.acme_enabled) return wait_until_enabled();
    domain_record& r = rec();
    r.phase = phase::queued;
    r.next_attempt = ctx.now + pol.queued_recheck;
    emit(start_order{r.order_url.empty() ? std::nullopt : std::optional{r.order_url},
                     ari_window_begun(), at_fallback()});
    emit(schedule_wake{r.next_attempt});
  }

  // Let's Encrypt is not enabled: no attempt, no failure, no retry; a reload that enables it
  // starts the domain (acme_enabled). The stored order stays, to be resumed then.
  void wait_until_enabled() {
    domain_record& r = rec();
    if (r.phase == phase::disabled) return;
    if (r.phase == phase::queued) emit(cancel_order{});
    r.phase = phase::disabled;
    r.next_attempt = no_time;
    r.failure_count = 0;
    r.first_failure = no_time;
    r.ca_failures = 0;
    r.last_error.clear();
    // One line per domain would be 100k lines at start: the daemon says it once.
    log(log_level::debug, "waiting until Let's Encrypt is enabled");
  }

  // The operator's retry: an attempt now, unless Let's Encrypt is not enabled.
  void retry_now() {
    if (!ctx.acme_enabled) {
      wait_until_enabled();
      return reply(retry_outcome::not_enabled);
    }
    begin_attempt(false);
    reply(retry_outcome::retrying);
  }

  // A disabled domain's start once Let's Encrypt is enabled: renews when due, or gets its
  // first certificate (resuming a stored order).
  void start_enabled() {
    log(log_level::info, "Let's Encrypt is enabled; starting");
    if (rec().has_cert()) {
      spread_ari_check();
      settle_valid();
    } else {
      begin_attempt(true);
    }
  }

  bool at_fallback() const {
    return ctx.fallback_after > 0 && out.state.ca_failures >= ctx.fallback_after;
  }

  // A failure while the order waited or was at the CA, whose fault it was, extends the run
  // of the CA's failures; any other failure ends it.
  void count_ca_failure(const error& err) {
    domain_record& r = rec();
    const bool at_ca = r.phase == phase::queued || r.phase == phase::ordering ||
                       r.phase == phase::validating || r.phase == phase::finalizing;
    if (!at_ca || !is_ca_fault(err)) {
      r.ca_failures = 0;
      return;
    }
    if (r.ca_failures < std::numeric_limits<std::uint32_t>::max()) ++r.ca_failures;
    if (ctx.fallback_after > 0 && r.ca_failures == ctx.fallback_after)
      log(log_level::warning, std::to_string(r.ca_failures) +
                                  " attempts in a row failed at the CA; the next ones go to the "
                                  "fallback CA (acme_fallback_directory_url)");
  }

  // The order left the queue: the attempt's deadline starts now.
  void order_begins() {
    domain_record& r = rec();
    r.phase = phase::ordering;
    r.next_attempt = ctx.now + pol.attempt_timeout;
    emit(schedule_wake{r.next_attempt});
  }

  // The CA's suggested window (RFC 9773) has begun: a renewal now replaces the certificate
  // when the CA wants it replaced. A window already over counts too: the CA asks for a
  // renewal at once (a mass revocation sets such windows).
  bool ari_window_begun() const {
    const domain_record& r = out.state;
    return r.has_cert() && r.ari_window_start != no_time && r.ari_window_start <= ctx.now;
  }

  // A domain with a certificate and no window request ahead asks soon, at its own moment
  // of the next ari_poll_min (a start after a pause must not ask for all windows at once).
  void spread_ari_check() {
    domain_record& r = rec();
    if (r.has_cert() && (r.ari_check_at == no_time || r.ari_check_at <= ctx.now))
      r.ari_check_at = ari_first_check(r.name, ctx.now, poll().min);
  }

  ari_poll_bounds poll() const {
    return ari_poll_bounds_for(out.state.cert_not_after - out.state.cert_not_before, pol);
  }

  // Renews at once when the certificate is due (by the rule or the CA's window), else
  // waits for the earlier of its renewal point and its next window request.
  void settle_valid() {
    domain_record& r = rec();
    const timestamp point = renewal_due(r, ctx.now);
    if (ctx.now >= point) {
      log(log_level::info, ari_window_begun()
                               ? "the CA's suggested renewal window has begun; renewing"
                               : "certificate is inside its renewal window; renewing");
      begin_attempt(false);
      return;
    }
    r.phase = phase::valid;
    r.next_attempt = point;
    if (r.ari_check_at != no_time) r.next_attempt = std::min(point, r.ari_check_at);
    emit(schedule_wake{r.next_attempt});
  }

  // A window answer about the current certificate (`cert_not_after` says which).
  bool about_current(timestamp cert_not_after) const {
    return out.state.has_cert() && cert_not_after == out.state.cert_not_after;
  }

  // The CA's answer about the window; one about an older certificate is ignored.
  void window_news(const event& ev) {
    if (const auto* got = std::get_if<renewal_info_received>(&ev)) {
      if (!about_current(got->cert_not_after)) return ignore(ev);
      return window_received(*got);
    }
    const auto& failed = std::get<renewal_info_failed>(ev);
    if (!about_current(failed.cert_not_after)) return ignore(ev);
    window_failed(failed);
  }

  void window_received(const renewal_info_received& e) {
    domain_record& r = rec();
    const bool moved = e.start != r.ari_window_start || e.end != r.ari_window_end;
    r.ari_window_start = e.start;
    r.ari_window_end = e.end;
    r.ari_check_at = ari_next_check(e.retry_after, ctx.now, poll().min, poll().max);
    if (moved)
      log(log_level::info,
          "the CA suggests renewing between " + format_rfc3339(e.start) + " and " +
              format_rfc3339(e.end) +
              (e.explanation_url.empty() ? std::string{}
                                         : "; the CA explains why at " + e.explanation_url));
    if (r.phase == phase::valid) settle_valid();
  }

  void window_failed(const renewal_info_failed& e) {
    domain_record& r = rec();
    if (!e.offered) {
      // Nothing to ask this CA: the next start (a CA that gained ARI) asks again.
      r.ari_window_start = r.ari_window_end = r.ari_check_at = no_time;
    } else if (!e.err.retryable) {
      // RFC 9773 §4.2: a window that cannot be used is not used. Asked again once a day.
      r.ari_window_start = r.ari_window_end = no_time;
      r.ari_check_at = ctx.now + poll().max;
      log(log_level::warning, "the CA's renewal information cannot be used (" + e.err.detail +
                                  "); renewing by certfleet's own rule");
    } else {
      r.ari_check_at = ctx.now + poll().min;
      log(log_level::debug, "could not ask the CA for the renewal window: " + e.err.detail);
    }
    if (r.phase == phase::valid) settle_valid();
  }

  // The revoked certificate's window becomes one already over, as the CA's would after a
  // revocation: the replacement is due at once, names what it replaces, and a restart
  // before it is issued still finds it due.
  bool revoked(const certificate_revoked& e) {
    if (!about_current(e.cert_not_after)) return false;
    domain_record& r = rec();
    r.ari_window_start = ctx.now - std::chrono::seconds(1);
    r.ari_window_end = ctx.now;
    r.ari_check_at = ctx.now + poll().max;
    log(log_level::warning, "certificate revoked; ordering a replacement now");
    return true;
  }

  // `order_invalid`: the stored order cannot be resumed; the next attempt makes a new one.
  void fail(const error& err, bool order_invalid, std::string message) {
    count_ca_failure(err);
    domain_record& r = rec();
    if (r.failure_count == 0 || r.first_failure == no_time) r.first_failure = ctx.now;
    if (r.failure_count < std::numeric_limits<std::uint32_t>::max()) ++r.failure_count;
    r.phase = phase::failing;
    r.last_failure = ctx.now;
    r.last_error = std::move(message);
    if (order_invalid) r.order_url.clear();
    r.next_attempt = retry_at(r.failure_count, ctx.now, err.retry_after, pol);
    emit(schedule_wake{r.next_attempt});
    const bool ends_sentence = !r.last_error.empty() && r.last_error.back() == '.';
    log(log_level::warning, "attempt failed (" + std::to_string(r.failure_count) +
                                " in a row): " + r.last_error + (ends_sentence ? "" : ".") +
                                " Next retry at " + format_rfc3339(r.next_attempt) + ".");
  }

  void succeed(const issued& ev) {
    domain_record& r = rec();
    if (r.phase == phase::queued) emit(cancel_order{});  // a late certificate came first
    out.takes_certificate = true;
    r.cert_not_before = ev.not_before;
    r.cert_not_after = ev.not_after;
    r.last_success = ctx.now;
    r.failure_count = 0;
    r.first_failure = no_time;
    r.ca_failures = 0;
    r.last_error.clear();
    r.order_url.clear();
    r.phase = phase::valid;
    // The old certificate's window is not the new one's: ask the CA within ari_poll_min.
    r.ari_window_start = r.ari_window_end = r.ari_check_at = no_time;
    spread_ari_check();
    timestamp point = renewal_point(ev.not_before, ev.not_after, r.name);
    if (point <= ctx.now) {
      // A certificate already due for renewal (tiny lifetime, backdated not_before,
      // skewed clock) must not turn into a tight issuance loop against the CA.
      point = retry_at(1, ctx.now, std::nullopt, pol);
      // Nor may a window request wake it sooner: that wake would renew at once.
      r.ari_check_at = std::max(r.ari_check_at, point);
      log(log_level::warning, "the new certificate is already inside its renewal window");
    }
    r.next_attempt = std::min(point, r.ari_check_at);
    emit(schedule_wake{r.next_attempt});
    log(log_level::info, "certificate issued, valid until " + format_rfc3339(ev.not_after) +
                             "; renewal at " + format_rfc3339(point));
  }

  void retire() {
    domain_record& r = rec();
    if (r.phase == phase::queued) emit(cancel_order{});  // its queue entry goes too
    r.phase = phase::retired;
    r.configured = false;
    r.order_url.clear();
    r.next_attempt = no_time;
    log(log_level::info, "removed from the configuration; no further work");
  }

  // An early (or stale) wake re-arms the timer: it may have been replaced by this one.
  void rearm_if_early() { emit(schedule_wake{rec().next_attempt}); }

  void ignore(const event& ev) {
    log(log_level::debug, std::string{"ignored "} + std::string{event_name(ev)} + " while " +
                              std::string{phase_name(rec().phase)});
  }

  bool due() const { return ctx.now >= out.state.next_attempt; }
};

std::string self_check_message(const error& err) {
  if (err.detail.starts_with(self_check_prefix)) return err.detail;
  return std::string{self_check_prefix} + " " + err.detail;
}

error attempt_timeout_error(const policy& pol) {
  const auto minutes = std::chrono::duration_cast<std::chrono::minutes>(pol.attempt_timeout);
  return error{error_kind::timeout,
               "The registration attempt did not finish within " + std::to_string(minutes.count()) +
                   " minutes. It will be retried; check the CA's reachability if this repeats.",
               true};
}

// ---- one function per phase -----------------------------------------------------------

void on_pending(builder& b, const event& ev) {
  std::visit(overloaded{
                 [&](const started&) { b.begin_attempt(false); },
                 [&](const wake&) { b.begin_attempt(false); },
                 [&](const retry_requested&) { b.retry_now(); },
                 [&](const deconfigured&) { b.retire(); },
                 [&](const auto&) { b.ignore(ev); },
             },
             ev);
}

// self_checking, queued, ordering, validating and finalizing: an attempt is in flight.
void on_in_progress(builder& b, const event& ev) {
  phase p = b.rec().phase;
  // News of the order while it looked queued: it has started (the CA's answers and the
  // queue's word come from different senders).
  const bool order_news = std::holds_alternative<order_created>(ev) ||
                          std::holds_alternative<challenge_submitted>(ev) ||
                          std::holds_alternative<csr_submitted>(ev);
  if (p == phase::queued && order_news) {
    b.order_begins();
    p = phase::ordering;
  }
  std::visit(
      overloaded{
          [&](const started&) {
            b.log(log_level::info, "resuming the attempt interrupted by a restart");
            b.begin_attempt(true);
          },
          [&](const wake&) {
            if (!b.due()) return b.rearm_if_early();
            if (p == phase::queued) return b.queue_order();  // still waiting: ask again
            const error e = attempt_timeout_error(b.pol);
            b.fail(e, false, e.detail);
          },
          [&](const self_check_passed&) {
            if (p != phase::self_checking) return b.ignore(ev);
            b.queue_order();
          },
          [&](const order_started&) {
            if (p != phase::queued) return b.ignore(ev);
            b.order_begins();
          },
          [&](const self_check_failed& e) {
            if (p != phase::self_checking) return b.ignore(ev);
            b.fail(e.err, false, self_check_message(e.err));
          },
          [&](const order_created& e) {
            if (p != phase::ordering) return b.ignore(ev);
            b.rec().order_url = e.order_url;
          },
          [&](const challenge_submitted&) {
            if (p != phase::ordering) return b.ignore(ev);
            b.rec().phase = phase::validating;
          },
          [&](const csr_submitted&) {
            // Straight from ordering when the CA reuses valid authorizations.
            if (p != phase::ordering && p != phase::validating) return b.ignore(ev);
            b.rec().phase = phase::finalizing;
          },
          // Straight from ordering when a resumed order is already valid; in
          // self_checking or queued, late from an attempt that timed out: a good
          // certificate either way, and ordering another would spend the CA's limits.
          [&](const issued& e) { b.succeed(e); },
          [&](const order_failed& e) {
            // Disabled by a reload while the order waited: not a failure.
            if (e.err.kind == error_kind::not_enabled && !b.ctx.acme_enabled)
              return b.wait_until_enabled();
            b.fail(e.err, e.order_contacted && invalidates_order(e.err), e.err.detail);
          },
          [&](const retry_requested&) { b.reply(retry_outcome::already_in_progress); },
          // Kept for the certificate it is about; the attempt goes on.
          [&](const renewal_info_received&) { b.window_news(ev); },
          [&](const renewal_info_failed&) { b.window_news(ev); },
          // The attempt in flight replaces it already.
          [&](const certificate_revoked& e) {
            if (!b.revoked(e)) b.ignore(ev);
          },
          [&](const deconfigured&) { b.retire(); }, [&](const reconfigured&) { b.ignore(ev); },
          [&](const acme_enabled&) { b.ignore(ev); },  // the attempt goes on
      },
      ev);
}

void on_valid(builder& b, const event& ev) {
  std::visit(overloaded{
                 [&](const started&) {
                   b.spread_ari_check();
                   b.settle_valid();
                 },
                 [&](const wake&) {
                   if (!b.due()) return b.rearm_if_early();
                   domain_record& r = b.rec();
                   if (b.ctx.now < renewal_due(r, b.ctx.now) && r.ari_check_at != no_time &&
                       b.ctx.now >= r.ari_check_at) {
                     // A lost answer only delays the next request to this one's time.
                     r.ari_check_at = b.ctx.now + b.poll().min;
                     b.emit(fetch_renewal_info{});
                   }
                   b.settle_valid();
                 },
                 [&](const renewal_info_received&) { b.window_news(ev); },
                 [&](const renewal_info_failed&) { b.window_news(ev); },
                 [&](const retry_requested&) {
                   const timestamp point = renewal_due(b.rec(), b.ctx.now);
                   // Never an early renewal: the seed's `retry` leaves such certificates alone.
                   if (b.ctx.now < point) return b.reply(retry_outcome::not_in_renewal_window);
                   b.retry_now();
                 },
                 [&](const certificate_revoked& e) {
                   if (!b.revoked(e)) return b.ignore(ev);
                   b.begin_attempt(false);
                 },
                 [&](const deconfigured&) { b.retire(); },
                 [&](const auto&) { b.ignore(ev); },
             },
             ev);
}

void on_failing(builder& b, const event& ev) {
  std::visit(overloaded{
                 [&](const started&) {
                   // Its failures are moot while nothing can be attempted.
                   if (!b.ctx.acme_enabled) return b.wait_until_enabled();
                   if (!b.due()) return b.rearm_if_early();
                   b.begin_attempt(false);
                 },
                 [&](const wake&) {
                   if (!b.due()) return b.rearm_if_early();
                   b.begin_attempt(false);
                 },
                 [&](const retry_requested&) { b.retry_now(); },
                 // Late, from an attempt that timed out while its order went on.
                 [&](const issued& e) { b.succeed(e); },
                 // A renewal that keeps failing: the next attempt may not wait for its retry.
                 [&](const certificate_revoked& e) {
                   if (!b.revoked(e)) return b.ignore(ev);
                   b.begin_attempt(false);
                 },
                 [&](const deconfigured&) { b.retire(); },
                 [&](const auto&) { b.ignore(ev); },
             },
             ev);
}

void on_disabled(builder& b, const event& ev) {
  const auto start_if_enabled = [&] {
    if (b.ctx.acme_enabled) b.start_enabled();
  };
  std::visit(overloaded{
                 [&](const started&) { start_if_enabled(); },
                 [&](const wake&) { start_if_enabled(); },
                 [&](const acme_enabled&) { start_if_enabled(); },
                 [&](const retry_requested&) {
                   if (!b.ctx.acme_enabled) return b.reply(retry_outcome::not_enabled);
                   b.start_enabled();
                   b.reply(retry_outcome::retrying);
                 },
                 // Late, from an attempt that was under way when a reload disabled it.
                 [&](const issued& e) { b.succeed(e); },
                 [&](const certificate_revoked& e) {
                   if (!b.revoked(e)) return b.ignore(ev);
                   start_if_enabled();
                 },
                 [&](const deconfigured&) { b.retire(); },
                 [&](const auto&) { b.ignore(ev); },
             },
             ev);
}

void on_retired(builder& b, const event& ev) {
  std::visit(overloaded{
                 [&](const reconfigured&) {
                   domain_record& r = b.rec();
                   r.configured = true;
                   // A fresh start: the old failure streak must not delay the first attempt
                   // by hours or raise a warning at once.
                   r.failure_count = 0;
                   r.first_failure = no_time;
                   r.last_error.clear();
                   b.log(log_level::info, "back in the configuration");
                   if (r.has_cert()) {
                     b.spread_ari_check();
                     b.settle_valid();
                   } else {
                     b.begin_attempt(false);
                   }
                 },
                 [&](const retry_requested&) { b.reply(retry_outcome::not_configured); },
                 [&](const auto&) { b.ignore(ev); },
             },
             ev);
}

}  // namespace

step transition(const storage::domain_record& state, const event& ev, const context& ctx) {
  builder b{state, ctx};
  switch (state.phase) {
    case phase::pending:
      on_pending(b, ev);
      break;
    case phase::self_checking:
    case phase::queued:
    case phase::ordering:
    case phase::validating:
    case phase::finalizing:
      on_in_progress(b, ev);
      break;
    case phase::valid:
      on_valid(b, ev);
      break;
    case phase::failing:
      on_failing(b, ev);
      break;
    case phase::retired:
      on_retired(b, ev);
      break;
    case phase::disabled:
      on_disabled(b, ev);
      break;
    default:
      // An unknown phase byte cannot be decoded by storage; treat it like pending.
      on_pending(b, ev);
      break;
  }
  // An operator's retry or revocation is stored too: a restart must not forget it.
  const bool operators_word = std::holds_alternative<retry_requested>(ev) ||
                              std::holds_alternative<certificate_revoked>(ev);
  b.out.persist = must_persist(state, b.out.state) || (operators_word && !(b.out.state == state));
  return std::move(b.out);
}

timestamp renewal_due(const storage::domain_record& r, timestamp now) {
  const timestamp fallback = renewal_point(r.cert_not_before, r.cert_not_after, r.name);
  if (r.ari_window_start == no_time || r.ari_window_end <= r.ari_window_start) return fallback;
  return ari_renewal_point(r.ari_window_start, r.ari_window_end, r.name, fallback, now);
}

bool needs_warning(const storage::domain_record& r, timestamp now, const policy& pol) {
  if (!r.configured || r.failure_count == 0) return false;
  if (!r.has_cert()) return true;
  return now - r.first_failure >= pol.warning_after;
}

bool is_error(const storage::domain_record& r) {
  return r.phase == phase::pending || r.phase == phase::disabled || r.failure_count > 0;
}

std::string failure_message(const storage::domain_record& r) {
  const std::string what = r.has_cert() ? "Renewal failed: " : "Registration failed: ";
  return what + (r.last_error.empty() ? "no error message was recorded" : r.last_error);
}

error not_enabled_error() {
  return error{error_kind::not_enabled,
               "Let's Encrypt is not enabled: set lets_encrypt_agree_to_terms_of_service yes and "
               "lets_encrypt_registration_email in certfleet.conf, then run certfleet reload",
               true};
}

bool must_persist(const storage::domain_record& before, const storage::domain_record& after) {
  if (before == after) return false;
  if (before.phase == phase::valid && after.phase == phase::valid) {
    // A valid domain's schedule is derived: every start recomputes its renewal point and
    // spreads its next window request. Storing it would write 100k records at each start.
    storage::domain_record same = after;
    same.next_attempt = before.next_attempt;
    same.ari_check_at = before.ari_check_at;
    return !(same == before);
  }
  const bool attempt_step = in_progress(after.phase) && after.order_url == before.order_url &&
                            after.configured == before.configured;
  return !attempt_step;
}

bool in_progress(storage::domain_phase p) {
  return p == phase::self_checking || p == phase::queued || p == phase::ordering ||
         p == phase::validating || p == phase::finalizing;
}

std::string_view phase_name(storage::domain_phase p) {
  switch (p) {
    case phase::pending:
      return "pending";
    case phase::self_checking:
      return "self_checking";
    case phase::ordering:
      return "ordering";
    case phase::validating:
      return "validating";
    case phase::finalizing:
      return "finalizing";
    case phase::valid:
      return "valid";
    case phase::failing:
      return "failing";
    case phase::retired:
      return "retired";
    case phase::queued:
      return "queued";
    case phase::disabled:
      return "disabled";
  }
  return "unknown";
}

std::string_view event_name(const event& ev) {
  return std::visit(overloaded{
                        [](const started&) { return "started"; },
                        [](const wake&) { return "wake"; },
                        [](const self_check_passed&) { return "self_check_passed"; },
                        [](const self_check_failed&) { return "self_check_failed"; },
                        [](const order_started&) { return "order_started"; },
                        [](const order_created&) { return "order_created"; },
                        [](const challenge_submitted&) { return "challenge_submitted"; },
                        [](const csr_submitted&) { return "csr_submitted"; },
                        [](const issued&) { return "issued"; },
                        [](const order_failed&) { return "order_failed"; },
                        [](const retry_requested&) { return "retry_requested"; },
                        [](const deconfigured&) { return "deconfigured"; },
                        [](const reconfigured&) { return "reconfigured"; },
                        [](const renewal_info_received&) { return "renewal_info_received"; },
                        [](const renewal_info_failed&) { return "renewal_info_failed"; },
                        [](const certificate_revoked&) { return "certificate_revoked"; },
                        [](const acme_enabled&) { return "acme_enabled"; },
                    },
                    ev);
}

}  // namespace certfleet::actors
