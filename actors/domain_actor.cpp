#include "actors/domain_actor.hpp"

#include <caf/all.hpp>

#include "actors/messages.hpp"
#include "core/log.hpp"

namespace certfleet::actors {

namespace {

using self_ptr = caf::stateful_actor<domain_state>*;

// Longest single timer; a wake before the due time is ignored and re-armed.
constexpr auto max_timer = std::chrono::hours(24);

void carry_out(self_ptr self, domain_env* env, const std::vector<effect>& effects) {
  const auto& rec = self->state.record;
  for (const auto& fx : effects) {
    if (std::holds_alternative<run_self_check>(fx)) {
      self->send(env->acme, check_atom::value, rec.name);
    } else if (auto* order = std::get_if<start_order>(&fx)) {
      self->send(env->acme, order_atom::value,
                 order_request{rec.name, order->resume_url, rec.has_cert(), rec.cert_not_after});
    } else if (auto* wake = std::get_if<schedule_wake>(&fx)) {
      const auto gen = ++self->state.wake_generation;
      auto delay = wake->at - env->clock->now();
      if (delay < decltype(delay)::zero()) delay = decltype(delay)::zero();
      if (delay > max_timer) delay = max_timer;
      const auto at = std::chrono::steady_clock::now() + delay;
      self->send(env->timer, wake_atom::value,
                 static_cast<std::int64_t>(
                     std::chrono::duration_cast<std::chrono::nanoseconds>(at.time_since_epoch()).count()),
                 gen);
    } else if (auto* reply = std::get_if<reply_retry>(&fx)) {
      auto& waiters = self->state.retry_waiters;
      if (waiters && !waiters->empty()) {
        waiters->front().deliver(reply->outcome);
        waiters->erase(waiters->begin());
        if (waiters->empty()) waiters.reset();
      }
    } else if (auto* entry = std::get_if<log_entry>(&fx)) {
      log_line(entry->level, entry->message);  // the message names the domain
    }
  }
}

// Runs the state machine; persists the new state (with `extra` in the same
// transaction) before carrying out the effects. `then` runs after the persist.
void apply(self_ptr self, domain_env* env, const event& ev, storage::write_batch extra = {},
           std::function<void(bool)> then = {}) {
  context ctx{env->clock->now(), env->pol, env->self_check_enabled.load()};
  step next = transition(self->state.record, ev, ctx);
  self->state.record = next.state;
  if (!next.persist && extra.empty()) {
    carry_out(self, env, next.effects);
    if (then) then(true);
    return;
  }
  extra.put_domains.push_back(next.state);
  // await: no other message is handled until the state is durable, so effects
  // always follow the persisted state in order.
  self->request(env->storage, caf::infinite, persist_atom::value, std::move(extra))
      .await(
          [=](bool ok, const std::string&) {
            carry_out(self, env, next.effects);
            if (then) then(ok);
          },
          [=](caf::error&) {
            log_error("domain=" + next.state.name + " storage actor did not answer; continuing");
            carry_out(self, env, next.effects);
            if (then) then(false);
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
               : result<void>{error{error_kind::storage,
                                    "could not save the new order; check the state directory's disk",
                                    true}});
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

// The certificate and the new state go to storage in one transaction.
void on_issued(self_ptr self, domain_env* env, protocol::issued_certificate& cert) {
  context ctx{env->clock->now(), env->pol, env->self_check_enabled.load()};
  const auto nb = cert.info.not_before, na = cert.info.not_after;
  step next = transition(self->state.record, issued{nb, na}, ctx);
  self->state.record = next.state;
  storage::cert_record stored{next.state.name, std::move(cert.chain_pem), std::move(cert.key_pem),
                              nb, na, cert.info.serial_hex};
  self->request(env->storage, caf::infinite, save_cert_atom::value, std::move(stored), next.state)
      .await(
          [=](bool ok, const std::string&) {
            if (ok && env->exporter) self->send(env->exporter, export_atom::value, next.state.name);
            carry_out(self, env, next.effects);
          },
             [=](caf::error&) { carry_out(self, env, next.effects); });
}

template <class... Fs>
struct overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
overloaded(Fs...) -> overloaded<Fs...>;

void on_message(self_ptr self, domain_env* env, domain_msg& msg) {
  std::visit(
      overloaded{
          [&](wake_command& w) {
            if (w.generation == self->state.wake_generation) apply(self, env, wake{});
          },
          [&](retry_command&) {
            // Answered by the state machine's reply_retry effect.
            auto& waiters = self->state.retry_waiters;
            if (!waiters) waiters = std::make_unique<std::vector<caf::response_promise>>();
            waiters->push_back(self->make_response_promise());
            apply(self, env, retry_requested{});
          },
          [&](retire_command&) { apply(self, env, deconfigured{}, {}, [=](bool) { self->quit(); }); },
          [&](get_command&) { self->make_response_promise().deliver(self->state.record); },
          [&](self_check_result& r) {
            if (r.ok) apply(self, env, self_check_passed{});
            else apply(self, env, self_check_failed{std::move(r.err)});
          },
          [&](stage_report& report) { on_stage(self, env, report); },
          [&](protocol::issued_certificate& cert) { on_issued(self, env, cert); },
          [&](order_failed& f) { apply(self, env, std::move(f)); },
      },
      msg);
}

}  // namespace

domain_actor::domain_actor(caf::actor_config& cfg, storage::domain_record record,
                           domain_env* env, bool rejoining)
    : caf::stateful_actor<domain_state>(cfg), env_(env) {
  state.record = std::move(record);
  state.rejoining = rejoining;
}

caf::behavior domain_actor::make_behavior() {
  apply(this, env_, started{});
  if (state.rejoining) apply(this, env_, reconfigured{});
  // One handler only: every handler costs memory in each of the (up to 100k) actors.
  // It captures `this` alone: with a second pointer CAF's behavior object (80 B)
  // takes the next malloc size class up (96 B instead of 80 B per actor).
  return {[this](domain_msg& msg) { on_message(this, env_, msg); }};
}

}  // namespace certfleet::actors
