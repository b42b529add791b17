#include "actors/system.hpp"

#include "admin/admin_listener.hpp"
#include "admin/token_file.hpp"
#include "admin/warning_alerts.hpp"
#include "cluster/cluster_node.hpp"
#include "cluster/shared_challenge_tokens.hpp"
#include "protocol/crypto/sealed.hpp"

#include <unistd.h>

#include <caf/all.hpp>
#include <future>
#include <string_view>
#include <type_traits>

#include "actors/acme_service.hpp"
#include "actors/domain_actor.hpp"
#include "actors/export_actor.hpp"
#include "actors/storage_actor.hpp"
#include "actors/supervisor.hpp"
#include "actors/wake_timer.hpp"
#include "control/server.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "core/revocation_reason.hpp"
#include "protocol/engine/asio_io_engine.hpp"
#include "serving/certificate_choice.hpp"
#include "serving/https_redirect.hpp"
#include "serving/https_server.hpp"
#include "serving/stored_certificate.hpp"
#include "storage/group_writer.hpp"
#include "storage/store.hpp"

namespace certfleet::actors {

namespace {

caf::actor_system_config& configure(caf::actor_system_config& cfg, std::size_t threads) {
  // CAF defaults to at least 4 workers; this machine class has 2 cores.
  cfg.set("scheduler.max-threads", threads);
  // Work stealing polls and sleeps in 50 us steps while idle; profiled at ~13% of
  // certfleetd's CPU per certificate (bench/README.md). A shared queue wakes
  // workers on demand: 4.5 -> 3.6 ms CPU per certificate measured.
  cfg.set("scheduler.policy", caf::atom("sharing"));
  return cfg;
}

protocol::io_engine_options io_options(const config::configuration& config,
                                       const storage::store* store,
                                       std::shared_ptr<const serving::https_redirect> redirect,
                                       const cluster::cluster_node* node) {
  const auto& s = config.settings;
  protocol::io_engine_options o;
  o.directory_url = s.acme_directory_url;
  o.http.ca_bundle = s.acme_ca_bundle.string();
  o.http_listen = s.http_listen.to_string();
  for (const auto& d : s.dns_servers) o.dns_servers.push_back(d.to_string());
  o.self_check_port = s.self_check_port;
  o.self_check_tls_port = s.self_check_tls_port;
  o.responder.redirect_to_https = [redirect = std::move(redirect), store](const std::string& host) {
    return redirect->wants(host, *store, wall_clock{}.now());
  };
  if (node != nullptr) {
    // Any node answers any challenge: the tokens go through etcd, on the node's lease.
    const auto& c = s.cluster;
    o.share_tokens = [node, c](boost::asio::any_io_executor executor) {
      protocol::etcd::client_options etcd{c.etcd_endpoints, c.etcd_ca_file.string(),
                                          c.etcd_cert_file.string(), c.etcd_key_file.string()};
      return std::make_unique<cluster::etcd_shared_tokens>(std::move(executor), std::move(etcd),
                                                           "/certfleet/" + c.name + "/",
                                                           [node] { return node->view().lease; });
    };
  }
  return o;
}

protocol::self_check_settings self_check_settings_of(const config::settings& s) {
  protocol::self_check_settings out{.port = s.self_check_port, .tls_port = s.self_check_tls_port};
  for (const auto& d : s.dns_servers) out.dns_servers.push_back(d.to_string());
  return out;
}

}  // namespace

struct daemon::impl {
  config::shared_configuration config;  ///< swapped under config_mutex on reload
  /// As at start: what the listeners and the io engine were made from (reload does not
  /// change them; a reload names the differences).
  config::shared_configuration started_with;
  std::filesystem::path state_dir;
  std::unique_ptr<storage::store> store;
  std::unique_ptr<storage::group_writer> writer;
  std::unique_ptr<protocol::asio_io_engine> io;
  wall_clock clock;
  domain_env env;
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> system;
  storage_actor storage_actor_handle;
  acme_actor acme;
  supervisor_actor supervisor_handle;
  std::unique_ptr<serving::https_server> https;
  std::unique_ptr<control::server> control_channel;
  std::unique_ptr<admin::admin_listener> admin;
  std::unique_ptr<admin::warning_alerts> alerts;
  /// This node's membership of its cluster (cluster_etcd_endpoints); null when alone.
  std::unique_ptr<cluster::cluster_node> cluster;
  /// Set once the supervisor exists: the cluster's changes go to it from then on.
  std::atomic<bool> supervisor_ready{false};
  /// The storage writer's way to the cluster's publisher, closed before the node leaves
  /// (the writer thread may still call it while the daemon stops).
  struct publish_gate {
    std::mutex mutex;
    cluster::cluster_node* node = nullptr;
  };
  std::shared_ptr<publish_gate> publishing = std::make_shared<publish_gate>();
  /// url_domains_always_use_tls as last loaded (the HTTP-01 responder asks it).
  std::shared_ptr<serving::https_redirect> redirect = std::make_shared<serving::https_redirect>();
  std::mutex config_mutex;
  std::mutex reload_mutex;  ///< one reload at a time (the control socket and daemon::reload)

  config::shared_configuration current_config() {
    std::lock_guard lock(config_mutex);
    return config;
  }
  bool stopped = false;

  control::response handle_control(const control::request& request);
};

namespace {

result<void> start_admin(daemon::impl& i, const config::configuration& config);

// Joins the cluster of cluster_etcd_endpoints, if any. The cluster key is checked now,
// so a node with a wrong key file never starts.
result<void> join_cluster(daemon::impl& i) {
  const auto& c = i.config->settings.cluster;
  if (c.etcd_endpoints.empty()) return {};
  auto key = protocol::sealing_key::load(c.key_file);
  if (!key) return std::move(key).err();
  auto name = cluster::resolve_node_name(c);
  if (!name) return std::move(name).err();
  daemon::impl* raw = &i;
  auto node = cluster::cluster_node::start(
      c, *name, *key, *i.store, *i.writer, [raw](const cluster::membership_view&) {
        if (raw->supervisor_ready.load(std::memory_order_acquire))
          caf::anon_send(raw->supervisor_handle, ownership_atom::value);
      });
  if (!node) return std::move(node).err();
  i.cluster = std::move(node.value());
  log_info("certfleetd: node " + *name + " joining cluster " + c.name + " at " +
           c.etcd_endpoints.front() + (c.etcd_endpoints.size() > 1 ? " and others" : ""));
  return {};
}

// Which domains run here: all when alone; in a cluster, those this node owns in the
// membership it sees now (none until it has joined).
ownership_source ownership_of(daemon::impl& i) {
  if (!i.cluster) return nullptr;
  cluster::cluster_node* node = i.cluster.get();
  return [node]() -> ownership_predicate {
    return
        [node, view = node->view()](const std::string& domain) { return node->owns(view, domain); };
  };
}

// This host in warning_hook's document: the server's own hostname (file `me`), else the
// system's.
std::string node_name(const config::configuration& config) {
  if (!config.me.empty()) return config.me;
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "localhost";
  return name;
}

// warning_hook's scans: settings as reloaded, the stored records, and the counters of ended
// attempts as the sign that something may have changed.
std::unique_ptr<admin::warning_alerts> start_alerts(daemon::impl& i) {
  admin::alert_sources sources;
  sources.settings = [&i] {
    const auto c = i.current_config();
    return admin::alert_settings{c->settings.warning_hook, c->settings.warning_hook_timeout,
                                 c->settings.expiry_alert_days};
  };
  sources.for_each_domain = [&i](const std::function<void(const storage::domain_record&)>& fn) {
    return i.store->for_each_domain(fn);
  };
  sources.now = [&i] { return i.clock.now(); };
  sources.activity = [] {
    const auto& m = metrics::global();
    return m.certificates_issued.load(std::memory_order_relaxed) +
           m.renewals.load(std::memory_order_relaxed) +
           m.attempt_failures.load(std::memory_order_relaxed);
  };
  sources.state_dir = i.state_dir;
  sources.node = node_name(*i.config);
  return admin::warning_alerts::start(std::move(sources), {});
}

// The HTTPS listener (https_listen), serving what the precedence rules choose.
result<void> start_https(daemon::impl& i) {
  const auto& listen = i.config->settings.https_listen;
  if (!listen) return {};
  serving::https_options options;
  if (i.config->settings.http_upstream)
    options.upstream = i.config->settings.http_upstream->to_string();
  options.tls_alpn_answers = [io = i.io.get()](const std::string& name) {
    return io->tls_alpn_answer(name);
  };
  auto provider = [&i](const std::string& name) -> std::optional<serving::pem_pair> {
    const config::shared_configuration config = i.current_config();
    const auto now = i.clock.now();
    const auto lets_encrypt = serving::stored_certificates(*i.store);
    auto self_signed = [&](const std::string& me) {
      return serving::load_or_create_self_signed(i.state_dir / "self-signed", me, now);
    };
    return serving::choose_certificate(*config, serving::service::https, name, lets_encrypt,
                                       self_signed, now)
        .certificate;
  };
  i.https = std::make_unique<serving::https_server>(i.io->executor(), provider, options);
  return i.https->listen(listen->to_string());
}

// lets_encrypt_profile and acme_fallback_profile against their CAs' directories, before
// anything starts (the main thread, no actor yet). A CA that cannot be asked within 15 s does not
// stop the start: it is told in the log, and the first order asks for the profile anyway.
result<void> check_profiles_at_start(daemon::impl& i) {
  for (const auto& check : profile_checks(i.config->settings)) {
    auto answer = std::make_shared<std::promise<result<void>>>();
    auto ready = answer->get_future();
    i.io->check_profile(check.profile, check.directory_url, check.ca_bundle,
                        [answer](result<void> r) { answer->set_value(std::move(r)); });
    result<void> r = error{error_kind::timeout, "the CA did not answer within 15 s", true};
    if (ready.wait_for(std::chrono::seconds(15)) == std::future_status::ready) r = ready.get();
    const auto verdict = judge_profile(r.ok(), r.ok() ? error{} : r.err(), check,
                                       i.config->config_dir / "certfleet.conf");
    if (verdict.refuse) return error{error_kind::config, verdict.message};
    if (!verdict.message.empty()) log_warning("config: " + verdict.message);
  }
  return {};
}

}  // namespace

daemon::daemon(std::unique_ptr<impl> i) : impl_(std::move(i)) {}

daemon::~daemon() {
  stop();
  // Domain actors hold pending timers that CAF would wait for; they are stopped
  // without waiting (everything that matters is already durable).
  if (impl_->system) {
    caf::anon_send_exit(impl_->supervisor_handle, caf::exit_reason::user_shutdown);
    (void)impl_->system.release();  // intentionally leaked: see above
  }
}

result<std::unique_ptr<daemon>> daemon::start(config::configuration config,
                                              daemon_options options) {
  auto i = std::make_unique<impl>();
  i->config = std::make_shared<const config::configuration>(std::move(config));
  i->started_with = i->config;
  i->state_dir = options.state_dir.empty() ? i->config->settings.state_dir : options.state_dir;

  storage::open_options store_options;
  store_options.allow_new_state = options.allow_new_state;
  store_options.exported_dir = i->config->settings.export_dir;
  auto opened = storage::store::open(i->state_dir, storage::open_mode::read_write, store_options);
  if (!opened) return std::move(opened).err();
  i->store = std::make_unique<storage::store>(std::move(opened.value()));
  i->writer = std::make_unique<storage::group_writer>(*i->store);

  i->redirect->use(i->config->settings.url_domains_always_use_tls, i->config->url_domains);
  // Before the io engine: its HTTP-01 tokens are shared through the node's lease.
  if (auto joined = join_cluster(*i); !joined) return std::move(joined).err();
  auto io = protocol::asio_io_engine::start(
      io_options(*i->config, i->store.get(), i->redirect, i->cluster.get()));
  if (!io) return std::move(io).err();
  i->io = std::move(io.value());
  if (auto profile = check_profiles_at_start(*i); !profile) return std::move(profile).err();

  // The last step of the Server-Default chain always succeeds: make sure it exists.
  const std::string me = i->config->me.empty() ? "localhost" : i->config->me;
  if (auto self_signed =
          serving::load_or_create_self_signed(i->state_dir / "self-signed", me, i->clock.now());
      !self_signed) {
    log_error("certfleetd: cannot create the self-signed certificate: " + self_signed.err().detail);
  }

  i->system = std::make_unique<caf::actor_system>(configure(i->cfg, options.worker_threads));
  // From here on a failure shuts down through ~daemon: destroying a running actor system
  // would wait for its actors forever.
  impl* raw = i.get();
  std::unique_ptr<daemon> started_daemon(new daemon(std::move(i)));
  auto& sys = *raw->system;
  // In a cluster, what this node stores for its domains is published to etcd too.
  storage_mirror mirror;
  if (raw->cluster) {
    raw->publishing->node = raw->cluster.get();
    mirror = [gate = raw->publishing](storage::write_batch b) {
      std::lock_guard lock(gate->mutex);
      if (gate->node != nullptr) gate->node->publish(std::move(b));
    };
  }
  raw->storage_actor_handle =
      sys.spawn(storage_behavior, raw->store.get(), raw->writer.get(), std::move(mirror));
  raw->acme = sys.spawn(acme_service_behavior, static_cast<protocol::io_engine*>(raw->io.get()),
                        raw->store.get(), raw->storage_actor_handle, &raw->clock,
                        acme_settings_from(*raw->config));
  raw->env.storage = raw->storage_actor_handle;
  raw->env.acme = raw->acme;
  raw->env.timer = sys.spawn(wake_timer_behavior);
  if (auto started = start_https(*raw); !started) return std::move(started).err();
  raw->env.exporter = sys.spawn<caf::detached>(export_behavior, raw->store.get(), raw->state_dir,
                                               raw->config, [raw](std::vector<std::string> names) {
                                                 if (raw->https)
                                                   raw->https->invalidate(std::move(names));
                                               });
  raw->env.clock = &raw->clock;
  raw->env.pol = &default_policy();
  raw->env.self_check_enabled = raw->config->settings.lets_encrypt_certs_self_check;
  raw->supervisor_handle = sys.spawn(
      supervisor_behavior, raw->store.get(), &raw->env, raw->acme, raw->config,
      [raw](const config::shared_configuration& c) {
        caf::anon_send(raw->env.exporter, reload_atom::value, c);
        if (raw->https) raw->https->invalidate({});
        std::lock_guard lock(raw->config_mutex);
        raw->config = c;
      },
      ownership_of(*raw));
  raw->supervisor_ready.store(true, std::memory_order_release);
  // A change the cluster saw before the supervisor existed.
  if (raw->cluster) caf::anon_send(raw->supervisor_handle, ownership_atom::value);

  auto control =
      control::server::start(control::socket_in(raw->state_dir),
                             [raw](const control::request& r) { return raw->handle_control(r); });
  if (!control) return std::move(control).err();
  raw->control_channel = std::move(control.value());
  if (auto admin = start_admin(*raw, *raw->config); !admin) return std::move(admin).err();
  raw->alerts = start_alerts(*raw);
  log_info("certfleetd: started; state in " + raw->state_dir.string() + ", HTTP-01 on port " +
           std::to_string(raw->io->http_port()));
  return {std::move(started_daemon)};
}

namespace {

// Blocking request helpers: used from the control thread and from daemon's API,
// never from inside an actor. They answer in the control channel's types.

control::response request_reload(caf::actor_system& sys, const supervisor_actor& supervisor) {
  caf::scoped_actor self{sys};
  control::response out = control::error_response{
      "reload failed: the supervisor did not answer; "
      "check certfleetd's log"};
  self->request(supervisor, std::chrono::seconds(60), reload_atom::value)
      .receive(
          [&](bool ok, reload_report& report, std::string& errors) {
            if (ok) {
              out = control::reload_response{std::move(report.added), std::move(report.removed)};
            } else {
              out = control::reload_rejected{std::move(errors)};
            }
          },
          [&](caf::error& e) {
            out = control::error_response{"reload failed: " + caf::to_string(e) +
                                          "; check certfleetd's log"};
          });
  return out;
}

control::retry_response request_retry(caf::actor_system& sys, const supervisor_actor& supervisor,
                                      const std::vector<std::string>& domains) {
  caf::scoped_actor self{sys};
  control::retry_response out;
  self->request(supervisor, std::chrono::seconds(60), retry_atom::value, domains)
      .receive(
          [&](std::vector<control::retry_result>& results) { out.results = std::move(results); },
          [&](caf::error& e) {
            for (const auto& d : domains)
              out.results.push_back({d, control::retry_outcome::no_answer,
                                     "the supervisor did not answer: " + caf::to_string(e)});
          });
  return out;
}

// The stored domains `retry --all` or `retry --failing` stands for: the configured ones, and
// of those the ones whose last attempt failed.
std::vector<std::string> domains_in_scope(const storage::store& store, control::retry_scope scope) {
  std::vector<std::string> out;
  auto scanned = store.for_each_domain([&](const storage::domain_record& r) {
    if (!r.configured) return;
    if (scope == control::retry_scope::failing && r.failure_count == 0) return;
    out.push_back(r.name);
  });
  if (!scanned) log_error("control: reading the stored domains failed: " + scanned.err().detail);
  return out;
}

control::save_problems_response request_save_problems(caf::actor_system& sys,
                                                      const storage_actor& storage) {
  caf::scoped_actor self{sys};
  control::save_problems_response out;
  self->request(storage, std::chrono::seconds(10), problems_atom::value)
      .receive(
          [&](std::vector<control::save_problem>& problems) { out.problems = std::move(problems); },
          [&](caf::error&) {});
  return out;
}

control::response request_queue(caf::actor_system& sys, const acme_actor& acme,
                                std::chrono::seconds timeout) {
  caf::scoped_actor self{sys};
  control::response out =
      control::error_response{"the ACME service did not answer; check certfleetd's log"};
  self->request(acme, timeout, queue_atom::value)
      .receive([&](control::queue_response& q) { out = q; }, [&](caf::error&) {});
  return out;
}

// The admin listener (admin_listen) of `config`: the status page and metrics from the stored
// records, the ACME service's queue and the process's counters. Replaces a running one (at a
// reload that changed it); off when admin_listen is not set.
result<void> start_admin(daemon::impl& i, const config::configuration& config) {
  i.admin.reset();  // first: the new one may want the same port
  const auto& s = config.settings;
  if (!s.admin_listen) return {};
  admin::admin_sources sources;
  if (!s.admin_token_file.empty()) {
    auto token = admin::read_token_file(s.admin_token_file);
    if (!token) return std::move(token).err();
    sources.token = std::move(*token);
  }
  sources.now = [&i] { return i.clock.now(); };
  sources.node = node_name(config);
  sources.for_each_domain = [&i](const std::function<void(const storage::domain_record&)>& fn) {
    auto scanned = i.store->for_each_domain(fn);
    if (!scanned) log_error("admin: reading the stored domains failed: " + scanned.err().detail);
  };
  sources.queue_places = [&i](const std::vector<std::string>& domains) {
    caf::scoped_actor self{*i.system};
    std::vector<std::int64_t> out(domains.size(), -1);
    self->request(i.acme, std::chrono::seconds(2), places_atom::value, domains)
        .receive([&](std::vector<std::int64_t>& places) { out = std::move(places); },
                 [&](caf::error&) {});
    return out;
  };
  sources.orders = [&i] {
    admin::order_gauges gauges;
    // A page or a scrape does not wait long for a busy ACME service: it shows "no answer"
    // (certfleet_acme_service_up 0) instead.
    const auto answer = request_queue(*i.system, i.acme, std::chrono::seconds(2));
    if (const auto* q = std::get_if<control::queue_response>(&answer)) {
      gauges = {q->in_flight,        q->max_in_flight,  q->waiting_new + q->waiting_renewals,
                q->budget_available, q->paused_seconds, true};
    }
    return gauges;
  };
  auto listener = admin::admin_listener::start(s.admin_listen->to_string(), std::move(sources));
  if (!listener) return std::move(listener).err();
  i.admin = std::move(*listener);
  log_info("certfleetd: status page at http://" + s.admin_listen->to_string() +
           "/, metrics at /metrics" + (s.admin_token_file.empty() ? "" : " (token required)"));
  return {};
}

control::response request_revoke(caf::actor_system& sys, const supervisor_actor& supervisor,
                                 const control::revoke_request& r) {
  const auto reason = revocation_reason_code(r.reason);
  if (!reason)
    return control::error_response{"unknown revocation reason \"" + r.reason + "\"; give one of " +
                                   revocation_reason_names()};
  caf::scoped_actor self{sys};
  control::response out =
      control::error_response{"revoking the certificate of " + r.domain +
                              " failed: the supervisor did not answer; check certfleetd's log"};
  self->request(supervisor, std::chrono::seconds(100), revoke_atom::value, r.domain,
                static_cast<std::int32_t>(*reason))
      .receive(
          [&](bool ok, std::string& message) {
            if (ok)
              out = control::done_response{std::move(message)};
            else
              out = control::error_response{std::move(message)};
          },
          [&](caf::error&) {});
  return out;
}

control::response request_rollover(caf::actor_system& sys, const acme_actor& acme) {
  caf::scoped_actor self{sys};
  control::response out = control::error_response{
      "the account key rollover did not end within 100 s; certfleetd's log says whether it "
      "did later"};
  self->request(acme, std::chrono::seconds(100), rollover_atom::value)
      .receive(
          [&](bool ok, error& why, std::string& account_url) {
            if (ok)
              out = control::done_response{"The ACME account " + account_url +
                                           " signs with a new key from now on; the CA no longer "
                                           "accepts the old one."};
            else
              out = control::error_response{"the account key rollover failed: " + why.detail};
          },
          [&](caf::error&) {});
  return out;
}

std::size_t request_count(caf::actor_system& sys, const supervisor_actor& supervisor) {
  caf::scoped_actor self{sys};
  std::size_t n = 0;
  self->request(supervisor, std::chrono::seconds(10), count_atom::value)
      .receive([&](std::size_t c) { n = c; }, [&](caf::error&) {});
  return n;
}

// What a reload changes outside the actors, at once: the listeners' addresses, the
// self-check's DNS servers and ports, the HTTPS listener's upstream, the redirect to https://
// and the admin listener. Returns the directives that could not be applied (each logged with
// why; the old value stays in force); they wait for a restart.
std::vector<std::string> apply_live(daemon::impl& i, const config::configuration& before,
                                    const config::configuration& now) {
  const auto& a = before.settings;
  const auto& b = now.settings;
  std::vector<std::string> failed;
  const auto moved = [&](result<void> r, const char* directive) {
    if (r) return;
    log_error(std::string("config: ") + directive + " not applied: " + r.err().detail);
    failed.emplace_back(directive);
  };
  if (a.http_listen != b.http_listen)
    moved(i.io->use_http_listen(b.http_listen.to_string()), "http_listen");
  // Turning the HTTPS listener on or off waits for a restart (changes_needing_restart).
  if (i.https && a.https_listen && b.https_listen && a.https_listen != b.https_listen)
    moved(i.https->rebind(b.https_listen->to_string()), "https_listen");
  i.redirect->use(b.url_domains_always_use_tls, now.url_domains);
  if (i.https && a.http_upstream != b.http_upstream)
    i.https->set_upstream(b.http_upstream ? b.http_upstream->to_string() : "");
  if (a.dns_servers != b.dns_servers || a.self_check_port != b.self_check_port ||
      a.self_check_tls_port != b.self_check_tls_port) {
    auto answer = std::make_shared<std::promise<result<void>>>();
    auto applied = answer->get_future();
    i.io->use_self_check_settings(self_check_settings_of(b),
                                  [answer](result<void> r) { answer->set_value(std::move(r)); });
    result<void> r = error{error_kind::timeout, "the network thread did not answer within 10 s"};
    if (applied.wait_for(std::chrono::seconds(10)) == std::future_status::ready) r = applied.get();
    moved(std::move(r), "dns_servers");
  }
  if (a.admin_listen != b.admin_listen || a.admin_token_file != b.admin_token_file) {
    if (auto started = start_admin(i, now); !started) {
      log_error("config: the admin listener is off until it can start: " + started.err().detail);
      failed.emplace_back("admin_listen");
    }
  }
  return failed;
}

// A reload, applying what can change live and naming the directives whose new values wait for
// the next start (in the answer and in the log), so "Configuration reloaded" never hides a port
// that did not change.
control::response reload_naming_restarts(daemon::impl& i) {
  std::lock_guard one_at_a_time(i.reload_mutex);
  const config::shared_configuration before = i.current_config();
  auto answer = request_reload(*i.system, i.supervisor_handle);
  auto* applied = std::get_if<control::reload_response>(&answer);
  if (!applied) return answer;
  const config::shared_configuration now = i.current_config();
  applied->restart_needed = config::changes_needing_restart(*i.started_with, *now);
  for (auto& d : apply_live(i, *before, *now)) applied->restart_needed.push_back(std::move(d));
  if (!applied->restart_needed.empty()) {
    std::string names;
    for (const auto& d : applied->restart_needed) names += (names.empty() ? "" : ", ") + d;
    log_warning("config: reloaded, but " + names +
                " take effect only when certfleetd restarts (systemctl restart certfleetd)");
  }
  return answer;
}

}  // namespace

result<reload_report> daemon::reload() {
  auto answer = reload_naming_restarts(*impl_);
  if (auto* applied = std::get_if<control::reload_response>(&answer))
    return reload_report{std::move(applied->added), std::move(applied->removed)};
  if (auto* rejected = std::get_if<control::reload_rejected>(&answer))
    return error{error_kind::config, control::describe(*rejected)};
  return error{error_kind::internal, std::get<control::error_response>(answer).message};
}

std::vector<control::retry_result> daemon::retry(const std::vector<std::string>& domains) {
  return request_retry(*impl_->system, impl_->supervisor_handle, domains).results;
}

std::size_t daemon::running_domains() {
  return request_count(*impl_->system, impl_->supervisor_handle);
}

void daemon::stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  impl_->control_channel.reset();
  if (impl_->https) impl_->https->stop();
  impl_->admin.reset();    // its pages ask the actors
  impl_->alerts.reset();   // waits for a running warning_hook, up to its timeout
  impl_->io.reset();       // no more network results
  impl_->writer->flush();  // what the actors stored is published before the node leaves
  {
    std::lock_guard lock(impl_->publishing->mutex);
    impl_->publishing->node = nullptr;
  }
  impl_->cluster.reset();  // leaves: the others take this node's domains over now
  impl_->writer->flush();
  log_info("certfleetd: stopped; state is saved");
}

const std::filesystem::path& daemon::state_dir() const { return impl_->state_dir; }
std::filesystem::path daemon::control_socket() const {
  return control::socket_in(impl_->state_dir);
}

control::response daemon::impl::handle_control(const control::request& request) {
  return std::visit(
      [this](const auto& r) -> control::response {
        using kind = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<kind, control::ping_request>) {
          return control::ping_response{request_count(*system, supervisor_handle)};
        } else if constexpr (std::is_same_v<kind, control::reload_request>) {
          return reload_naming_restarts(*this);
        } else if constexpr (std::is_same_v<kind, control::save_problems_request>) {
          return request_save_problems(*system, storage_actor_handle);
        } else if constexpr (std::is_same_v<kind, control::queue_request>) {
          return request_queue(*system, acme, std::chrono::seconds(10));
        } else if constexpr (std::is_same_v<kind, control::revoke_request>) {
          return request_revoke(*system, supervisor_handle, r);
        } else if constexpr (std::is_same_v<kind, control::account_rollover_request>) {
          return request_rollover(*system, acme);
        } else {
          static_assert(std::is_same_v<kind, control::retry_request>);
          if (r.scope == control::retry_scope::named)
            return request_retry(*system, supervisor_handle, r.domains);
          return request_retry(*system, supervisor_handle, domains_in_scope(*store, r.scope));
        }
      },
      request);
}

}  // namespace certfleet::actors
