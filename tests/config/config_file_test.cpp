#include "config/config_file.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "tests/support/temp_dir.hpp"

namespace certfleet::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

settings parse_ok(std::string_view text) {
  auto parsed = parse_config_text(text, "certfleet.conf");
  EXPECT_TRUE(parsed.ok()) << format_diagnostics(parsed.errors);
  return parsed.value.value_or(settings{});
}

// The one error of parsing `text`, as "file:line: message".
std::string parse_error(std::string_view text) {
  auto parsed = parse_config_text(text, "certfleet.conf");
  EXPECT_FALSE(parsed.ok()) << text;
  EXPECT_EQ(parsed.errors.size(), 1u) << format_diagnostics(parsed.errors);
  return parsed.errors.empty() ? "" : parsed.errors.front().to_string();
}

TEST(config_file, empty_file_gives_the_defaults) {
  const settings s = parse_ok("");
  EXPECT_EQ(s, settings{});
  EXPECT_FALSE(s.lets_encrypt_agree_to_terms_of_service);
  EXPECT_EQ(s.lets_encrypt_registration_email, "");
  EXPECT_TRUE(s.url_domains_get_lets_encrypt_certs);
  EXPECT_FALSE(s.url_domains_always_use_tls);
  EXPECT_FALSE(s.tls_certificate_files.has_value());
  EXPECT_TRUE(s.tls_certificate_auto_generate.empty());
  EXPECT_TRUE(s.lets_encrypt_certs_self_check);
  EXPECT_EQ(s.acme_directory_url, "https://acme-v02.api.letsencrypt.org/directory");
  EXPECT_EQ(s.acme_ca_bundle, "");
  EXPECT_EQ(s.http_listen, (host_port{"0.0.0.0", 80}));
  EXPECT_FALSE(s.https_listen.has_value());
  EXPECT_EQ(s.self_check_port, 80);
  EXPECT_TRUE(s.dns_servers.empty());
  EXPECT_EQ(s.state_dir, "/var/lib/certfleet");
  EXPECT_EQ(s.key_type, key_type::ec_p256);
  EXPECT_EQ(s.orders_in_flight, 16u);
  EXPECT_EQ(s.order_budget, (order_budget{300, 3h}));
  EXPECT_EQ(s.acme_rate_limits, ca_rate_limits::automatic);
  EXPECT_TRUE(uses_lets_encrypt_limits(s)) << "the default directory is Let's Encrypt's";
  EXPECT_EQ(s.export_dir, "");
  EXPECT_EQ(s.deploy_hook, "");
  EXPECT_EQ(s.deploy_hook_timeout, 60s);
  EXPECT_EQ(s.warning_hook, "");
  EXPECT_EQ(s.warning_hook_timeout, 60s);
  EXPECT_EQ(s.expiry_alert_days, std::chrono::days{0}) << "off unless set";
  EXPECT_FALSE(s.http_upstream.has_value());
}

TEST(config_file, blank_lines_and_comments_only) {
  EXPECT_EQ(parse_ok("\n   \n# a comment\n\t# indented comment\n\n"), settings{});
}

TEST(config_file, every_directive) {
  const settings s = parse_ok(
      "lets_encrypt_agree_to_terms_of_service yes\n"
      "lets_encrypt_registration_email admin@Example.COM\n"
      "url_domains_get_lets_encrypt_certs no\n"
      "url_domains_always_use_tls YES\n"
      "tls_certificate_files /etc/ssl/a.crt /etc/ssl/a.key\n"
      "tls_certificate_auto_generate a.example.com B.example.com\n"
      "tls_certificate_auto_generate c.example.com a.example.com\n"
      "lets_encrypt_certs_self_check no\n"
      "acme_directory_url https://localhost:14000/dir\n"
      "acme_ca_bundle /etc/certfleet/pebble.minica.pem\n"
      "http_listen [::]:5002\n"
      "https_listen 127.0.0.1:8443\n"
      "self_check_port 5002\n"
      "dns_servers 127.0.0.1:8053 192.0.2.53 [2001:db8::53]:5353 2001:db8::54\n"
      "state_dir /srv/certfleet\n"
      "key_type rsa3072\n"
      "orders_in_flight 256\n"
      "order_budget 50 per 1h30m\n"
      "acme_rate_limits lets_encrypt\n"
      "export_dir /srv/certs\n"
      "deploy_hook /usr/local/bin/reload --all\n"
      "deploy_hook_timeout 2m\n"
      "warning_hook /usr/local/bin/page-oncall --certificates\n"
      "warning_hook_timeout 30s\n"
      "expiry_alert_days 14\n"
      "http_upstream backend.internal:8080\n");
  EXPECT_TRUE(s.lets_encrypt_agree_to_terms_of_service);
  EXPECT_EQ(s.lets_encrypt_registration_email, "admin@example.com");
  EXPECT_FALSE(s.url_domains_get_lets_encrypt_certs);
  EXPECT_TRUE(s.url_domains_always_use_tls);
  EXPECT_EQ(s.tls_certificate_files, (certificate_files{"/etc/ssl/a.crt", "/etc/ssl/a.key"}));
  EXPECT_THAT(s.tls_certificate_auto_generate,
              ElementsAre("a.example.com", "b.example.com", "c.example.com"));
  EXPECT_FALSE(s.lets_encrypt_certs_self_check);
  EXPECT_EQ(s.acme_directory_url, "https://localhost:14000/dir");
  EXPECT_EQ(s.acme_ca_bundle, "/etc/certfleet/pebble.minica.pem");
  EXPECT_EQ(s.http_listen, (host_port{"::", 5002}));
  EXPECT_EQ(s.https_listen, (host_port{"127.0.0.1", 8443}));
  EXPECT_EQ(s.self_check_port, 5002);
  EXPECT_THAT(s.dns_servers,
              ElementsAre(host_port{"127.0.0.1", 8053}, host_port{"192.0.2.53", 53},
                          host_port{"2001:db8::53", 5353}, host_port{"2001:db8::54", 53}));
  EXPECT_EQ(s.state_dir, "/srv/certfleet");
  EXPECT_EQ(s.key_type, key_type::rsa3072);
  EXPECT_EQ(s.orders_in_flight, 256u);
  EXPECT_EQ(s.order_budget, (order_budget{50, 90min}));
  EXPECT_EQ(s.acme_rate_limits, ca_rate_limits::lets_encrypt);
  EXPECT_TRUE(uses_lets_encrypt_limits(s)) << "forced on for a CA elsewhere";
  EXPECT_EQ(s.export_dir, "/srv/certs");
  EXPECT_EQ(s.deploy_hook, "/usr/local/bin/reload --all");
  EXPECT_EQ(s.deploy_hook_timeout, 120s);
  EXPECT_EQ(s.warning_hook, "/usr/local/bin/page-oncall --certificates");
  EXPECT_EQ(s.warning_hook_timeout, 30s);
  EXPECT_EQ(s.expiry_alert_days, std::chrono::days{14});
  EXPECT_EQ(s.http_upstream, (host_port{"backend.internal", 8080}));
}

TEST(config_file, every_key_type) {
  EXPECT_EQ(parse_ok("key_type ecdsa-p256").key_type, key_type::ec_p256);
  EXPECT_EQ(parse_ok("key_type ecdsa-p384").key_type, key_type::ec_p384);
  EXPECT_EQ(parse_ok("key_type rsa2048").key_type, key_type::rsa2048);
  EXPECT_EQ(parse_ok("key_type rsa3072").key_type, key_type::rsa3072);
  EXPECT_EQ(parse_ok("key_type rsa4096").key_type, key_type::rsa4096);
}

TEST(config_file, rate_limits_follow_the_directory_unless_set) {
  EXPECT_TRUE(uses_lets_encrypt_limits(
      parse_ok("acme_directory_url https://acme-staging-v02.api.letsencrypt.org/directory\n")));
  EXPECT_FALSE(
      uses_lets_encrypt_limits(parse_ok("acme_directory_url https://localhost:14000/dir\n")))
      << "pebble or a private CA: only order_budget";
  EXPECT_FALSE(uses_lets_encrypt_limits(parse_ok("acme_rate_limits none\n")));
  EXPECT_FALSE(uses_lets_encrypt_limits(
      parse_ok("acme_directory_url https://acme-v02.api.letsencrypt.org.evil.test/directory\n")));
}

TEST(config_file, a_profile_is_a_name_and_its_line_is_kept_for_the_cas_check) {
  const settings s = parse_ok("# profiles\nlets_encrypt_profile tlsserver\n");
  EXPECT_EQ(s.lets_encrypt_profile, "tlsserver");
  EXPECT_EQ(s.lets_encrypt_profile_line, 2);
  EXPECT_EQ(parse_ok("").lets_encrypt_profile, "") << "the CA's default";
  const auto bad = parse_config_text("lets_encrypt_profile \"two words\"\n", "certfleet.conf");
  ASSERT_EQ(bad.errors.size(), 1u);
  EXPECT_THAT(bad.errors[0].message, HasSubstr("expected the name of one of the CA's profiles"));
}

TEST(config_file, external_account_binding_needs_both_and_never_shows_the_key) {
  const settings s = parse_ok("acme_eab_kid kid-1\nacme_eab_hmac_key c2VjcmV0a2V5\n");
  EXPECT_EQ(s.acme_eab_kid, "kid-1");
  EXPECT_EQ(s.acme_eab_hmac_key, "c2VjcmV0a2V5");
  const auto alone = parse_config_text("\nacme_eab_kid kid-1\n", "certfleet.conf");
  ASSERT_EQ(alone.errors.size(), 1u);
  EXPECT_EQ(alone.errors[0].line, 2);
  EXPECT_THAT(alone.errors[0].message, HasSubstr("without acme_eab_hmac_key"));
  const auto bad = parse_config_text("acme_eab_kid k\nacme_eab_hmac_key s3cr3t+key==\n", "c");
  ASSERT_FALSE(bad.errors.empty());
  EXPECT_THAT(bad.errors[0].message, HasSubstr("(not shown: a secret)"));
  for (const auto& e : bad.errors) EXPECT_EQ(e.message.find("s3cr3t"), std::string::npos);
}

// Issue #19: a second CA with its own trust, profile and EAB, used after N of the first CA's
// failures in a row.
TEST(config_file, a_fallback_ca_has_its_own_settings) {
  const settings s = parse_ok(
      "acme_fallback_directory_url https://acme.zerossl.com/v2/DV90\n"
      "acme_fallback_ca_bundle /etc/ssl/zerossl.pem\n"
      "acme_fallback_profile classic\n"
      "acme_fallback_eab_kid kid-2\n"
      "acme_fallback_eab_hmac_key c2VjcmV0a2V5\n"
      "acme_fallback_after 5\n");
  EXPECT_EQ(s.acme_fallback.directory_url, "https://acme.zerossl.com/v2/DV90");
  EXPECT_EQ(s.acme_fallback.ca_bundle, "/etc/ssl/zerossl.pem");
  EXPECT_EQ(s.acme_fallback.profile, "classic");
  EXPECT_EQ(s.acme_fallback.profile_line, 3);
  EXPECT_EQ(s.acme_fallback.eab_kid, "kid-2");
  EXPECT_EQ(s.acme_fallback.eab_hmac_key, "c2VjcmV0a2V5");
  EXPECT_EQ(s.acme_fallback.after, 5u);
  EXPECT_EQ(parse_ok("").acme_fallback.directory_url, "") << "none by default";
  EXPECT_EQ(parse_ok("").acme_fallback.after, 3u);
}

TEST(config_file, fallback_settings_without_a_fallback_ca_or_half_an_eab_are_refused) {
  const auto orphan = parse_config_text("acme_fallback_after 2\n", "certfleet.conf");
  ASSERT_EQ(orphan.errors.size(), 1u);
  EXPECT_EQ(orphan.errors[0].line, 1);
  EXPECT_THAT(orphan.errors[0].message,
              HasSubstr("acme_fallback_after is set without acme_fallback_directory_url"));
  const auto half = parse_config_text(
      "acme_fallback_directory_url https://b.example/dir\nacme_fallback_eab_hmac_key abc\n",
      "certfleet.conf");
  ASSERT_EQ(half.errors.size(), 1u);
  EXPECT_THAT(half.errors[0].message,
              HasSubstr("acme_fallback_eab_hmac_key is set without acme_fallback_eab_kid"));
  EXPECT_THAT(half.errors[0].message, Not(HasSubstr("abc"))) << "a secret";
  const auto same = parse_config_text(
      "acme_directory_url https://a.example/dir\nacme_fallback_directory_url "
      "https://a.example/dir\n",
      "certfleet.conf");
  ASSERT_EQ(same.errors.size(), 1u);
  EXPECT_THAT(same.errors[0].message, HasSubstr("the same CA as acme_directory_url"));
  const auto zero = parse_config_text(
      "acme_fallback_directory_url https://b.example/dir\nacme_fallback_after 0\n", "c");
  EXPECT_EQ(zero.errors.size(), 1u) << "at least one failure before the fallback";
}

// RFC 8737: TLS-ALPN-01 for installations whose port 80 is closed; the CA validates on the
// HTTPS listener, so it must be set.
TEST(config_file, challenge_type_tls_alpn_01_needs_the_https_listener) {
  EXPECT_EQ(parse_ok("").challenge_type, settings::challenge::http_01) << "the seed's";
  const settings s =
      parse_ok("https_listen 0.0.0.0:443\nchallenge_type tls-alpn-01\nself_check_tls_port 8443\n");
  EXPECT_EQ(s.challenge_type, settings::challenge::tls_alpn_01);
  EXPECT_EQ(s.self_check_tls_port, 8443);
  EXPECT_EQ(parse_ok("").self_check_tls_port, 443);
  const auto alone = parse_config_text("\nchallenge_type tls-alpn-01\n", "certfleet.conf");
  ASSERT_EQ(alone.errors.size(), 1u);
  EXPECT_EQ(alone.errors[0].line, 2);
  EXPECT_THAT(alone.errors[0].message, HasSubstr("needs https_listen"));
  const auto typo = parse_config_text("challenge_type dns-01\n", "certfleet.conf");
  ASSERT_EQ(typo.errors.size(), 1u);
  EXPECT_THAT(typo.errors[0].message, HasSubstr("expected http-01 or tls-alpn-01"));
}

// The metrics listener is off by default; beyond loopback it needs a token.
TEST(config_file, admin_listen_beyond_loopback_needs_a_token_file) {
  EXPECT_FALSE(parse_ok("").admin_listen);
  const settings local = parse_ok("admin_listen 127.0.0.1:9180\n");
  ASSERT_TRUE(local.admin_listen);
  EXPECT_EQ(local.admin_listen->to_string(), "127.0.0.1:9180");
  EXPECT_TRUE(parse_ok("admin_listen [::1]:9180\n").admin_listen);
  const auto open = parse_config_text("\nadmin_listen 0.0.0.0:9180\n", "certfleet.conf");
  ASSERT_EQ(open.errors.size(), 1u);
  EXPECT_EQ(open.errors[0].line, 2);
  EXPECT_THAT(open.errors[0].message, HasSubstr("set admin_token_file"));
  const settings guarded =
      parse_ok("admin_listen 0.0.0.0:9180\nadmin_token_file /etc/certfleet/admin.token\n");
  EXPECT_EQ(guarded.admin_token_file, "/etc/certfleet/admin.token");
}

TEST(config_file, cluster_directives_belong_together) {
  const settings alone = parse_ok("");
  EXPECT_TRUE(alone.cluster.etcd_endpoints.empty());
  EXPECT_EQ(alone.cluster.name, "certfleet");
  EXPECT_EQ(alone.cluster.lease_ttl, 5s);

  const settings node = parse_ok(
      "cluster_etcd_endpoints http://10.0.0.1:2379 http://10.0.0.2:2379\n"
      "cluster_name mail\nnode_name mx1\ncluster_key_file /etc/certfleet/cluster.key\n"
      "cluster_lease_ttl 10s\n");
  EXPECT_EQ(node.cluster.etcd_endpoints,
            (std::vector<std::string>{"http://10.0.0.1:2379", "http://10.0.0.2:2379"}));
  EXPECT_EQ(node.cluster.name, "mail");
  EXPECT_EQ(node.cluster.node_name, "mx1");
  EXPECT_EQ(node.cluster.key_file, "/etc/certfleet/cluster.key");
  EXPECT_EQ(node.cluster.lease_ttl, 10s);

  const auto no_key = parse_config_text("cluster_etcd_endpoints http://a:2379\n", "certfleet.conf");
  ASSERT_EQ(no_key.errors.size(), 1u);
  EXPECT_EQ(no_key.errors[0].line, 1);
  EXPECT_THAT(no_key.errors[0].message, HasSubstr("openssl rand -hex 32"));

  const auto no_endpoints = parse_config_text("\nnode_name mx1\n", "certfleet.conf");
  ASSERT_EQ(no_endpoints.errors.size(), 1u);
  EXPECT_EQ(no_endpoints.errors[0].line, 2);
  EXPECT_THAT(no_endpoints.errors[0].message, HasSubstr("without cluster_etcd_endpoints"));

  const auto half_tls = parse_config_text(
      "cluster_etcd_endpoints https://a:2379\ncluster_key_file /k\ncluster_etcd_cert_file /c\n",
      "certfleet.conf");
  ASSERT_EQ(half_tls.errors.size(), 1u);
  EXPECT_EQ(half_tls.errors[0].line, 3);
  EXPECT_THAT(half_tls.errors[0].message, HasSubstr("cluster_etcd_key_file"));

  for (const char* bad : {"cluster_etcd_endpoints a:2379", "node_name MX1", "cluster_lease_ttl 1s",
                          "cluster_lease_ttl 2m", "cluster_name \"\""}) {
    const auto parsed = parse_config_text(bad, "certfleet.conf");
    EXPECT_FALSE(parsed.errors.empty()) << bad;
  }
}

TEST(config_file, every_directive_name_is_known) {
  EXPECT_EQ(directive_names().size(), 46u);  // 7 of GreenArrow, 39 of certfleet
  for (const auto name : directive_names()) {
    // A bare directive is "needs a value", never "unknown directive".
    auto parsed = parse_config_text(std::string(name), "certfleet.conf");
    ASSERT_EQ(parsed.errors.size(), 1u) << name;
    EXPECT_THAT(parsed.errors[0].message, HasSubstr("needs a value")) << name;
  }
}

TEST(config_file, crlf_line_endings) {
  const settings s = parse_ok(
      "# written on Windows\r\n"
      "lets_encrypt_agree_to_terms_of_service yes\r\n"
      "lets_encrypt_registration_email a@example.com\r\n"
      "\r\n"
      "state_dir /srv/x\r\n");
  EXPECT_TRUE(s.lets_encrypt_agree_to_terms_of_service);
  EXPECT_EQ(s.lets_encrypt_registration_email, "a@example.com");
  EXPECT_EQ(s.state_dir, "/srv/x");
}

TEST(config_file, last_line_without_newline_and_byte_order_mark) {
  EXPECT_EQ(parse_ok("\xEF\xBB\xBFkey_type rsa2048").key_type, key_type::rsa2048);
}

TEST(config_file, trailing_comments) {
  const settings s = parse_ok(
      "url_domains_always_use_tls yes # after the value\n"
      "deploy_hook /bin/hook --x=#1\t# '#' inside a word is part of the value\n"
      "key_type\trsa4096\t#tab separated\n");
  EXPECT_TRUE(s.url_domains_always_use_tls);
  EXPECT_EQ(s.deploy_hook, "/bin/hook --x=#1");
  EXPECT_EQ(s.key_type, key_type::rsa4096);
}

TEST(config_file, quoted_values) {
  const settings s = parse_ok(
      "deploy_hook \"/usr/bin/reload # not a comment\"  # a comment\n"
      "state_dir \"/srv/with space\"\n"
      "tls_certificate_files \"/etc/ssl/my cert.pem\" \"/etc/ssl/my key.pem\"\n"
      "lets_encrypt_certs_self_check \"no\"\n"
      "export_dir \"\"\n"
      "acme_directory_url \"https://ca.example/dir\\\"x\"\n");
  EXPECT_EQ(s.deploy_hook, "/usr/bin/reload # not a comment");
  EXPECT_EQ(s.state_dir, "/srv/with space");
  EXPECT_EQ(s.tls_certificate_files,
            (certificate_files{"/etc/ssl/my cert.pem", "/etc/ssl/my key.pem"}));
  EXPECT_FALSE(s.lets_encrypt_certs_self_check);
  EXPECT_EQ(s.export_dir, "");
  EXPECT_EQ(s.acme_directory_url, "https://ca.example/dir\"x");
}

TEST(config_file, unclosed_quote) {
  EXPECT_EQ(parse_error("deploy_hook \"/bin/x"),
            "certfleet.conf:1: invalid value for directive \"deploy_hook\": a double quote is "
            "not closed; end the value with '\"'");
}

TEST(config_file, text_after_closing_quote) {
  EXPECT_THAT(parse_error("state_dir \"/a\" /b"), HasSubstr("after the closing quote"));
}

TEST(config_file, unknown_directive_suggests_the_closest) {
  EXPECT_EQ(parse_error("# comment\n\nlets_encrypt_agre_to_terms_of_service yes\n"),
            "certfleet.conf:3: unknown directive \"lets_encrypt_agre_to_terms_of_service\"; did "
            "you mean \"lets_encrypt_agree_to_terms_of_service\"?");
  EXPECT_EQ(parse_error("State_Dir /x"),
            "certfleet.conf:1: unknown directive \"State_Dir\"; did you mean \"state_dir\"?");
  EXPECT_EQ(parse_error("url_domain_always_use_tls yes"),
            "certfleet.conf:1: unknown directive \"url_domain_always_use_tls\"; did you mean "
            "\"url_domains_always_use_tls\"?");
}

TEST(config_file, unknown_directive_without_a_close_match) {
  EXPECT_EQ(parse_error("frobnicate yes"), "certfleet.conf:1: unknown directive \"frobnicate\"");
  // Names much longer or shorter than any directive are not compared letter by letter.
  const std::string state_dirs(4000, 's');
  EXPECT_EQ(parse_error(state_dirs + " x"),
            "certfleet.conf:1: unknown directive \"" + state_dirs + "\"");
  EXPECT_EQ(parse_error("state_dirx /x"),
            "certfleet.conf:1: unknown directive \"state_dirx\"; did you mean \"state_dir\"?");
}

TEST(config_file, equals_sign_instead_of_space) {
  EXPECT_THAT(parse_error("state_dir=/srv/x"), HasSubstr("with a space, not \"=\""));
}

TEST(config_file, bad_values_name_line_directive_value_and_what_is_accepted) {
  EXPECT_EQ(
      parse_error("\nurl_domains_always_use_tls maybe\n"),
      "certfleet.conf:2: invalid value \"maybe\" for directive \"url_domains_always_use_tls\": "
      "expected \"yes\" or \"no\"");
  EXPECT_EQ(parse_error("key_type rsa1024"),
            "certfleet.conf:1: invalid value \"rsa1024\" for directive \"key_type\": expected one "
            "of ecdsa-p256, ecdsa-p384, rsa2048, rsa3072, rsa4096");
  EXPECT_EQ(parse_error("orders_in_flight 0"),
            "certfleet.conf:1: invalid value \"0\" for directive \"orders_in_flight\": expected a "
            "whole number from 1 to 256");
}

struct bad_value_case {
  std::string line;
  std::string reason_part;
};

class config_bad_value : public ::testing::TestWithParam<bad_value_case> {};

TEST_P(config_bad_value, is_refused) {
  const auto& c = GetParam();
  const std::string message = parse_error(c.line);
  EXPECT_THAT(message, HasSubstr("certfleet.conf:1: ")) << c.line;
  EXPECT_THAT(message, HasSubstr(c.reason_part)) << c.line;
}

INSTANTIATE_TEST_SUITE_P(
    table, config_bad_value,
    ::testing::Values(
        bad_value_case{"lets_encrypt_agree_to_terms_of_service true", "expected \"yes\" or \"no\""},
        bad_value_case{"lets_encrypt_agree_to_terms_of_service", "needs a value"},
        bad_value_case{"expiry_alert_days 400", "from 0 to 365"},
        bad_value_case{"expiry_alert_days soon", "expected a whole number"},
        bad_value_case{"warning_hook_timeout 2d", "expected at most one day"},
        bad_value_case{"lets_encrypt_registration_email admin", "expected an e-mail address"},
        bad_value_case{"lets_encrypt_registration_email admin@localhost", "not a valid domain"},
        bad_value_case{"lets_encrypt_registration_email a b@example.com", "space"},
        bad_value_case{"lets_encrypt_registration_email @example.com", "expected an e-mail"},
        bad_value_case{"url_domains_get_lets_encrypt_certs 1", "expected \"yes\" or \"no\""},
        bad_value_case{"lets_encrypt_certs_self_check off", "expected \"yes\" or \"no\""},
        bad_value_case{"tls_certificate_files /etc/ssl/a.crt", "two absolute paths"},
        bad_value_case{"tls_certificate_files a.crt a.key", "two absolute paths"},
        bad_value_case{"tls_certificate_files /a /b /c", "two absolute paths"},
        bad_value_case{"tls_certificate_auto_generate *.example.com", "wildcards"},
        bad_value_case{"tls_certificate_auto_generate ok.example.com 192.0.2.1", "IP addresses"},
        bad_value_case{"acme_directory_url http://acme.example/dir", "https://"},
        bad_value_case{"acme_directory_url https://", "https://"},
        bad_value_case{"acme_ca_bundle relative/ca.pem", "absolute path"},
        bad_value_case{"http_listen 80", "missing \":PORT\""},
        bad_value_case{"http_listen 0.0.0.0:0", "1 to 65535"},
        bad_value_case{"http_listen 0.0.0.0:65536", "1 to 65535"},
        bad_value_case{"http_listen :::80", "in brackets"},
        bad_value_case{"http_listen example.com:80", "listen on an IP address"},
        bad_value_case{"https_listen [::1]", "missing \":PORT\""},
        bad_value_case{"self_check_port 0", "1 to 65535"},
        bad_value_case{"self_check_port http", "1 to 65535"},
        bad_value_case{"dns_servers 192.0.2.1 dns.example", "not an IP address"},
        bad_value_case{"dns_servers 192.0.2.1:99999", "1 to 65535"},
        bad_value_case{"state_dir var/lib/certfleet", "absolute path"},
        bad_value_case{"state_dir \"\"", "absolute path"},
        bad_value_case{"orders_in_flight 257", "1 to 256"},
        bad_value_case{"orders_in_flight -1", "1 to 256"},
        bad_value_case{"orders_in_flight 16x", "1 to 256"},
        bad_value_case{"order_budget 300", "N per DURATION"},
        bad_value_case{"order_budget 300 every 3h", "N per DURATION"},
        bad_value_case{"order_budget 0 per 3h", "N per DURATION"},
        bad_value_case{"order_budget 300 per 3x", "duration such as"},
        bad_value_case{"order_budget 300 per 0h", "longer than zero"},
        bad_value_case{"acme_rate_limits letsencrypt", "auto, lets_encrypt or none"},
        bad_value_case{"export_dir ./out", "absolute path"},
        bad_value_case{"deploy_hook_timeout forever", "duration such as"},
        bad_value_case{"deploy_hook_timeout 2d", "at most one day"},
        bad_value_case{"http_upstream backend", "missing \":PORT\""},
        bad_value_case{"http_upstream back_end:80", "not a host name"}));

TEST(config_file, duplicate_single_valued_directive_names_both_lines) {
  EXPECT_EQ(parse_error("state_dir /a\n# x\nstate_dir /b\n"),
            "certfleet.conf:3: directive \"state_dir\" is set again; it was already set on line 1 "
            "(keep only one of the two lines)");
}

TEST(config_file, auto_generate_may_repeat) {
  EXPECT_THAT(parse_ok("tls_certificate_auto_generate a.example.com\n"
                       "tls_certificate_auto_generate b.example.com\n")
                  .tls_certificate_auto_generate,
              ElementsAre("a.example.com", "b.example.com"));
}

TEST(config_file, all_errors_are_reported_and_no_value_is_given) {
  auto parsed = parse_config_text(
      "key_type dsa\n"
      "state_dir /ok\n"
      "orders_in_flight many\n"
      "bogus 1\n",
      "/etc/certfleet/certfleet.conf");
  EXPECT_FALSE(parsed.ok());
  ASSERT_EQ(parsed.errors.size(), 3u);
  EXPECT_EQ(parsed.errors[0].line, 1);
  EXPECT_EQ(parsed.errors[1].line, 3);
  EXPECT_EQ(parsed.errors[2].line, 4);
  EXPECT_EQ(parsed.errors[2].file, "/etc/certfleet/certfleet.conf");
  EXPECT_THAT(format_diagnostics(parsed.errors),
              HasSubstr("/etc/certfleet/certfleet.conf:4: unknown directive \"bogus\"\n"));
}

TEST(config_file, overlong_line_is_refused) {
  const std::string line = "deploy_hook " + std::string(max_config_line_length, 'x');
  EXPECT_EQ(parse_error(line), "certfleet.conf:1: line is longer than 4096 characters");
}

TEST(config_file, terms_without_email_is_a_warning) {
  auto parsed = parse_config_text("\nlets_encrypt_agree_to_terms_of_service yes\n", "c.conf");
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed.warnings.size(), 1u);
  EXPECT_EQ(parsed.warnings[0].line, 2);
  EXPECT_THAT(parsed.warnings[0].message, HasSubstr("lets_encrypt_registration_email"));
}

TEST(config_file, missing_file_gives_the_defaults) {
  testing::temp_dir dir;
  auto loaded = load_config_file(dir.path() / "certfleet.conf");
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(*loaded.value, settings{});
}

TEST(config_file, file_is_read_and_named_in_diagnostics) {
  testing::temp_dir dir;
  const auto path = dir.path() / "certfleet.conf";
  std::ofstream(path) << "key_type rsa2048\nkey_typo rsa2048\n";
  auto loaded = load_config_file(path);
  ASSERT_EQ(loaded.errors.size(), 1u);
  EXPECT_EQ(loaded.errors[0].to_string(),
            path.string() + ":2: unknown directive \"key_typo\"; did you mean \"key_type\"?");
}

TEST(config_file, huge_file_is_refused) {
  testing::temp_dir dir;
  const auto path = dir.path() / "certfleet.conf";
  {
    std::ofstream out(path);
    const std::string comment = "# " + std::string(1000, 'x') + "\n";
    for (std::size_t size = 0; size <= max_config_file_size; size += comment.size()) out << comment;
  }
  auto loaded = load_config_file(path);
  ASSERT_FALSE(loaded.ok());
  ASSERT_EQ(loaded.errors.size(), 1u);
  EXPECT_EQ(loaded.errors[0].line, 0);
  EXPECT_THAT(loaded.errors[0].message, HasSubstr("larger than 1048576 bytes"));
}

TEST(config_file, directory_instead_of_file_is_refused) {
  testing::temp_dir dir;
  std::filesystem::create_directory(dir.path() / "certfleet.conf");
  auto loaded = load_config_file(dir.path() / "certfleet.conf");
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(loaded.errors[0].message, HasSubstr("not a regular file"));
}

}  // namespace
}  // namespace certfleet::config
