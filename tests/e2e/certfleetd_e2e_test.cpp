// The real certfleetd and certfleet binaries against a real pebble.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>

#include "actors/renewal_policy.hpp"
#include "protocol/crypto/crypto.hpp"
#include "storage/store.hpp"
#include "tests/support/certfleetd_process.hpp"
#include "tests/support/small_filesystem.hpp"

namespace certfleet::testing {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

std::vector<std::string> names(int n, const std::string& prefix) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(prefix + std::to_string(i) + ".e2e.test");
  return out;
}

std::optional<storage::domain_record> record_of(const certfleetd_process& d,
                                                const std::string& name) {
  for (auto& r : d.records())
    if (r.name == name) return r;
  return std::nullopt;
}

int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

// Every configured domain's stored certificate is usable with its stored key.
void expect_certificates_match_keys(const certfleetd_process& d) {
  auto store = storage::store::open(d.state_dir(), storage::open_mode::read_only);
  ASSERT_TRUE(store) << store.err().detail;
  for (const auto& r : d.records()) {
    if (!r.configured) continue;
    auto certs = store->get_certs(r.name);
    ASSERT_TRUE(certs && *certs) << r.name << " has no stored certificate";
    auto key = protocol::private_key::from_pem((*certs)->current.key_pem);
    ASSERT_TRUE(key) << r.name;
    EXPECT_TRUE(protocol::certificate_matches_key((*certs)->current.chain_pem, *key)) << r.name;
    auto info = protocol::parse_certificate_pem((*certs)->current.chain_pem);
    ASSERT_TRUE(info);
    EXPECT_EQ(info->sans, std::vector<std::string>{r.name});
  }
}

// How many certificates pebble has issued since it started (one log line each).
int certificates_issued_by(const pebble_harness& pebble) {
  std::ifstream in(pebble.workdir() / "pebble.log");
  return count(std::string(std::istreambuf_iterator<char>(in), {}), "Issued certificate serial");
}

TEST(certfleetd_e2e, two_hundred_domains_get_certificates_shown_by_status) {
  pebble_harness pebble;
  // 4 orders in flight, not the default 16: in a clean-clone CI run under the parallel
  // unit tests, pebble 2.4 stopped answering after 24 certificates at 16 (the wedge the
  // nonce-rejection test below met at 8 and 16). The daemon's 16 is measured in bench/.
  certfleetd_process d(pebble, names(200, "f"), "orders_in_flight 4\n");
  d.start();
  ASSERT_TRUE(d.wait_until([&] { return d.all_issued(); }, 180s)) << d.log();

  auto table = d.cli("status");
  EXPECT_EQ(table.exit_code, 0);
  EXPECT_EQ(count(table.out, " yes "), 200) << table.out;
  auto as_json = d.cli("status --json");
  ASSERT_EQ(as_json.exit_code, 0);
  auto doc = json::parse(as_json.out);
  ASSERT_EQ(doc["domains"].size(), 200u);
  for (const auto& entry : doc["domains"]) {
    EXPECT_TRUE(entry["has_cert"].get<bool>());
    EXPECT_TRUE(entry["cert_expiration_time"].is_string());
    EXPECT_TRUE(entry["last_failure_error_message"].is_null());
  }
  EXPECT_EQ(d.cli("status --only-errors").out.find(".e2e.test"), std::string::npos);
  expect_certificates_match_keys(d);
  EXPECT_EQ(std::filesystem::status(d.state_dir() / "data.mdb").permissions() &
                std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  EXPECT_EQ(d.log().find("PRIVATE KEY"), std::string::npos) << "key material in the log";
  EXPECT_EQ(d.stop(), 0);
}

TEST(certfleetd_e2e, domains_waiting_for_the_order_budget_are_listed_by_status) {
  pebble_harness pebble;
  certfleetd_process d(pebble, names(4, "q"), "order_budget 1 per 1h\n");
  d.start();
  ASSERT_TRUE(d.wait_until(
      [&] {
        int with_cert = 0;
        for (const auto& r : d.records()) with_cert += r.has_cert() ? 1 : 0;
        return with_cert == 1;
      },
      30s))
      << d.log();
  auto doc = json::parse(d.cli("status --json").out);
  ASSERT_EQ(doc["domains"].size(), 4u) << "queued domains are listed before their first order";
  int without = 0;
  for (const auto& entry : doc["domains"]) without += entry["has_cert"].get<bool>() ? 0 : 1;
  EXPECT_EQ(without, 3);

  // `certfleet queue` tells how long they wait: three new orders at one per hour.
  const auto queue = d.cli("queue --json");
  ASSERT_EQ(queue.exit_code, 0) << queue.out;
  const auto q = json::parse(queue.out);
  EXPECT_EQ(q["waiting_new"], 3);
  EXPECT_EQ(q["budget_orders"], 1);
  EXPECT_EQ(q["budget_seconds"], 3600);
  EXPECT_EQ(q["budget_available"], 0);
  EXPECT_GT(q["backlog_seconds"].get<int>(), 2 * 3600);
  EXPECT_LE(q["backlog_seconds"].get<int>(), 3 * 3600);
  EXPECT_NE(d.cli("queue").out.find("Waiting for an order: 3 new domains"), std::string::npos);

  // A setting other than the domain list is applied by `certfleet reload` and by SIGHUP
  // (issue #23); the queue shows the budget the ACME service now keeps.
  const auto set_budget = [&](const std::string& budget) {
    std::ifstream in(d.conf_dir() / "certfleet.conf");
    std::string conf((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto at = conf.find("order_budget ");
    ASSERT_NE(at, std::string::npos);
    conf.replace(at, conf.find('\n', at) - at, "order_budget " + budget);
    std::ofstream(d.conf_dir() / "certfleet.conf") << conf;
  };
  const auto budget_shown = [&] {
    const auto now = json::parse(d.cli("queue --json").out);
    return std::to_string(now["budget_orders"].get<int>()) + " per " +
           std::to_string(now["budget_seconds"].get<int>()) + "s";
  };
  set_budget("2 per 2h");
  ASSERT_EQ(d.cli("reload").exit_code, 0);
  EXPECT_EQ(budget_shown(), "2 per 7200s");
  set_budget("3 per 3h");
  d.sighup();
  EXPECT_TRUE(d.wait_until([&] { return budget_shown() == "3 per 10800s"; }, 10s))
      << budget_shown() << "\n"
      << d.log();
}

// Issue #18: at a budget that makes domains wait, none fails while it waits and each is
// ordered once (pebble's own count). 10 per 10 s: ten at once, then one a second (the same
// token bucket as the default 300 per 3h, on a window a test can wait for). The waits here are
// shorter than the 30-minute attempt deadline the old rule started too early; domain_fsm_test waits
// 42 days in the queue in virtual time.
TEST(certfleetd_e2e, a_small_budget_orders_each_domain_once_and_fails_none) {
  pebble_harness pebble;
  certfleetd_process d(pebble, names(20, "b"), "order_budget 10 per 10s\n");
  d.start();
  ASSERT_TRUE(d.wait_until([&] { return d.all_issued(); }, 180s)) << d.log();
  EXPECT_EQ(certificates_issued_by(pebble), 20) << "one order per domain";
  for (const auto& r : d.records())
    EXPECT_EQ(r.last_failure, no_time) << r.name << ": " << r.last_error;
  EXPECT_EQ(d.cli("warnings").exit_code, 0);
  EXPECT_EQ(json::parse(d.cli("queue --json").out)["waiting_new"], 0);
}

TEST(certfleetd_e2e, servfail_domain_gets_the_seed_message_and_retries_after_a_minute) {
  pebble_harness pebble;
  const std::string broken = "broken.e2e.test";
  pebble.set_servfail(broken);
  certfleetd_process d(pebble, {"ok1.e2e.test", "ok2.e2e.test", broken});
  d.start();
  ASSERT_TRUE(d.wait_until(
      [&] {
        auto r = record_of(d, broken);
        auto a = record_of(d, "ok1.e2e.test"), b = record_of(d, "ok2.e2e.test");
        return r && r->failure_count >= 1 && a && a->has_cert() && b && b->has_cert();
      },
      60s))
      << d.log();

  const std::string message =
      "Registration failed: Self-check failed: DNS lookup failed. Check DNS and verify that \"" +
      broken + "\" resolves to an IP address on this host.";
  auto doc = json::parse(d.cli("status --json").out);
  bool found = false;
  for (const auto& entry : doc["domains"]) {
    if (entry["domain"] != broken) continue;
    found = true;
    EXPECT_FALSE(entry["has_cert"].get<bool>());
    EXPECT_EQ(entry["last_failure_error_message"], message);
  }
  EXPECT_TRUE(found);
  auto rec = record_of(d, broken);
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->next_attempt - rec->last_failure, std::chrono::microseconds(60s))
      << "the first retry is one minute after the failure";

  auto table = d.cli("status");
  EXPECT_NE(table.out.find("  Error message:     " + message), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("  Next retry time:   "), std::string::npos);
  auto errors = d.cli("status --only-errors");
  EXPECT_NE(errors.out.find(broken), std::string::npos);
  EXPECT_EQ(errors.out.find("ok1.e2e.test"), std::string::npos);
  auto warnings = d.cli("warnings");
  EXPECT_EQ(warnings.exit_code, 1);
  EXPECT_NE(warnings.out.find(broken), std::string::npos);
}

TEST(certfleetd_e2e, retry_reload_and_a_stopped_daemon) {
  pebble_harness pebble;
  certfleetd_process d(pebble, {"a.e2e.test", "b.e2e.test", "c.e2e.test"});
  d.start();
  ASSERT_TRUE(d.wait_until([&] { return d.all_issued(); }, 60s)) << d.log();
  const auto before = record_of(d, "a.e2e.test");

  // A valid certificate outside its renewal window is never renewed early.
  auto retry = d.cli("retry a.e2e.test");
  EXPECT_EQ(retry.exit_code, 0);
  EXPECT_NE(retry.out.find("not in its renewal window"), std::string::npos) << retry.out;
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(record_of(d, "a.e2e.test")->last_success, before->last_success);
  auto unknown = d.cli("retry nope.e2e.test");
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.out.find("unknown domain"), std::string::npos);

  // Reload adds and retires exactly the changed domains.
  std::ofstream(d.conf_dir() / "url_domains") << "a.e2e.test\nb.e2e.test\nnew.e2e.test\n";
  auto reload = d.cli("reload");
  EXPECT_EQ(reload.exit_code, 0) << reload.out;
  EXPECT_NE(reload.out.find("1 domain(s) added, 1 removed"), std::string::npos) << reload.out;
  EXPECT_NE(reload.out.find("+ new.e2e.test"), std::string::npos);
  EXPECT_NE(reload.out.find("- c.e2e.test"), std::string::npos);
  ASSERT_TRUE(d.wait_until(
      [&] {
        auto r = record_of(d, "new.e2e.test");
        return r && r->has_cert();
      },
      30s));
  ASSERT_TRUE(d.wait_until(
      [&] {
        auto r = record_of(d, "c.e2e.test");
        return r && !r->configured;
      },
      10s));
  EXPECT_EQ(d.cli("status").out.find("c.e2e.test"), std::string::npos);

  // A broken configuration is rejected; the daemon keeps running on the old one.
  std::ofstream(d.conf_dir() / "certfleet.conf", std::ios::app)
      << "lets_encrypt_agre_to_terms_of_service yes\n";
  auto rejected = d.cli("reload");
  EXPECT_EQ(rejected.exit_code, 1);
  EXPECT_NE(rejected.out.find("certfleet.conf:"), std::string::npos) << rejected.out;
  EXPECT_NE(rejected.out.find("did you mean"), std::string::npos) << rejected.out;
  EXPECT_TRUE(d.running());
  EXPECT_NE(d.cli("retry b.e2e.test").out.find("not in its renewal window"), std::string::npos);

  // With the daemon down, status still reads the state; retry says what is wrong.
  EXPECT_EQ(d.stop(), 0);
  auto status = d.cli("status");
  EXPECT_EQ(status.exit_code, 0);
  EXPECT_NE(status.out.find("new.e2e.test"), std::string::npos);
  auto down = d.cli("retry a.e2e.test");
  EXPECT_EQ(down.exit_code, 3);
  EXPECT_NE(down.out.find("certfleetd is not running"), std::string::npos) << down.out;
}

TEST(certfleetd_e2e, new_certificates_are_exported_and_the_deploy_hook_runs) {
  pebble_harness pebble;
  temp_dir out;
  const auto hook_log = out.path() / "hook.log";
  const auto exports = out.path() / "export";
  const auto domains = names(3, "x");
  const int https_port = free_loopback_port();
  certfleetd_process d(pebble, domains,
                       "https_listen 127.0.0.1:" + std::to_string(https_port) + "\n" +
                           "export_dir " + exports.string() + "\ndeploy_hook \"echo run >> " +
                           hook_log.string() + "; printf '%s,' >> " + hook_log.string() + "\"\n");
  d.start();
  ASSERT_TRUE(d.wait_until(
      [&] {
        std::ifstream in(hook_log);
        std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        for (const auto& name : domains)
          if (all.find(name) == std::string::npos) return false;
        return true;
      },
      30s))
      << d.log();
  {
    // One run per batch (names issued within a second of each other), each name once:
    // a hook run per domain would show 3 runs.
    std::ifstream in(hook_log);
    const std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_LT(count(all, "run\n"), static_cast<int>(domains.size())) << all;
    for (const auto& name : domains) EXPECT_EQ(count(all, name + ","), 1) << all;
  }
  for (const auto& name : domains) {
    const auto pem = exports / (name + ".pem");
    ASSERT_TRUE(std::filesystem::exists(pem)) << name;
    EXPECT_EQ(std::filesystem::status(pem).permissions() & std::filesystem::perms::all,
              std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    std::ifstream in(exports / (name + ".key"));
    std::string key((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto parsed = protocol::private_key::from_pem(key);
    ASSERT_TRUE(parsed) << name;
    std::ifstream crt(exports / (name + ".crt"));
    std::string chain((std::istreambuf_iterator<char>(crt)), std::istreambuf_iterator<char>());
    EXPECT_TRUE(protocol::certificate_matches_key(chain, *parsed)) << name;
  }
  // `me` is the first domain: its certificate is the Server-Default for every service.
  for (const char* svc : {"https", "ftp", "smtp", "sink"}) {
    EXPECT_TRUE(std::filesystem::exists(exports / "services" / (std::string(svc) + ".pem"))) << svc;
  }
  // The HTTPS listener serves each domain's certificate by SNI, the default without.
  for (const auto& name : {domains[1], std::string("unknown.e2e.test")}) {
    const std::string subject =
        run_command("echo | openssl s_client -connect 127.0.0.1:" + std::to_string(https_port) +
                    " -servername " + name + " 2>/dev/null | openssl x509 -noout -subject");
    const std::string expected = name == domains[1] ? name : domains.front();  // me
    EXPECT_NE(subject.find("CN = " + expected), std::string::npos) << name << ": " << subject;
  }
  // Nothing the daemon holds leaks into the hook or anything else it starts: listening and
  // accepted sockets (one held open on each listener here), LMDB's files, CA connections.
  {
    std::vector<int> held;
    for (const int port : {https_port, static_cast<int>(pebble.http01_port())}) {
      const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in to{};
      to.sin_family = AF_INET;
      to.sin_port = htons(static_cast<std::uint16_t>(port));
      to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to), 0) << port;
      held.push_back(fd);
    }
    std::this_thread::sleep_for(200ms);  // let the daemon accept them
    const auto leaks = d.inheritable_descriptors();
    EXPECT_TRUE(leaks.empty()) << ::testing::PrintToString(leaks);
    for (const int fd : held) ::close(fd);
  }
  auto report = d.cli("cert-for --service smtp");
  EXPECT_EQ(report.exit_code, 0);
  EXPECT_NE(report.out.find("Let's Encrypt certificate for " + domains.front() + ": used"),
            std::string::npos)
      << report.out;
}

TEST(certfleetd_e2e, half_the_nonces_rejected_and_no_one_notices) {
  pebble_options options;
  options.env["PEBBLE_WFE_NONCEREJECT"] = "50";
  pebble_harness pebble(options);
  // The default 16 orders in flight. Pebble 2.4 stopped answering here at 16 and at 8
  // until the client sent new orders and authorization fetches one at a time
  // (protocol/acme/ca_pacing.hpp); the test ran 4 in flight until then.
  certfleetd_process d(pebble, names(200, "n"));
  d.start();
  ASSERT_TRUE(d.wait_until([&] { return d.all_issued(); }, 300s)) << d.log();
  EXPECT_EQ(certificates_issued_by(pebble), 200) << "badNonce retries must not cost new orders";
  for (const auto& r : d.records())
    EXPECT_EQ(r.last_failure, no_time) << r.name << ": " << r.last_error;
  auto status = d.cli("status --json");
  EXPECT_EQ(status.out.find("nonce"), std::string::npos) << "a nonce error in status";
  EXPECT_EQ(d.cli("warnings").exit_code, 0);
  for (const char* word : {"badNonce", "nonce"})
    EXPECT_EQ(d.log().find(word), std::string::npos) << word << " in the log:\n" << d.log();
}

TEST(certfleetd_e2e, kill_9_during_issuance_loses_nothing) {
  pebble_harness pebble;
  certfleetd_process d(pebble, names(200, "k"));
  std::mt19937 rng(12345);
  std::uniform_int_distribution<int> ms(150, 900);
  for (int round = 0; round < 5; ++round) {
    d.start();
    std::this_thread::sleep_for(std::chrono::milliseconds(ms(rng)));
    d.kill9();
  }
  d.start();
  ASSERT_TRUE(d.wait_until([&] { return d.all_issued(); }, 180s)) << d.log();
  for (const auto& r : d.records()) {
    EXPECT_EQ(r.phase, storage::domain_phase::valid) << r.name;
    EXPECT_TRUE(r.order_url.empty()) << r.name;
  }
  // Orders cut off by a kill are resumed, not replaced: one certificate per domain.
  EXPECT_EQ(certificates_issued_by(pebble), 200);
  expect_certificates_match_keys(d);
}

// The certificate the HTTPS listener on `port` serves for SNI `name`.
std::optional<protocol::cert_info> served_certificate(int port, const std::string& name) {
  const std::string pem =
      run_command("echo | openssl s_client -connect 127.0.0.1:" + std::to_string(port) +
                  " -servername " + name + " 2>/dev/null | openssl x509");
  auto info = protocol::parse_certificate_pem(pem);
  if (!info) return std::nullopt;
  return *info;
}

std::string served_serial(int port, const std::string& name) {
  const auto info = served_certificate(port, name);
  return info ? info->serial_hex : "(none served)";
}

// The serial of the certificate stored for `name`.
TEST(certfleetd_e2e, short_lived_certificates_renew_at_their_renewal_point) {
  pebble_options options;
  options.validity_seconds = 40;
  pebble_harness pebble(options);
  const auto domains = names(3, "r");
  const int https_port = free_loopback_port();
  certfleetd_process d(pebble, domains,
                       "https_listen 127.0.0.1:" + std::to_string(https_port) + "\n");
  d.start();
  ASSERT_TRUE(d.wait_until([&] { return d.all_issued(); }, 30s)) << d.log();
  std::map<std::string, storage::domain_record> first;
  for (const auto& r : d.records()) first[r.name] = r;
  const std::string first_serial = d.stored_serial(domains[1]);
  EXPECT_EQ(served_serial(https_port, domains[1]), first_serial);

  ASSERT_TRUE(d.wait_until(
      [&] {
        for (const auto& r : d.records())
          if (r.cert_not_after <= first[r.name].cert_not_after) return false;
        return true;
      },
      60s))
      << d.log();
  for (const auto& r : d.records()) {
    const auto& old = first[r.name];
    const auto point = actors::renewal_point(old.cert_not_before, old.cert_not_after, r.name);
    EXPECT_GE(r.last_success, point) << r.name << " renewed before its renewal point";
    EXPECT_LT(r.last_success, old.cert_not_after) << r.name << " renewed only after expiry";
  }
  // The running HTTPS listener switches to the renewed certificate, no restart needed.
  const std::string renewed = d.stored_serial(domains[1]);
  EXPECT_NE(renewed, first_serial);
  EXPECT_TRUE(d.wait_until([&] { return served_serial(https_port, domains[1]) == renewed; }, 10s))
      << "still served: " << served_serial(https_port, domains[1]) << ", stored: " << renewed;
}

TEST(certfleetd_e2e, a_full_disk_keeps_issued_certificates_until_space_is_back) {
  // Pebble's validation waits 0-15 s here, so orders are stored and waiting at the CA
  // when the disk fills up, and their certificates are issued while it is full.
  pebble_options options;
  options.env.clear();
  pebble_harness pebble(options);
  const auto domains = names(5, "full");
  certfleetd_process d(pebble, domains);
  small_filesystem disk(d.state_dir(), 16 << 20);
  if (!disk.available()) GTEST_SKIP() << disk.why_unavailable();
  d.start();
  ASSERT_TRUE(d.wait_until(
      [&] {
        for (const auto& r : d.records())
          if (r.order_url.empty() && !r.has_cert()) return false;
        return true;
      },
      60s))
      << d.log();
  disk.fill();
  std::set<std::string> waiting;
  for (const auto& r : d.records())
    if (!r.has_cert()) waiting.insert(r.name);
  ASSERT_FALSE(waiting.empty()) << "every certificate was stored before the disk was full";

  // Issued while full: status, its JSON and warnings say what failed, where, what to do.
  const std::string problem =
      "could not save state: no space left on device in " + d.state_dir().string();
  ASSERT_TRUE(d.wait_until(
      [&] { return count(d.cli("status").out, problem) == static_cast<int>(waiting.size()); }, 60s))
      << d.cli("status").out << d.log();
  EXPECT_EQ(count(d.cli("status --json").out, problem), static_cast<int>(waiting.size()));
  const auto warned = d.cli("warnings");
  EXPECT_EQ(warned.exit_code, 1) << warned.out;
  for (const auto& name : waiting)
    EXPECT_NE(warned.out.find(name + ": " + problem), std::string::npos) << warned.out;

  // Space is back: stored without a restart and without a new order.
  disk.free_space();
  ASSERT_TRUE(d.wait_until([&] { return d.all_issued(); }, 150s)) << d.cli("status").out << d.log();
  EXPECT_EQ(certificates_issued_by(pebble), static_cast<int>(domains.size()));
  EXPECT_EQ(count(d.cli("status").out, "could not save state"), 0);
  EXPECT_EQ(d.cli("warnings").exit_code, 0);
  expect_certificates_match_keys(d);
  EXPECT_EQ(d.log().find("PRIVATE KEY"), std::string::npos);
}

TEST(certfleetd_e2e, damaged_or_lost_state_is_refused_with_what_to_do) {
  pebble_harness pebble;
  temp_dir out;
  const auto exports = out.path() / "export";
  const auto domains = names(2, "lost");
  certfleetd_process d(pebble, domains, "export_dir " + exports.string() + "\n");
  d.start();
  ASSERT_TRUE(d.wait_until(
      [&] {
        return d.all_issued() && std::filesystem::exists(exports / (domains[0] + ".pem")) &&
               std::filesystem::exists(exports / (domains[1] + ".pem"));
      },
      60s))
      << d.log();
  ASSERT_EQ(d.stop(), 0);
  const auto data = d.state_dir() / "data.mdb";
  const auto backup = out.path() / "data.mdb.backup";
  std::filesystem::copy_file(data, backup);
  const auto restore = [&] {
    std::filesystem::copy_file(backup, data, std::filesystem::copy_options::overwrite_existing);
  };

  // Truncated to half: a message, not SIGBUS, from the daemon and from the CLI.
  std::filesystem::resize_file(data, std::filesystem::file_size(data) / 2);
  auto refused = d.start_expecting_refusal();
  EXPECT_EQ(refused.exit_code, 1) << refused.out;
  EXPECT_NE(refused.out.find("(it was truncated): restore it from a backup"), std::string::npos)
      << refused.out;
  const auto status = d.cli("status");
  EXPECT_NE(status.exit_code, 0);
  EXPECT_LT(status.exit_code, 128) << "killed by a signal: " << status.out;
  EXPECT_NE(status.out.find("was truncated"), std::string::npos) << status.out;

  // Emptied: refused, since starting over would order every certificate again.
  std::filesystem::resize_file(data, 0);
  refused = d.start_expecting_refusal();
  EXPECT_EQ(refused.exit_code, 1) << refused.out;
  EXPECT_NE(refused.out.find(data.string() + " is empty"), std::string::npos) << refused.out;
  EXPECT_NE(refused.out.find("--new-state"), std::string::npos) << refused.out;

  // The whole state directory gone, but export_dir shows certificates were issued.
  std::filesystem::remove_all(d.state_dir());
  refused = d.start_expecting_refusal();
  EXPECT_EQ(refused.exit_code, 1) << refused.out;
  EXPECT_NE(refused.out.find(exports.string() + " (export_dir) holds certificates"),
            std::string::npos)
      << refused.out;
  EXPECT_EQ(certificates_issued_by(pebble), 2) << "a refused start ordered anyway";

  // The operator's choice: --new-state starts over and obtains both again.
  d.start({"--new-state"});
  ASSERT_TRUE(d.wait_until([&] { return d.all_issued(); }, 60s)) << d.log();
  EXPECT_EQ(certificates_issued_by(pebble), 4);
  ASSERT_EQ(d.stop(), 0);

  // A restored backup is what it was: both certificates, nothing ordered again.
  restore();
  d.start();
  EXPECT_TRUE(d.all_issued());
  EXPECT_EQ(certificates_issued_by(pebble), 4);
}

TEST(certfleetd_e2e, rsa_keys_idn_names_and_the_seeds_command_names) {
  pebble_harness pebble;
  // An IDN as an operator types it; it is ordered, stored and shown as its A-label.
  const std::string idn =
                        "b\xc3\xbc"
                        "cher.e2e.test",
                    alabel = "xn--bcher-kva.e2e.test";
  certfleetd_process d(pebble, {"rsa.e2e.test", idn}, "key_type rsa2048\n");
  d.start();
  ASSERT_TRUE(d.wait_until([&] { return d.all_issued(); }, 60s)) << d.cli("status").out << d.log();
  ASSERT_TRUE(record_of(d, alabel)) << "the IDN was not stored under its A-label";
  expect_certificates_match_keys(d);
  auto store = storage::store::open(d.state_dir(), storage::open_mode::read_only);
  ASSERT_TRUE(store) << store.err().detail;
  for (const std::string name : {"rsa.e2e.test", alabel.c_str()}) {
    auto certs = store->get_certs(name);
    ASSERT_TRUE(certs && *certs) << name;
    auto key = protocol::private_key::from_pem((*certs)->current.key_pem);
    ASSERT_TRUE(key) << name;
    EXPECT_EQ(key->type(), key_type::rsa2048) << name;
  }

  // The seed's command names work as the short ones do.
  const auto status = d.cli("lets_encrypt_status");
  EXPECT_EQ(status.exit_code, 0) << status.out;
  EXPECT_EQ(status.out, d.cli("status").out);
  EXPECT_NE(status.out.find(alabel), std::string::npos) << status.out;
  const auto retried = d.cli("lets_encrypt_retry " + alabel);
  EXPECT_EQ(retried.exit_code, 0) << retried.out;
  EXPECT_EQ(retried.out,
            alabel + ": certificate is valid and not in its renewal window, nothing to do\n");
  // And a name as the operator typed it finds the same domain.
  EXPECT_EQ(d.cli("retry " + idn).out, retried.out);
}

std::string served_cn(int port, const std::string& name) {
  const auto info = served_certificate(port, name);
  return info ? info->subject_cn : "(none served)";
}

// The seed's precedence through the real daemon's TLS listener, not only choose_certificate:
// server_name rules > Let's Encrypt > rules without server_name > deprecated files.
TEST(certfleetd_e2e, the_https_listener_serves_by_the_seeds_precedence) {
  pebble_harness pebble;
  temp_dir files;
  const auto write_pair = [&](const std::string& file, const std::string& cn) {
    auto key = protocol::private_key::generate(key_type::ec_p256);
    auto cert =
        protocol::make_self_signed_pem(*key, cn, std::chrono::hours(24 * 30), wall_clock{}.now());
    std::ofstream(files.path() / (file + ".crt")) << *cert;
    std::ofstream(files.path() / (file + ".key")) << key->to_pem();
    return (files.path() / (file + ".crt")).string() + " " +
           (files.path() / (file + ".key")).string();
  };
  const int port = free_loopback_port();
  const std::string address = "127.0.0.1:" + std::to_string(port);
  const auto domains = names(2, "prec");
  certfleetd_process d(pebble, domains, "https_listen " + address + "\n");
  const std::string named_rule = address + " " + write_pair("named", "manual.named") +
                                 " server_name=" + domains[1] + ",www.manual.test\n";
  std::ofstream(d.conf_dir() / "httpd.ssl.listen")
      << named_rule << address << " " << write_pair("default", "manual.default") << "\n";
  write_pair("httpd.ssl", "deprecated.https");
  std::filesystem::copy_file(files.path() / "httpd.ssl.crt", d.conf_dir() / "httpd.ssl.crt");
  std::filesystem::copy_file(files.path() / "httpd.ssl.key", d.conf_dir() / "httpd.ssl.key");
  d.start();
  ASSERT_TRUE(d.wait_until([&] { return d.all_issued(); }, 60s)) << d.log();

  EXPECT_EQ(served_cn(port, domains[1]), "manual.named") << "server_name beats Let's Encrypt";
  EXPECT_EQ(served_cn(port, "www.manual.test"), "manual.named");
  EXPECT_EQ(served_cn(port, domains[0]), domains[0]) << "Let's Encrypt beats no server_name";
  EXPECT_EQ(served_cn(port, "other.test"), "manual.default");

  // Without the rule without server_name, the deprecated httpd.ssl.crt comes next.
  std::ofstream(d.conf_dir() / "httpd.ssl.listen") << named_rule;
  const auto reloaded = d.cli("reload");
  ASSERT_EQ(reloaded.exit_code, 0) << reloaded.out;
  EXPECT_EQ(served_cn(port, "other.test"), "deprecated.https");
  EXPECT_EQ(served_cn(port, domains[0]), domains[0]);
}

// SIGTERM while orders wait at the CA: a clean exit (the io engine destroys the waiting
// coroutines while the token store and ACME client they use still live), and the next
// start resumes the same orders. Run under tools/test --sanitize address to see the
// use-after-free this guards against.
TEST(certfleetd_e2e, sigterm_during_issuance_stops_cleanly_and_the_orders_resume) {
  pebble_options options;
  options.env.clear();  // validation waits 0-15 s: orders are still pending when stopped
  pebble_harness pebble(options);
  const auto domains = names(5, "term");
  certfleetd_process d(pebble, domains);
  d.start();
  ASSERT_TRUE(d.wait_until(
      [&] {
        for (const auto& r : d.records())
          if (!r.order_url.empty() && !r.has_cert()) return true;
        return false;
      },
      60s))
      << d.log();
  EXPECT_EQ(d.stop(), 0) << d.log();
  d.start();
  ASSERT_TRUE(d.wait_until([&] { return d.all_issued(); }, 120s)) << d.log();
  EXPECT_EQ(certificates_issued_by(pebble), static_cast<int>(domains.size()));
}

}  // namespace
}  // namespace certfleet::testing
