// The seed's precedence rules, case by case, with real certificate files.
#include "serving/certificate_choice.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <map>

#include "protocol/crypto/crypto.hpp"
#include "tests/support/temp_dir.hpp"

namespace certfleet::serving {
namespace {

using namespace std::chrono_literals;
const timestamp now = from_unix_us(1'800'000'000'000'000);

class choice_test : public ::testing::Test {
 protected:
  // A certificate for `name` written to DIR/<file>.crt/.key; returns the pair.
  pem_pair make(const std::string& name, std::chrono::seconds validity = 24h * 30,
                timestamp at = now) {
    auto key = protocol::private_key::generate(key_type::ec_p256);
    auto cert = protocol::make_self_signed_pem(*key, name, validity, at);
    return {*cert, key->to_pem()};
  }
  std::pair<std::filesystem::path, std::filesystem::path> write(const std::string& file,
                                                                const pem_pair& p) {
    const auto crt = dir_.path() / (file + ".crt"), key = dir_.path() / (file + ".key");
    std::ofstream(crt) << p.chain_pem;
    std::ofstream(key) << p.key_pem;
    return {crt, key};
  }
  std::filesystem::path write_combined(const std::string& file, const pem_pair& p) {
    const auto path = dir_.path() / file;
    std::ofstream(path) << p.chain_pem << p.key_pem;
    return path;
  }
  // The subject CN of the chosen certificate, or "" when none.
  static std::string chosen_cn(const choice& c) {
    if (!c.certificate) return "";
    return protocol::parse_certificate_pem(c.certificate->chain_pem)->subject_cn;
  }
  choice choose(service svc, const std::string& name) {
    return choose_certificate(
        config_, svc, name,
        [&](const std::string& d) -> std::optional<pem_pair> {
          auto it = lets_encrypt_.find(d);
          if (it == lets_encrypt_.end()) return std::nullopt;
          return it->second;
        },
        [&](const std::string& me) -> result<pem_pair> { return make("self-signed." + me); }, now);
  }
  void add_rule(const std::string& file, const pem_pair& p, std::vector<std::string> names) {
    auto [crt, key] = write(file, p);
    config::listen_rule rule;
    rule.address = {"0.0.0.0", 443};
    rule.cert_file = crt;
    rule.key_file = key;
    rule.server_names = std::move(names);
    config_.listen_rules.push_back(rule);
  }

  testing::temp_dir dir_;
  config::configuration config_ = [] {
    config::configuration c;
    c.me = "me.example.com";
    return c;
  }();
  std::map<std::string, pem_pair> lets_encrypt_;
};

TEST_F(choice_test, server_name_rule_beats_lets_encrypt) {
  add_rule("named", make("rule.www"), {"www.example.com"});
  lets_encrypt_["www.example.com"] = make("le.www");
  auto c = choose(service::https, "www.example.com");
  EXPECT_EQ(chosen_cn(c), "rule.www");
  ASSERT_TRUE(c.winner());
  EXPECT_NE(c.winner()->rule.find("server_name www.example.com"), std::string::npos);
}

TEST_F(choice_test, wildcard_server_name_matches_one_label_only) {
  add_rule("wild", make("rule.wild"), {"*.example.com"});
  EXPECT_EQ(chosen_cn(choose(service::https, "a.example.com")), "rule.wild");
  EXPECT_NE(chosen_cn(choose(service::https, "a.b.example.com")), "rule.wild");
}

TEST_F(choice_test, lets_encrypt_beats_a_rule_without_server_name) {
  add_rule("default", make("rule.default"), {});
  lets_encrypt_["shop.example.com"] = make("le.shop");
  EXPECT_EQ(chosen_cn(choose(service::https, "shop.example.com")), "le.shop");
  EXPECT_EQ(chosen_cn(choose(service::https, "other.example.com")), "rule.default");
}

// A client that sends no SNI gets the listen address's default certificate (a rule without
// server_name), not the Server-Default one; other services never look at the rules.
TEST_F(choice_test, no_sni_gets_the_rule_without_server_name) {
  add_rule("named", make("rule.www"), {"www.example.com"});
  add_rule("default", make("rule.default"), {});
  const auto c = choose(service::https, "");
  EXPECT_EQ(chosen_cn(c), "rule.default");
  ASSERT_TRUE(c.winner());
  EXPECT_NE(c.winner()->rule.find("no server_name"), std::string::npos) << c.winner()->rule;
  EXPECT_EQ(chosen_cn(choose(service::smtp, "")), "self-signed.me.example.com");
}

TEST_F(choice_test, server_default_chain_in_order) {
  // 4. nothing else: self-signed for me
  EXPECT_EQ(chosen_cn(choose(service::ftp, "")), "self-signed.me.example.com");
  // 3. Let's Encrypt for me
  lets_encrypt_["me.example.com"] = make("le.me");
  EXPECT_EQ(chosen_cn(choose(service::ftp, "")), "le.me");
  // 2. Let's Encrypt for tls_certificate_auto_generate
  config_.settings.tls_certificate_auto_generate = {"auto.example.com"};
  lets_encrypt_["auto.example.com"] = make("le.auto");
  EXPECT_EQ(chosen_cn(choose(service::ftp, "")), "le.auto");
  // 1. tls_certificate_files
  auto [crt, key] = write("files", make("files"));
  config_.settings.tls_certificate_files = config::certificate_files{crt, key};
  EXPECT_EQ(chosen_cn(choose(service::ftp, "")), "files");
  EXPECT_EQ(chosen_cn(choose(service::https, "unknown.example.com")), "files");
}

TEST_F(choice_test, failed_registration_moves_down_the_list) {
  config_.settings.tls_certificate_auto_generate = {"auto.example.com"};  // no certificate yet
  auto c = choose(service::smtp, "");
  EXPECT_EQ(chosen_cn(c), "self-signed.me.example.com");
  bool explained = false;
  for (const auto& s : c.steps)
    if (s.rule == "Let's Encrypt certificate for auto.example.com" && !s.chosen)
      explained = !s.reason.empty();
  EXPECT_TRUE(explained);
}

// Breaks when try_lets_encrypt() takes the stored pair without the usable() check
// (checked against that one-line removal): the README promises expired and mismatched
// candidates are skipped, and the lookup here returns exactly such pairs.
TEST_F(choice_test, an_expired_or_mismatched_lets_encrypt_certificate_is_skipped) {
  add_rule("default", make("rule.default"), {});
  lets_encrypt_["old.example.com"] = make("le.old", 24h, now - 48h);
  const auto a = make("le.a"), b = make("le.b");
  lets_encrypt_["mixed.example.com"] = pem_pair{a.chain_pem, b.key_pem};

  const auto skipped_because = [](const choice& c, const std::string& domain) {
    for (const auto& step : c.steps)
      if (step.rule == "Let's Encrypt certificate for " + domain && !step.chosen)
        return step.reason;
    return std::string("(not skipped)");
  };
  auto expired = choose(service::https, "old.example.com");
  EXPECT_EQ(chosen_cn(expired), "rule.default");
  EXPECT_NE(skipped_because(expired, "old.example.com").find("expired on"), std::string::npos)
      << skipped_because(expired, "old.example.com");
  auto mixed = choose(service::https, "mixed.example.com");
  EXPECT_EQ(chosen_cn(mixed), "rule.default");
  EXPECT_NE(skipped_because(mixed, "mixed.example.com").find("do not match"), std::string::npos)
      << skipped_because(mixed, "mixed.example.com");
}

TEST_F(choice_test, deprecated_files_come_before_the_server_default_per_service) {
  auto [crt, key] = write("files", make("files"));
  config_.settings.tls_certificate_files = config::certificate_files{crt, key};
  auto [hcrt, hkey] = write("httpd", make("deprecated.httpd"));
  config_.deprecated_files.httpd_ssl_crt = hcrt;
  config_.deprecated_files.httpd_ssl_key = hkey;
  config_.deprecated_files.pure_ftpd_pem = write_combined("pure-ftpd.pem", make("deprecated.ftp"));
  config_.deprecated_files.tls_servercert_pem =
      write_combined("tls.servercert.pem", make("deprecated.smtp"));
  EXPECT_EQ(chosen_cn(choose(service::https, "")), "deprecated.httpd");
  EXPECT_EQ(chosen_cn(choose(service::sink, "")), "deprecated.httpd");
  EXPECT_EQ(chosen_cn(choose(service::ftp, "")), "deprecated.ftp");
  EXPECT_EQ(chosen_cn(choose(service::smtp, "")), "deprecated.smtp");
  auto c = choose(service::smtp, "");
  EXPECT_NE(c.winner()->rule.find("deprecated"), std::string::npos)
      << "the winner recommends migrating";
}

TEST_F(choice_test, bad_files_are_skipped_with_a_reason_naming_the_file) {
  const auto missing = dir_.path() / "missing.crt";
  config_.settings.tls_certificate_files = config::certificate_files{missing, missing};
  auto c = choose(service::ftp, "");
  EXPECT_EQ(chosen_cn(c), "self-signed.me.example.com");
  EXPECT_NE(c.steps.front().reason.find(missing.string()), std::string::npos);
  EXPECT_NE(c.steps.front().reason.find("does not exist"), std::string::npos);

  // Certificate and key of different pairs.
  auto [crt, unused_key] = write("a", make("a"));
  auto [unused_crt, key] = write("b", make("b"));
  config_.settings.tls_certificate_files = config::certificate_files{crt, key};
  c = choose(service::ftp, "");
  EXPECT_NE(c.steps.front().reason.find("do not match"), std::string::npos)
      << c.steps.front().reason;

  // Unreadable (mode 000). Root reads it anyway, so as root (the README's test command)
  // the check runs in a child that has become nobody.
  auto [crt2, key2] = write("locked", make("locked"));
  ::chmod(key2.c_str(), 0);
  config_.settings.tls_certificate_files = config::certificate_files{crt2, key2};
  const auto says_unreadable = [&] {
    return choose(service::ftp, "").steps.front().reason.find("cannot be read") !=
           std::string::npos;
  };
  if (::geteuid() != 0) {
    EXPECT_TRUE(says_unreadable());
  } else {
    ASSERT_EQ(::chmod(dir_.path().c_str(), 0755), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      const uid_t nobody = 65534;
      if (::setgid(nobody) != 0 || ::setuid(nobody) != 0) ::_exit(2);
      ::_exit(says_unreadable() ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "as nobody, the unreadable key was not reported (exit status " << status << ")";
  }

  // Expired.
  auto old = make("old", 24h, now - 48h);
  auto [ocrt, okey] = write("old", old);
  config_.settings.tls_certificate_files = config::certificate_files{ocrt, okey};
  c = choose(service::ftp, "");
  EXPECT_NE(c.steps.front().reason.find("expired"), std::string::npos);
  EXPECT_EQ(chosen_cn(c), "self-signed.me.example.com");
}

TEST_F(choice_test, self_signed_is_created_once_with_a_private_key_file) {
  auto first = load_or_create_self_signed(dir_.path() / "self-signed", "me.example.com", now);
  ASSERT_TRUE(first) << first.err().detail;
  struct stat st {};
  ASSERT_EQ(::stat((dir_.path() / "self-signed" / "me.example.com.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto second = load_or_create_self_signed(dir_.path() / "self-signed", "me.example.com", now);
  ASSERT_TRUE(second);
  EXPECT_EQ(first->chain_pem, second->chain_pem) << "reused, not regenerated";
}

TEST(service_names, parse_and_print) {
  for (auto s : {service::https, service::ftp, service::smtp, service::sink})
    EXPECT_EQ(*parse_service(to_string(s)), s);
  auto bad = parse_service("imap");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.err().detail.find("https, ftp, smtp or sink"), std::string::npos);
}

}  // namespace
}  // namespace certfleet::serving
