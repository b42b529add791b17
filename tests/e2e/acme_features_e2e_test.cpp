// What today's CAs offer beyond RFC 8555 (issue #19), end to end: the real certfleetd against
// a real pebble, behind tests/support/acme_front for what pebble 2.4 lacks (ARI).

#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "protocol/acme/renewal_info.hpp"
#include "protocol/crypto/certificate.hpp"
#include "storage/store.hpp"
#include "tests/support/acme_front.hpp"
#include "tests/support/certfleetd_process.hpp"

namespace certfleet::testing {
namespace {

using namespace std::chrono_literals;

std::map<std::string, storage::domain_record> by_name(const certfleetd_process& d) {
  std::map<std::string, storage::domain_record> out;
  for (auto& r : d.records()) out[r.name] = r;
  return out;
}

// RFC 9773's identifier of the certificate the daemon stores for `domain`.
std::string stored_cert_id(const certfleetd_process& d, const std::string& domain) {
  auto st = storage::store::open(d.state_dir(), storage::open_mode::read_only);
  if (!st) return "cannot open the store: " + st.err().detail;
  auto pair = st->get_certs(domain);
  if (!pair || !*pair) return "no certificate stored for " + domain;
  auto id = protocol::ari_certificate_id_of((*pair)->current.chain_pem);
  return id ? *id : "no identifier: " + id.err().detail;
}

timestamp wall_now() { return wall_clock{}.now(); }

// 300-second certificates: the fallback rule renews at ~150 s, windows are asked for every
// 15 s (a twentieth of the lifetime, since the front's Retry-After is shorter), so a window
// moved to now is acted on long before the rule would renew anything.
TEST(acme_features_e2e, a_window_moved_to_now_renews_exactly_those_certificates_naming_them) {
  pebble_options options;
  options.validity_seconds = 300;
  pebble_harness pebble(options);
  acme_front front(pebble);
  front.set_retry_after(1s);
  front.set_default_window(wall_now() + 1h, wall_now() + 2h);  // after the fallback rule
  const std::vector<std::string> domains = {"a.ari.test", "b.ari.test", "c.ari.test", "d.ari.test",
                                            "e.ari.test"};
  certfleetd_process d(pebble, domains, "", front.directory_url());
  d.start();
  ASSERT_TRUE(d.wait_until([&] { return d.all_issued(); }, 60s)) << d.log();
  const auto first = by_name(d);
  for (const auto& r : first) EXPECT_TRUE(r.second.has_cert()) << r.first;

  std::map<std::string, std::string> ids;
  for (const auto& name : domains) ids[name] = stored_cert_id(d, name);
  // a and b: the CA wants them replaced now; c too, but another order already replaced it.
  for (const char* name : {"a.ari.test", "b.ari.test", "c.ari.test"})
    front.set_window(ids[name], wall_now() - 1min, wall_now() + 1min);
  front.refuse_replacing_once(ids["c.ari.test"]);

  std::map<std::string, std::string> first_serials;
  for (const auto& name : domains) first_serials[name] = d.stored_serial(name);
  const std::vector<std::string> moved = {"a.ari.test", "b.ari.test", "c.ari.test"};
  ASSERT_TRUE(d.wait_until(
      [&] {
        for (const auto& name : moved)
          if (d.stored_serial(name) == first_serials[name]) return false;
        return true;
      },
      60s))
      << d.log();
  for (const char* name : {"d.ari.test", "e.ari.test"})
    EXPECT_EQ(d.stored_serial(name), first_serials[name])
        << name << " renewed although its window is an hour away";

  // Each renewal named the certificate it replaces; c's was refused (alreadyReplaced) and
  // went once more without `replaces`. Only orders pebble created are counted.
  std::map<std::string, int> named;
  int unnamed = 0;
  for (const auto& r : front.replaces_seen()) (r.empty() ? unnamed : named[r]) += 1;
  EXPECT_EQ(named[ids["a.ari.test"]], 1);
  EXPECT_EQ(named[ids["b.ari.test"]], 1);
  EXPECT_EQ(named.count(ids["c.ari.test"]), 0u);
  EXPECT_EQ(named.count(ids["d.ari.test"]), 0u);
  EXPECT_EQ(unnamed, 5 + 1) << "five first certificates and c's order after alreadyReplaced\n"
                            << d.log();
  EXPECT_NE(
      d.log().find("certificate " + ids["c.ari.test"] + " was already replaced; ordering without"),
      std::string::npos)
      << d.log();
  EXPECT_NE(d.log().find("suggested renewal window has begun"), std::string::npos) << d.log();
  EXPECT_GT(front.window_requests(), 0);
}

// A CA's unusable renewal information (RFC 9773 §4.2: not used) is a warning: the fallback
// rule stays in force, nothing renews early, nothing fails, the daemon runs on.
TEST(acme_features_e2e, unusable_renewal_information_leaves_the_fallback_rule) {
  pebble_options options;
  options.validity_seconds = 300;
  pebble_harness pebble(options);
  acme_front front(pebble);
  front.set_retry_after(1s);
  front.set_default_window(wall_now() + 1h, wall_now() + 2h);
  const std::vector<std::string> domains = {"a.bad-ari.test", "b.bad-ari.test", "c.bad-ari.test"};
  certfleetd_process d(pebble, domains, "", front.directory_url());
  d.start();
  ASSERT_TRUE(d.wait_until([&] { return d.all_issued(); }, 60s)) << d.log();
  std::map<std::string, std::string> first_serials;
  for (const auto& name : domains) first_serials[name] = d.stored_serial(name);
  front.set_window_body(stored_cert_id(d, "a.bad-ari.test"), "<html>502 Bad Gateway</html>");
  front.set_window_body(stored_cert_id(d, "b.bad-ari.test"),
                        R"({"suggestedWindow":{"start":"2030-01-02T00:00:00Z",)"
                        R"("end":"2030-01-01T00:00:00Z"}})");
  front.set_window_body(stored_cert_id(d, "c.bad-ari.test"),
                        R"({"suggestedWindow":{"start":"yesterday","end":"tomorrow"}})");
  ASSERT_TRUE(d.wait_until(
      [&] {
        const std::string log = d.log();
        for (const auto& name : domains)
          if (log.find(name + ": the CA's renewal information cannot be used") == std::string::npos)
            return false;
        return true;
      },
      30s))
      << d.log();
  EXPECT_TRUE(d.running());
  for (const auto& [name, r] : by_name(d)) {
    EXPECT_EQ(d.stored_serial(name), first_serials.at(name)) << name << " renewed early";
    EXPECT_EQ(r.failure_count, 0u) << name;
    EXPECT_EQ(r.ari_window_start, no_time) << name << " kept an unusable window";
  }
  EXPECT_EQ(d.cli("status --only-errors").out.find("bad-ari"), std::string::npos);
}

// Profiles (draft-ietf-acme-profiles), which pebble 2.4 lacks: the front lists them.
TEST(acme_features_e2e, orders_ask_for_the_configured_profile_and_an_unknown_one_is_refused) {
  pebble_harness pebble;
  acme_front front(pebble);
  front.set_profiles_json(R"({"classic":"https://ca.test/classic","shortlived":"6 days"})");
  const std::vector<std::string> domains = {"a.profile.test", "b.profile.test"};
  {
    certfleetd_process d(pebble, domains, "lets_encrypt_profile shortlived\n",
                         front.directory_url());
    d.start();
    ASSERT_TRUE(d.wait_until([&] { return d.all_issued(); }, 60s)) << d.log();
    EXPECT_EQ(front.profiles_seen(), (std::vector<std::string>{"shortlived", "shortlived"}));
  }
  {
    certfleetd_process d(pebble, domains, "# the CA calls it tlsserver\nlets_encrypt_profile tls\n",
                         front.directory_url());
    const cli_result refused = d.start_expecting_refusal();
    EXPECT_NE(refused.exit_code, 0);
    EXPECT_NE(refused.out.find("certfleet.conf:10: lets_encrypt_profile: the CA at " +
                               front.directory_url() +
                               " offers no profile \"tls\"; it offers: classic, shortlived"),
              std::string::npos)
        << refused.out;
  }
  // A CA whose profile list is not a map offers none: said so, not guessed.
  front.set_profiles_json(R"(["classic"])");
  {
    certfleetd_process d(pebble, domains, "lets_encrypt_profile classic\n", front.directory_url());
    const cli_result refused = d.start_expecting_refusal();
    EXPECT_NE(refused.out.find("offers no certificate profiles"), std::string::npos) << refused.out;
  }
  // A CA that cannot be asked does not stop the start: the log says so, orders ask anyway.
  {
    const std::string nowhere =
        "https://127.0.0.1:" + std::to_string(free_loopback_port()) + "/dir";
    certfleetd_process d(pebble, domains, "lets_encrypt_profile classic\n", nowhere);
    d.start();
    EXPECT_TRUE(d.running());
    EXPECT_NE(d.log().find("could not check lets_encrypt_profile classic against the CA"),
              std::string::npos)
        << d.log();
  }
}

// External Account Binding against pebble 2.4, which requires it when configured so.
TEST(acme_features_e2e, a_ca_that_requires_eab_gets_it_and_without_it_says_what_to_set) {
  const std::string key = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W";
  pebble_options options;
  options.eab = "kid-1:" + key;
  pebble_harness pebble(options);
  const std::vector<std::string> domains = {"a.eab.test", "b.eab.test"};
  {
    certfleetd_process d(pebble, domains);
    d.start();
    ASSERT_TRUE(d.wait_until(
        [&] {
          const auto status = d.cli("status --only-errors");
          return status.out.find("requires External Account Binding") != std::string::npos;
        },
        30s))
        << d.cli("status").out << d.log();
    EXPECT_NE(d.cli("status").out.find("set acme_eab_kid and acme_eab_hmac_key"),
              std::string::npos);
  }
  {
    certfleetd_process d(pebble, domains, "acme_eab_kid kid-1\nacme_eab_hmac_key " + key + "\n");
    d.start();
    ASSERT_TRUE(d.wait_until([&] { return d.all_issued(); }, 60s)) << d.log();
    EXPECT_EQ(d.log().find(key), std::string::npos) << "the HMAC key reached the log";
  }
}

// RFC 8555 §7.3.2: a reload with a new registration email changes the account's contact at
// the CA (the same account: no new registration).
TEST(acme_features_e2e, a_new_registration_email_updates_the_accounts_contact_on_reload) {
  pebble_harness pebble;
  acme_front front(pebble);
  certfleetd_process d(pebble, {"a.contact.test"}, "", front.directory_url());
  d.start();
  ASSERT_TRUE(d.wait_until([&] { return d.all_issued(); }, 60s)) << d.log();
  EXPECT_TRUE(front.contact_updates().empty());

  const auto conf = d.conf_dir() / "certfleet.conf";
  std::ifstream in(conf);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  const auto at = text.find("ops@example.com");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 15, "new-ops@example.com");
  std::ofstream(conf) << text;
  const cli_result reload = d.cli("reload");
  EXPECT_EQ(reload.exit_code, 0) << reload.out;
  ASSERT_TRUE(d.wait_until([&] { return !front.contact_updates().empty(); }, 20s)) << d.log();
  EXPECT_EQ(front.contact_updates(), std::vector<std::string>{"mailto:new-ops@example.com"});
  EXPECT_NE(d.log().find("contact is now \"new-ops@example.com\""), std::string::npos) << d.log();
  EXPECT_EQ(d.log().find("registered ACME account", d.log().find("contact is now")),
            std::string::npos)
      << "a second account was registered";
  const cli_result account = d.cli("account");
  EXPECT_EQ(account.exit_code, 0) << account.out;
  EXPECT_NE(account.out.find("Contact:  new-ops@example.com"), std::string::npos) << account.out;
  EXPECT_NE(account.out.find("CA:       " + front.directory_url()), std::string::npos);
  EXPECT_NE(account.out.find("/my-account/"), std::string::npos) << account.out;
}

// RFC 8555 §7.6 against pebble's revokeCert: the CA records the revocation with its reason,
// and the domain gets a new certificate at once; the other domains keep theirs.
TEST(acme_features_e2e, revoke_revokes_at_the_ca_then_a_new_certificate_follows) {
  pebble_harness pebble;
  certfleetd_process d(pebble, {"a.revoke.test", "b.revoke.test"});
  d.start();
  ASSERT_TRUE(d.wait_until([&] { return d.all_issued(); }, 60s)) << d.log();
  const std::string serial_a = d.stored_serial("a.revoke.test");
  const std::string serial_b = d.stored_serial("b.revoke.test");

  const cli_result typo = d.cli("revoke a.revoke.test --reason keycompromise");
  EXPECT_EQ(typo.exit_code, 2) << typo.out;
  EXPECT_NE(typo.out.find("give one of unspecified, keyCompromise"), std::string::npos) << typo.out;
  const cli_result stranger = d.cli("revoke other.revoke.test");
  EXPECT_EQ(stranger.exit_code, 1) << stranger.out;
  EXPECT_NE(stranger.out.find("not in the configuration"), std::string::npos) << stranger.out;
  EXPECT_EQ(pebble.cert_status(serial_a).find("Revoked"), std::string::npos);

  const cli_result revoked = d.cli("revoke a.revoke.test --reason keyCompromise");
  EXPECT_EQ(revoked.exit_code, 0) << revoked.out << d.log();
  EXPECT_NE(revoked.out.find("revoked the certificate of a.revoke.test; a new one is being"),
            std::string::npos)
      << revoked.out;
  const std::string status = pebble.cert_status(serial_a);
  EXPECT_NE(status.find("\"Status\": \"Revoked\""), std::string::npos) << status;
  EXPECT_NE(status.find("\"Reason\": 1"), std::string::npos) << status;

  ASSERT_TRUE(d.wait_until(
      [&] {
        const std::string now = d.stored_serial("a.revoke.test");
        return now != serial_a && now != "(none stored)";
      },
      60s))
      << d.log();
  EXPECT_EQ(d.stored_serial("b.revoke.test"), serial_b) << "b was not revoked";
  EXPECT_EQ(pebble.cert_status(serial_b).find("Revoked"), std::string::npos);
  EXPECT_NE(d.log().find("a.revoke.test: certificate revoked; ordering a replacement now"),
            std::string::npos)
      << d.log();
}

// The account the daemon stores for the CA at `directory_url`.
storage::account_record stored_account(const certfleetd_process& d,
                                       const std::string& directory_url) {
  auto st = storage::store::open(d.state_dir(), storage::open_mode::read_only);
  if (!st) throw std::runtime_error("cannot open the store: " + st.err().detail);
  auto account = st->get_account(directory_url);
  if (!account || !*account) throw std::runtime_error("no account stored for " + directory_url);
  return **account;
}

// Orders a new certificate for `domain` (a revocation orders one at once) and waits for it:
// proves the account's key is the one the CA knows.
bool reissued(const certfleetd_process& d, const std::string& domain) {
  const std::string before = d.stored_serial(domain);
  const cli_result revoked = d.cli("revoke " + domain);
  EXPECT_EQ(revoked.exit_code, 0) << revoked.out << d.log();
  return d.wait_until(
      [&] {
        const std::string now = d.stored_serial(domain);
        return now != before && now != "(none stored)";
      },
      60s);
}

// RFC 8555 §7.3.5 against pebble's keyChange: the account keeps its URL, signs with the new
// key from then on (revocations and orders succeed), and a restart uses the stored new key.
TEST(acme_features_e2e, account_rollover_gives_the_account_a_new_key_that_survives_a_restart) {
  pebble_harness pebble;
  certfleetd_process d(pebble, {"a.rollover.test"});
  d.start();
  ASSERT_TRUE(d.wait_until([&] { return d.all_issued(); }, 60s)) << d.log();
  const storage::account_record before = stored_account(d, pebble.directory_url());

  const cli_result rolled = d.cli("account rollover");
  EXPECT_EQ(rolled.exit_code, 0) << rolled.out << d.log();
  EXPECT_NE(rolled.out.find("The ACME account " + before.account_url + " signs with a new key"),
            std::string::npos)
      << rolled.out;
  const storage::account_record after = stored_account(d, pebble.directory_url());
  EXPECT_EQ(after.account_url, before.account_url);
  EXPECT_TRUE(after.key_pem != before.key_pem) << "the old key is still stored";
  EXPECT_TRUE(after.next_key_pem.empty()) << "the rollover's end was not stored";
  EXPECT_TRUE(reissued(d, "a.rollover.test")) << d.log();

  EXPECT_EQ(d.stop(), 0);
  d.start();
  EXPECT_TRUE(reissued(d, "a.rollover.test")) << "after a restart: " << d.log();
  EXPECT_EQ(d.log().find("registered ACME account", d.log().find("signs with a new key")),
            std::string::npos)
      << "a new account was registered";
  EXPECT_EQ(d.log().find("PRIVATE KEY"), std::string::npos) << "key material in the log";
}

// The issuer of the certificate the daemon stores for `domain`: which CA issued it.
std::string stored_issuer(const certfleetd_process& d, const std::string& domain) {
  auto st = storage::store::open(d.state_dir(), storage::open_mode::read_only);
  if (!st) return "cannot open the store: " + st.err().detail;
  auto pair = st->get_certs(domain);
  if (!pair || !*pair) return "";
  auto info = protocol::parse_certificate_pem((*pair)->current.chain_pem);
  return info ? info->issuer : "unreadable: " + info.err().detail;
}

// Issue #19 row 6: a reload that names another CA (and its bundle) registers the account
// there and orders there; the first CA is asked nothing more, its certificates stay.
TEST(acme_features_e2e, a_reload_naming_another_ca_registers_and_orders_there) {
  pebble_harness first;
  pebble_options at_the_same_daemon;
  at_the_same_daemon.http01_port = first.http01_port();
  pebble_harness second(at_the_same_daemon);
  certfleetd_process d(first, {"a.switch.test"});
  d.start();
  ASSERT_TRUE(d.wait_until([&] { return d.all_issued(); }, 60s)) << d.log();
  const std::string first_issuer = stored_issuer(d, "a.switch.test");
  ASSERT_FALSE(first_issuer.empty());

  const auto conf = d.conf_dir() / "certfleet.conf";
  std::ifstream in(conf);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  for (const auto& [from, to] : {std::pair{first.directory_url(), second.directory_url()},
                                 std::pair{first.ca_bundle(), second.ca_bundle()}}) {
    const auto at = text.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    text.replace(at, from.size(), to);
  }
  std::ofstream(conf) << text;
  std::ofstream(d.conf_dir() / "url_domains", std::ios::app) << "b.switch.test\n";
  const cli_result reload = d.cli("reload");
  ASSERT_EQ(reload.exit_code, 0) << reload.out;

  ASSERT_TRUE(d.wait_until([&] { return !stored_issuer(d, "b.switch.test").empty(); }, 60s))
      << d.log();
  EXPECT_NE(stored_issuer(d, "b.switch.test"), first_issuer) << "ordered at the first CA";
  EXPECT_EQ(stored_issuer(d, "a.switch.test"), first_issuer) << "a's certificate was replaced";
  const std::string second_base =
      second.directory_url().substr(0, second.directory_url().rfind('/'));
  EXPECT_NE(d.log().find("registered ACME account " + second_base), std::string::npos) << d.log();
  const cli_result account = d.cli("account");
  EXPECT_EQ(account.exit_code, 0) << account.out;
  EXPECT_NE(account.out.find("CA:       " + second.directory_url()), std::string::npos)
      << account.out;
  EXPECT_NE(account.out.find(second_base), std::string::npos) << account.out;
}

// Issue #19 row 4: the primary CA down (nothing listens at its URL), a domain's orders go to
// the fallback CA after acme_fallback_after (default 3) attempts in a row failed at the
// primary; the certificate names its CA in cert-for and the log, and the count starts over.
// The operator's retry stands in for the back-off's minutes between the attempts.
TEST(acme_features_e2e, after_three_failures_at_a_ca_that_is_down_the_fallback_ca_issues) {
  pebble_harness fallback;
  const std::string down = "https://127.0.0.1:" + std::to_string(free_loopback_port());
  certfleetd_process d(fallback, {"a.fallback.test"},
                       "acme_fallback_directory_url " + fallback.directory_url() +
                           "\nacme_fallback_ca_bundle " + fallback.ca_bundle() + "\n",
                       down + "/dir");
  d.start();
  const auto failures = [&] {
    for (const auto& r : d.records())
      if (r.name == "a.fallback.test") return r.failure_count;
    return 0u;
  };
  for (std::uint32_t attempt = 1; attempt <= 3; ++attempt) {
    ASSERT_TRUE(d.wait_until([&] { return failures() >= attempt; }, 30s))
        << "attempt " << attempt << ": " << d.log();
    EXPECT_FALSE(d.all_issued());
    const cli_result retry = d.cli("retry a.fallback.test");
    EXPECT_EQ(retry.exit_code, 0) << retry.out;
  }
  ASSERT_TRUE(d.wait_until([&] { return d.all_issued(); }, 60s)) << d.log();
  EXPECT_NE(d.log().find("3 attempts in a row failed at the CA; the next ones go to the fallback"),
            std::string::npos)
      << d.log();
  EXPECT_NE(d.log().find("a.fallback.test: certificate issued by the fallback CA at " +
                         fallback.directory_url()),
            std::string::npos)
      << d.log();
  for (const auto& r : d.records()) EXPECT_EQ(r.ca_failures, 0u) << "the renewal tries the primary";
  const cli_result shown = d.cli("cert-for a.fallback.test");
  EXPECT_EQ(shown.exit_code, 0) << shown.out;
  EXPECT_NE(shown.out.find("CA:          " + fallback.directory_url() + " (the fallback CA)"),
            std::string::npos)
      << shown.out;
}

// RFC 8737 against pebble: with challenge_type tls-alpn-01 the HTTPS listener answers the
// CA's acme-tls/1 handshakes (and the self-check makes one first); orders validate over
// TLS-ALPN-01, and the listener serves the issued certificate to ordinary clients.
TEST(acme_features_e2e, tls_alpn_01_validates_on_the_https_listener) {
  pebble_harness pebble;
  const std::string port = std::to_string(pebble.tls_alpn01_port());
  certfleetd_process d(pebble, {"a.alpn.test", "b.alpn.test"},
                       "https_listen 127.0.0.1:" + port +
                           "\nchallenge_type tls-alpn-01\nself_check_tls_port " + port + "\n");
  d.start();
  ASSERT_TRUE(d.wait_until([&] { return d.all_issued(); }, 60s)) << d.log();
  const std::string served = run_command("echo | openssl s_client -connect 127.0.0.1:" + port +
                                         " -servername a.alpn.test 2>/dev/null | openssl x509");
  auto info = protocol::parse_certificate_pem(served);
  ASSERT_TRUE(info) << served;
  EXPECT_EQ(info->sans, std::vector<std::string>{"a.alpn.test"});
  EXPECT_FALSE(protocol::acme_identifier_of(served)) << "a challenge certificate was left";
  EXPECT_EQ(d.stop(), 0);
  EXPECT_NE(d.log().find(" 0 requests answered by the HTTP-01 responder"), std::string::npos)
      << "the CA or the self-check went over HTTP: " << d.log();
}

}  // namespace
}  // namespace certfleet::testing
