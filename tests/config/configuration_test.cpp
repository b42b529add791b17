#include "config/configuration.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "tests/support/temp_dir.hpp"

namespace certfleet::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class config_dir : public ::testing::Test {
 protected:
  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_.path() / name, std::ios::binary) << text;
  }
  std::string path_of(const std::string& name) const { return (dir_.path() / name).string(); }
  diagnosed<configuration> load() { return load_configuration(dir_.path()); }

  testing::temp_dir dir_;
};

// --- url_domains ---

TEST(url_domains, bad_lines_are_warnings_and_good_lines_load) {
  std::vector<diagnostic> warnings;
  const auto domains = parse_url_domains(
      "# URL domains\n"
      "click.example.com\n"
      "\n"
      "bad_name.example.com\n"
      "  Track.Example.COM.  # trailing comment\n"
      "*.example.com\r\n"
      "click.example.com\n"
      "CLICK.example.com.\n"
      "192.0.2.7\n"
      "last.example.org",
      "/etc/certfleet/url_domains", warnings);
  EXPECT_THAT(domains, ElementsAre("click.example.com", "track.example.com", "last.example.org"));
  ASSERT_EQ(warnings.size(), 3u);
  EXPECT_EQ(warnings[0].file, "/etc/certfleet/url_domains");
  EXPECT_EQ(warnings[0].line, 4);
  EXPECT_EQ(warnings[1].line, 6);
  EXPECT_EQ(warnings[2].line, 9);
  EXPECT_EQ(warnings[0].to_string(),
            "/etc/certfleet/url_domains:4: invalid domain name \"bad_name.example.com\": label "
            "\"bad_name\" contains \"_\"; only letters, digits and hyphens are allowed; this URL "
            "domain gets no certificate");
  EXPECT_THAT(warnings[1].message, HasSubstr("wildcards cannot be validated over HTTP-01"));
  EXPECT_THAT(warnings[2].message, HasSubstr("IP addresses cannot get certificates"));
}

TEST(url_domains, repeats_keep_the_first_in_file_order) {
  std::vector<diagnostic> warnings;
  EXPECT_THAT(parse_url_domains("b.example.com\na.example.com\nB.example.com\nc.example.com\n"
                                "a.example.com\nb.example.com\n",
                                "u", warnings),
              ElementsAre("b.example.com", "a.example.com", "c.example.com"));
  EXPECT_THAT(warnings, IsEmpty());
}

TEST(url_domains, empty_text_has_no_domains) {
  std::vector<diagnostic> warnings;
  EXPECT_THAT(parse_url_domains("", "u", warnings), IsEmpty());
  EXPECT_THAT(warnings, IsEmpty());
}

// --- me ---

TEST(me, first_line_is_normalised) {
  std::vector<diagnostic> warnings;
  EXPECT_EQ(parse_me("# this host\nMail.Example.COM\n", "me", warnings), "mail.example.com");
  EXPECT_THAT(warnings, IsEmpty());
}

TEST(me, unusable_name_is_a_warning) {
  std::vector<diagnostic> warnings;
  EXPECT_EQ(parse_me("localhost\n", "me", warnings), "");
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].line, 1);
  EXPECT_THAT(warnings[0].message, HasSubstr("single-label"));
}

TEST(me, extra_lines_are_a_warning) {
  std::vector<diagnostic> warnings;
  EXPECT_EQ(parse_me("a.example.com\nb.example.com\n", "me", warnings), "a.example.com");
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].line, 2);
}

// --- httpd.ssl.listen ---

TEST(listen_rules, with_and_without_server_name) {
  std::vector<diagnostic> errors;
  const auto rules = parse_listen_rules(
      "# address cert key [server_name=...]\n"
      "0.0.0.0:443 /etc/ssl/a.crt /etc/ssl/a.key server_name=www.example.com,Example.com\n"
      "[::]:443 /etc/ssl/d.crt /etc/ssl/d.key\n"
      "0.0.0.0:443 /etc/ssl/w.crt /etc/ssl/w.key server_name=*.shop.example\n",
      "httpd.ssl.listen", errors);
  EXPECT_THAT(errors, IsEmpty());
  ASSERT_EQ(rules.size(), 3u);
  EXPECT_EQ(rules[0], (listen_rule{{"0.0.0.0", 443},
                                   "/etc/ssl/a.crt",
                                   "/etc/ssl/a.key",
                                   {"www.example.com", "example.com"}}));
  EXPECT_EQ(rules[1], (listen_rule{{"::", 443}, "/etc/ssl/d.crt", "/etc/ssl/d.key", {}}));
  EXPECT_THAT(rules[2].server_names, ElementsAre("*.shop.example"));
}

TEST(listen_rules, bad_lines_are_errors_with_file_and_line) {
  std::vector<diagnostic> errors;
  const auto rules = parse_listen_rules(
      "0.0.0.0:443 /a.crt\n"                                  // 1: too few fields
      "0.0.0.0 /a.crt /a.key\n"                               // 2: no port
      "0.0.0.0:443 a.crt /a.key\n"                            // 3: relative path
      "0.0.0.0:443 /a.crt /a.key sni=x.example.com\n"         // 4: unknown option
      "0.0.0.0:443 /a.crt /a.key server_name=bad_name.com\n"  // 5: bad name
      "0.0.0.0:443 /a.crt /a.key\n"                           // 6: fine
      "0.0.0.0:443 /b.crt /b.key\n",                          // 7: second default
      "httpd.ssl.listen", errors);
  EXPECT_EQ(rules.size(), 1u);
  ASSERT_EQ(errors.size(), 6u);
  for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(errors[i].line, int(i + 1));
  EXPECT_EQ(errors[6 - 1].line, 7);
  EXPECT_THAT(errors[0].message, HasSubstr("expected LISTEN_ADDRESS CERT_FILE KEY_FILE"));
  EXPECT_THAT(errors[1].message, HasSubstr("missing \":PORT\""));
  EXPECT_THAT(errors[2].message, HasSubstr("not an absolute path"));
  EXPECT_THAT(errors[3].message, HasSubstr("unknown option \"sni=x.example.com\""));
  EXPECT_THAT(errors[4].message, HasSubstr("server_name: invalid domain name"));
  EXPECT_THAT(errors[5].message, HasSubstr("the first is on line 6"));
}

// --- the whole directory ---

TEST_F(config_dir, empty_directory_gives_the_defaults) {
  auto loaded = load();
  ASSERT_TRUE(loaded.ok()) << format_diagnostics(loaded.errors);
  const configuration& c = *loaded.value;
  EXPECT_EQ(c.settings, settings{});
  EXPECT_EQ(c.me, "");
  EXPECT_THAT(c.url_domains, IsEmpty());
  EXPECT_THAT(c.listen_rules, IsEmpty());
  EXPECT_EQ(c.deprecated_files, deprecated_certificate_files{});
  EXPECT_THAT(c.warnings, IsEmpty());
  EXPECT_FALSE(lets_encrypt_enabled(c));
  EXPECT_THAT(desired_domains(c), IsEmpty());
}

// Half of what enables Let's Encrypt gives a hint: nothing else would say why it stays off.
TEST_F(config_dir, an_email_without_the_terms_agreed_says_what_is_missing) {
  write("certfleet.conf", "lets_encrypt_registration_email ops@example.com\n");
  auto loaded = load();
  ASSERT_TRUE(loaded.ok()) << format_diagnostics(loaded.errors);
  EXPECT_FALSE(lets_encrypt_enabled(*loaded.value));
  ASSERT_EQ(loaded.warnings.size(), 1u) << format_diagnostics(loaded.warnings);
  EXPECT_THAT(loaded.warnings[0].message,
              HasSubstr("lets_encrypt_agree_to_terms_of_service is not yes; Let's Encrypt stays "
                        "disabled until you agree"));
  EXPECT_EQ(loaded.warnings[0].line, 1);

  write("certfleet.conf", "lets_encrypt_agree_to_terms_of_service yes\n");
  loaded = load();
  ASSERT_TRUE(loaded.ok());
  ASSERT_EQ(loaded.warnings.size(), 1u);
  EXPECT_THAT(
      loaded.warnings[0].message,
      HasSubstr("lets_encrypt_registration_email is not set; Let's Encrypt stays disabled"));
}

// What a reload cannot change live is named, in a fixed order; the rest is applied.
TEST_F(config_dir, changes_needing_restart_names_the_directives_read_only_at_start) {
  configuration running;
  configuration loaded = running;
  EXPECT_TRUE(changes_needing_restart(running, loaded).empty());
  loaded.settings.dns_servers = {{"127.0.0.1", 53}};
  loaded.settings.http_listen = {"127.0.0.1", 8080};
  loaded.settings.lets_encrypt_registration_email = "new@example.com";  // applied live
  loaded.url_domains = {"a.example.com"};                               // applied live
  loaded.settings.admin_listen = {"127.0.0.1", 9180};                   // applied live
  loaded.settings.url_domains_always_use_tls = true;                    // applied live
  loaded.settings.state_dir = "/srv/elsewhere";
  EXPECT_EQ(changes_needing_restart(running, loaded), (std::vector<std::string>{"state_dir"}))
      << "listeners, DNS servers, the redirect and the admin listener change live";
  loaded.settings.https_listen = {"127.0.0.1", 8443};
  EXPECT_EQ(changes_needing_restart(running, loaded),
            (std::vector<std::string>{"https_listen", "state_dir"}))
      << "the HTTPS listener turned on";
  running.settings.https_listen = {"127.0.0.1", 443};
  EXPECT_EQ(changes_needing_restart(running, loaded), (std::vector<std::string>{"state_dir"}))
      << "moved, not turned on";
  loaded.settings.cluster.etcd_endpoints = {"http://10.0.0.1:2379"};
  loaded.settings.cluster.node_name = "mx2";
  EXPECT_EQ(changes_needing_restart(running, loaded),
            (std::vector<std::string>{"state_dir", "cluster_etcd_endpoints", "node_name"}))
      << "a node joins its cluster at start";
}

TEST_F(config_dir, missing_directory_is_an_error) {
  auto loaded = load_configuration(dir_.path() / "nope");
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(loaded.errors[0].message, HasSubstr("does not exist"));
}

TEST_F(config_dir, loads_every_file) {
  write("certfleet.conf",
        "lets_encrypt_agree_to_terms_of_service yes\n"
        "lets_encrypt_registration_email ops@example.com\n"
        "tls_certificate_auto_generate smtp.example.com\n");
  write("me", "mail.example.com\n");
  write("url_domains", "b.example.com\nbad_name.example\na.example.com\n");
  write("httpd.ssl.listen", "0.0.0.0:443 /etc/ssl/a.crt /etc/ssl/a.key\n");
  write("httpd.ssl.crt", "x");
  write("pure-ftpd.pem", "x");
  auto loaded = load();
  ASSERT_TRUE(loaded.ok()) << format_diagnostics(loaded.errors);
  const configuration& c = *loaded.value;
  EXPECT_TRUE(lets_encrypt_enabled(c));
  EXPECT_EQ(c.me, "mail.example.com");
  EXPECT_THAT(c.url_domains, ElementsAre("b.example.com", "a.example.com"));
  ASSERT_EQ(c.listen_rules.size(), 1u);
  EXPECT_EQ(c.deprecated_files.httpd_ssl_crt, dir_.path() / "httpd.ssl.crt");
  EXPECT_FALSE(c.deprecated_files.httpd_ssl_key.has_value());
  EXPECT_EQ(c.deprecated_files.pure_ftpd_pem, dir_.path() / "pure-ftpd.pem");
  EXPECT_FALSE(c.deprecated_files.tls_servercert_pem.has_value());
  // The bad url_domains line and the lone httpd.ssl.crt.
  ASSERT_EQ(c.warnings.size(), 2u);
  EXPECT_EQ(c.warnings[0].to_string().rfind(path_of("url_domains") + ":2: ", 0), 0u);
  EXPECT_EQ(c.warnings[1].file, path_of("httpd.ssl.crt"));
  EXPECT_EQ(loaded.warnings, c.warnings);
  EXPECT_THAT(desired_domains(c), ElementsAre("a.example.com", "b.example.com", "mail.example.com",
                                              "smtp.example.com"));
}

TEST_F(config_dir, errors_from_several_files_are_all_reported) {
  write("certfleet.conf", "key_type dsa\n");
  write("httpd.ssl.listen", "nonsense\n");
  write("url_domains", "fine.example.com\n");
  auto loaded = load();
  ASSERT_FALSE(loaded.ok());
  ASSERT_EQ(loaded.errors.size(), 2u);
  EXPECT_EQ(loaded.errors[0].file, path_of("certfleet.conf"));
  EXPECT_EQ(loaded.errors[1].file, path_of("httpd.ssl.listen"));
}

TEST_F(config_dir, unreadable_control_file_is_an_error) {
  std::filesystem::create_directory(dir_.path() / "url_domains");
  auto loaded = load();
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.errors[0].file, path_of("url_domains"));
}

// --- desired_domains and lets_encrypt_enabled ---

configuration sample() {
  configuration c;
  c.me = "mail.example.com";
  c.url_domains = {"z.example.com", "a.example.com", "mail.example.com"};
  c.settings.tls_certificate_auto_generate = {"a.example.com", "smtp.example.com"};
  return c;
}

TEST(desired_domains, union_sorted_without_duplicates) {
  EXPECT_THAT(desired_domains(sample()), ElementsAre("a.example.com", "mail.example.com",
                                                     "smtp.example.com", "z.example.com"));
}

TEST(desired_domains, url_domains_left_out_when_disabled) {
  configuration c = sample();
  c.settings.url_domains_get_lets_encrypt_certs = false;
  EXPECT_THAT(desired_domains(c),
              ElementsAre("a.example.com", "mail.example.com", "smtp.example.com"));
}

TEST(desired_domains, no_me) {
  configuration c = sample();
  c.me.clear();
  c.settings.tls_certificate_auto_generate.clear();
  EXPECT_THAT(desired_domains(c),
              ElementsAre("a.example.com", "mail.example.com", "z.example.com"));
}

TEST(lets_encrypt_enabled, needs_terms_and_email) {
  configuration c;
  EXPECT_FALSE(lets_encrypt_enabled(c));
  c.settings.lets_encrypt_agree_to_terms_of_service = true;
  EXPECT_FALSE(lets_encrypt_enabled(c));
  c.settings.lets_encrypt_registration_email = "ops@example.com";
  EXPECT_TRUE(lets_encrypt_enabled(c));
  c.settings.lets_encrypt_agree_to_terms_of_service = false;
  EXPECT_FALSE(lets_encrypt_enabled(c));
}

}  // namespace
}  // namespace certfleet::config
