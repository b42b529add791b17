#include "actors/domain_actor.hpp"

#include <caf/all.hpp>

#include "core/log.hpp"
#include "core/metrics.hpp"

namespace certfleet::actors {

namespace {

using self_ptr = caf::stateful_actor<domain_state>*;

// Longest single timer; a wake before the due time is ignored and re-armed.
constexpr auto max_timer = std::chrono::hours(24);
// After a failed write the step is tried again this much later, doubling up to
// write_retry_max: a full disk or a permission problem is often fixed within minutes,
// and at 100k domains one write per domain every few minutes is cheap for the store.
constexpr auto write_retry_first = std::chrono::seconds(15);
constexpr auto write_retry_max = std::chrono::minutes(2);

template <class... Fs>
struct overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
overloaded(Fs...) -> overloaded<Fs...>;

// Arms the shared timer for `at` (wall clock), replacing the armed wake: an older
// generation is ignored when it fires.
void arm_wake(self_ptr self, domain_env* env, timestamp at) {
  const auto gen = ++self->state.wake_generation;
  auto delay = at - env->clock->now();
  if (delay < decltype(delay)::zero()) delay = decltype(delay)::zero();
  if (delay > max_timer) delay = max_timer;
  // The actor clock: steady time, and virtual time under CAF's test coordinator.
  const auto steady_at = self->clock().now() + delay;
  const auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(steady_at.time_since_epoch());
  self->send(env->timer, wake_atom::value, static_cast<std::int64_t>(ns.count()), gen);
}

domain_rare_state& rare(self_ptr self) {
  auto& r = self->state.rare;
  if (!r) r = std::make_unique<domain_rare_state>();
  return *r;
}

void free_rare_if_empty(self_ptr self) {
  if (self->state.rare && self->state.rare->empty()) self->state.rare.reset();
}

void answer_retry(self_ptr self, retry_outcome outcome) {
  if (!self->state.rare || self->state.rare->retry_waiters.empty()) return;
  auto& waiters = self->state.rare->retry_waiters;
  waiters.front().deliver(outcome);
  waiters.erase(waiters.begin());
  free_rare_if_empty(self);
}

void carry_out(self_ptr self, domain_env* env, const std::vector<effect>& effects) {
  const auto& rec = self->state.record;
  for (const auto& fx : effects) {
    std::visit(
        overloaded{
            [&](const run_self_check&) { self->send(env->acme, check_atom::value, rec.name); },
            [&](const start_order& order) {
              self->send(
                  env->acme, order_atom::value,
                  order_request{rec.name, order.resume_url, rec.has_cert(), rec.cert_not_after,
                                rec.failure_count > 0, order.ari_renewal, order.fallback});
            },
            [&](const fetch_renewal_info&) {
              self->send(env->acme, window_atom::value, rec.name, to_unix_us(rec.cert_not_after));
            },
            [&](const cancel_order&) { self->send(env->acme, cancel_atom::value, rec.name); },
            [&](const schedule_wake& w) { arm_wake(self, env, w.at); },
            [&](const reply_retry& reply) { answer_retry(self, reply.outcome); },
            // The message names the domain.
            [&](const log_entry& entry) { log_line(entry.level, entry.message); },
        },
        fx);
  }
}

void export_certificate(self_ptr self, domain_env* env) {
  if (env->exporter) self->send(env->exporter, export_atom::value, self->state.record.name);
}

// Events that bring news nothing else would bring back: a certificate, or why an
// attempt failed (without it the domain would wait in flight for its deadline and then
// report the wrong cause). Others need no keeping: the wake after a failed write
// re-derives them from the stored record.
bool worth_keeping(const event& ev) {
  return std::holds_alternative<issued>(ev) || std::holds_alternative<order_failed>(ev) ||
         std::holds_alternative<self_check_failed>(ev);
}

// The write of a step failed: none of its effects happen, the record goes back to
// what is stored, and a wake tries again later, with a back-off. The domain must not
// stop silently (a full disk would otherwise freeze it in whatever phase it was in),
// and nothing may act on a state a restart would not know about. A step with news is
// kept in memory and stored by that wake.
void hold_back(self_ptr self, domain_env* env, storage::domain_record stored, const step& next,
               const event& ev, storage::write_batch extra, const std::string& why) {
  self->state.record = std::move(stored);
  for (const auto& fx : next.effects)
    if (std::holds_alternative<reply_retry>(fx)) answer_retry(self, retry_outcome::not_saved);
  auto& unsaved = rare(self).unsaved;
  const std::uint32_t failures = unsaved ? unsaved->failures + 1 : 1;
  if (worth_keeping(ev))
    unsaved = unsaved_step{ev, std::move(extra), failures};
  else if (unsaved)
    unsaved->failures = failures;
  free_rare_if_empty(self);
  auto delay = write_retry_first * (1u << std::min<std::uint32_t>(failures - 1, 8));
  if (delay > write_retry_max) delay = write_retry_max;
  const timestamp again = env->clock->now() + delay;
  arm_wake(self, env, again);
  // One line when a series of failures begins, not one per retry of every domain.
  if (failures == 1)
    log_error("domain=" + self->state.record.name + ": " + why +
              "; its next step waits until it is stored (next try at " + format_rfc3339(again) +
              ")");
}

// The renewals and failures counters (core/metrics.hpp), once a step is stored.
void count_outcome(const storage::domain_record& before, const step& next) {
  auto& m = metrics::global();
  if (next.takes_certificate) (before.has_cert() ? m.renewals : m.certificates_issued)++;
  if (next.state.failure_count > before.failure_count) m.attempt_failures++;
}

// Runs the state machine; persists the new state (with `extra` in the same
// transaction) before carrying out the effects, and carries out none of them when
// the write fails. `then` runs last, with whether the step was stored.
void apply(self_ptr self, domain_env* env, const event& ev, storage::write_batch extra = {},
           std::function<void(bool)> then = {}) {
  context ctx{env->clock->now(), env->pol, env->self_check_enabled.load(),
              env->fallback_after.load(), env->acme_enabled.load()};
  step next = transition(self->state.record, ev, ctx);
  if (!extra.put_certs.empty() && !next.takes_certificate) {
    // Only the state machine makes a certificate current: the store and the record agree.
    log_warning("domain=" + self->state.record.name + ": a certificate arrived while " +
                std::string(phase_name(self->state.record.phase)) +
                "; nothing waits for it, so it is not stored");
    extra = {};
  }
  if (!next.persist && extra.empty()) {
    self->state.record = next.state;
    carry_out(self, env, next.effects);
    if (then) then(true);
    return;
  }
  storage::domain_record stored = std::exchange(self->state.record, next.state);
  // A copy in case the write fails and the step is worth keeping (a certificate: a few KB).
  storage::write_batch kept = worth_keeping(ev) ? extra : storage::write_batch{};
  extra.put_domains.push_back(next.state);
  // await: no other message is handled until the write is answered, so effects
  // always follow the persisted state in order.
  self->request(env->storage, caf::infinite, persist_atom::value, std::move(extra))
      .await(
          [=](bool ok, std::string& why) {
            if (ok) {
              count_outcome(stored, next);
              carry_out(self, env, next.effects);
            } else
              hold_back(self, env, stored, next, ev, kept, why);
            if (then) then(ok);
          },
          [=](caf::error& e) {
            hold_back(self, env, stored, next, ev, kept,
                      "the storage actor did not answer: " + caf::to_string(e));
            if (then) then(false);
          });
}

// The wake after a failed write: store the kept step now (a failure arms the next wake).
void store_unsaved(self_ptr self, domain_env* env) {
  const unsaved_step& u = *self->state.rare->unsaved;
  const bool certificate = std::holds_alternative<issued>(u.ev);
  apply(self, env, u.ev, u.extra, [self, env, certificate](bool ok) {
    if (!ok) return;
    log_info("domain=" + self->state.record.name + ": its state is stored again");
    self->state.rare->unsaved.reset();
    free_rare_if_empty(self);
    if (certificate) export_certificate(self, env);
  });
}

void on_stage(self_ptr self, domain_env* env, stage_report& report) {
  using protocol::issuance_stage;
  auto ack = std::move(report.ack);
  switch (report.stage) {
    case issuance_stage::order_created: {
      // The order and its key are durable before the CA can issue anything.
      storage::write_batch extra;
      extra.put_pending_orders.push_back(
          {self->state.record.name, report.order_url, std::move(report.key_pem)});
      apply(self, env, order_created{report.order_url}, std::move(extra), [ack](bool ok) {
        ack(ok ? result<void>{}
               : result<void>{error{
                     error_kind::storage,
                     "could not save the new order; check the state directory's disk", true}});
      });
      break;
    }
    case issuance_stage::challenge_submitted:
      apply(self, env, challenge_submitted{});
      ack(result<void>{});
      break;
    case issuance_stage::csr_submitted:
      apply(self, env, csr_submitted{});
      ack(result<void>{});
      break;
  }
}

// The certificate goes to storage in the same transaction as the step it causes;
// the exporter hears of it only once it is stored.
void on_issued(self_ptr self, domain_env* env, protocol::issued_certificate& cert) {
  const std::string& name = self->state.record.name;
  const auto nb = cert.info.not_before, na = cert.info.not_after;
  storage::write_batch extra;
  extra.put_certs.push_back(
      {storage::cert_record{name, std::move(cert.chain_pem), std::move(cert.key_pem), nb, na,
                            cert.info.serial_hex, std::move(cert.ca_url)},
       std::nullopt});
  extra.erase_pending_orders.push_back(name);
  apply(self, env, issued{nb, na}, std::move(extra), [self, env, na](bool ok) {
    if (ok && self->state.record.cert_not_after == na) export_certificate(self, env);
  });
}

void on_message(self_ptr self, domain_env* env, domain_msg& msg) {
  std::visit(overloaded{
                 [&](wake_command& w) {
                   if (w.generation != self->state.wake_generation) return;
                   if (self->state.rare && self->state.rare->unsaved)
                     store_unsaved(self, env);
                   else
                     apply(self, env, wake{});
                 },
                 [&](retry_command&) {
                   // Answered by the state machine's reply_retry effect.
                   rare(self).retry_waiters.push_back(self->make_response_promise());
                   apply(self, env, retry_requested{});
                 },
                 [&](retire_command&) {
                   apply(self, env, deconfigured{}, {}, [=](bool) { self->quit(); });
                 },
                 [&](hand_over_command&) {
                   // Its place in the order queue goes too; an order in flight ends unheard.
                   self->send(env->acme, cancel_atom::value, self->state.record.name);
                   self->quit();
                 },
                 [&](get_command&) { self->make_response_promise().deliver(self->state.record); },
                 [&](self_check_result& r) {
                   if (r.ok)
                     apply(self, env, self_check_passed{});
                   else
                     apply(self, env, self_check_failed{std::move(r.err)});
                 },
                 [&](order_started& s) { apply(self, env, s); },
                 [&](stage_report& report) { on_stage(self, env, report); },
                 [&](protocol::issued_certificate& cert) { on_issued(self, env, cert); },
                 [&](order_failed& f) { apply(self, env, std::move(f)); },
                 [&](renewal_info_received& w) { apply(self, env, std::move(w)); },
                 [&](renewal_info_failed& w) { apply(self, env, std::move(w)); },
                 [&](certificate_revoked& r) { apply(self, env, r); },
                 [&](acme_enabled& e) { apply(self, env, e); },
             },
             msg);
}

// Everything but domain_msg is a bug elsewhere: say so, and answer a request with an error.
caf::result<caf::message> reject_unexpected(caf::scheduled_actor* self, caf::message_view& x) {
  log_warning("domain actor " + std::to_string(self->id()) +
              ": dropped a message it does not handle: " + x.content().stringify());
  return caf::sec::unexpected_message;
}

}  // namespace

domain_actor::domain_actor(caf::actor_config& cfg, storage::domain_record record, domain_env* env,
                           bool rejoining)
    : caf::stateful_actor<domain_state>(cfg), env_(env) {
  state.record = std::move(record);
  state.rejoining = rejoining;
}

caf::behavior domain_actor::make_behavior() {
  // A plain function: it fits in std::function's small buffer, no allocation per actor.
  set_default_handler(reject_unexpected);
  apply(this, env_, started{});
  if (state.rejoining) apply(this, env_, reconfigured{});
  // One handler only: every handler costs memory in each of the (up to 100k) actors.
  // It captures `this` alone: with a second pointer CAF's behavior object (80 B)
  // takes the next malloc size class up (96 B instead of 80 B per actor).
  return {[this](domain_msg& msg) { on_message(this, env_, msg); }};
}

}  // namespace certfleet::actors
