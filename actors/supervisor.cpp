#include "actors/supervisor.hpp"

#include "actors/acme_service.hpp"

#include <malloc.h>

#include <algorithm>
#include <caf/all.hpp>

#include "config/domain_name.hpp"
#include "core/log.hpp"

namespace certfleet::actors {

namespace {

using self_ptr = supervisor_actor::stateful_pointer<supervisor_state>;
constexpr std::size_t restart_budget = 5;  // per domain per hour

// The state machine's answer to retry, in the control channel's words.
control::retry_outcome to_control(retry_outcome outcome) {
  switch (outcome) {
    case retry_outcome::retrying:
      return control::retry_outcome::retrying;
    case retry_outcome::not_in_renewal_window:
      return control::retry_outcome::not_in_renewal_window;
    case retry_outcome::already_in_progress:
      return control::retry_outcome::already_in_progress;
    case retry_outcome::not_configured:
      return control::retry_outcome::unknown_domain;
    case retry_outcome::not_saved:
      return control::retry_outcome::not_saved;
    case retry_outcome::not_enabled:
      return control::retry_outcome::not_enabled;
  }
  return control::retry_outcome::no_answer;
}

void spawn_domain(self_ptr self, storage::domain_record record, bool rejoining) {
  std::string name = record.name;
  auto a = self->system().spawn<domain_actor>(std::move(record), self->state.env, rejoining);
  self->monitor(a);
  self->state.domains.emplace(std::move(name), std::move(a));
}

// Writes `batch`; a failure is logged (the domains' own actors store their records
// again when a restart would need them).
void persist(self_ptr self, storage::write_batch batch, std::string what) {
  self->request(self->state.env->storage, caf::infinite, persist_atom::value, std::move(batch))
      .then([what](bool ok, std::string& why) {
        if (!ok)
          log_error("supervisor: saving " + what + " failed: " + why +
                    ". Free space in the state directory, then run certfleet reload");
      });
}

// Membership in a sorted list: the desired list is one already, and a hash set of
// 100k names would be 100k more allocations.
bool contains(const std::vector<std::string>& sorted, const std::string& name) {
  return std::binary_search(sorted.begin(), sorted.end(), name);
}

// Spawns the desired domains (sorted) that are not running, from their stored record
// when there is one, and marks stored domains that are no longer desired as retired;
// `retiring` (sorted) retire themselves (their actors persist the final state).
// Returns which desired domains it spawned (by position in `desired`).
// Nothing short-lived is allocated between the spawns: such temporaries would leave
// small holes between the long-lived actors that malloc_trim cannot give back.
// Streams the store instead of copying it for the same reason.
std::vector<bool> spawn_missing(self_ptr self, const std::vector<std::string>& desired,
                                const std::vector<std::string>& retiring,
                                const ownership_predicate& runs_here) {
  auto& st = self->state;
  std::vector<bool> stored(desired.size()), spawned(desired.size());
  st.domains.reserve(desired.size());  // no rehash between the spawns
  storage::write_batch retire;
  const context retire_context{st.env->clock->now(), st.env->pol, st.env->self_check_enabled,
                               st.env->fallback_after, st.env->acme_enabled};
  auto scanned = st.store->for_each_domain([&](const storage::domain_record& r) {
    const auto it = std::lower_bound(desired.begin(), desired.end(), r.name);
    if (it == desired.end() || *it != r.name) {
      // Removed while the daemon was down: drop it from status and warnings.
      if (r.configured && !st.domains.count(r.name) && !contains(retiring, r.name)) {
        // The state machine retires it, as a running domain actor would.
        step retired = transition(r, deconfigured{}, retire_context);
        for (const auto& fx : retired.effects)
          if (const auto* line = std::get_if<log_entry>(&fx)) log_line(line->level, line->message);
        retire.put_domains.push_back(std::move(retired.state));
      }
      return;
    }
    const auto i = static_cast<std::size_t>(it - desired.begin());
    stored[i] = true;
    if (st.domains.count(r.name) || (runs_here && !runs_here(r.name))) return;
    spawn_domain(self, r, !r.configured);
    spawned[i] = true;
  });
  if (!scanned) log_error("supervisor: reading stored domains failed: " + scanned.err().detail);
  // New domains are stored before their actors start: status lists them at once (an
  // actor stores its record only when a restart would need it, which can be hours away
  // for a domain queued behind the order budget), and no write of theirs can come first.
  storage::write_batch fresh;
  for (std::size_t i = 0; i < desired.size(); ++i) {
    if (stored[i] || st.domains.count(desired[i])) continue;
    if (runs_here && !runs_here(desired[i])) continue;  // its owner stores it
    storage::domain_record record;
    record.name = desired[i];
    fresh.put_domains.push_back(std::move(record));
    spawned[i] = true;
  }
  if (!fresh.put_domains.empty()) persist(self, fresh, "the new domains");
  for (auto& record : fresh.put_domains) spawn_domain(self, std::move(record), false);
  if (!retire.put_domains.empty()) persist(self, std::move(retire), "the removed domains");
  return spawned;
}

// Stops the running actors of domains this node no longer owns; they store nothing, and
// the new owner carries on from the stored record.
void hand_over(self_ptr self, const ownership_predicate& runs_here) {
  if (!runs_here) return;
  auto& st = self->state;
  std::size_t handed = 0;
  for (auto it = st.domains.begin(); it != st.domains.end();) {
    if (runs_here(it->first)) {
      ++it;
      continue;
    }
    self->demonitor(it->second);  // its exit is expected, not a crash
    caf::anon_send(it->second, domain_msg{hand_over_command{}});
    it = st.domains.erase(it);
    ++handed;
  }
  if (handed != 0)
    log_info("supervisor: handed " + std::to_string(handed) + " domains over to other nodes");
}

// The cluster's membership changed: hand over what another node owns now, take over
// what this node gained.
void apply_ownership(self_ptr self) {
  auto& st = self->state;
  if (!st.ownership || !st.applied) return;
  const ownership_predicate runs_here = st.ownership();
  hand_over(self, runs_here);
  const std::size_t before = st.domains.size();
  spawn_missing(self, config::desired_domains(*st.applied), {}, runs_here);
  if (st.domains.size() != before)
    log_info("supervisor: took over " + std::to_string(st.domains.size() - before) +
             " domains; running " + std::to_string(st.domains.size()));
}

reload_report apply_configuration(self_ptr self, const config::shared_configuration& config) {
  auto& st = self->state;
  reload_report report;
  st.applied = config;
  const ownership_predicate runs_here = st.ownership ? st.ownership() : nullptr;
  {
    const auto desired = config::desired_domains(*config);  // sorted
    st.env->self_check_enabled = config->settings.lets_encrypt_certs_self_check;
    const bool was_enabled = st.env->acme_enabled.exchange(config::lets_encrypt_enabled(*config));
    if (was_enabled && !st.env->acme_enabled)
      log_warning("supervisor: " + not_enabled_error().detail);
    if (!was_enabled && st.env->acme_enabled) {
      // Every domain waiting for it starts now, not at a retry hours away; the new settings
      // reached the ACME service first (apply_reload).
      for (const auto& entry : st.domains) caf::anon_send(entry.second, domain_msg{acme_enabled{}});
    }
    const auto& fallback = config->settings.acme_fallback;
    st.env->fallback_after = fallback.directory_url.empty() ? 0 : fallback.after;

    for (auto it = st.domains.begin(); it != st.domains.end();) {
      if (contains(desired, it->first)) {
        ++it;
        continue;
      }
      self->demonitor(it->second);  // its exit is expected, not a crash
      caf::anon_send(it->second, domain_msg{retire_command{}});
      report.removed.push_back(it->first);
      it = st.domains.erase(it);
    }
    std::sort(report.removed.begin(), report.removed.end());
    hand_over(self, runs_here);
    const auto spawned = spawn_missing(self, desired, report.removed, runs_here);
    // Collected after the spawns (see spawn_missing), already sorted.
    for (std::size_t i = 0; i < desired.size(); ++i)
      if (spawned[i]) report.added.push_back(desired[i]);
    // A reload is the operator's "try again" for a domain stopped after too many crashes
    // (the log says so): it starts with a fresh restart budget.
    for (const auto& name : report.added) st.restarts.erase(name);
  }
  // The scan and the new actors' first messages were large; give their pages back
  // once the actors have settled.
  self->delayed_send(self, std::chrono::milliseconds(500), trim_atom::value);
  if (st.on_applied) st.on_applied(config);
  return report;
}

}  // namespace

namespace {

// Applies a loaded configuration: the ACME service's settings, then the domain set.
std::tuple<bool, reload_report, std::string> apply_reload(
    self_ptr self, const config::shared_configuration& next) {
  self->send(self->state.acme, reload_atom::value, acme_settings_from(*next));
  auto report = apply_configuration(self, next);
  log_info("supervisor: reload applied: " + std::to_string(report.added.size()) + " added, " +
           std::to_string(report.removed.size()) + " removed");
  return {true, std::move(report), std::string()};
}

// Asks the CA each profile of `checks` (from `index` on) is for, one after the other (the
// CA the new configuration names, which may not be the one in use); applies the reload when
// none is refused.
void check_profiles_then_apply(self_ptr self, config::shared_configuration next,
                               std::vector<profile_check> checks, std::size_t index,
                               caf::typed_response_promise<bool, reload_report, std::string> rp) {
  if (index == checks.size()) {
    auto [ok, report, text] = apply_reload(self, next);
    rp.deliver(ok, std::move(report), std::move(text));
    return;
  }
  const profile_check check = checks[index];
  self->request(self->state.acme, std::chrono::seconds(30), profile_atom::value, check.profile,
                check.directory_url, check.ca_bundle)
      .then(
          [=](bool offered, error& why) mutable {
            const auto verdict =
                judge_profile(offered, why, check, next->config_dir / "certfleet.conf");
            if (verdict.refuse) {
              log_error("supervisor: reload rejected (" + verdict.message +
                        "); keeping the running configuration");
              rp.deliver(false, reload_report{}, verdict.message + "\n");
              return;
            }
            if (!verdict.message.empty()) log_warning("config: " + verdict.message);
            check_profiles_then_apply(self, next, std::move(checks), index + 1, rp);
          },
          [=](caf::error& e) mutable {
            log_warning("config: could not check " + check.directive + " against the CA (" +
                        caf::to_string(e) + "); applying the reload");
            check_profiles_then_apply(self, next, std::move(checks), index + 1, rp);
          });
}

}  // namespace

acme_settings acme_settings_from(const config::configuration& config) {
  const auto& s = config.settings;
  acme_settings a;
  a.enabled = config::lets_encrypt_enabled(config);
  a.email = s.lets_encrypt_registration_email;
  a.directory_url = s.acme_directory_url;
  a.ca_bundle = s.acme_ca_bundle.string();
  a.key = s.key_type;
  a.orders_in_flight = s.orders_in_flight;
  a.budget = s.order_budget;
  a.lets_encrypt_limits = config::uses_lets_encrypt_limits(s);
  a.profile = s.lets_encrypt_profile;
  if (!s.acme_eab_kid.empty())
    a.binding = protocol::account_binding{s.acme_eab_kid, s.acme_eab_hmac_key};
  a.challenge = s.challenge_type == config::settings::challenge::tls_alpn_01
                    ? protocol::challenge_kind::tls_alpn_01
                    : protocol::challenge_kind::http_01;
  const auto& f = s.acme_fallback;
  a.fallback.directory_url = f.directory_url;
  a.fallback.ca_bundle = f.ca_bundle.string();
  a.fallback.profile = f.profile;
  if (!f.eab_kid.empty()) a.fallback.binding = protocol::account_binding{f.eab_kid, f.eab_hmac_key};
  return a;
}

supervisor_actor::behavior_type supervisor_behavior(
    self_ptr self, storage::store* store, domain_env* env, acme_actor acme,
    config::shared_configuration initial,
    std::function<void(const config::shared_configuration&)> on_applied,
    ownership_source ownership) {
  auto& st = self->state;
  st.ownership = std::move(ownership);
  st.store = store;
  st.env = env;
  st.acme = std::move(acme);
  st.config_dir = initial->config_dir;
  st.on_applied = std::move(on_applied);
  auto first = apply_configuration(self, initial);
  log_info("supervisor: managing " + std::to_string(self->state.domains.size()) + " domains");
  if (!env->acme_enabled) log_warning("supervisor: " + not_enabled_error().detail);

  self->set_down_handler([=](caf::down_msg& msg) {
    // Only crashes arrive here (retired actors are demonitored), so a scan is fine.
    auto& s = self->state;
    auto it = std::find_if(s.domains.begin(), s.domains.end(),
                           [&](const auto& entry) { return entry.second.address() == msg.source; });
    if (it == s.domains.end()) return;
    const std::string name = it->first;
    s.domains.erase(it);
    if (!msg.reason) return;
    auto& times = s.restarts[name];
    const auto now = std::chrono::steady_clock::now();
    std::erase_if(times, [&](auto t) { return now - t > std::chrono::hours(1); });
    if (times.size() >= restart_budget) {
      log_error("supervisor: domain=" + name + " crashed " + std::to_string(restart_budget) +
                " times within an hour; not restarting it. Run certfleet reload to try again");
      return;
    }
    times.push_back(now);
    log_warning("supervisor: domain=" + name + " actor crashed (" + caf::to_string(msg.reason) +
                "); restarting it from its stored state");
    auto rec = s.store->get_domain(name);
    storage::domain_record r;
    r.name = name;
    if (rec && *rec) r = **rec;
    spawn_domain(self, std::move(r), false);
  });

  return {
      [=](retry_atom, std::vector<std::string>& names) {
        auto rp = self->make_response_promise<std::vector<control::retry_result>>();
        auto reports = std::make_shared<std::vector<control::retry_result>>(names.size());
        auto remaining = std::make_shared<std::size_t>(names.size());
        auto finish = [rp, reports, remaining]() mutable {
          if (--*remaining == 0) rp.deliver(*reports);
        };
        if (names.empty()) rp.deliver(*reports);
        // In a cluster, a configured domain not running here is another node's.
        const auto& st = self->state;
        const auto desired = st.ownership && st.applied ? config::desired_domains(*st.applied)
                                                        : std::vector<std::string>{};
        for (std::size_t i = 0; i < names.size(); ++i) {
          (*reports)[i].domain = names[i];
          auto normal = config::normalize_domain(names[i]);
          auto it = normal ? self->state.domains.find(*normal) : self->state.domains.end();
          if (it == self->state.domains.end()) {
            (*reports)[i].outcome = normal ? control::retry_outcome::unknown_domain
                                           : control::retry_outcome::invalid_domain;
            if (!normal) (*reports)[i].detail = normal.err().detail;
            if (normal && contains(desired, *normal)) {
              (*reports)[i].outcome = control::retry_outcome::no_answer;
              (*reports)[i].detail =
                  "another node of the cluster owns it (or this node is not active in the "
                  "cluster); run certfleet retry on its owner";
            }
            finish();
            continue;
          }
          (*reports)[i].domain = *normal;
          self->request(it->second, std::chrono::seconds(30), domain_msg{retry_command{}})
              .then(
                  [=](retry_outcome outcome) mutable {
                    (*reports)[i].outcome = to_control(outcome);
                    finish();
                  },
                  [=](caf::error&) mutable {
                    (*reports)[i].outcome = control::retry_outcome::no_answer;
                    (*reports)[i].detail = "the domain's actor did not answer in time";
                    finish();
                  });
        }
        return rp;
      },
      [=](revoke_atom, std::string& name, std::int32_t reason) -> caf::result<bool, std::string> {
        auto normal = config::normalize_domain(name);
        if (!normal)
          return {false, "\"" + name + "\" is not a domain name: " + normal.err().detail};
        auto it = self->state.domains.find(*normal);
        if (it == self->state.domains.end())
          return {false, *normal +
                             " is not in the configuration; certfleet revokes the certificates of "
                             "configured domains only"};
        auto rp = self->make_response_promise<bool, std::string>();
        caf::actor domain = it->second;
        const std::string who = *normal;
        self->request(self->state.acme, std::chrono::seconds(120), revoke_atom::value, who, reason)
            .then(
                [=](bool ok, error& why, std::int64_t not_after_us) mutable {
                  // Revoked before (a replacement not yet issued): replaced all the same.
                  const bool already = !ok && why.kind == error_kind::already_revoked;
                  if (!ok && !already) {
                    rp.deliver(false, "revoking the certificate of " + who +
                                          " failed: " + why.detail +
                                          "; the certificate stays in use. Check certfleetd's log "
                                          "and try again");
                    return;
                  }
                  caf::anon_send(domain,
                                 domain_msg{certificate_revoked{from_unix_us(not_after_us)}});
                  rp.deliver(true, std::string(already ? "the CA had already revoked" : "revoked") +
                                       " the certificate of " + who +
                                       "; a new one is being ordered (certfleet status " + who +
                                       " shows its progress)");
                },
                [=](caf::error& e) mutable {
                  rp.deliver(false, "revoking the certificate of " + who +
                                        " failed: the ACME service did not answer (" +
                                        caf::to_string(e) + "); check certfleetd's log");
                });
        return rp;
      },
      [=](reload_atom) -> caf::result<bool, reload_report, std::string> {
        auto loaded = config::load_configuration(self->state.config_dir);
        if (!loaded.ok()) {
          log_error("supervisor: reload rejected; keeping the running configuration");
          return {false, reload_report{}, config::format_diagnostics(loaded.errors)};
        }
        for (const auto& w : loaded.warnings) log_warning("config: " + w.to_string());
        auto next = std::make_shared<const config::configuration>(std::move(*loaded.value));
        // The profiles are the CAs' to offer: asked before anything of the reload applies.
        auto rp = self->make_response_promise<bool, reload_report, std::string>();
        check_profiles_then_apply(self, next, profile_checks(next->settings), 0, rp);
        return rp;
      },
      [=](count_atom) { return self->state.domains.size(); },
      [=](trim_atom) {
        self->state.store->release_resident_pages();
        ::malloc_trim(0);
      },
      [=](ownership_atom) { apply_ownership(self); },
  };
}

}  // namespace certfleet::actors
