// A renewal that keeps failing, from the first attempt to the 12-hour cap, through the real
// actors (domain actor, ACME service, wake timer, storage actor on a real LMDB) with only the
// network faked, in virtual time: the seed's retry sequence ("one minute after the first
// attempt ... growing ... a maximum of 12 hours") and its renewal warning ("failed to renew
// for at least an hour"), read back from the store the way `certfleet warnings` reads it.
// Checked against tests/mutations.txt's failure_timeline lines: a retry table entry changed
// (the gaps differ) and the warning's ">= warning_after" turned into "> 0" (warns at once).

#include <gtest/gtest.h>

#include "actors/acme_service.hpp"
#include "actors/renewal_policy.hpp"
#include "actors/storage_actor.hpp"
#include "storage/group_writer.hpp"
#include "tests/actors/fakes.hpp"
#include "tests/support/temp_dir.hpp"
#include "tools/cli/status_format.hpp"

namespace certfleet::actors::testing {
namespace {

using namespace std::chrono_literals;
using storage::domain_phase;

class failure_timeline_test : public actor_fixture {
 protected:
  failure_timeline_test() {
    fill_domain_env(env_, sys_, std::make_shared<storage_script>(), log_, &wall_);
    caf::anon_send_exit(env_.storage, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(env_.acme, caf::exit_reason::user_shutdown);
    env_.storage = sys_.spawn(storage_behavior, store_.get(), &writer_, storage_mirror{});
    acme_settings s;
    s.enabled = true;
    s.email = "ops@example.com";
    s.directory_url = "https://ca.test/directory";
    env_.acme = sys_.spawn(acme_service_behavior, static_cast<protocol::io_engine*>(&engine_),
                           store_.get(), env_.storage, &wall_, s);
    settle();
  }
  ~failure_timeline_test() override {
    for (const caf::actor& a :
         {caf::actor_cast<caf::actor>(domain_), caf::actor_cast<caf::actor>(env_.acme),
          caf::actor_cast<caf::actor>(env_.timer), caf::actor_cast<caf::actor>(env_.exporter),
          caf::actor_cast<caf::actor>(env_.storage)})
      if (a) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    settle();
  }

  // Runs the actors until the writer thread has nothing left to answer (each step of a domain
  // waits for its write). Bounded: a chain longer than this fails the test's expectations.
  void settle() {
    for (int i = 0; i < 20; ++i) {
      run();
      writer_.flush();
      if (!sched_.has_job()) return;
    }
    ADD_FAILURE() << "the actors and the writer never went quiet";
  }

  // Answers the network calls until none is left: every self-check passes, every order fails
  // as the CA would with a 503. Returns how many orders were answered.
  std::size_t answer_calls() {
    std::size_t orders = 0;
    for (int round = 0; round < 5; ++round) {
      auto checks = std::move(engine_.self_checks);
      engine_.self_checks.clear();
      for (auto& [domain, done] : checks) done(result<void>{});
      settle();
      for (; answered_ < engine_.issues.size(); ++answered_, ++orders)
        engine_.issues[answered_].done(error{error_kind::server_internal, "the CA answered 503"});
      settle();
    }
    return orders;
  }

  // Moves time in 15-second steps up to `span`, answering calls as they come; returns the
  // times (from `origin`) at which orders went to the CA.
  std::vector<std::chrono::minutes> orders_within(std::chrono::seconds span, timestamp origin) {
    std::vector<std::chrono::minutes> at;
    for (auto waited = 0s; waited < span; waited += 15s) {
      advance(15s);
      settle();
      for (auto n = answer_calls(); n > 0; --n)
        at.push_back(std::chrono::duration_cast<std::chrono::minutes>(wall_.now() - origin));
    }
    return at;
  }

  // A 90-day certificate whose renewal point (renewal_policy's rule, jitter included) is one
  // minute from now.
  storage::domain_record renewing_in_one_minute(const std::string& name) const {
    const timestamp epoch{};
    const auto lifetime = std::chrono::microseconds(90 * 24h);
    const auto before_expiry = (epoch + lifetime) - renewal_point(epoch, epoch + lifetime, name);
    storage::domain_record r;
    r.name = name;
    r.phase = domain_phase::valid;
    r.cert_not_after = wall_.now() + 1min + before_expiry;
    r.cert_not_before = r.cert_not_after - lifetime;
    r.last_success = r.cert_not_before;
    r.next_attempt = wall_.now() + 1min;
    return r;
  }

  std::vector<std::string> warnings() const {
    auto domains = store_->list_domains();
    EXPECT_TRUE(domains.ok());
    return domains.ok() ? cli::renewal_warnings(*domains, wall_.now())
                        : std::vector<std::string>{"cannot read the store"};
  }

  certfleet::testing::temp_dir dir_;
  std::unique_ptr<storage::store> store_ = open_test_store(dir_.path());
  storage::group_writer writer_{*store_};
  fake_io_engine engine_;
  domain_env env_;
  caf::actor domain_;
  std::size_t answered_ = 0;
};

TEST_F(failure_timeline_test, a_failing_renewal_retries_after_1_minute_then_backs_off_to_12_hours) {
  const timestamp start = wall_.now();
  domain_ = sys_.spawn<domain_actor>(renewing_in_one_minute("a.example"), &env_, false);
  settle();
  EXPECT_TRUE(warnings().empty());

  const auto orders = orders_within(42h, start);
  ASSERT_FALSE(orders.empty());
  std::vector<std::chrono::minutes> gaps;
  for (std::size_t i = 1; i < orders.size(); ++i) gaps.push_back(orders[i] - orders[i - 1]);
  // First attempt at the renewal point; retries after 1, 2, 5, 10, 30 minutes, 1, 2, 4, 8
  // hours, then every 12 hours.
  EXPECT_EQ(orders.front(), 1min);
  const std::vector<std::chrono::minutes> expected{1min,   2min,   5min,   10min,  30min, 60min,
                                                   120min, 240min, 480min, 720min, 720min};
  EXPECT_EQ(gaps, expected);

  auto stored = store_->get_domain("a.example");
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->phase, domain_phase::failing);
  EXPECT_EQ((*stored)->failure_count, orders.size());
  EXPECT_EQ((*stored)->last_error.empty(), false);
}

TEST_F(failure_timeline_test,
       a_failing_renewal_warns_after_one_hour_a_failing_registration_at_once) {
  domain_ = sys_.spawn<domain_actor>(renewing_in_one_minute("a.example"), &env_, false);
  settle();

  // The first attempt fails one minute in; the warning is due one hour after that.
  const timestamp start = wall_.now();
  EXPECT_EQ(orders_within(1h, start).front(), 1min);
  EXPECT_TRUE(warnings().empty()) << ::testing::PrintToString(warnings());
  orders_within(45s, start);  // 15 s short of an hour of failures
  EXPECT_TRUE(warnings().empty()) << ::testing::PrintToString(warnings());
  orders_within(15s, start);
  const auto shown = warnings();
  ASSERT_EQ(shown.size(), 1u);
  EXPECT_NE(shown[0].find("a.example"), std::string::npos) << shown[0];

  // A domain with no certificate yet warns after its first failed registration.
  storage::domain_record fresh;
  fresh.name = "b.example";
  fresh.next_attempt = wall_.now();
  auto second = sys_.spawn<domain_actor>(fresh, &env_, false);
  settle();
  EXPECT_EQ(orders_within(15s, wall_.now()).size(), 1u);
  const auto both = warnings();
  caf::anon_send_exit(second, caf::exit_reason::user_shutdown);
  ASSERT_EQ(both.size(), 2u) << ::testing::PrintToString(both);
  EXPECT_NE(both[1].find("b.example"), std::string::npos) << both[1];
}

}  // namespace
}  // namespace certfleet::actors::testing
