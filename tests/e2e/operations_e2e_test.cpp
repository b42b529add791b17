// What an operator of a large installation relies on, against the real daemon and pebble:
// Let's Encrypt disabled means idle until a reload enables it; the metrics on admin_listen
// pass Debian's promtool; scripts get exit codes from status and retry --failing; warning_hook
// is told when a domain enters and leaves the warning state.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "protocol/crypto/crypto.hpp"
#include "tests/support/certfleetd_process.hpp"
#include "tests/support/net_test_support.hpp"

namespace certfleet::testing {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> names(int n, const std::string& prefix) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(prefix + std::to_string(i) + ".e2e.test");
  return out;
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), {}};
}

// Replaces the line of `directive` in a configuration's text.
std::string with_line(std::string text, const std::string& directive, const std::string& value) {
  const auto line = text.find(directive + " ");
  if (line == std::string::npos) return text + directive + " " + value + "\n";
  text.replace(line, text.find('\n', line) - line, directive + " " + value);
  return text;
}

// The ACME account's creation is the first thing any order needs: none means no order.
bool any_account_at(const certfleetd_process& d) {
  return d.cli("account").out.find("/my-account/") != std::string::npos;
}

// The seed: Let's Encrypt is disabled until the terms are agreed to and an email is set.
TEST(operations_e2e, disabled_lets_encrypt_is_idle_and_the_enabling_reload_starts_at_once) {
  pebble_harness pebble;
  certfleetd_process d(pebble, names(5, "idle"));
  const auto conf = d.conf_dir() / "certfleet.conf";
  std::string text = read_file(conf);
  const std::string terms = "lets_encrypt_agree_to_terms_of_service yes\n";
  text.erase(text.find(terms), terms.size());
  std::ofstream(conf, std::ios::trunc) << text;

  d.start();
  ASSERT_TRUE(d.wait_until(
      [&] { return d.cli("status").out.find("Let's Encrypt is not enabled") != std::string::npos; },
      20s))
      << d.log();
  std::this_thread::sleep_for(2s);
  const auto status = d.cli("status");
  EXPECT_EQ(status.exit_code, 0);
  const std::string line =
      "  Error message:     Let's Encrypt is not enabled: set "
      "lets_encrypt_agree_to_terms_of_service yes";
  int lines = 0;
  for (auto at = status.out.find(line); at != std::string::npos;
       at = status.out.find(line, at + line.size()))
    ++lines;
  EXPECT_EQ(lines, 5) << status.out;
  EXPECT_EQ(status.out.find("Next retry time"), std::string::npos) << "nothing is retried";
  EXPECT_EQ(d.cli("warnings").exit_code, 0) << "waiting is not a failure";
  EXPECT_EQ(d.cli("status --exit-code").exit_code, 0);
  EXPECT_FALSE(any_account_at(d)) << "nothing was asked of the CA while disabled";
  for (const auto& r : d.records()) EXPECT_EQ(r.phase, storage::domain_phase::disabled) << r.name;
  EXPECT_NE(d.log().find("lets_encrypt_agree_to_terms_of_service is not yes"), std::string::npos)
      << "the email without the terms gets a hint";
  const auto retry = d.cli("retry idle0.e2e.test");
  EXPECT_EQ(retry.exit_code, 1);
  EXPECT_NE(retry.out.find("Let's Encrypt is not enabled"), std::string::npos) << retry.out;

  std::ofstream(conf, std::ios::app) << terms;
  const auto reload = d.cli("reload");
  ASSERT_EQ(reload.exit_code, 0) << reload.out;
  // At once: not after a back-off, which would be minutes to hours.
  ASSERT_TRUE(d.wait_until([&] { return d.all_issued(); }, 60s)) << d.log();
  EXPECT_EQ(d.cli("status").out.find("not enabled"), std::string::npos);
  EXPECT_EQ(d.stop(), 0);
}

// services/*.pem follow the precedence rules without any issuance: a setup with only
// tls_certificate_files, and a reload that changes which certificate wins.
TEST(operations_e2e, service_files_are_written_at_start_and_when_a_reload_changes_them) {
  pebble_harness pebble;
  certfleetd_process d(pebble, {});
  const auto pair_of = [&](const std::string& name) {
    auto key = protocol::private_key::generate(key_type::ec_p256);
    auto cert =
        protocol::make_self_signed_pem(*key, name, std::chrono::hours(24 * 30), wall_clock{}.now());
    std::ofstream(d.conf_dir() / (name + ".crt")) << *cert;
    std::ofstream(d.conf_dir() / (name + ".key")) << key->to_pem();
    return *cert + key->to_pem();
  };
  const std::string first = pair_of("first.example"), second = pair_of("second.example");
  const auto exports = d.conf_dir().parent_path() / "export";
  const auto conf = d.conf_dir() / "certfleet.conf";
  const std::string base = read_file(conf) + "export_dir " + exports.string() + "\n";
  std::ofstream(conf, std::ios::trunc)
      << base << "tls_certificate_files " << (d.conf_dir() / "first.example.crt").string() << " "
      << (d.conf_dir() / "first.example.key").string() << "\n";
  d.start();
  const auto smtp = exports / "services" / "smtp.pem";
  ASSERT_TRUE(d.wait_until([&] { return read_file(smtp) == first; }, 20s)) << d.log();
  EXPECT_EQ(read_file(exports / "services" / "ftp.pem"), first);

  // The same reload opens the admin listener and moves the HTTP-01 responder at once; the
  // HTTPS listener it turns on waits for a restart, and the answer says so.
  const auto admin_port = std::to_string(net::closed_port());
  const auto http_port = std::to_string(net::closed_port());
  const auto old_http = std::to_string(pebble.http01_port());
  std::ofstream(conf, std::ios::trunc)
      << with_line(base, "http_listen", "127.0.0.1:" + http_port) << "tls_certificate_files "
      << (d.conf_dir() / "second.example.crt").string() << " "
      << (d.conf_dir() / "second.example.key").string() << "\n"
      << "admin_listen 127.0.0.1:" << admin_port << "\n"
      << "https_listen 127.0.0.1:" << net::closed_port() << "\n";
  const auto reload = d.cli("reload");
  ASSERT_EQ(reload.exit_code, 0) << reload.out;
  EXPECT_NE(reload.out.find("Needs a restart of certfleetd to take effect (systemctl restart "
                            "certfleetd): https_listen\n"),
            std::string::npos)
      << reload.out;
  EXPECT_NE(d.log().find("https_listen take effect only when certfleetd restarts"),
            std::string::npos);
  const std::string page =
      run_command("curl -sf --max-time 10 http://127.0.0.1:" + admin_port + "/api/summary");
  EXPECT_NE(page.find("\"domains\": 0"), std::string::npos) << "the admin listener is up: " << page;
  const auto status_at = [](const std::string& port) {
    return run_command("curl -s -o /dev/null -w '%{http_code}' --max-time 10 http://127.0.0.1:" +
                       port + "/.well-known/acme-challenge/none; true");
  };
  EXPECT_EQ(status_at(http_port), "404") << "the responder answers at its new address";
  EXPECT_EQ(status_at(old_http), "000") << "and no longer at the old one";
  EXPECT_TRUE(d.wait_until([&] { return read_file(smtp) == second; }, 20s)) << d.log();
  EXPECT_EQ(d.stop(), 0);
}

TEST(operations_e2e, metrics_on_admin_listen_pass_promtool_and_count_the_fleet) {
  pebble_harness pebble;
  const auto port = std::to_string(net::closed_port());
  certfleetd_process d(pebble, names(4, "metric"), "admin_listen 127.0.0.1:" + port + "\n");
  d.start();
  ASSERT_TRUE(d.wait_until([&] { return d.all_issued(); }, 60s)) << d.log();

  const std::string url = "http://127.0.0.1:" + port + "/metrics";
  const std::string page = run_command("curl -sf --max-time 10 " + url);
  EXPECT_NE(page.find("certfleet_domains{phase=\"valid\"} 4\n"), std::string::npos) << page;
  EXPECT_NE(page.find("certfleet_certificates_issued_total 4\n"), std::string::npos) << page;
  EXPECT_NE(page.find("certfleet_ca_requests_total{endpoint=\"newOrder\",result=\"ok\"} 4\n"),
            std::string::npos)
      << page;
  EXPECT_NE(page.find("certfleet_acme_service_up 1\n"), std::string::npos);
  EXPECT_EQ(page.find("metric0.e2e.test"), std::string::npos) << "no per-domain label";
  const std::string verdict =
      run_command("curl -sf --max-time 10 " + url + " | promtool check metrics 2>&1; echo rc=$?");
  EXPECT_NE(verdict.find("rc=0"), std::string::npos) << verdict;
  EXPECT_EQ(verdict.find("rc=0"), 0u) << "promtool printed findings: " << verdict;

  EXPECT_EQ(d.cli("status --exit-code").exit_code, 0);
  const auto failing = d.cli("retry --failing");
  EXPECT_EQ(failing.exit_code, 0) << failing.out;
  EXPECT_EQ(failing.out, "Retrying 0 of 0 domains.\n");
  const auto all = d.cli("retry --all");
  EXPECT_EQ(all.exit_code, 0) << all.out;
  EXPECT_EQ(all.out, "Retrying 0 of 4 domains; 4 valid and not in their renewal window.\n");
  EXPECT_EQ(d.stop(), 0);
}

// A reload moves the HTTP-01 responder and gives the self-check new DNS servers: no restart.
// The first attempt fails on dead DNS servers; the certificate after the reload needs both
// (pebble validates on the port the responder moved to).
TEST(operations_e2e, a_reload_moves_the_responder_and_gives_the_self_check_new_dns_servers) {
  pebble_harness pebble;
  const std::string name = "resolved.e2e.test";
  certfleetd_process d(pebble, {name});
  const auto conf = d.conf_dir() / "certfleet.conf";
  const std::string good = read_file(conf);
  const std::string dead =
      with_line(with_line(good, "dns_servers", "127.0.0.1:" + std::to_string(net::closed_port())),
                "http_listen", "127.0.0.1:" + std::to_string(net::closed_port()));
  std::ofstream(conf, std::ios::trunc) << dead;
  d.start();
  ASSERT_TRUE(d.wait_until(
      [&] {
        const auto r = d.records();
        return !r.empty() && r[0].failure_count > 0;
      },
      60s))
      << d.log();
  EXPECT_NE(d.records()[0].last_error.find("DNS lookup failed"), std::string::npos)
      << d.records()[0].last_error;

  std::ofstream(conf, std::ios::trunc) << good;
  const auto reload = d.cli("reload");
  EXPECT_EQ(reload.exit_code, 0) << reload.out;
  EXPECT_EQ(reload.out.find("Needs a restart"), std::string::npos) << reload.out;
  EXPECT_EQ(d.cli("retry " + name).exit_code, 0);
  EXPECT_TRUE(d.wait_until([&] { return d.all_issued(); }, 60s)) << d.log();
  EXPECT_EQ(d.stop(), 0);
}

// The seed's warning (no certificate, failed once) reaches the hook a few seconds after the
// failure, with the seed's message; the certificate issued after DNS is fixed clears it.
TEST(operations_e2e, warning_hook_is_told_when_a_domain_enters_and_leaves_the_warning) {
  pebble_harness pebble;
  const std::string broken = "alarm.e2e.test";
  pebble.set_servfail(broken);
  temp_dir out;
  const auto told = out.path() / "told.json";
  // One document per run, appended; a marker line between them for the split below.
  certfleetd_process d(
      pebble, {"calm.e2e.test", broken},
      "warning_hook cat >> " + told.string() + "; echo -- >> " + told.string() + "\n");
  d.start();
  auto documents = [&] {
    std::vector<nlohmann::json> docs;
    const std::string text = read_file(told);
    std::size_t start = 0;
    for (std::size_t end; (end = text.find("--\n", start)) != std::string::npos; start = end + 3)
      docs.push_back(nlohmann::json::parse(text.substr(start, end - start)));
    return docs;
  };
  ASSERT_TRUE(d.wait_until([&] { return !documents().empty(); }, 60s)) << d.log();
  auto first = documents().front();
  EXPECT_EQ(first["alerting"], 1) << first.dump(2);
  ASSERT_EQ(first["changes"].size(), 1u) << first.dump(2);
  const auto& entered = first["changes"][0];
  EXPECT_EQ(entered["domain"], broken);
  EXPECT_EQ(entered["state"], "warning");
  EXPECT_EQ(entered["previous_state"], "ok");
  EXPECT_EQ(entered["error"],
            "Registration failed: Self-check failed: DNS lookup failed. Check DNS and verify that "
            "\"" +
                broken + "\" resolves to an IP address on this host.");
  EXPECT_FALSE(entered["last_failure_time"].is_null());
  EXPECT_FALSE(entered["next_retry_time"].is_null());
  EXPECT_TRUE(entered["cert_expiration_time"].is_null());

  pebble.clear_servfail(broken);
  EXPECT_EQ(d.cli("retry " + broken).exit_code, 0);
  ASSERT_TRUE(d.wait_until([&] { return documents().size() >= 2; }, 60s)) << d.log();
  const auto second = documents()[1];
  ASSERT_EQ(second["changes"].size(), 1u) << second.dump(2);
  EXPECT_EQ(second["changes"][0]["domain"], broken);
  EXPECT_EQ(second["changes"][0]["state"], "ok");
  EXPECT_EQ(second["changes"][0]["previous_state"], "warning");
  EXPECT_FALSE(second["changes"][0]["cert_expiration_time"].is_null());
  EXPECT_EQ(second["alerting"], 0);
  std::cout << "warning_hook's first document:\n" << first.dump(2) << "\n";
  EXPECT_EQ(d.stop(), 0);
  EXPECT_EQ(documents().size(), 2u) << "each change told once";
}

// Debian's chromium, headless, with nothing of its own on the network (no updates, sync or
// prefetch: the page is the only thing it loads). Runs as root in CI, hence --no-sandbox.
std::string chromium(const temp_dir& profile, const std::string& what, const std::string& url) {
  return run_command(
      "chromium --headless --no-sandbox --disable-gpu --no-first-run --disable-sync "
      "--disable-background-networking --disable-component-update --dns-prefetch-disable "
      "--disable-default-apps --user-data-dir=" +
      profile.path().string() + " " + what + " '" + url + "' 2>/dev/null");
}

std::size_t count_of(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

// The status page as a browser renders it: the fleet's numbers, the histogram's bars, the
// failing domain with the seed's message, a search; and a screenshot (the README's, when
// CERTFLEET_SCREENSHOT_DIR names where to put it).
TEST(operations_e2e, the_status_page_renders_in_headless_chromium) {
  pebble_options options;
  options.validity_seconds = 90 * 86400;  // Let's Encrypt's lifetime, not pebble's 5 years
  pebble_harness pebble(options);
  const std::string broken = "unreachable.e2e.test";
  pebble.set_servfail(broken);
  const auto port = std::to_string(net::closed_port());
  auto domains = names(4, "page");
  domains.push_back(broken);
  certfleetd_process d(pebble, domains, "admin_listen 127.0.0.1:" + port + "\n");
  d.start();
  ASSERT_TRUE(d.wait_until(
      [&] {
        int valid = 0, failing = 0;
        for (const auto& r : d.records()) {
          if (r.has_cert())
            ++valid;
          else if (r.failure_count > 0)
            ++failing;
        }
        return valid == 4 && failing == 1;
      },
      60s))
      << d.log();

  temp_dir profile;
  const std::string base = "http://127.0.0.1:" + port + "/";
  const std::string dom = chromium(profile, "--dump-dom", base);
  EXPECT_NE(dom.find("id=\"summary-domains\">5<"), std::string::npos) << dom;
  EXPECT_NE(dom.find("id=\"summary-valid\">4<"), std::string::npos);
  EXPECT_NE(dom.find("id=\"summary-warning\">1<"), std::string::npos);
  EXPECT_EQ(count_of(dom, "<rect class=\"bar\""), 9u) << "the expiry histogram's bins";
  EXPECT_NE(dom.find("data-bin=\"75-90d\" data-count=\"4\""), std::string::npos)
      << "pebble's 90-day certificates (less a few seconds)";
  EXPECT_NE(dom.find("data-matching=\"1\""), std::string::npos) << "one problem";
  EXPECT_NE(dom.find("<td class=\"name\">" + broken + "</td>"), std::string::npos);
  EXPECT_NE(dom.find("Registration failed: Self-check failed: DNS lookup failed. Check DNS and "
                     "verify that \"" +
                     broken + "\" resolves"),
            std::string::npos);

  const std::string search = chromium(profile, "--dump-dom", base + "?q=page2&show=all");
  EXPECT_NE(search.find("data-matching=\"1\""), std::string::npos) << search;
  EXPECT_NE(search.find(">page2.e2e.test<"), std::string::npos);

  const auto shot = profile.path() / "status-page.png";
  chromium(profile, "--hide-scrollbars --window-size=1100,720 --screenshot=" + shot.string(), base);
  const std::string png = read_file(shot);
  ASSERT_GT(png.size(), 10000u) << "no screenshot";
  EXPECT_EQ(png.substr(1, 3), "PNG");
  if (const char* keep = std::getenv("CERTFLEET_SCREENSHOT_DIR"))
    std::filesystem::copy_file(shot, std::filesystem::path(keep) / "status-page.png",
                               std::filesystem::copy_options::overwrite_existing);
  EXPECT_EQ(d.stop(), 0);
}

}  // namespace
}  // namespace certfleet::testing
