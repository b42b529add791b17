#include "actors/acme_service.hpp"

#include <algorithm>
#include <caf/all.hpp>

#include "actors/domain_fsm.hpp"
#include "config/registered_domain.hpp"
#include "core/log.hpp"

namespace certfleet::actors {

namespace {

using self_ptr = acme_actor::stateful_pointer<acme_state>;
using protocol::ca_role;
constexpr std::array both_roles{ca_role::primary, ca_role::fallback};

bool has_fallback(const acme_settings& s) { return !s.fallback.directory_url.empty(); }
const std::string& url_of(const acme_settings& s, ca_role role) {
  return role == ca_role::primary ? s.directory_url : s.fallback.directory_url;
}
const std::string& bundle_of(const acme_settings& s, ca_role role) {
  return role == ca_role::primary ? s.ca_bundle : s.fallback.ca_bundle;
}
const std::string& profile_of(const acme_settings& s, ca_role role) {
  return role == ca_role::primary ? s.profile : s.fallback.profile;
}
const std::optional<protocol::account_binding>& binding_of(const acme_settings& s, ca_role role) {
  return role == ca_role::primary ? s.binding : s.fallback.binding;
}
// "the CA" / "the fallback CA", for log lines and errors.
std::string named(ca_role role) { return role == ca_role::primary ? "the CA" : "the fallback CA"; }

// The CA that issued a stored certificate: the fallback when its URL says so; any other
// (the primary, an older CA, unknown) is asked of the primary.
ca_role role_of(const acme_settings& s, const storage::cert_record& cert) {
  return has_fallback(s) && cert.ca_url == s.fallback.directory_url ? ca_role::fallback
                                                                    : ca_role::primary;
}

// "https://host:port" of a URL; empty when it is not one.
std::string origin_of(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return {};
  return std::string(url.substr(0, url.find('/', scheme_end + 3)));
}

std::span<const ca_limit> limits_of(const acme_settings& s) {
  return s.lets_encrypt_limits ? lets_encrypt_limits() : std::span<const ca_limit>{};
}

void schedule_pump(self_ptr self, std::chrono::milliseconds delay) {
  if (self->state.pump_scheduled) return;
  self->state.pump_scheduled = true;
  self->delayed_send(self, delay, pump_atom::value);
}

// The domain's stored certificate, or none when it has none (or it cannot be read: a
// renewal then goes on without naming what it replaces).
std::optional<storage::cert_record> stored_cert(self_ptr self, const std::string& domain) {
  auto pair = self->state.store->get_certs(domain);
  if (!pair) {
    log_warning("acme: cannot read the certificate of " + domain + ": " + pair.err().detail);
    return std::nullopt;
  }
  if (!*pair) return std::nullopt;
  return std::move((*pair)->current);
}

void start_issue(self_ptr self, ca_role role, order_queue<order_client>::order q) {
  auto& st = self->state;
  protocol::issuance_request req;
  req.domains = {q.domain};
  req.key = st.settings.key;
  // `replaces` names a certificate of the CA asked: another CA would refuse the order.
  if (q.has_cert)
    if (auto cert = stored_cert(self, q.domain); cert && role_of(st.settings, *cert) == role)
      req.replaced_chain_pem = std::move(cert->chain_pem);
  req.profile = profile_of(st.settings, role);
  req.challenge = st.settings.challenge;
  // An order of another CA (the domain just moved to or from the fallback) is not resumed.
  if (q.payload.resume_url &&
      origin_of(*q.payload.resume_url) == origin_of(url_of(st.settings, role)))
    req.resume_order_url = q.payload.resume_url;
  if (req.resume_order_url) {
    auto pending = st.store->get_pending_order(q.domain);
    if (pending && *pending && (*pending)->order_url == *q.payload.resume_url) {
      req.resume_key_pem = (*pending)->key_pem;
    }
  }
  caf::actor domain = q.payload.domain;
  const std::string name = q.domain;
  // Before the engine runs: the domain hears of the start before any stage of the order.
  caf::anon_send(domain, domain_msg{order_started{}});
  acme_actor me = caf::actor_cast<acme_actor>(self);
  st.engine->issue(
      role, std::move(req),
      [domain](protocol::issuance_stage stage, const std::string& url, const std::string& key_pem,
               protocol::io_engine::ack ack) {
        caf::anon_send(domain, domain_msg{stage_report{stage, url, key_pem, std::move(ack)}});
      },
      [domain, me, name, role](result<protocol::issued_certificate> r) {
        if (r) {
          if (role == ca_role::fallback)
            log_info("acme: " + name + ": certificate issued by the fallback CA at " + r->ca_url);
          caf::anon_send(domain, domain_msg{std::move(r.value())});
          caf::anon_send(me, order_done_atom::value, name, true, error{}, role);
        } else {
          const error e = r.err();
          caf::anon_send(domain, domain_msg{order_failed{e}});
          caf::anon_send(me, order_done_atom::value, name, false, e, role);
        }
      });
}

// Revocations waiting for the account of `role` go to that CA; each answer comes back as
// revoke_done.
void send_revocations(self_ptr self, ca_role role) {
  acme_actor me = caf::actor_cast<acme_actor>(self);
  for (auto& [id, r] : self->state.revocations) {
    if (r.sent || r.role != role) continue;
    r.sent = true;
    self->state.engine->revoke(role, r.chain_pem, r.reason, [me, id = id](result<void> done) {
      caf::anon_send(me, revoke_done_atom::value, id, done.ok(), done.ok() ? error{} : done.err());
    });
  }
}

void fail_waiting_revocations(self_ptr self, ca_role role, const error& e) {
  auto& pending = self->state.revocations;
  for (auto it = pending.begin(); it != pending.end();) {
    if (it->second.sent || it->second.role != role) {
      ++it;
      continue;
    }
    it->second.answer.deliver(false, e, std::int64_t{0});
    it = pending.erase(it);
  }
}

void send_rollover(self_ptr self) {
  auto& rollover = self->state.rollover;
  if (!rollover || rollover->sent) return;
  rollover->sent = true;
  acme_actor me = caf::actor_cast<acme_actor>(self);
  self->state.engine->roll_over_key(
      [me](const std::string& key_pem, protocol::io_engine::ack ack) {
        caf::anon_send(me, rollover_key_atom::value, new_account_key{key_pem, std::move(ack)});
      },
      [me](result<protocol::account_credentials> r) {
        caf::anon_send(me, rollover_done_atom::value, r.ok(),
                       r ? std::move(r.value()) : protocol::account_credentials{},
                       r ? error{} : r.err());
      });
}

void fail_waiting_rollover(self_ptr self, const error& e) {
  auto& rollover = self->state.rollover;
  if (!rollover || rollover->sent) return;
  rollover->answer.deliver(false, e, std::string{});
  rollover.reset();
}

// Before any order request: the stored orders stay resumable.
void fail_all_waiting(self_ptr self, ca_role role, const error& e) {
  auto& orders = self->state.ca(role).orders;
  if (!orders) return;
  for (const auto& q : orders->drain())
    caf::anon_send(q.payload.domain, domain_msg{order_failed{e, /*order_contacted=*/false}});
}

// The email changed since the account's contact was set (a reload): tell the CA. Orders go
// on meanwhile; a failure is retried at the next reload or start.
void update_contact_if_changed(self_ptr self, ca_role role) {
  auto& st = self->state;
  auto rec = st.store->get_account(url_of(st.settings, role));
  if (!rec || !*rec || (*rec)->contact == st.settings.email) return;
  acme_actor me = caf::actor_cast<acme_actor>(self);
  const std::string email = st.settings.email;
  st.engine->update_contact(role, email, [me, email, role](result<void> r) {
    caf::anon_send(me, contact_done_atom::value, r.ok(), email, r.ok() ? error{} : r.err(), role);
  });
}

void save_account(self_ptr self, storage::account_record record, std::string what) {
  storage::write_batch batch;
  batch.put_account = std::move(record);
  self->request(self->state.storage, caf::infinite, persist_atom::value, std::move(batch))
      .then([what](bool saved, std::string& why) {
        if (!saved)
          log_error("acme: saving " + what + " failed: " + why +
                    ". Free space in the state directory; it is done again after a restart");
      });
}

bool rollover_at_ca(const acme_state& st) { return st.rollover && st.rollover->sent; }
bool ready(acme_state& st, ca_role role) {
  return st.ca(role).account == acme_state::account_status::ready;
}

// The stored account as the engine found it at the CA: a rollover left unfinished by a stop
// is settled (the key the CA knows is kept, the other dropped).
void settle_stored_rollover(self_ptr self, const protocol::account_credentials& in_use) {
  auto& st = self->state;
  if (rollover_at_ca(st)) return;
  auto rec = st.store->get_account(st.settings.directory_url);
  if (!rec || !*rec || (*rec)->next_key_pem.empty()) return;
  storage::account_record settled = **rec;
  if (in_use.key_pem == settled.next_key_pem)
    log_info(
        "acme: the account key rollover begun before the stop reached the CA; the account "
        "signs with its new key");
  else
    log_info(
        "acme: the account key rollover begun before the stop never reached the CA; the "
        "account keeps its old key (run certfleet account rollover again to change it)");
  settled.key_pem = in_use.key_pem;
  settled.next_key_pem.clear();
  save_account(self, std::move(settled), "the account's settled key");
}

void ensure_account(self_ptr self, ca_role role) {
  auto& st = self->state;
  auto& ca = st.ca(role);
  if (ca.account != acme_state::account_status::none) return;
  ca.account = acme_state::account_status::registering;
  std::optional<protocol::account_credentials> stored;
  if (auto rec = st.store->get_account(url_of(st.settings, role)); rec && *rec) {
    stored = protocol::account_credentials{(*rec)->account_url, (*rec)->key_pem};
    // A rollover whose answer was never stored: the engine asks the CA which key it knows.
    if (role == ca_role::primary && !rollover_at_ca(st))
      stored->next_key_pem = (*rec)->next_key_pem;
  }
  acme_actor me = caf::actor_cast<acme_actor>(self);
  const bool was_stored = stored.has_value();
  const std::uint32_t generation = ca.generation;
  st.engine->account(
      role, std::move(stored), st.settings.email, true, binding_of(st.settings, role),
      [me, was_stored, generation, role](result<protocol::account_credentials> r) {
        if (r) {
          caf::anon_send(me, account_done_atom::value, true, std::move(r.value()), was_stored,
                         error{}, generation, role);
        } else {
          caf::anon_send(me, account_done_atom::value, false, protocol::account_credentials{},
                         was_stored, r.err(), generation, role);
        }
      });
}

// The budget spent before a restart stays spent: read what this CA's budget needed to be
// full again when it was stored.
void restore_budget(self_ptr self, ca_role role) {
  auto& st = self->state;
  auto& orders = st.ca(role).orders;
  if (!orders) return;
  auto stored = st.store->get_budget(url_of(st.settings, role));
  if (!stored) {
    log_warning("acme: cannot read the stored order budget: " + stored.err().detail +
                "; counting from a full budget");
    return;
  }
  if (!*stored) return;
  const auto left = (*stored)->full_at - st.wall->now();
  orders->restore_time_to_full(left, self->clock().now());
}

// Written after orders start, one small record per pump. A daemon killed before the
// write forgets only the orders of that pump.
void save_budget(self_ptr self, ca_role role) {
  auto& st = self->state;
  storage::write_batch batch;
  const auto left = st.ca(role).orders->time_to_full(self->clock().now());
  batch.put_budget = storage::budget_record{
      url_of(st.settings, role),
      st.wall->now() + std::chrono::duration_cast<std::chrono::microseconds>(left)};
  self->request(st.storage, caf::infinite, persist_atom::value, std::move(batch))
      .then([self](bool saved, std::string& why) {
        auto& s = self->state;
        if (!saved && !s.budget_save_failed)
          log_warning("acme: could not store the spent order budget: " + why +
                      "; a restart now would count from a full budget");
        s.budget_save_failed = !saved;
      });
}

// The primary CA's queue and budget, with what waits for the fallback CA added in.
control::queue_response queue_status(self_ptr self) {
  auto& q = *self->state.ca(ca_role::primary).orders;
  const auto now = self->clock().now();
  const auto whole_seconds = [](auto d) {
    const auto s = std::chrono::duration_cast<std::chrono::seconds>(d).count();
    return static_cast<std::uint64_t>(std::max<std::int64_t>(s, 0));
  };
  control::queue_response out;
  out.waiting_new = q.waiting_new();
  out.waiting_renewals = q.waiting() - q.waiting_new();
  out.waiting_held = q.held();
  out.in_flight = q.in_flight();
  out.max_in_flight = q.max_in_flight();
  out.budget_orders = q.budget().orders;
  out.budget_seconds = whole_seconds(q.budget().per);
  out.paused_seconds = whole_seconds(q.paused_for(now));
  out.backlog_seconds = whole_seconds(q.backlog(now));  // refills the bucket first
  out.budget_available = static_cast<std::uint64_t>(std::max(q.tokens(), 0.0));
  if (auto& f = self->state.ca(ca_role::fallback).orders) {
    out.waiting_new += f->waiting_new();
    out.waiting_renewals += f->waiting() - f->waiting_new();
    out.waiting_held += f->held();
    out.in_flight += f->in_flight();
  }
  return out;
}

// Starts what the CA's queue lets start; returns when to look again, if anything waits.
std::optional<order_queue<order_client>::steady_time> pump_ca(self_ptr self, ca_role role) {
  auto& st = self->state;
  auto& orders = st.ca(role).orders;
  if (!orders || orders->waiting() == 0) return std::nullopt;
  if (!st.settings.enabled) {
    fail_all_waiting(self, role, not_enabled_error());
    return std::nullopt;
  }
  if (!ready(st, role)) {
    ensure_account(self, role);
    return std::nullopt;
  }
  const auto now = self->clock().now();
  bool spent = false;
  while (auto next = orders->pop(now)) {
    spent = true;
    start_issue(self, role, std::move(*next));
  }
  if (spent) save_budget(self, role);
  return orders->retry_at(now);
}

void pump(self_ptr self) {
  std::optional<order_queue<order_client>::steady_time> again;
  for (ca_role role : both_roles) {
    auto at = pump_ca(self, role);
    if (at && (!again || *at < *again)) again = at;
  }
  if (again) {
    const auto wait =
        std::chrono::duration_cast<std::chrono::milliseconds>(*again - self->clock().now());
    schedule_pump(self, std::max(wait, std::chrono::milliseconds(10)));
  }
}

// RFC 9773: the CA's window for the stored certificate, answered to `who`. The engine
// answers for a CA without ARI too (offered = false), so nothing here knows the directory.
void ask_window(self_ptr self, const std::string& domain, timestamp cert_not_after,
                caf::actor who) {
  auto cert = stored_cert(self, domain);
  if (!cert) {
    caf::anon_send(who,
                   domain_msg{renewal_info_failed{
                       cert_not_after, true,
                       error{error_kind::storage,
                             "its certificate could not be read from the state directory", true}}});
    return;
  }
  const ca_role role = role_of(self->state.settings, *cert);
  self->state.engine->renewal_info(
      role, std::move(cert->chain_pem),
      [who, cert_not_after](result<protocol::renewal_info_answer> r) {
        if (!r) {
          caf::anon_send(who, domain_msg{renewal_info_failed{cert_not_after, true, r.err()}});
        } else if (!r->offered) {
          caf::anon_send(who, domain_msg{renewal_info_failed{cert_not_after, false, error{}}});
        } else {
          caf::anon_send(who, domain_msg{renewal_info_received{
                                  cert_not_after, r->window.start, r->window.end,
                                  std::move(r->window.explanation_url), r->retry_after}});
        }
      });
}

void pump_checks(self_ptr self) {
  auto& st = self->state;
  while (st.checks_in_flight < st.settings.self_checks_in_flight && !st.checks_waiting.empty()) {
    auto [domain, who] = std::move(st.checks_waiting.front());
    st.checks_waiting.pop_front();
    ++st.checks_in_flight;
    acme_actor me = caf::actor_cast<acme_actor>(self);
    st.engine->self_check(domain, st.settings.challenge, [who, me](result<void> r) {
      caf::anon_send(who, domain_msg{self_check_result{r.ok(), r.ok() ? error{} : r.err()}});
      caf::anon_send(me, check_done_atom::value);
    });
  }
}

// The CA's queue, with the budget it had spent before a restart.
void open_queue(self_ptr self, ca_role role) {
  auto& st = self->state;
  st.ca(role).orders.emplace(st.settings.budget, st.settings.orders_in_flight, self->clock().now(),
                             limits_of(st.settings));
  restore_budget(self, role);
}

// A reload that drops the fallback CA: what waited for it goes to the primary.
void close_fallback_queue(self_ptr self) {
  auto& st = self->state;
  auto& fallback = st.ca(ca_role::fallback).orders;
  if (!fallback) return;
  for (auto& q : fallback->drain()) st.ca(ca_role::primary).orders->push(std::move(q));
  fallback.reset();
}

// A reload naming another CA for `role` (or none, for the fallback): its account is that
// CA's, and what waited for the old one's account cannot go there.
void switch_ca(self_ptr self, ca_role role, const acme_settings& next) {
  auto& st = self->state;
  auto& ca = st.ca(role);
  ca.account = acme_state::account_status::none;
  ++ca.generation;
  st.engine->use_ca(role, url_of(next, role), bundle_of(next, role));
  // Their certificates are the old CA's: the new one would refuse them.
  fail_waiting_revocations(
      self, role,
      error{error_kind::config,
            "the reload changed " +
                std::string(role == ca_role::primary ? "acme_directory_url"
                                                     : "acme_fallback_directory_url") +
                " before the revocation was sent; certificates of the old CA cannot be revoked "
                "at the new one",
            false});
  if (url_of(next, role).empty())
    log_info("acme: no fallback CA from now on; orders waiting for it go to the CA");
  else
    log_info("acme: orders go to " + named(role) + " at " + url_of(next, role) +
             " from now on; orders in flight finish where they began");
}

}  // namespace

std::vector<profile_check> profile_checks(const config::settings& settings) {
  std::vector<profile_check> out;
  if (!settings.lets_encrypt_profile.empty())
    out.push_back({"lets_encrypt_profile", settings.lets_encrypt_profile,
                   settings.acme_directory_url, settings.acme_ca_bundle.string(),
                   settings.lets_encrypt_profile_line});
  const auto& f = settings.acme_fallback;
  if (!f.directory_url.empty() && !f.profile.empty())
    out.push_back({"acme_fallback_profile", f.profile, f.directory_url, f.ca_bundle.string(),
                   f.profile_line});
  return out;
}

profile_verdict judge_profile(bool offered, const error& why, const profile_check& check,
                              const std::filesystem::path& config_file) {
  if (offered) return {};
  if (why.kind == error_kind::config) {
    const config::diagnostic d{config_file.string(), check.line,
                               check.directive + ": " + why.detail};
    return {true, d.to_string()};
  }
  return {false, "could not check " + check.directive + " " + check.profile + " against the CA (" +
                     why.detail +
                     "); new orders ask for it anyway, and the CA refuses them if it is unknown"};
}

acme_actor::behavior_type acme_service_behavior(self_ptr self, protocol::io_engine* engine,
                                                storage::store* store, storage_actor storage_writer,
                                                const certfleet::clock* wall,
                                                acme_settings settings) {
  auto& st = self->state;
  st.engine = engine;
  st.store = store;
  st.wall = wall;
  st.storage = std::move(storage_writer);
  st.settings = std::move(settings);
  open_queue(self, ca_role::primary);
  if (has_fallback(st.settings)) {
    st.engine->use_ca(ca_role::fallback, st.settings.fallback.directory_url,
                      st.settings.fallback.ca_bundle);
    open_queue(self, ca_role::fallback);
  }
  return {
      [=](check_atom, std::string& domain) {
        auto who = caf::actor_cast<caf::actor>(self->current_sender());
        if (!who)
          return log_warning("acme: a self-check of " + domain + " without a sender (a bug)");
        self->state.checks_waiting.emplace_back(std::move(domain), std::move(who));
        pump_checks(self);
      },
      [=](check_done_atom) {
        --self->state.checks_in_flight;
        pump_checks(self);
      },
      [=](order_atom, order_request& req) {
        auto who = caf::actor_cast<caf::actor>(self->current_sender());
        if (!who)
          return log_warning("acme: an order for " + req.domain + " without a sender (a bug)");
        auto& s = self->state;
        const ca_role role =
            req.fallback && has_fallback(s.settings) ? ca_role::fallback : ca_role::primary;
        // A domain that moved between the CAs waits in one queue only.
        const ca_role other = role == ca_role::primary ? ca_role::fallback : ca_role::primary;
        if (auto& left = s.ca(other).orders) left->cancel(req.domain);
        std::string registered = config::registered_domain(req.domain);
        s.ca(role).orders->push({req.domain, std::move(registered), req.has_cert,
                                 req.cert_not_after, req.failing, req.ari_renewal,
                                 order_client{who, req.resume_url}});
        pump(self);
      },
      [=](window_atom, std::string& domain, std::int64_t cert_not_after_us) {
        auto who = caf::actor_cast<caf::actor>(self->current_sender());
        if (!who) return log_warning("acme: a window request without a sender (a bug)");
        ask_window(self, domain, from_unix_us(cert_not_after_us), std::move(who));
      },
      [=](profile_atom, std::string& profile, std::string& directory_url, std::string& ca_bundle) {
        auto& s = self->state;
        const std::uint64_t id = ++s.next_profile_check;
        auto rp = self->make_response_promise<bool, error>();
        s.profile_checks.emplace(id, rp);
        acme_actor me = caf::actor_cast<acme_actor>(self);
        s.engine->check_profile(std::move(profile), std::move(directory_url), std::move(ca_bundle),
                                [me, id](result<void> r) {
                                  caf::anon_send(me, profile_done_atom::value, id, r.ok(),
                                                 r.ok() ? error{} : r.err());
                                });
        return rp;
      },
      [=](profile_done_atom, std::uint64_t id, bool offered, error& why) {
        auto& checks = self->state.profile_checks;
        auto it = checks.find(id);
        if (it == checks.end()) return;
        it->second.deliver(offered, std::move(why));
        checks.erase(it);
      },
      [=](revoke_atom, std::string& domain, std::int32_t reason) {
        auto& s = self->state;
        auto rp = self->make_response_promise<bool, error, std::int64_t>();
        if (!s.settings.enabled) {
          rp.deliver(false, not_enabled_error(), std::int64_t{0});
          return rp;
        }
        auto cert = stored_cert(self, domain);
        if (!cert) {
          rp.deliver(false,
                     error{error_kind::invalid_input,
                           domain + " has no certificate yet (or it could not be read: see "
                                    "certfleetd's log)"},
                     std::int64_t{0});
          return rp;
        }
        const ca_role role = role_of(s.settings, *cert);
        s.revocations.emplace(++s.next_revocation,
                              acme_state::revocation{domain, std::move(cert->chain_pem), reason,
                                                     cert->not_after, rp, role});
        if (ready(s, role))
          send_revocations(self, role);
        else
          ensure_account(self, role);
        return rp;
      },
      [=](revoke_done_atom, std::uint64_t id, bool ok, error& why) {
        auto& pending = self->state.revocations;
        auto it = pending.find(id);
        if (it == pending.end()) return;
        auto& r = it->second;
        if (ok)
          log_warning("acme: revoked the certificate of " + r.domain + " (reason code " +
                      std::to_string(r.reason) + ") at the operator's request");
        else
          log_error("acme: revoking the certificate of " + r.domain + " failed: " + why.detail);
        r.answer.deliver(ok, std::move(why), to_unix_us(r.cert_not_after));
        pending.erase(it);
      },
      [=](cancel_atom, std::string& domain) {
        for (ca_role role : both_roles)
          if (auto& orders = self->state.ca(role).orders) orders->cancel(domain);
      },
      [=](queue_atom) { return queue_status(self); },
      [=](places_atom, const std::vector<std::string>& domains) {
        std::vector<std::int64_t> places;
        for (const auto& d : domains) {
          std::int64_t place = -1;
          for (auto& ca : self->state.cas)
            if (ca.orders)
              if (auto p = ca.orders->place_of(d)) place = static_cast<std::int64_t>(*p);
          places.push_back(place);
        }
        return places;
      },
      [=](pump_atom) {
        self->state.pump_scheduled = false;
        pump(self);
      },
      [=](order_done_atom, std::string& domain, bool ok, error& e, ca_role role) {
        auto& s = self->state;
        const order_end end = order_end_of(ok, e, self->clock().now());
        // A queue a reload closed meanwhile has nothing left to free.
        if (auto& orders = s.ca(role).orders) orders->finished(domain, end, self->clock().now());
        if (end.what == order_end::outcome::rate_limited) {
          const auto pause =
              std::chrono::duration_cast<std::chrono::seconds>(end.until - self->clock().now());
          if (end.scope == limit_scope::account)
            log_warning("acme: " + named(role) +
                        " is rate limiting new orders of the account; pausing all its orders "
                        "for " +
                        std::to_string(pause.count()) + " s");
          else
            log_warning("acme: " + named(role) + " is rate limiting " + domain + " by its " +
                        std::string(scope_name(end.scope)) + " limit; holding orders of that " +
                        std::string(scope_name(end.scope)) + " for " +
                        std::to_string(pause.count()) + " s");
        }
        pump(self);
      },
      [=](account_done_atom, bool ok, protocol::account_credentials& creds, bool was_stored,
          error& e, std::uint32_t generation, ca_role role) {
        auto& s = self->state;
        auto& ca = s.ca(role);
        // Asked of a CA a reload has left since: never stored as the new CA's account.
        if (generation != ca.generation) return;
        const bool primary = role == ca_role::primary;
        if (!ok) {
          ca.account = acme_state::account_status::none;
          error shown = e;
          shown.detail = std::string(primary ? "" : "at the fallback CA: ") +
                         "ACME account registration failed: " + e.detail;
          log_error("acme: " + shown.detail);
          fail_all_waiting(self, role, shown);
          fail_waiting_revocations(self, role, shown);
          if (primary) fail_waiting_rollover(self, shown);
          return;
        }
        ca.account = acme_state::account_status::ready;
        send_revocations(self, role);
        if (!was_stored) {
          log_info("acme: registered ACME account " + creds.url);
          save_account(self,
                       storage::account_record{url_of(s.settings, role), creds.url, creds.key_pem,
                                               s.settings.email},
                       "the new ACME account");
        } else {
          if (primary) settle_stored_rollover(self, creds);
          update_contact_if_changed(self, role);
        }
        if (primary) send_rollover(self);
        pump(self);
      },
      [=](rollover_atom) {
        auto& s = self->state;
        auto rp = self->make_response_promise<bool, error, std::string>();
        if (!s.settings.enabled) {
          rp.deliver(false, not_enabled_error(), std::string{});
          return rp;
        }
        if (s.rollover) {
          rp.deliver(false,
                     error{error_kind::invalid_input,
                           "a key rollover of the account is already under way; wait for it to "
                           "end (certfleetd's log says when), then try again"},
                     std::string{});
          return rp;
        }
        s.rollover = acme_state::key_rollover{rp, s.settings.directory_url};
        if (ready(s, ca_role::primary))
          send_rollover(self);
        else
          ensure_account(self, ca_role::primary);
        return rp;
      },
      [=](rollover_key_atom, new_account_key& next) {
        auto& s = self->state;
        auto rec = s.rollover ? s.store->get_account(s.rollover->directory_url)
                              : result<std::optional<storage::account_record>>{std::nullopt};
        if (!rec || !*rec) {
          next.ack(error{error_kind::storage,
                         "the account's record cannot be read from the state directory; nothing "
                         "changed at the CA"});
          return;
        }
        storage::write_batch batch;
        batch.put_account = **rec;
        batch.put_account->next_key_pem = next.key_pem;
        self->request(s.storage, caf::infinite, persist_atom::value, std::move(batch))
            .then([ack = std::move(next.ack)](bool saved, std::string& why) {
              if (saved) return ack({});
              ack(error{error_kind::storage,
                        "storing the new account key failed: " + why +
                            "; nothing changed at the CA. Free space in the state directory, "
                            "then run certfleet account rollover again"});
            });
      },
      [=](rollover_done_atom, bool ok, protocol::account_credentials& creds, error& why) {
        auto& s = self->state;
        if (!s.rollover) return;
        acme_state::key_rollover ended = std::move(*s.rollover);
        s.rollover.reset();
        if (!ok) {
          log_error("acme: the account key rollover failed: " + why.detail);
          // The CA may have taken the new key though its answer was lost: the account is
          // settled from the stored keys before it is used again.
          if (ended.directory_url == s.settings.directory_url)
            s.ca(ca_role::primary).account = acme_state::account_status::none;
          ended.answer.deliver(false, std::move(why), std::string{});
          return;
        }
        log_info("acme: the ACME account " + creds.url + " signs with a new key from now on");
        auto rec = s.store->get_account(ended.directory_url);
        if (!rec || !*rec) {
          ended.answer.deliver(true, error{}, creds.url);  // a restart settles it
          return;
        }
        // Answered once the new key is stored: what the operator is told survives a crash.
        storage::write_batch batch;
        batch.put_account = **rec;
        batch.put_account->key_pem = creds.key_pem;
        batch.put_account->next_key_pem.clear();
        self->request(s.storage, caf::infinite, persist_atom::value, std::move(batch))
            .then([answer = std::move(ended.answer), url = creds.url](bool saved,
                                                                      std::string& why) mutable {
              if (!saved)
                log_warning("acme: storing the account's new key failed: " + why +
                            "; the next start asks the CA which key it knows");
              answer.deliver(true, error{}, url);
            });
      },
      [=](contact_done_atom, bool ok, std::string& email, error& why, ca_role role) {
        auto& s = self->state;
        if (!ok) {
          log_warning("acme: could not change the ACME account's contact at " + named(role) +
                      " to \"" + email + "\": " + why.detail +
                      "; tried again at the next reload or restart");
          return;
        }
        auto rec = s.store->get_account(url_of(s.settings, role));
        if (!rec || !*rec) return;
        storage::account_record updated = **rec;
        log_info("acme: the ACME account's contact is now \"" + email + "\" (was \"" +
                 updated.contact + "\")");
        updated.contact = email;
        save_account(self, std::move(updated), "the account's new contact");
      },
      [=](reload_atom, acme_settings& next) {
        auto& s = self->state;
        const bool other_email = next.email != s.settings.email;
        std::array<bool, 2> other_ca{};
        std::array<bool, 2> other_url{};
        std::array<bool, 2> was_ready{};
        for (ca_role role : both_roles) {
          const std::size_t i = static_cast<std::size_t>(role);
          was_ready[i] = ready(s, role);
          other_url[i] = url_of(next, role) != url_of(s.settings, role);
          other_ca[i] = other_url[i] || bundle_of(next, role) != bundle_of(s.settings, role);
          if (other_ca[i])
            switch_ca(self, role, next);
          else if (other_email && ready(s, role))
            s.ca(role).account = acme_state::account_status::none;  // the contact changes
        }
        if (other_ca[0])
          fail_waiting_rollover(
              self, error{error_kind::config,
                          "the reload changed acme_directory_url before the key rollover began; "
                          "run certfleet account rollover again for the new CA's account",
                          false});
        s.settings = std::move(next);
        if (!has_fallback(s.settings)) close_fallback_queue(self);
        for (ca_role role : both_roles) {
          const std::size_t i = static_cast<std::size_t>(role);
          auto& ca = s.ca(role);
          if (!ca.orders) {
            if (has_fallback(s.settings)) open_queue(self, role);
            continue;
          }
          ca.orders->reconfigure(s.settings.budget, s.settings.orders_in_flight,
                                 self->clock().now(), limits_of(s.settings));
          if (other_url[i]) restore_budget(self, role);
          // A new email reaches the CA now, not at the next order.
          if (other_email && was_ready[i] && !other_ca[i] && s.settings.enabled)
            ensure_account(self, role);
        }
        pump(self);
      },
  };
}

}  // namespace certfleet::actors
