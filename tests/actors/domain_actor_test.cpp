// The domain actor around the state machine: it stores a step before it acts on it,
// and acts on nothing when the write fails (then a later wake tries again).

#include "actors/domain_actor.hpp"

#include "tests/actors/fakes.hpp"

namespace certfleet::actors::testing {
namespace {

using namespace std::chrono_literals;
using storage::domain_phase;

class domain_actor_test : public actor_fixture {
 protected:
  domain_actor_test() { fill_domain_env(env_, sys_, script_, log_, &wall_); }
  ~domain_actor_test() override {
    for (auto& a : spawned_) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(env_.timer, caf::exit_reason::user_shutdown);
    run();  // before env_ goes away
  }

  // A domain whose last attempt failed; its next one is due in 30 s.
  storage::domain_record failing_domain() const {
    storage::domain_record r;
    r.name = "a.example";
    r.phase = domain_phase::failing;
    r.failure_count = 1;
    r.first_failure = r.last_failure = wall_.now() - 1min;
    r.last_error = "the CA answered HTTP 503";
    r.next_attempt = wall_.now() + 30s;
    return r;
  }

  caf::actor spawn_domain(storage::domain_record r) {
    spawned_.push_back(sys_.spawn<domain_actor>(std::move(r), &env_, false));
    run();
    log_->events.clear();
    return spawned_.back();
  }

  // The answer to `request` once every actor has run; fails the test when there is none
  // (a blocking receive would wait for ever: nothing runs while the test waits).
  template <class T>
  T ask(const caf::actor& domain, domain_msg request) {
    auto answer = self_->request(domain, caf::infinite, std::move(request));
    run();
    T out{};
    if (self_->mailbox().empty()) {
      ADD_FAILURE() << "no answer";
      return out;
    }
    answer.receive([&](T& value) { out = std::move(value); },
                   [&](caf::error& e) { ADD_FAILURE() << sys_.render(e); });
    return out;
  }
  retry_outcome retry(const caf::actor& domain) {
    return ask<retry_outcome>(domain, retry_command{});
  }
  storage::domain_record record_of(const caf::actor& domain) {
    return ask<storage::domain_record>(domain, get_command{});
  }

  std::shared_ptr<storage_script> script_ = std::make_shared<storage_script>();
  domain_env env_;
  std::vector<caf::actor> spawned_;
};

TEST_F(domain_actor_test, stores_the_step_before_it_acts_on_it) {
  const auto domain = spawn_domain(failing_domain());
  EXPECT_EQ(retry(domain), retry_outcome::retrying);
  ASSERT_TRUE(log_->contains("check a.example")) << ::testing::PrintToString(log_->events);
  EXPECT_LT(log_->position("persist"), log_->position("check a.example"));
  ASSERT_EQ(script_->batches.size(), 1u);
  ASSERT_EQ(script_->batches[0].put_domains.size(), 1u);
  EXPECT_EQ(script_->batches[0].put_domains[0].phase, domain_phase::self_checking);
}

TEST_F(domain_actor_test, does_not_act_when_the_write_fails_and_tries_again_later) {
  const auto stored = failing_domain();
  const auto domain = spawn_domain(stored);
  script_->fail = true;
  EXPECT_EQ(retry(domain), retry_outcome::not_saved);
  EXPECT_EQ(log_->events, std::vector<std::string>{"persist"});
  // The record is what storage holds, not the step that was not stored.
  EXPECT_EQ(record_of(domain), stored);

  // The disk is freed; the wake armed after the failure (15 s) finds the attempt not yet
  // due, and the one at the due time starts it.
  script_->fail = false;
  advance(29s);
  EXPECT_FALSE(log_->contains("check a.example"));
  advance(1s);
  EXPECT_TRUE(log_->contains("check a.example")) << ::testing::PrintToString(log_->events);
  EXPECT_EQ(record_of(domain).phase, domain_phase::self_checking);
}

TEST_F(domain_actor_test, an_issued_certificate_is_kept_until_stored_then_exported) {
  storage::domain_record r = failing_domain();
  r.phase = domain_phase::finalizing;
  r.order_url = "https://ca.test/order/1";
  r.next_attempt = wall_.now() + 10min;
  const auto domain = spawn_domain(r);  // resumes the stored order
  const auto before = record_of(domain);

  protocol::issued_certificate cert;
  cert.chain_pem = "CHAIN";
  cert.key_pem = "KEY";
  cert.info.not_before = wall_.now();
  cert.info.not_after = wall_.now() + 90 * 24h;
  script_->fail = true;
  caf::anon_send(domain, domain_msg{cert});
  run();
  EXPECT_EQ(log_->events, std::vector<std::string>{"persist"});
  ASSERT_EQ(script_->batches.size(), 1u);
  // The certificate and the step are one write.
  EXPECT_EQ(script_->batches[0].put_certs.size(), 1u);
  EXPECT_EQ(script_->batches[0].put_domains.size(), 1u);
  EXPECT_EQ(record_of(domain), before);

  // Still full 15 s later: tried again, then after 30 s more (back-off).
  advance(15s);
  ASSERT_EQ(script_->batches.size(), 2u);
  EXPECT_EQ(script_->batches[1].put_certs.size(), 1u) << "the certificate was kept in memory";
  advance(29s);
  EXPECT_EQ(script_->batches.size(), 2u);

  // Space is back: the next try stores the same certificate (no new order) and exports it.
  script_->fail = false;
  advance(1s);
  ASSERT_EQ(script_->batches.size(), 3u);
  ASSERT_EQ(script_->batches[2].put_certs.size(), 1u);
  EXPECT_EQ(script_->batches[2].put_certs[0].current.chain_pem, "CHAIN");
  EXPECT_EQ(script_->batches[2].put_certs[0].current.key_pem, "KEY");
  EXPECT_TRUE(log_->contains("export a.example")) << ::testing::PrintToString(log_->events);
  EXPECT_FALSE(log_->contains("order a.example"));
  EXPECT_EQ(record_of(domain).phase, domain_phase::valid);
  EXPECT_EQ(record_of(domain).cert_not_after, cert.info.not_after);
}

// Checked against apply() without its takes_certificate check (the old on_issued): the
// valid domain's store gets the stray certificate and the exporter hears of it.
TEST_F(domain_actor_test, only_a_certificate_the_state_machine_takes_is_stored) {
  protocol::issued_certificate cert;
  cert.chain_pem = "CHAIN";
  cert.key_pem = "KEY";
  cert.info.not_before = wall_.now();
  cert.info.not_after = wall_.now() + 90 * 24h;

  storage::domain_record valid = failing_domain();
  valid.name = "valid.example";
  valid.phase = domain_phase::valid;
  valid.failure_count = 0;
  valid.first_failure = no_time;
  valid.last_error.clear();
  valid.cert_not_before = wall_.now() - 24h;
  valid.cert_not_after = wall_.now() + 89 * 24h;
  valid.next_attempt = wall_.now() + 50 * 24h;
  const auto stray = spawn_domain(valid);
  script_->batches.clear();  // its start stored its renewal point
  caf::anon_send(stray, domain_msg{cert});
  run();
  EXPECT_TRUE(script_->batches.empty()) << "nothing waits for it: not stored";
  EXPECT_FALSE(log_->contains("export valid.example"));
  EXPECT_EQ(record_of(stray).cert_not_after, valid.cert_not_after);

  // Late from an attempt that timed out: taken, stored with the step, exported.
  const auto late = spawn_domain(failing_domain());
  script_->batches.clear();
  caf::anon_send(late, domain_msg{cert});
  run();
  ASSERT_EQ(script_->batches.size(), 1u);
  EXPECT_EQ(script_->batches[0].put_certs.size(), 1u);
  EXPECT_EQ(script_->batches[0].put_domains.at(0).phase, domain_phase::valid);
  EXPECT_TRUE(log_->contains("export a.example"));
}

TEST_F(domain_actor_test, a_failure_that_could_not_be_stored_is_reported_once_stored) {
  storage::domain_record r = failing_domain();
  r.phase = domain_phase::validating;
  r.order_url = "https://ca.test/order/1";
  r.next_attempt = wall_.now() + 30min;
  const auto domain = spawn_domain(r);  // resumes the stored order
  const auto before = record_of(domain);
  script_->fail = true;
  caf::anon_send(
      domain, domain_msg{order_failed{error{error_kind::rejected_identifier, "the CA said no"}}});
  run();
  EXPECT_EQ(record_of(domain), before);
  script_->fail = false;
  advance(15s);
  const auto now = record_of(domain);
  EXPECT_EQ(now.phase, domain_phase::failing);
  EXPECT_NE(now.last_error.find("the CA said no"), std::string::npos) << now.last_error;
}

TEST_F(domain_actor_test, an_unexpected_message_is_answered_with_an_error) {
  const auto domain = spawn_domain(failing_domain());
  auto answer = self_->request(domain, caf::infinite, std::string("hello"));
  run();
  ASSERT_FALSE(self_->mailbox().empty());
  bool rejected = false;
  answer.receive([](std::string&) { ADD_FAILURE() << "answered"; },
                 [&](caf::error& e) { rejected = e == caf::sec::unexpected_message; });
  EXPECT_TRUE(rejected);
}

// RFC 9773 end to end through the actor: it asks the ACME service for its window within
// 6 hours, and a window that has begun starts a renewal that spends no budget.
TEST_F(domain_actor_test, asks_for_its_renewal_window_and_renews_inside_it) {
  storage::domain_record valid;
  valid.name = "ari.example";
  valid.phase = domain_phase::valid;
  valid.cert_not_before = wall_.now() - 24h;
  valid.cert_not_after = wall_.now() + 89 * 24h;
  const auto domain = spawn_domain(valid);
  EXPECT_FALSE(log_->contains("window ari.example"));
  advance(6h + 1s);
  EXPECT_TRUE(log_->contains("window ari.example"));
  EXPECT_FALSE(log_->contains("check ari.example"));

  caf::anon_send(domain, domain_msg{renewal_info_received{valid.cert_not_after, wall_.now() - 2h,
                                                          wall_.now() + 1s, "", 6h}});
  run();
  EXPECT_TRUE(log_->contains("check ari.example"));
  caf::anon_send(domain, domain_msg{self_check_result{true, {}}});
  run();
  EXPECT_TRUE(log_->contains("ari order ari.example"));
  EXPECT_EQ(record_of(domain).ari_window_end, wall_.now() + 1s);
}

}  // namespace
}  // namespace certfleet::actors::testing
