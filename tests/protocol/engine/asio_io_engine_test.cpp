// The io engine's choice of CA: a reload naming another CA (use_ca) sends every later
// request there, and a CA that cannot be set up makes every later request fail saying so.
// Scripted CAs on loopback; every wait is bounded.
#include "protocol/engine/asio_io_engine.hpp"

#include <gtest/gtest.h>

#include <future>

#include "protocol/crypto/certificate.hpp"
#include "tests/support/key_change_ca.hpp"
#include "tests/support/net_test_support.hpp"

namespace certfleet::protocol {
namespace {

using namespace certfleet::testing::net;

// A CA whose directory offers one profile, `profile`, and nothing else.
fake_peer::handler directory_offering(std::string profile) {
  return [profile](tcp::socket& s, int) {
    std::string buffer;
    while (auto req = read_request(s, buffer)) {
      const std::string body = R"({"newNonce":"http://127.0.0.1:1/n","newAccount":)"
                               R"("http://127.0.0.1:1/a","newOrder":"http://127.0.0.1:1/o",)"
                               R"("meta":{"profiles":{")" +
                               profile + R"(":"the only one"}}})";
      send(s, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                  std::to_string(body.size()) + "\r\n\r\n" + body);
    }
  };
}

// The engine's answer to one call (its callbacks run on the engine's thread).
template <class T, class Call>
T answer(Call call) {
  auto promise = std::make_shared<std::promise<T>>();
  auto future = promise->get_future();
  call([promise](T r) { promise->set_value(std::move(r)); });
  if (future.wait_for(10s) != std::future_status::ready) throw std::runtime_error("no answer");
  return future.get();
}

class asio_io_engine_test : public ::testing::Test {
 protected:
  std::unique_ptr<asio_io_engine> start(const std::string& directory_url) {
    io_engine_options options;
    options.directory_url = directory_url;
    options.http_listen = "127.0.0.1:0";
    options.dns_servers = {"127.0.0.1:1"};  // never asked here
    options.http.timeout = 2000ms;
    auto engine = asio_io_engine::start(options);
    EXPECT_TRUE(engine) << engine.err().detail;
    return engine ? std::move(engine.value()) : nullptr;
  }
  // The profile asked of the CA in use (`first_` unless a test switched).
  result<void> profile(asio_io_engine& engine, const std::string& name,
                       const std::string& directory_url = "") {
    const std::string at = directory_url.empty() ? in_use_ : directory_url;
    return answer<result<void>>([&](auto done) { engine.check_profile(name, at, "", done); });
  }
  std::string in_use_;

  fake_peer first_{directory_offering("first-only")};
  fake_peer second_{directory_offering("second-only")};
};

// The scripted CAs have no revokeCert: the error names the directory that was asked.
TEST_F(asio_io_engine_test, requests_after_use_ca_go_to_the_new_ca) {
  auto engine = start(first_.url("/dir"));
  ASSERT_TRUE(engine);
  auto key = private_key::generate(key_type::ec_p256);
  ASSERT_TRUE(key);
  auto cert = make_self_signed_pem(*key, "a.example", std::chrono::hours(1), wall_clock{}.now());
  ASSERT_TRUE(cert) << cert.err().detail;
  const auto asked = [&] {
    auto r =
        answer<result<void>>([&](auto done) { engine->revoke(ca_role::primary, *cert, 1, done); });
    return r ? std::string("no error") : r.err().detail;
  };
  EXPECT_NE(asked().find(first_.url("/dir")), std::string::npos);
  engine->use_ca(ca_role::primary, second_.url("/dir"), "");
  EXPECT_NE(asked().find(second_.url("/dir")), std::string::npos) << "asked the old CA";
}

// Issue #19: the fallback CA is a second link; the first stays in use for its own requests.
TEST_F(asio_io_engine_test, the_fallback_ca_answers_for_its_role_only) {
  auto engine = start(first_.url("/dir"));
  ASSERT_TRUE(engine);
  const auto asked = [&](ca_role role) {
    auto r = answer<result<void>>([&](auto done) { engine->revoke(role, "chain", 1, done); });
    return r ? std::string("no error") : r.err().detail;
  };
  EXPECT_NE(asked(ca_role::fallback).find("no fallback CA is configured"), std::string::npos);
  engine->use_ca(ca_role::fallback, second_.url("/dir"), "");
  auto key = private_key::generate(key_type::ec_p256);
  ASSERT_TRUE(key);
  auto cert = make_self_signed_pem(*key, "a.example", std::chrono::hours(1), wall_clock{}.now());
  ASSERT_TRUE(cert);
  const auto revoked_at = [&](ca_role role) {
    auto r = answer<result<void>>([&](auto done) { engine->revoke(role, *cert, 1, done); });
    return r ? std::string("no error") : r.err().detail;
  };
  EXPECT_NE(revoked_at(ca_role::fallback).find(second_.url("/dir")), std::string::npos);
  EXPECT_NE(revoked_at(ca_role::primary).find(first_.url("/dir")), std::string::npos);
  EXPECT_TRUE(profile(*engine, "second-only", second_.url("/dir"))) << "the fallback's link";
  engine->use_ca(ca_role::fallback, "", "");
  EXPECT_NE(asked(ca_role::fallback).find("no fallback CA is configured"), std::string::npos);
}

// A reload is judged before it applies: the profile is asked of the CA it names.
TEST_F(asio_io_engine_test, a_profile_is_asked_of_the_ca_named_not_the_one_in_use) {
  auto engine = start(first_.url("/dir"));
  ASSERT_TRUE(engine);
  in_use_ = first_.url("/dir");
  EXPECT_TRUE(profile(*engine, "first-only"));
  EXPECT_TRUE(profile(*engine, "second-only", second_.url("/dir")));
  auto other = profile(*engine, "first-only", second_.url("/dir"));
  ASSERT_FALSE(other);
  EXPECT_EQ(other.err().kind, error_kind::config);
  EXPECT_NE(other.err().detail.find(second_.url("/dir")), std::string::npos) << other.err().detail;
  EXPECT_TRUE(profile(*engine, "first-only")) << "asking changed the CA in use";
}

TEST_F(asio_io_engine_test, a_ca_that_cannot_be_set_up_fails_every_request_until_the_next) {
  auto engine = start(first_.url("/dir"));
  ASSERT_TRUE(engine);
  engine->use_ca(ca_role::primary, second_.url("/dir"), "/nonexistent/ca.pem");
  const auto says_why = [&](const error& e) {
    EXPECT_EQ(e.kind, error_kind::config);
    EXPECT_NE(e.detail.find("cannot use the CA at " + second_.url("/dir")), std::string::npos)
        << e.detail;
    EXPECT_NE(e.detail.find("acme_ca_bundle"), std::string::npos) << e.detail;
  };
  says_why(answer<result<void>>([&](auto done) {
             engine->check_profile("second-only", second_.url("/dir"), "/nonexistent/ca.pem", done);
           }).err());
  says_why(answer<result<account_credentials>>([&](auto done) {
             engine->account(ca_role::primary, account_credentials{"u", "k"}, "", true,
                             std::nullopt, done);
           }).err());
  says_why(answer<result<void>>([&](auto done) {
             engine->update_contact(ca_role::primary, "ops@example.com", done);
           }).err());
  says_why(answer<result<void>>([&](auto done) {
             engine->revoke(ca_role::primary, "chain", 1, done);
           }).err());
  says_why(answer<result<renewal_info_answer>>([&](auto done) {
             engine->renewal_info(ca_role::primary, "chain", done);
           }).err());
  says_why(answer<result<issued_certificate>>([&](auto done) {
             engine->issue(
                 ca_role::primary, issuance_request{},
                 [](auto, auto&, auto&, auto ack) { ack({}); }, done);
           }).err());
  EXPECT_EQ(first_.accepted() + second_.accepted(), 0) << "a CA was asked nonetheless";

  engine->use_ca(ca_role::primary, second_.url("/dir"), "");
  auto account = answer<result<account_credentials>>([&](auto done) {
    engine->account(ca_role::primary, account_credentials{"u", "k"}, "", true, std::nullopt, done);
  });
  ASSERT_FALSE(account);
  EXPECT_EQ(account.err().kind, error_kind::storage) << "the next reload's CA is used";
}

TEST_F(asio_io_engine_test, revocation_and_windows_go_through_the_stored_account) {
  auto engine = start(first_.url("/dir"));
  ASSERT_TRUE(engine);
  auto key = private_key::generate(key_type::ec_p256);
  ASSERT_TRUE(key);
  const account_credentials stored{first_.url("/acct/1"), key->to_pem()};
  auto used = answer<result<account_credentials>>(
      [&](auto done) { engine->account(ca_role::primary, stored, "", true, std::nullopt, done); });
  ASSERT_TRUE(used) << used.err().detail;
  EXPECT_EQ(used->url, stored.url) << "a stored account is used without asking the CA";

  auto cert = make_self_signed_pem(*key, "a.example", std::chrono::hours(1), wall_clock{}.now());
  ASSERT_TRUE(cert) << cert.err().detail;
  auto revoked =
      answer<result<void>>([&](auto done) { engine->revoke(ca_role::primary, *cert, 1, done); });
  ASSERT_FALSE(revoked);
  EXPECT_NE(revoked.err().detail.find("has no revokeCert"), std::string::npos)
      << revoked.err().detail;
  auto window = answer<result<renewal_info_answer>>(
      [&](auto done) { engine->renewal_info(ca_role::primary, "x", done); });
  ASSERT_FALSE(window) << "not a certificate";
  EXPECT_EQ(window.err().kind, error_kind::invalid_input) << window.err().detail;
}

// RFC 8555 §7.3.5 through the engine: the new key is handed over to be stored before the CA
// hears of it, and a stored rollover whose end was lost is settled by asking the CA.
TEST(asio_io_engine_rollover, the_key_is_stored_first_and_a_lost_end_is_settled_at_the_next_use) {
  key_change_ca ca;
  io_engine_options options;
  options.directory_url = ca.directory_url();
  options.http_listen = "127.0.0.1:0";
  options.dns_servers = {"127.0.0.1:1"};
  options.http.timeout = 2000ms;
  auto engine = asio_io_engine::start(options);
  ASSERT_TRUE(engine) << engine.err().detail;
  auto old_key = private_key::generate(key_type::ec_p256);
  ASSERT_TRUE(old_key);
  const account_credentials stored{ca.account_url(), old_key->to_pem()};
  ASSERT_TRUE(answer<result<account_credentials>>([&](auto done) {
    (*engine)->account(ca_role::primary, stored, "", true, std::nullopt, done);
  }));

  // A key that cannot be stored never reaches the CA.
  auto refused = answer<result<account_credentials>>([&](auto done) {
    (*engine)->roll_over_key(
        [](const std::string&, io_engine::ack ack) {
          ack(error{error_kind::storage, "disk full"});
        },
        done);
  });
  ASSERT_FALSE(refused);
  EXPECT_EQ(ca.key_changes(), 0);

  std::string handed_over;
  auto rolled = answer<result<account_credentials>>([&](auto done) {
    (*engine)->roll_over_key(
        [&](const std::string& key_pem, io_engine::ack ack) {
          handed_over = key_pem;
          ack({});
        },
        done);
  });
  ASSERT_TRUE(rolled) << rolled.err().detail;
  EXPECT_EQ(ca.key_changes(), 1);
  EXPECT_EQ(rolled->url, ca.account_url());
  EXPECT_TRUE(rolled->key_pem == handed_over) << "the account's key is the one stored";

  // A restart that found both keys stored: the CA knows the new one.
  const account_credentials unsettled{ca.account_url(), old_key->to_pem(), handed_over};
  auto settled = answer<result<account_credentials>>([&](auto done) {
    (*engine)->account(ca_role::primary, unsettled, "", true, std::nullopt, done);
  });
  ASSERT_TRUE(settled) << settled.err().detail;
  EXPECT_TRUE(settled->key_pem == handed_over);
  EXPECT_TRUE(settled->next_key_pem.empty());
  EXPECT_FALSE((*engine)->tls_alpn_answer("a.example")) << "nothing published";
}

}  // namespace
}  // namespace certfleet::protocol
