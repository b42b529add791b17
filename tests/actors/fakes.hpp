#pragma once
// Fakes for the actors' I/O boundary, on CAF's deterministic test coordinator: a
// fixture with virtual time, a wall clock a test moves, a storage actor whose writes
// can fail, an io_engine whose calls a test answers, and actors that record what
// they receive. Reusable by any actor-level test (and the fleet simulator).

#include <gtest/gtest.h>

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "actors/domain_actor.hpp"
#include "actors/messages.hpp"
#include "actors/wake_timer.hpp"
#include "core/time.hpp"
#include "protocol/engine/io_engine.hpp"
#include "storage/store.hpp"

namespace certfleet::actors::testing {

/// A wall clock that moves only when the test says so.
struct manual_clock final : certfleet::clock {
  timestamp current = from_unix_us(1'700'000'000'000'000);
  timestamp now() const override { return current; }
};

/// What the fakes saw, in the order they saw it ("persist", "check a.example", ...).
struct trace {
  std::vector<std::string> events;
  bool contains(const std::string& e) const {
    return std::find(events.begin(), events.end(), e) != events.end();
  }
  /// Position of the first `e`, or events.size() when absent.
  std::size_t position(const std::string& e) const {
    return static_cast<std::size_t>(std::find(events.begin(), events.end(), e) - events.begin());
  }
};

/// The state behind fake_storage: the batches it was asked to write, and whether it fails.
struct storage_script {
  std::vector<storage::write_batch> batches;
  bool fail = false;
  std::string why = "No space left on device";
};

/// A storage actor that answers each persist as `script` says, recording it in `log`.
inline storage_actor::behavior_type fake_storage(storage_actor::pointer,
                                                 std::shared_ptr<storage_script> script,
                                                 std::shared_ptr<trace> log) {
  return {
      [=](persist_atom, storage::write_batch& batch) -> caf::result<bool, std::string> {
        log->events.push_back("persist");
        script->batches.push_back(std::move(batch));
        if (script->fail) return {false, script->why};
        return {true, std::string()};
      },
      [=](durable_atom, std::uint64_t, bool, std::string&) {
        ADD_FAILURE() << "fake_storage got the real storage actor's internal message";
      },
      [=](problems_atom) { return std::vector<control::save_problem>{}; },
  };
}

/// An ACME service that records what domains ask of it ("check <name>", "order <name>").
inline acme_actor::behavior_type fake_acme(acme_actor::pointer, std::shared_ptr<trace> log) {
  return {
      [=](check_atom, std::string& domain) { log->events.push_back("check " + domain); },
      [=](order_atom, order_request& req) {
        log->events.push_back((req.ari_renewal ? "ari order " : "order ") + req.domain);
      },
      [=](window_atom, std::string& domain, std::int64_t) {
        log->events.push_back("window " + domain);
      },
      // The fake CA offers every profile but "unknown".
      [=](profile_atom, std::string& profile, std::string&,
          std::string&) -> caf::result<bool, error> {
        log->events.push_back("profile " + profile);
        if (profile == "unknown")
          return {false, error{error_kind::config, "the CA offers no profile \"unknown\""}};
        return {true, error{}};
      },
      [=](profile_done_atom, std::uint64_t, bool, error&) { ADD_FAILURE() << "internal message"; },
      [=](contact_done_atom, bool, std::string&, error&, protocol::ca_role) {
        ADD_FAILURE() << "internal message";
      },
      // The fake CA refuses to revoke "refused.example" and has revoked "gone.example" before.
      [=](revoke_atom, std::string& domain,
          std::int32_t reason) -> caf::result<bool, error, std::int64_t> {
        log->events.push_back("revoke " + domain + " " + std::to_string(reason));
        if (domain == "refused.example")
          return {false, error{error_kind::unauthorized, "not this account's certificate"},
                  std::int64_t{0}};
        if (domain == "gone.example")
          return {false, error{error_kind::already_revoked, "already revoked"}, std::int64_t{0}};
        return {true, error{}, std::int64_t{0}};
      },
      [=](revoke_done_atom, std::uint64_t, bool, error&) { ADD_FAILURE() << "internal message"; },
      [=](rollover_atom) -> caf::result<bool, error, std::string> {
        log->events.push_back("rollover");
        return {true, error{}, std::string("https://ca.test/acct/1")};
      },
      [=](rollover_key_atom, new_account_key&) { ADD_FAILURE() << "internal message"; },
      [=](rollover_done_atom, bool, protocol::account_credentials&, error&) {
        ADD_FAILURE() << "internal message";
      },
      [=](cancel_atom, std::string& domain) { log->events.push_back("cancel " + domain); },
      [=](queue_atom) { return control::queue_response{}; },
      [=](places_atom, const std::vector<std::string>& domains) {
        return std::vector<std::int64_t>(domains.size(), -1);
      },
      [=](reload_atom, acme_settings&) { log->events.push_back("acme reload"); },
      [=](check_done_atom) { ADD_FAILURE() << "internal message"; },
      [=](order_done_atom, std::string&, bool, error&, protocol::ca_role) {
        ADD_FAILURE() << "internal message";
      },
      [=](account_done_atom, bool, protocol::account_credentials&, bool, error&, std::uint32_t,
          protocol::ca_role) { ADD_FAILURE() << "internal message"; },
      [=](pump_atom) { ADD_FAILURE() << "internal message"; },
  };
}

/// An exporter that records "export <name>".
inline export_actor::behavior_type fake_exporter(export_actor::pointer,
                                                 std::shared_ptr<trace> log) {
  return {
      [=](export_atom, std::string& domain) { log->events.push_back("export " + domain); },
      [=](reload_atom, config::shared_configuration&) { log->events.push_back("export reload"); },
      [=](flush_atom) { ADD_FAILURE() << "internal message"; },
  };
}

/// A stand-in for a domain actor: records each domain_msg it gets by kind
/// ("self_check ok", "order_started", "stage", "issued", "order_failed <error kind>").
inline caf::behavior recording_domain(caf::event_based_actor*, std::shared_ptr<trace> log) {
  return {[=](domain_msg& msg) {
    if (auto* r = std::get_if<self_check_result>(&msg))
      log->events.push_back(r->ok ? "self_check ok" : "self_check failed");
    else if (std::holds_alternative<order_started>(msg))
      log->events.push_back("order_started");
    else if (std::holds_alternative<stage_report>(msg))
      log->events.push_back("stage");
    else if (std::holds_alternative<protocol::issued_certificate>(msg))
      log->events.push_back("issued");
    else if (auto* f = std::get_if<order_failed>(&msg))
      log->events.push_back("order_failed " + std::string(to_string(f->err.kind)));
    else if (std::holds_alternative<renewal_info_received>(msg))
      log->events.push_back("window received");
    else if (auto* w = std::get_if<renewal_info_failed>(&msg))
      log->events.push_back(w->offered ? "window failed " + std::string(to_string(w->err.kind))
                                       : "window not offered");
    else
      log->events.push_back("other");
  }};
}

/// An io_engine whose calls wait until the test answers them. The account is granted
/// at once; self-checks and issues are kept in call order.
class fake_io_engine final : public protocol::io_engine {
 public:
  struct issue_call {
    protocol::ca_role role;
    protocol::issuance_request request;
    stage_handler on_stage;
    std::function<void(result<protocol::issued_certificate>)> done;
  };
  std::vector<issue_call> issues;
  std::vector<std::pair<std::string, std::function<void(result<void>)>>> self_checks;
  int accounts = 0;

  void self_check(std::string domain, protocol::challenge_kind,
                  std::function<void(result<void>)> done) override {
    self_checks.emplace_back(std::move(domain), std::move(done));
  }
  void account(protocol::ca_role role, std::optional<protocol::account_credentials> stored,
               std::string, bool, std::optional<protocol::account_binding>,
               std::function<void(result<protocol::account_credentials>)> done) override {
    ++accounts;
    account_roles.push_back(role);
    last_stored = stored;
    auto answer = stored ? *stored
                         : protocol::account_credentials{role == protocol::ca_role::primary
                                                             ? "https://ca.test/acct/1"
                                                             : "https://fallback.test/acct/1",
                                                         "KEY"};
    // A rollover the daemon never stored the end of: the CA knows the key it says.
    if (!answer.next_key_pem.empty()) {
      if (rollover_reached_ca) answer.key_pem = answer.next_key_pem;
      answer.next_key_pem.clear();
    }
    if (hold_accounts)
      held_accounts.push_back([done, answer] { done(answer); });
    else
      done(answer);
  }
  std::optional<protocol::account_credentials> last_stored;  ///< as account() got it
  std::vector<protocol::ca_role> account_roles;              ///< of each account() call
  bool rollover_reached_ca = true;  ///< which key a stored rollover's account has at the CA
  struct rollover_call {
    std::function<void(const std::string&, ack)> before_change;
    std::function<void(result<protocol::account_credentials>)> done;
  };
  std::vector<rollover_call> rollovers;  ///< roll_over_key() calls; the test answers them
  void roll_over_key(std::function<void(const std::string&, ack)> before_change,
                     std::function<void(result<protocol::account_credentials>)> done) override {
    rollovers.push_back({std::move(before_change), std::move(done)});
  }
  /// When set, account() answers only when the test calls held_accounts[i]().
  bool hold_accounts = false;
  std::vector<std::function<void()>> held_accounts;
  void issue(protocol::ca_role role, protocol::issuance_request request, stage_handler on_stage,
             std::function<void(result<protocol::issued_certificate>)> done) override {
    issues.push_back({role, std::move(request), std::move(on_stage), std::move(done)});
  }
  struct window_call {
    protocol::ca_role role;
    std::string chain_pem;
    std::function<void(result<protocol::renewal_info_answer>)> done;
  };
  std::vector<window_call> window_requests;
  void renewal_info(protocol::ca_role role, std::string chain_pem,
                    std::function<void(result<protocol::renewal_info_answer>)> done) override {
    window_requests.push_back({role, std::move(chain_pem), std::move(done)});
  }
  std::vector<std::string> contact_updates;  ///< update_contact() calls, answered at once
  void update_contact(protocol::ca_role, std::string email,
                      std::function<void(result<void>)> done) override {
    contact_updates.push_back(email);
    done(result<void>{});
  }
  struct revoke_call {
    protocol::ca_role role;
    std::string chain_pem;
    int reason = -1;
    std::function<void(result<void>)> done;
  };
  std::vector<revoke_call> revocations;  ///< revoke() calls; the test answers them
  void revoke(protocol::ca_role role, std::string chain_pem, int reason,
              std::function<void(result<void>)> done) override {
    revocations.push_back({role, std::move(chain_pem), reason, std::move(done)});
  }
  /// use_ca() calls: "directory_url bundle" ("fallback: ..." for the fallback CA)
  std::vector<std::string> cas_used;
  void use_ca(protocol::ca_role role, std::string directory_url, std::string ca_bundle) override {
    cas_used.push_back(std::string(role == protocol::ca_role::fallback ? "fallback: " : "") +
                       directory_url + " " + ca_bundle);
  }
  /// Profiles the fake CA offers (check_profile answers at once).
  std::set<std::string> profiles{"classic", "tlsserver"};
  void check_profile(std::string profile, std::string, std::string,
                     std::function<void(result<void>)> done) override {
    if (profiles.count(profile))
      done(result<void>{});
    else
      done(error{error_kind::config, "the CA offers no profile \"" + profile + "\""});
  }
  /// Domains of the issue() calls so far, in order.
  std::vector<std::string> issued_domains() const {
    std::vector<std::string> out;
    for (const auto& call : issues) out.push_back(call.request.domains.at(0));
    return out;
  }
};

/// Fills `env` for domain actors under test: fake storage, acme and exporter (recording
/// in `log`), the real wake timer, `wall` as the clock and the default policy.
inline void fill_domain_env(domain_env& env, caf::actor_system& sys,
                            std::shared_ptr<storage_script> script, std::shared_ptr<trace> log,
                            const certfleet::clock* wall) {
  env.storage = sys.spawn(fake_storage, std::move(script), log);
  env.acme = sys.spawn(fake_acme, log);
  env.timer = sys.spawn(wake_timer_behavior);
  env.exporter = sys.spawn(fake_exporter, log);
  env.clock = wall;
  env.pol = &default_policy();
}

/// An LMDB store in `dir`, opened for writing (the test fails when it cannot be).
inline std::unique_ptr<storage::store> open_test_store(const std::filesystem::path& dir) {
  auto opened = storage::store::open(dir, storage::open_mode::read_write);
  EXPECT_TRUE(opened.ok()) << (opened.ok() ? "" : opened.err().detail);
  if (!opened.ok()) return nullptr;
  return std::make_unique<storage::store>(std::move(opened.value()));
}

/// An actor system on CAF's deterministic scheduler: nothing runs until run(), and
/// time (the actor clock) moves only by advance().
class actor_fixture : public ::testing::Test {
 protected:
  static caf::actor_system_config& testing_config(caf::actor_system_config& cfg) {
    cfg.set("scheduler.policy", caf::atom("testing"));
    cfg.set("logger.file-verbosity", caf::atom("quiet"));
    cfg.set("logger.console-verbosity", caf::atom("quiet"));
    return cfg;
  }

  actor_fixture()
      : sys_(testing_config(cfg_)),
        sched_(dynamic_cast<caf::scheduler::test_coordinator&>(sys_.scheduler())),
        self_(sys_, true) {
    sched_.clock().current_time += std::chrono::hours(1);  // not the epoch
  }
  ~actor_fixture() override { sched_.run(); }

  /// Runs every queued message, bounded so a message loop fails the test instead of hanging.
  void run() { EXPECT_LT(sched_.run(100'000), 100'000u) << "the actors never went quiet"; }
  /// Moves the actor clock and the wall clock by `d`, fires due timers, runs.
  void advance(std::chrono::microseconds d) {
    wall_.current += d;
    sched_.clock().advance_time(d);
    run();
  }

  caf::actor_system_config cfg_;
  caf::actor_system sys_;
  caf::scheduler::test_coordinator& sched_;
  caf::scoped_actor self_;  ///< sends requests and receives their answers
  manual_clock wall_;
  std::shared_ptr<trace> log_ = std::make_shared<trace>();
};

}  // namespace certfleet::actors::testing
