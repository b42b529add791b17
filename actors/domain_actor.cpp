#include "actors/domain_actor.hpp"

#include <caf/all.hpp>

#include "actors/messages.hpp"
#include "protocol/log.hpp"

namespace certfleet::actors {

namespace {

using self_ptr = caf::stateful_actor<domain_state>*;

// Longest single timer; a wake before the due time is ignored and re-armed.
constexpr auto max_timer = std::chrono::hours(24);

log_severity severity_of(log_level level) {
  switch (level) {
    case log_level::debug: return log_severity::debug;
    case log_level::info: return log_severity::info;
    case log_level::warning: return log_severity::warning;
    case log_level::error: return log_severity::error;
  }
  return log_severity::info;
}

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
      self->delayed_send(self, delay, wake_atom::value, gen);
    } else if (auto* reply = std::get_if<reply_retry>(&fx)) {
      if (!self->state.retry_waiters.empty()) {
        self->state.retry_waiters.front().deliver(reply->outcome);
        self->state.retry_waiters.erase(self->state.retry_waiters.begin());
      }
    } else if (auto* entry = std::get_if<log_entry>(&fx)) {
      log_line(severity_of(entry->level), entry->message);  // the message names the domain
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

}  // namespace

caf::behavior domain_actor(self_ptr self, storage::domain_record record, domain_env* env,
                           bool rejoining) {
  self->state.record = std::move(record);
  apply(self, env, started{});
  if (rejoining) apply(self, env, reconfigured{});
  return {
      [=](wake_atom, std::uint32_t generation) {
        if (generation == self->state.wake_generation) apply(self, env, wake{});
      },
      [=](retry_atom) {
        auto rp = self->make_response_promise();
        self->state.retry_waiters.push_back(rp);
        apply(self, env, retry_requested{});  // its reply_retry effect answers rp
        return rp;
      },
      [=](retire_atom) {
        apply(self, env, deconfigured{}, {}, [=](bool) { self->quit(); });
      },
      [=](rejoin_atom) { apply(self, env, reconfigured{}); },
      [=](checked_atom, bool ok, error& err) {
        if (ok) {
          apply(self, env, self_check_passed{});
        } else {
          apply(self, env, self_check_failed{std::move(err)});
        }
      },
      [=](stage_atom, stage_report& report) {
        using protocol::issuance_stage;
        auto ack = std::move(report.ack);
        switch (report.stage) {
          case issuance_stage::order_created: {
            // The order and its key are durable before the CA can issue anything.
            storage::write_batch extra;
            extra.put_pending_orders.push_back(
                {self->state.record.name, report.order_url, std::move(report.key_pem)});
            apply(self, env, order_created{report.order_url}, std::move(extra),
                  [ack](bool ok) {
                    ack(ok ? result<void>{}
                           : result<void>{error{error_kind::storage,
                                                "could not save the new order; check the state "
                                                "directory's disk",
                                                true}});
                  });
            break;
          }
          case issuance_stage::challenge_submitted:
            apply(self, env, challenge_submitted{});
            ack(result<void>{});
            break;
          case issuance_stage::finalizing:
            apply(self, env, finalizing{});
            ack(result<void>{});
            break;
        }
      },
      [=](issued_atom, protocol::issued_certificate& cert) {
        context ctx{env->clock->now(), env->pol, env->self_check_enabled.load()};
        const auto nb = cert.info.not_before, na = cert.info.not_after;
        step next = transition(self->state.record, issued{nb, na}, ctx);
        self->state.record = next.state;
        storage::cert_record stored{next.state.name, std::move(cert.chain_pem),
                                    std::move(cert.key_pem), nb, na, cert.info.serial_hex};
        self->request(env->storage, caf::infinite, save_cert_atom::value, std::move(stored),
                      next.state)
            .await([=](bool, const std::string&) { carry_out(self, env, next.effects); },
                   [=](caf::error&) { carry_out(self, env, next.effects); });
      },
      [=](done_atom, error& err, bool order_unusable) {
        apply(self, env, order_failed{std::move(err), order_unusable});
      },
      [=](get_atom) { return self->state.record; },
  };
}

}  // namespace certfleet::actors
