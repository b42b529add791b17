// The ACME service's queue in front of the CA, with a fake io_engine: the cap on
// orders in flight, the order budget (renewals first) and the pause after
// rateLimited, all in virtual time.

#include "actors/acme_service.hpp"

#include "storage/store.hpp"
#include "tests/actors/fakes.hpp"
#include "tests/support/temp_dir.hpp"

namespace certfleet::actors::testing {
namespace {

using namespace std::chrono_literals;

class acme_service_test : public actor_fixture {
 protected:
  acme_service_test() {
    storage_ = sys_.spawn(fake_storage, script_, log_);
    domains_ = sys_.spawn(recording_domain, log_);
  }
  ~acme_service_test() override {
    caf::anon_send_exit(acme_, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(domains_, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(storage_, caf::exit_reason::user_shutdown);
    run();
  }

  void start(order_budget budget, std::uint32_t in_flight, bool lets_encrypt_limits = false,
             fallback_ca_settings fallback = {}) {
    acme_settings s;
    s.fallback = std::move(fallback);
    s.lets_encrypt_limits = lets_encrypt_limits;
    s.enabled = true;
    s.email = "ops@example.com";
    s.directory_url = "https://ca.test/directory";
    s.orders_in_flight = in_flight;
    s.budget = budget;
    settings_ = s;
    acme_ = sys_.spawn(acme_service_behavior, static_cast<protocol::io_engine*>(&engine_),
                       store_.get(), storage_, &wall_, s);
    run();
  }

  // An order from the (one, recording) domain actor.
  void order(const std::string& name, bool renewal, bool fallback = false,
             std::optional<std::string> resume_url = std::nullopt) {
    caf::send_as(domains_, acme_, order_atom::value,
                 order_request{name, std::move(resume_url), renewal, wall_.now() + 24h, false,
                               false, fallback});
    run();
  }

  // The CA's answer to the n-th issue() call.
  void finish(std::size_t n, result<protocol::issued_certificate> r) {
    engine_.issues.at(n).done(std::move(r));
    run();
  }

  // The account registered before this process, with the contact the CA has (and the new
  // key of a rollover whose end was not stored).
  void store_account(const std::string& contact, const std::string& next_key_pem = "") {
    storage::write_batch b;
    b.put_account = storage::account_record{"https://ca.test/directory", "https://ca.test/acct/7",
                                            "KEY", contact, next_key_pem};
    ASSERT_TRUE(store_->commit(b).ok());
  }

  acme_settings settings_;  ///< as start() gave them
  certfleet::testing::temp_dir dir_;
  std::unique_ptr<storage::store> store_ = open_test_store(dir_.path());
  fake_io_engine engine_;
  std::shared_ptr<storage_script> script_ = std::make_shared<storage_script>();
  storage_actor storage_;
  caf::actor domains_;
  acme_actor acme_;
};

TEST_F(acme_service_test, registers_once_and_stores_the_new_account) {
  start({300, 3h}, 4);
  order("a.example", false);
  order("b.example", false);
  EXPECT_EQ(engine_.accounts, 1);
  EXPECT_EQ(engine_.issued_domains(), (std::vector<std::string>{"a.example", "b.example"}));
  int accounts_stored = 0;
  for (const auto& batch : script_->batches) {
    if (!batch.put_account) continue;
    ++accounts_stored;
    EXPECT_EQ(batch.put_account->account_url, "https://ca.test/acct/1");
  }
  EXPECT_EQ(accounts_stored, 1);
}

TEST_F(acme_service_test, at_most_orders_in_flight_run_at_once) {
  start({300, 3h}, 2);
  for (const char* name : {"a.example", "b.example", "c.example"}) order(name, false);
  EXPECT_EQ(engine_.issued_domains(), (std::vector<std::string>{"a.example", "b.example"}));
  finish(0, error{error_kind::network, "connection reset"});
  EXPECT_TRUE(log_->contains("order_failed network"));
  EXPECT_EQ(engine_.issued_domains().size(), 3u);
}

TEST_F(acme_service_test, orders_wait_for_the_budget_and_a_renewal_goes_first) {
  start({2, 1h}, 10);
  for (const char* name : {"a.example", "b.example", "c.example"}) order(name, false);
  EXPECT_EQ(engine_.issued_domains(), (std::vector<std::string>{"a.example", "b.example"}));
  order("renew.example", true);
  EXPECT_EQ(engine_.issued_domains().size(), 2u) << "a renewal spends the budget too";
  // Two per hour: the next token comes after 30 minutes, and the renewal takes it.
  advance(29min);
  EXPECT_EQ(engine_.issued_domains().size(), 2u);
  advance(1min + 1s);
  EXPECT_EQ(engine_.issued_domains().back(), "renew.example");
  advance(30min);
  EXPECT_EQ(engine_.issued_domains().back(), "c.example");
}

TEST_F(acme_service_test, one_order_per_waiting_domain_and_a_cancelled_one_never_goes) {
  start({1, 1h}, 10);
  order("a.example", false);  // spends the one token
  EXPECT_TRUE(log_->contains("order_started"));
  order("b.example", false);
  order("b.example", false);  // asks again while it waits (a re-check or a retry)
  order("c.example", false);
  caf::send_as(domains_, acme_, cancel_atom::value, std::string("c.example"));
  run();
  advance(1h);
  EXPECT_EQ(engine_.issued_domains(), (std::vector<std::string>{"a.example", "b.example"}));
  advance(3h);
  EXPECT_EQ(engine_.issued_domains(), (std::vector<std::string>{"a.example", "b.example"}))
      << "b went once, c was cancelled";
}

// Issue #23: every restart began with a full budget, so a daemon restarted (or crash-looping)
// sent a fresh 300 new orders each time. Checked against restore_budget() returning at once.
TEST_F(acme_service_test, a_restart_keeps_the_budget_spent_before_it) {
  start({2, 1h}, 10);  // a token every 30 minutes
  order("a.example", false);
  order("b.example", false);
  ASSERT_EQ(engine_.issued_domains().size(), 2u);
  ASSERT_FALSE(script_->batches.empty());
  const auto& saved = script_->batches.back().put_budget;
  ASSERT_TRUE(saved) << "the spent budget is stored when orders start";
  EXPECT_EQ(saved->directory_url, "https://ca.test/directory");
  EXPECT_EQ(saved->full_at, wall_.now() + 1h);
  // The fake storage only records; put the write where the next start reads it.
  ASSERT_TRUE(store_->commit(script_->batches.back()).ok());

  caf::anon_send_exit(acme_, caf::exit_reason::user_shutdown);
  advance(10min);
  engine_.issues.clear();
  start({2, 1h}, 10);
  order("c.example", false);
  EXPECT_TRUE(engine_.issued_domains().empty()) << "no fresh budget after a restart";
  advance(19min);
  EXPECT_TRUE(engine_.issued_domains().empty());
  advance(61s);  // 30 minutes after the two orders (and a second): one token back
  EXPECT_EQ(engine_.issued_domains(), std::vector<std::string>{"c.example"});
}

TEST_F(acme_service_test, queue_answers_what_waits_and_how_long_the_backlog_takes) {
  start({2, 1h}, 10);  // a token every 30 minutes
  for (const char* name : {"a.example", "b.example", "c.example", "d.example"}) order(name, false);
  auto answer = self_->request(acme_, caf::infinite, queue_atom::value);
  run();
  control::queue_response q;
  answer.receive([&](control::queue_response& r) { q = r; },
                 [&](caf::error& e) { ADD_FAILURE() << sys_.render(e); });
  EXPECT_EQ(q.waiting_new, 2u);
  EXPECT_EQ(q.waiting_renewals, 0u);
  EXPECT_EQ(q.in_flight, 2u);
  EXPECT_EQ(q.max_in_flight, 10u);
  EXPECT_EQ(q.budget_orders, 2u);
  EXPECT_EQ(q.budget_seconds, 3600u);
  EXPECT_EQ(q.budget_available, 0u);
  EXPECT_EQ(q.paused_seconds, 0u);
  EXPECT_NEAR(static_cast<double>(q.backlog_seconds), 3600.0, 1.0) << "two tokens: an hour";
}

TEST_F(acme_service_test, rate_limited_pauses_every_order_until_retry_after) {
  start({300, 3h}, 1);
  order("a.example", false);
  order("b.example", true);
  ASSERT_EQ(engine_.issued_domains().size(), 1u);
  finish(0, error{error_kind::rate_limited, "too many new orders", true, 120s});
  EXPECT_TRUE(log_->contains("order_failed rate_limited"));
  advance(119s);
  EXPECT_EQ(engine_.issued_domains().size(), 1u);
  advance(1s);
  EXPECT_EQ(engine_.issued_domains(), (std::vector<std::string>{"a.example", "b.example"}));
}

TEST_F(acme_service_test, a_huge_retry_after_pauses_orders_for_at_most_twelve_hours) {
  start({300, 3h}, 1);
  order("a.example", false);
  order("b.example", true);
  finish(0, error{error_kind::rate_limited, "too many new orders", true, 24h * 7});
  advance(12h - 1s);
  EXPECT_EQ(engine_.issued_domains().size(), 1u);
  advance(1s);
  EXPECT_EQ(engine_.issued_domains(), (std::vector<std::string>{"a.example", "b.example"}));
}

// Issue #18: one customer's registered domain at its limit stalled the whole fleet.
// Checked against end_of() ignoring the scope (every rateLimited pausing the account).
TEST_F(acme_service_test, a_registered_domain_at_its_limit_holds_only_its_own_names) {
  start({300, 3h}, 1, /*lets_encrypt_limits=*/true);
  order("a.shop.example", false);
  order("b.shop.example", false);
  order("c.other.example", false);
  ASSERT_EQ(engine_.issued_domains().size(), 1u);
  finish(0,
         error{error_kind::rate_limited,
               "Error creating new order :: too many certificates (50) already issued for "
               "\"shop.example\" in the last 168h0m0s, retry after 2026-12-07T12:00:00Z: see "
               "https://letsencrypt.org/docs/rate-limits/#new-certificates-per-registered-domain",
               true, 2h});
  EXPECT_EQ(engine_.issued_domains(),
            (std::vector<std::string>{"a.shop.example", "c.other.example"}))
      << "the other registered domain goes on at once";
  finish(1, error{error_kind::connection, "the CA could not connect", true});
  advance(2h - 1s);
  EXPECT_EQ(engine_.issued_domains().size(), 2u);
  advance(1s);
  EXPECT_EQ(engine_.issued_domains().back(), "b.shop.example");
}

TEST_F(acme_service_test, with_acme_disabled_waiting_orders_fail_and_keep_their_order) {
  acme_settings s;  // not enabled
  acme_ = sys_.spawn(acme_service_behavior, static_cast<protocol::io_engine*>(&engine_),
                     store_.get(), storage_, &wall_, s);
  run();
  order("a.example", false);
  EXPECT_TRUE(log_->contains("order_failed not_enabled"));
  EXPECT_TRUE(engine_.issues.empty());
}

// Issue #19: the account of another CA is never registered at (or stored for) the old one.
TEST_F(acme_service_test, a_reload_naming_another_ca_uses_it_for_the_account_and_orders) {
  start({300, 3h}, 4);
  order("a.example", false);
  ASSERT_EQ(engine_.accounts, 1);
  acme_settings next = settings_;
  next.directory_url = "https://other.test/directory";
  next.ca_bundle = "/etc/other-ca.pem";
  caf::anon_send(acme_, reload_atom::value, next);
  run();
  EXPECT_EQ(engine_.cas_used, std::vector<std::string>{"https://other.test/directory "
                                                       "/etc/other-ca.pem"});
  order("b.example", false);
  EXPECT_EQ(engine_.accounts, 2) << "the account must be the new CA's";
  std::vector<std::string> saved_for;
  for (const auto& batch : script_->batches)
    if (batch.put_account) saved_for.push_back(batch.put_account->directory_url);
  EXPECT_EQ(saved_for, (std::vector<std::string>{"https://ca.test/directory",
                                                 "https://other.test/directory"}));

  caf::anon_send(acme_, reload_atom::value, next);
  run();
  EXPECT_EQ(engine_.cas_used.size(), 1u) << "an unchanged CA is not set up again";
}

// RFC 8555 §7.3.2: a changed email reaches the CA as the stored account's new contact.
TEST_F(acme_service_test, a_new_email_updates_the_stored_accounts_contact) {
  store_account("old@example.com");
  start({300, 3h}, 4);
  order("a.example", false);
  EXPECT_EQ(engine_.contact_updates, std::vector<std::string>{"ops@example.com"});
  bool saved = false;
  for (const auto& batch : script_->batches)
    if (batch.put_account && batch.put_account->contact == "ops@example.com") saved = true;
  EXPECT_TRUE(saved) << "the new contact was not stored";
  EXPECT_EQ(engine_.issued_domains(), std::vector<std::string>{"a.example"})
      << "orders go on while the contact changes";
}

TEST_F(acme_service_test, an_unchanged_email_asks_the_ca_nothing) {
  store_account("ops@example.com");
  start({300, 3h}, 4);
  order("a.example", false);
  EXPECT_TRUE(engine_.contact_updates.empty());
}

// ---- renewal information (RFC 9773) -----------------------------------------------------

class acme_service_ari_test : public acme_service_test {
 protected:
  // A stored certificate for `name` (the engine is a fake: the chain is only carried).
  void store_cert(const std::string& name) {
    storage::write_batch b;
    b.put_certs.push_back({storage::cert_record{name, "CHAIN OF " + name, "KEY", wall_.now(),
                                                wall_.now() + 90 * 24h, "01"},
                           std::nullopt});
    ASSERT_TRUE(store_->commit(b).ok());
  }
  void ask_window(const std::string& name) {
    caf::send_as(domains_, acme_, window_atom::value, name, to_unix_us(wall_.now() + 90 * 24h));
    run();
  }
};

TEST_F(acme_service_ari_test, asks_the_ca_about_the_stored_certificate_and_answers_the_domain) {
  start({300, 3h}, 4);
  store_cert("a.example");
  ask_window("a.example");
  ASSERT_EQ(engine_.window_requests.size(), 1u);
  EXPECT_EQ(engine_.window_requests[0].chain_pem, "CHAIN OF a.example");
  protocol::renewal_info_answer answer;
  answer.window = {wall_.now() + 24h, wall_.now() + 48h, ""};
  engine_.window_requests[0].done(answer);
  run();
  EXPECT_TRUE(log_->contains("window received"));

  ask_window("a.example");
  engine_.window_requests.at(1).done(protocol::renewal_info_answer{.offered = false});
  run();
  EXPECT_TRUE(log_->contains("window not offered"));

  ask_window("a.example");
  engine_.window_requests.at(2).done(error{error_kind::bad_response, "garbage"});
  run();
  EXPECT_TRUE(log_->contains("window failed bad_response"));
}

TEST_F(acme_service_ari_test, without_a_stored_certificate_the_ca_is_not_asked) {
  start({300, 3h}, 4);
  ask_window("nothing.example");
  EXPECT_TRUE(engine_.window_requests.empty());
  EXPECT_TRUE(log_->contains("window failed storage"));
}

TEST_F(acme_service_ari_test, a_renewal_names_the_certificate_it_replaces) {
  start({300, 3h}, 4);
  store_cert("a.example");
  order("a.example", true);
  order("new.example", false);
  ASSERT_EQ(engine_.issues.size(), 2u);
  EXPECT_EQ(engine_.issues[0].request.replaced_chain_pem, "CHAIN OF a.example");
  EXPECT_EQ(engine_.issues[1].request.replaced_chain_pem, "") << "a first certificate";
}

TEST_F(acme_service_ari_test, renewals_inside_the_cas_window_spend_no_budget) {
  start({1, 1h}, 10);
  order("first.example", false);  // spends the only token
  order("plain-renewal.example", true);
  EXPECT_EQ(engine_.issued_domains().size(), 1u) << "a renewal outside a window waits";
  caf::send_as(domains_, acme_, order_atom::value,
               order_request{"ari.example", std::nullopt, true, wall_.now() + 24h, false, true});
  run();
  EXPECT_EQ(engine_.issued_domains().back(), "ari.example") << "spends nothing, goes at once";
}

// ---- revocation (RFC 8555 §7.6) ---------------------------------------------------------

class acme_service_revoke_test : public acme_service_ari_test {
 protected:
  using answer = std::tuple<bool, error, std::int64_t>;
  using handle_type = caf::response_handle<caf::blocking_actor,
                                           caf::detail::type_list<bool, error, std::int64_t>, true>;
  // Sends the revocation; the answer is read by answer_of once the CA's fake has answered.
  handle_type revoke(const std::string& name, std::int32_t reason) {
    auto handle = self_->request(acme_, caf::infinite, revoke_atom::value, name, reason);
    run();
    return handle;
  }
  answer answer_of(handle_type& handle) {
    answer out{false, error{}, 0};
    if (self_->mailbox().empty()) {
      ADD_FAILURE() << "no answer";
      return out;
    }
    handle.receive(
        [&](bool ok, error& why, std::int64_t not_after) {
          out = {ok, why, not_after};
        },
        [&](caf::error& e) { ADD_FAILURE() << sys_.render(e); });
    return out;
  }
};

TEST_F(acme_service_revoke_test, revokes_the_stored_leaf_with_the_account_and_the_reason) {
  start({300, 3h}, 4);
  store_cert("a.example");
  auto handle = revoke("a.example", 1);
  EXPECT_EQ(engine_.accounts, 1) << "the account is made ready first";
  ASSERT_EQ(engine_.revocations.size(), 1u);
  EXPECT_EQ(engine_.revocations[0].chain_pem, "CHAIN OF a.example");
  EXPECT_EQ(engine_.revocations[0].reason, 1);
  EXPECT_TRUE(self_->mailbox().empty()) << "answered before the CA did";
  engine_.revocations[0].done(result<void>{});
  run();
  auto [ok, why, not_after] = answer_of(handle);
  EXPECT_TRUE(ok) << why.detail;
  EXPECT_EQ(not_after, to_unix_us(wall_.now() + 90 * 24h)) << "names the revoked certificate";
}

TEST_F(acme_service_revoke_test, a_revocation_waiting_when_the_ca_changes_is_not_sent_there) {
  start({300, 3h}, 4);
  store_cert("a.example");
  engine_.hold_accounts = true;
  auto handle = revoke("a.example", 1);
  ASSERT_EQ(engine_.held_accounts.size(), 1u) << "waits for the account";
  acme_settings next = settings_;
  next.directory_url = "https://other.test/directory";
  caf::anon_send(acme_, reload_atom::value, next);
  run();
  auto [ok, why, not_after] = answer_of(handle);
  EXPECT_FALSE(ok);
  EXPECT_NE(why.detail.find("cannot be revoked at the new one"), std::string::npos) << why.detail;
  engine_.held_accounts[0]();  // the old CA's account, late
  run();
  EXPECT_TRUE(engine_.revocations.empty());
}

TEST_F(acme_service_revoke_test, the_cas_refusal_is_the_answer) {
  start({300, 3h}, 4);
  store_cert("a.example");
  auto handle = revoke("a.example", 4);
  ASSERT_EQ(engine_.revocations.size(), 1u);
  engine_.revocations[0].done(error{error_kind::unauthorized, "not your certificate"});
  run();
  auto [ok, why, not_after] = answer_of(handle);
  EXPECT_FALSE(ok);
  EXPECT_EQ(why.kind, error_kind::unauthorized);
}

TEST_F(acme_service_revoke_test, a_domain_without_a_certificate_asks_the_ca_nothing) {
  start({300, 3h}, 4);
  auto handle = revoke("nothing.example", 0);
  auto [ok, why, not_after] = answer_of(handle);
  EXPECT_FALSE(ok);
  EXPECT_NE(why.detail.find("nothing.example has no certificate"), std::string::npos) << why.detail;
  EXPECT_TRUE(engine_.revocations.empty());
}

// ---- account key rollover (RFC 8555 §7.3.5) ----------------------------------------------

class acme_service_rollover_test : public acme_service_test {
 protected:
  using handle_type = caf::response_handle<caf::blocking_actor,
                                           caf::detail::type_list<bool, error, std::string>, true>;
  handle_type roll_over() {
    auto handle = self_->request(acme_, caf::infinite, rollover_atom::value);
    run();
    return handle;
  }
  std::tuple<bool, error, std::string> answer_of(handle_type& handle) {
    std::tuple<bool, error, std::string> out{false, error{}, ""};
    if (self_->mailbox().empty()) {
      ADD_FAILURE() << "no answer";
      return out;
    }
    handle.receive(
        [&](bool ok, error& why, std::string& url) {
          out = {ok, why, url};
        },
        [&](caf::error& e) { ADD_FAILURE() << sys_.render(e); });
    return out;
  }
  // The CA's fake asks to store the new key; what the service acknowledged.
  result<void> store_new_key(const std::string& key_pem) {
    std::optional<result<void>> acked;
    engine_.rollovers.at(0).before_change(key_pem, [&](result<void> r) { acked = r; });
    run();
    if (!acked) return error{error_kind::internal, "never acknowledged"};
    return *acked;
  }
  std::vector<storage::account_record> accounts_written() const {
    std::vector<storage::account_record> out;
    for (const auto& batch : script_->batches)
      if (batch.put_account) out.push_back(*batch.put_account);
    return out;
  }
};

TEST_F(acme_service_rollover_test, the_new_key_is_stored_before_the_ca_hears_and_kept_after) {
  store_account("ops@example.com");
  start({300, 3h}, 4);
  auto handle = roll_over();
  EXPECT_EQ(engine_.accounts, 1) << "the account is made ready first";
  ASSERT_EQ(engine_.rollovers.size(), 1u);
  ASSERT_TRUE(store_new_key("NEWKEY"));
  auto written = accounts_written();
  ASSERT_EQ(written.size(), 1u);
  EXPECT_EQ(written[0].key_pem, "KEY") << "the old key stays until the CA answers";
  EXPECT_EQ(written[0].next_key_pem, "NEWKEY");
  EXPECT_TRUE(self_->mailbox().empty()) << "answered before the CA did";

  engine_.rollovers[0].done(protocol::account_credentials{"https://ca.test/acct/7", "NEWKEY"});
  run();
  auto [ok, why, url] = answer_of(handle);
  EXPECT_TRUE(ok) << why.detail;
  EXPECT_EQ(url, "https://ca.test/acct/7");
  written = accounts_written();
  ASSERT_EQ(written.size(), 2u);
  EXPECT_EQ(written[1].key_pem, "NEWKEY");
  EXPECT_EQ(written[1].next_key_pem, "");
}

TEST_F(acme_service_rollover_test, a_key_that_cannot_be_stored_never_reaches_the_ca) {
  store_account("ops@example.com");
  start({300, 3h}, 4);
  auto handle = roll_over();
  script_->fail = true;
  auto acked = store_new_key("NEWKEY");
  ASSERT_FALSE(acked);
  EXPECT_NE(acked.err().detail.find("nothing changed at the CA"), std::string::npos)
      << acked.err().detail;
}

TEST_F(acme_service_rollover_test, one_rollover_at_a_time) {
  store_account("ops@example.com");
  start({300, 3h}, 4);
  auto first = roll_over();
  auto second = roll_over();
  auto [ok, why, url] = answer_of(second);
  EXPECT_FALSE(ok);
  EXPECT_NE(why.detail.find("already under way"), std::string::npos) << why.detail;
  EXPECT_EQ(engine_.rollovers.size(), 1u);
}

// The CA's answer may have been lost after it took the new key: the account is asked for
// again (settled from the stored keys) before the next order uses it.
TEST_F(acme_service_rollover_test, after_a_failed_rollover_the_account_is_settled_before_use) {
  store_account("ops@example.com");
  start({300, 3h}, 4);
  auto handle = roll_over();
  ASSERT_TRUE(store_new_key("NEWKEY"));
  engine_.rollovers[0].done(error{error_kind::timeout, "the CA did not answer"});
  run();
  auto [ok, why, url] = answer_of(handle);
  EXPECT_FALSE(ok);
  EXPECT_EQ(why.kind, error_kind::timeout);
  order("a.example", false);
  EXPECT_EQ(engine_.accounts, 2);
}

TEST_F(acme_service_rollover_test, a_rollover_left_by_a_stop_is_settled_with_the_key_the_ca_has) {
  for (bool reached : {true, false}) {
    SCOPED_TRACE(reached ? "the CA took the new key" : "the CA never heard of it");
    script_->batches.clear();
    store_account("ops@example.com", "NEXTKEY");
    engine_.rollover_reached_ca = reached;
    start({300, 3h}, 4);
    order("a.example", false);
    ASSERT_TRUE(engine_.last_stored);
    EXPECT_EQ(engine_.last_stored->next_key_pem, "NEXTKEY") << "the engine must ask the CA";
    auto written = accounts_written();
    ASSERT_EQ(written.size(), 1u);
    EXPECT_EQ(written[0].key_pem, reached ? "NEXTKEY" : "KEY");
    EXPECT_EQ(written[0].next_key_pem, "");
    caf::anon_send_exit(acme_, caf::exit_reason::user_shutdown);
    run();
  }
}

// ---- the fallback CA (issue #19) -----------------------------------------------------------

class acme_service_fallback_test : public acme_service_ari_test {
 protected:
  void start_with_fallback(std::uint32_t in_flight = 4) {
    start({300, 3h}, in_flight, false,
          fallback_ca_settings{"https://fallback.test/directory", "/etc/fallback.pem", "classic",
                               std::nullopt});
  }
  // A stored certificate for `name`, issued by the CA at `ca_url`.
  void store_cert_from(const std::string& name, const std::string& ca_url) {
    storage::write_batch b;
    b.put_certs.push_back({storage::cert_record{name, "CHAIN OF " + name, "KEY", wall_.now(),
                                                wall_.now() + 90 * 24h, "01", ca_url},
                           std::nullopt});
    ASSERT_TRUE(store_->commit(b).ok());
  }
  static constexpr auto primary = protocol::ca_role::primary;
  static constexpr auto fallback = protocol::ca_role::fallback;
};

TEST_F(acme_service_fallback_test, fallback_orders_go_there_with_its_own_account_and_profile) {
  start_with_fallback();
  EXPECT_EQ(engine_.cas_used, std::vector<std::string>{
                                  "fallback: https://fallback.test/directory /etc/fallback.pem"});
  order("a.example", false, true);
  ASSERT_EQ(engine_.issues.size(), 1u);
  EXPECT_EQ(engine_.issues[0].role, fallback);
  EXPECT_EQ(engine_.issues[0].request.profile, "classic");
  EXPECT_EQ(engine_.account_roles, std::vector<protocol::ca_role>{fallback})
      << "the primary's account is not needed";
  bool saved = false;
  for (const auto& batch : script_->batches)
    if (batch.put_account)
      saved = batch.put_account->directory_url == "https://fallback.test/directory";
  EXPECT_TRUE(saved) << "the fallback's account is stored under its URL";

  order("b.example", false);
  ASSERT_EQ(engine_.issues.size(), 2u);
  EXPECT_EQ(engine_.issues[1].role, primary);
}

TEST_F(acme_service_fallback_test, without_a_fallback_ca_every_order_goes_to_the_primary) {
  start({300, 3h}, 4);
  order("a.example", false, true);
  ASSERT_EQ(engine_.issues.size(), 1u);
  EXPECT_EQ(engine_.issues[0].role, primary);
  EXPECT_TRUE(engine_.cas_used.empty());
}

// `replaces` names a certificate of the CA asked; an order of one CA is not resumed at the other.
TEST_F(acme_service_fallback_test, only_the_issuing_ca_hears_of_its_certificate_and_orders) {
  start_with_fallback();
  store_cert_from("a.example", "https://ca.test/directory");
  order("a.example", true, true, std::string("https://ca.test/acme/order/9"));
  ASSERT_EQ(engine_.issues.size(), 1u);
  EXPECT_EQ(engine_.issues[0].request.replaced_chain_pem, "") << "the fallback never issued it";
  EXPECT_FALSE(engine_.issues[0].request.resume_order_url) << "the primary's order";

  store_cert_from("b.example", "https://fallback.test/directory");
  order("b.example", true, true, std::string("https://fallback.test/acme/order/3"));
  ASSERT_EQ(engine_.issues.size(), 2u);
  EXPECT_EQ(engine_.issues[1].request.replaced_chain_pem, "CHAIN OF b.example");
  EXPECT_EQ(engine_.issues[1].request.resume_order_url, "https://fallback.test/acme/order/3");
}

TEST_F(acme_service_fallback_test, windows_and_revocations_go_to_the_ca_that_issued) {
  start_with_fallback();
  store_cert_from("a.example", "https://fallback.test/directory");
  store_cert_from("b.example", "https://ca.test/directory");
  ask_window("a.example");
  ask_window("b.example");
  ASSERT_EQ(engine_.window_requests.size(), 2u);
  EXPECT_EQ(engine_.window_requests[0].role, fallback);
  EXPECT_EQ(engine_.window_requests[1].role, primary);
  self_->request(acme_, caf::infinite, revoke_atom::value, std::string("a.example"),
                 std::int32_t{1});
  run();
  ASSERT_EQ(engine_.revocations.size(), 1u);
  EXPECT_EQ(engine_.revocations[0].role, fallback);
  EXPECT_EQ(engine_.account_roles.back(), fallback) << "signed by the fallback's account";
}

// The point of a fallback: the primary's rate limits do not hold its orders.
TEST_F(acme_service_fallback_test, a_pause_at_the_primary_does_not_hold_fallback_orders) {
  start_with_fallback(1);
  order("a.example", false);
  finish(0, error{error_kind::rate_limited, "too many new orders", true, 3600s});
  order("b.example", false);
  EXPECT_EQ(engine_.issues.size(), 1u) << "the primary is paused";
  order("c.example", false, true);
  ASSERT_EQ(engine_.issues.size(), 2u);
  EXPECT_EQ(engine_.issues[1].request.domains.at(0), "c.example");
  EXPECT_EQ(engine_.issues[1].role, fallback);
}

TEST_F(acme_service_fallback_test, a_reload_without_the_fallback_sends_its_waiting_orders_home) {
  start_with_fallback(1);
  order("a.example", false, true);
  order("b.example", false, true);
  ASSERT_EQ(engine_.issues.size(), 1u) << "one in flight at the fallback";
  acme_settings next = settings_;
  next.fallback = {};
  caf::anon_send(acme_, reload_atom::value, next);
  run();
  EXPECT_EQ(engine_.cas_used.back(), "fallback:  ");
  ASSERT_EQ(engine_.issues.size(), 2u);
  EXPECT_EQ(engine_.issues[1].request.domains.at(0), "b.example");
  EXPECT_EQ(engine_.issues[1].role, primary);
  finish(0, protocol::issued_certificate{});  // the fallback's order in flight ends
  EXPECT_TRUE(log_->contains("issued"));
}

}  // namespace
}  // namespace certfleet::actors::testing
