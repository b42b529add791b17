// The supervisor's diff on reload: added domains get an actor, removed ones are retired
// through their actor (the state machine's deconfigured step), the rest are untouched.

#include "actors/supervisor.hpp"

#include <fstream>
#include <set>

#include "storage/store.hpp"
#include "tests/actors/fakes.hpp"
#include "tests/support/temp_dir.hpp"

namespace certfleet::actors::testing {
namespace {

using storage::domain_phase;

class supervisor_test : public actor_fixture {
 protected:
  supervisor_test() { fill_domain_env(env_, sys_, script_, log_, &wall_); }
  ~supervisor_test() override {
    caf::anon_send_exit(supervisor_, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(env_.timer, caf::exit_reason::user_shutdown);
    run();
  }

  void configure(const std::string& domains) {
    std::ofstream(config_.path() / "certfleet.conf")
        << "tls_certificate_auto_generate " << domains << "\n";
  }

  void start() {
    auto loaded = config::load_configuration(config_.path());
    ASSERT_TRUE(loaded.ok()) << config::format_diagnostics(loaded.errors);
    auto initial = std::make_shared<const config::configuration>(std::move(*loaded.value));
    supervisor_ = sys_.spawn(
        supervisor_behavior, store_.get(), &env_, env_.acme, initial,
        [this](const config::shared_configuration&) { ++applied_; }, ownership_);
    run();
  }

  template <class... Ts, class... Args>
  std::tuple<Ts...> ask(Args... args) {
    auto answer = self_->request(supervisor_, caf::infinite, args...);
    run();
    std::tuple<Ts...> out;
    if (self_->mailbox().empty()) {
      ADD_FAILURE() << "no answer";
      return out;
    }
    answer.receive([&](Ts&... xs) { out = std::make_tuple(std::move(xs)...); },
                   [&](caf::error& e) { ADD_FAILURE() << sys_.render(e); });
    return out;
  }
  std::size_t running() { return std::get<0>(ask<std::size_t>(count_atom::value)); }

  // The domain records written so far, by name and phase ("b.example retired").
  std::vector<std::string> written_phases() const {
    std::vector<std::string> out;
    for (const auto& batch : script_->batches)
      for (const auto& r : batch.put_domains)
        out.push_back(r.name + " " + std::string(phase_name(r.phase)));
    return out;
  }

  certfleet::testing::temp_dir state_, config_;
  std::unique_ptr<storage::store> store_ = open_test_store(state_.path());
  std::shared_ptr<storage_script> script_ = std::make_shared<storage_script>();
  domain_env env_;
  supervisor_actor supervisor_;
  int applied_ = 0;
  ownership_source ownership_;  ///< null: alone, every domain runs here
};

// In a cluster the supervisor runs only what this node owns, and follows ownership as the
// membership changes: what another node owns now is handed over (stopped, nothing stored,
// not retired); what this node gained is started.
TEST_F(supervisor_test, in_a_cluster_only_owned_domains_run_and_they_follow_ownership) {
  auto owned = std::make_shared<std::set<std::string>>(std::set<std::string>{"a.example"});
  ownership_ = [owned] {
    return ownership_predicate([set = *owned](const std::string& d) { return set.count(d) > 0; });
  };
  std::ofstream(config_.path() / "certfleet.conf")
      << "tls_certificate_auto_generate a.example b.example c.example\n"
         "lets_encrypt_registration_email ops@example.com\n"
         "lets_encrypt_agree_to_terms_of_service yes\n";
  start();
  EXPECT_EQ(running(), 1u);
  EXPECT_TRUE(log_->contains("check a.example"));
  EXPECT_FALSE(log_->contains("check b.example")) << "b.example is another node's";
  const auto stored_at_start = written_phases();
  EXPECT_EQ(std::count(stored_at_start.begin(), stored_at_start.end(), "b.example pending"), 0)
      << "its owner stores it";
  script_->batches.clear();

  *owned = {"b.example", "c.example"};  // a.example moved away, b and c came here
  caf::anon_send(supervisor_, ownership_atom::value);
  run();
  EXPECT_EQ(running(), 2u);
  EXPECT_TRUE(log_->contains("check b.example"));
  EXPECT_TRUE(log_->contains("cancel a.example")) << "its place in the order queue goes";
  const auto written = written_phases();
  EXPECT_EQ(std::count(written.begin(), written.end(), "a.example retired"), 0)
      << "handed over, not retired: " << ::testing::PrintToString(written);

  // A retry of a configured domain another node runs says so.
  auto [reports] = ask<std::vector<control::retry_result>>(retry_atom::value,
                                                           std::vector<std::string>{"a.example"});
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].outcome, control::retry_outcome::no_answer);
  EXPECT_NE(reports[0].detail.find("another node of the cluster owns it"), std::string::npos);

  *owned = {};  // etcd lost: nothing runs here
  caf::anon_send(supervisor_, ownership_atom::value);
  run();
  EXPECT_EQ(running(), 0u);
}

TEST_F(supervisor_test, reload_spawns_the_added_and_retires_the_removed) {
  configure("a.example b.example");
  start();
  EXPECT_EQ(running(), 2u);
  EXPECT_EQ(applied_, 1);
  script_->batches.clear();

  configure("b.example c.example");
  auto [ok, report, errors] = ask<bool, reload_report, std::string>(reload_atom::value);
  ASSERT_TRUE(ok) << errors;
  EXPECT_EQ(report.added, std::vector<std::string>{"c.example"});
  EXPECT_EQ(report.removed, std::vector<std::string>{"a.example"});
  EXPECT_EQ(running(), 2u);
  EXPECT_EQ(applied_, 2);
  EXPECT_TRUE(log_->contains("acme reload"));
  // a.example's own actor stored its retirement, through the state machine.
  const auto written = written_phases();
  EXPECT_NE(std::find(written.begin(), written.end(), "a.example retired"), written.end())
      << ::testing::PrintToString(written);
  EXPECT_NE(std::find(written.begin(), written.end(), "c.example pending"), written.end())
      << ::testing::PrintToString(written);
}

// The seed: Let's Encrypt is "disabled by default". Disabled domains wait without a self-check
// or an order; the reload that enables it starts them at once, not at a retry hours away.
TEST_F(supervisor_test, disabled_domains_wait_and_the_reload_that_enables_starts_them) {
  std::ofstream(config_.path() / "certfleet.conf")
      << "tls_certificate_auto_generate a.example b.example\n"
         "lets_encrypt_registration_email ops@example.com\n";
  start();
  const auto written = written_phases();
  EXPECT_NE(std::find(written.begin(), written.end(), "a.example disabled"), written.end())
      << ::testing::PrintToString(written);
  EXPECT_FALSE(log_->contains("check a.example")) << "no self-check while disabled";
  EXPECT_FALSE(log_->contains("order a.example"));

  std::ofstream(config_.path() / "certfleet.conf")
      << "tls_certificate_auto_generate a.example b.example\n"
         "lets_encrypt_registration_email ops@example.com\n"
         "lets_encrypt_agree_to_terms_of_service yes\n";
  auto [ok, report, errors] = ask<bool, reload_report, std::string>(reload_atom::value);
  ASSERT_TRUE(ok) << errors;
  EXPECT_TRUE(log_->contains("check a.example")) << ::testing::PrintToString(log_->events);
  EXPECT_TRUE(log_->contains("check b.example"));
  EXPECT_LT(log_->position("acme reload"), log_->position("check a.example"))
      << "the ACME service is enabled before the domains start";
}

TEST_F(supervisor_test, an_unchanged_reload_changes_nothing) {
  configure("a.example");
  start();
  auto [ok, report, errors] = ask<bool, reload_report, std::string>(reload_atom::value);
  ASSERT_TRUE(ok) << errors;
  EXPECT_TRUE(report.added.empty());
  EXPECT_TRUE(report.removed.empty());
  EXPECT_EQ(running(), 1u);
}

// The profile is the CA's to offer: a reload naming one it does not offer is refused with
// file:line, before anything of it applies.
TEST_F(supervisor_test, a_profile_the_ca_does_not_offer_refuses_the_reload) {
  configure("a.example");
  start();
  std::ofstream(config_.path() / "certfleet.conf")
      << "tls_certificate_auto_generate a.example b.example\n"
      << "lets_encrypt_profile unknown\n";
  auto [ok, report, errors] = ask<bool, reload_report, std::string>(reload_atom::value);
  EXPECT_FALSE(ok);
  EXPECT_NE(errors.find("certfleet.conf:2: lets_encrypt_profile: the CA offers no profile"),
            std::string::npos)
      << errors;
  EXPECT_EQ(running(), 1u) << "b.example was added although the reload was refused";
  EXPECT_FALSE(log_->contains("acme reload"));

  std::ofstream(config_.path() / "certfleet.conf")
      << "tls_certificate_auto_generate a.example b.example\n"
      << "lets_encrypt_profile tlsserver\n";
  auto [ok2, report2, errors2] = ask<bool, reload_report, std::string>(reload_atom::value);
  EXPECT_TRUE(ok2) << errors2;
  EXPECT_EQ(running(), 2u);
  EXPECT_TRUE(log_->contains("profile tlsserver"));
}

// The fallback CA's profile is checked as well, after the first CA's.
TEST_F(supervisor_test, a_fallback_profile_the_ca_does_not_offer_refuses_the_reload) {
  configure("a.example");
  start();
  std::ofstream(config_.path() / "certfleet.conf")
      << "tls_certificate_auto_generate a.example b.example\n"
      << "lets_encrypt_profile tlsserver\n"
      << "acme_fallback_directory_url https://fallback.example/dir\n"
      << "acme_fallback_profile unknown\n";
  auto [ok, report, errors] = ask<bool, reload_report, std::string>(reload_atom::value);
  EXPECT_FALSE(ok);
  EXPECT_NE(errors.find("certfleet.conf:4: acme_fallback_profile: the CA offers no profile"),
            std::string::npos)
      << errors;
  EXPECT_TRUE(log_->contains("profile tlsserver")) << "the first CA's was asked first";
  EXPECT_EQ(running(), 1u);
  EXPECT_FALSE(log_->contains("acme reload"));
}

TEST_F(supervisor_test, revoke_answers_for_configured_domains_only_in_the_operators_words) {
  configure("a.example refused.example gone.example");
  start();
  const auto revoke = [&](const std::string& name) {
    return ask<bool, std::string>(revoke_atom::value, name, std::int32_t{1});
  };
  auto [unknown_ok, unknown] = revoke("other.example");
  EXPECT_FALSE(unknown_ok);
  EXPECT_NE(unknown.find("other.example is not in the configuration"), std::string::npos)
      << unknown;
  auto [invalid_ok, invalid] = revoke("not a name");
  EXPECT_FALSE(invalid_ok);
  EXPECT_NE(invalid.find("is not a domain name"), std::string::npos) << invalid;
  EXPECT_FALSE(log_->contains("revoke other.example")) << "the CA was asked about a stranger";

  auto [refused_ok, refused] = revoke("refused.example");
  EXPECT_FALSE(refused_ok);
  EXPECT_NE(refused.find("not this account's certificate; the certificate stays in use"),
            std::string::npos)
      << refused;

  auto [ok, done] = revoke("A.Example");
  EXPECT_TRUE(ok) << done;
  EXPECT_TRUE(log_->contains("revoke a.example 1")) << "the normalised name, with the reason";
  EXPECT_NE(done.find("revoked the certificate of a.example; a new one is being ordered"),
            std::string::npos)
      << done;

  auto [gone_ok, gone] = revoke("gone.example");
  EXPECT_TRUE(gone_ok) << "a certificate revoked before is replaced all the same";
  EXPECT_NE(gone.find("had already revoked"), std::string::npos) << gone;
}

TEST_F(supervisor_test, a_rejected_configuration_keeps_the_running_one) {
  configure("a.example");
  start();
  std::ofstream(config_.path() / "certfleet.conf") << "no_such_directive yes\n";
  auto [ok, report, errors] = ask<bool, reload_report, std::string>(reload_atom::value);
  EXPECT_FALSE(ok);
  EXPECT_FALSE(errors.empty());
  EXPECT_EQ(running(), 1u);
}

TEST_F(supervisor_test, domains_removed_while_stopped_are_retired_at_start) {
  storage::domain_record gone;
  gone.name = "gone.example";
  gone.phase = domain_phase::valid;
  storage::write_batch batch;
  batch.put_domains.push_back(gone);
  ASSERT_TRUE(store_->commit(batch).ok());
  configure("a.example");
  start();
  const auto written = written_phases();
  EXPECT_NE(std::find(written.begin(), written.end(), "gone.example retired"), written.end())
      << ::testing::PrintToString(written);
}

// Breaks when the down handler restarts without counting (drop the restart_budget
// check) or never restarts (return before spawn_domain).
TEST_F(supervisor_test, a_crashing_domain_is_restarted_five_times_an_hour_then_left_stopped) {
  configure("a.example b.example");
  start();
  // The domain actors are the supervisor's own; the test reaches them through its state
  // (the test coordinator runs everything on this thread).
  using supervisor_impl = caf::stateful_actor<supervisor_state, supervisor_actor::base>;
  auto* sup = dynamic_cast<supervisor_impl*>(caf::actor_cast<caf::abstract_actor*>(supervisor_));
  ASSERT_NE(sup, nullptr);
  ::testing::internal::CaptureStderr();  // the log
  for (int crash = 1; crash <= 6; ++crash) {
    auto it = sup->state.domains.find("a.example");
    ASSERT_NE(it, sup->state.domains.end()) << "not restarted after crash " << crash - 1;
    caf::anon_send_exit(it->second, caf::exit_reason::kill);
    run();
    EXPECT_EQ(running(), crash <= 5 ? 2u : 1u) << "after crash " << crash;
  }
  const std::string logged = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(logged.find("domain=a.example crashed 5 times within an hour; not restarting it. "
                        "Run certfleet reload to try again"),
            std::string::npos)
      << logged;
  EXPECT_EQ(sup->state.domains.count("b.example"), 1u) << "a neighbour was touched";
  // A reload starts it again, as the log line says.
  auto [ok, report, errors] = ask<bool, reload_report, std::string>(reload_atom::value);
  ASSERT_TRUE(ok) << errors;
  EXPECT_EQ(report.added, std::vector<std::string>{"a.example"});
  EXPECT_EQ(running(), 2u);
  // With a fresh budget: the next crash is restarted again.
  caf::anon_send_exit(sup->state.domains.at("a.example"), caf::exit_reason::kill);
  run();
  EXPECT_EQ(running(), 2u) << "a reload did not give the domain a fresh restart budget";
}

}  // namespace
}  // namespace certfleet::actors::testing
