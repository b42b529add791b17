// dns_resolver and the self-check against pebble-challtestsrv as the DNS server
// (every name -> 127.0.0.1 unless told otherwise through its management API), with
// the port-80 side played by the real http01_server or by scripted peers.
#include <gtest/gtest.h>

#include "tests/support/net_test_support.hpp"

#include <algorithm>
#include <boost/asio/ip/udp.hpp>
#include <future>

#include "protocol/net/dns_resolver.hpp"
#include "protocol/net/http01_server.hpp"
#include "protocol/net/self_check.hpp"
#include "tests/support/pebble_harness.hpp"

namespace certfleet::protocol {
namespace {

using namespace certfleet::testing::net;
using certfleet::testing::pebble_harness;
using certfleet::testing::run_command;

asio::awaitable<result<dns_resolver::addresses>> lookup(dns_resolver& resolver, std::string name) {
  co_return co_await resolver.async_resolve(name);
}

// A resolver belongs to its io thread: the one replaced is destroyed there.
asio::awaitable<void> replace(std::unique_ptr<dns_resolver>& slot,
                              std::unique_ptr<dns_resolver> next) {
  slot = std::move(next);
  co_return;
}

class self_check_test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { pebble_ = new pebble_harness(); }
  static void TearDownTestSuite() {
    delete pebble_;
    pebble_ = nullptr;
  }

  void SetUp() override { use_resolver({pebble_->dns_server()}, 1000ms); }
  void TearDown() override { io_.run(replace(resolver_, nullptr)); }

  void use_resolver(const std::vector<std::string>& servers, std::chrono::milliseconds timeout) {
    auto r = dns_resolver::create(io_.executor(), servers, timeout);
    ASSERT_TRUE(r) << r.err().detail;
    io_.run(replace(resolver_, std::move(r.value())));
  }

  // POST JSON to challtestsrv's management API (the API takes names with or
  // without the trailing dot; both were checked by hand against 2.4.0).
  static void manage(const std::string& path, const std::string& json) {
    run_command("curl -sf --max-time 5 -X POST -d '" + json + "' " + pebble_->challtest_url() +
                path);
  }

  result<void> check(const std::string& domain, unsigned short port, bool tls_alpn = false) {
    return io_.run(run(domain, port, tls_alpn));
  }
  asio::awaitable<result<void>> run(std::string domain, unsigned short port, bool tls_alpn) {
    self_check_options options{.port = port, .tls_alpn = tls_alpn, .tls_port = port};
    co_return co_await run_self_check(domain, *resolver_, http_, tokens_, local_, options);
  }

  static pebble_harness* pebble_;
  io_thread io_;
  std::unique_ptr<dns_resolver> resolver_;
  http_client http_{io_.executor(), {.timeout = 2000ms}};
  token_store tokens_;
  local_addresses local_;
};
pebble_harness* self_check_test::pebble_ = nullptr;

std::string dns_failed(const std::string& name) {
  return "Self-check failed: DNS lookup failed. Check DNS and verify that \"" + name +
         "\" resolves to an IP address on this host.";
}

TEST_F(self_check_test, resolve_returns_challtestsrv_addresses) {
  auto r = io_.run(lookup(*resolver_, "anything.certfleet.test"));
  ASSERT_TRUE(r) << r.err().detail;
  EXPECT_EQ(*r, (dns_resolver::addresses{"127.0.0.1"}));

  manage("/add-a", R"({"host":"mocked.certfleet.test.","addresses":["192.0.2.1","192.0.2.2"]})");
  auto mocked = io_.run(lookup(*resolver_, "mocked.certfleet.test"));
  ASSERT_TRUE(mocked) << mocked.err().detail;
  std::sort(mocked->begin(), mocked->end());
  EXPECT_EQ(*mocked, (dns_resolver::addresses{"192.0.2.1", "192.0.2.2"}));
}

TEST_F(self_check_test, servfail_is_a_dns_error_and_the_seed_message) {
  manage("/set-servfail", R"({"host":"broken.certfleet.test"})");
  auto r = io_.run(lookup(*resolver_, "broken.certfleet.test"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().kind, error_kind::dns);
  EXPECT_TRUE(r.err().retryable);

  auto checked = check("broken.certfleet.test", 80);
  ASSERT_FALSE(checked);
  EXPECT_EQ(checked.err().kind, error_kind::self_check);
  EXPECT_TRUE(checked.err().retryable);
  EXPECT_EQ(checked.err().detail, dns_failed("broken.certfleet.test"));
  EXPECT_EQ(tokens_.size(), 0u) << "nothing published when DNS fails";
}

// This host is 127.0.0.1 alone here; 127.0.0.2 plays a public address elsewhere (a NAT
// gateway's, a load balancer's), so no test traffic leaves loopback.
TEST_F(self_check_test,
       a_name_pointing_elsewhere_that_does_not_reach_us_is_not_an_address_of_this_host) {
  local_ = local_addresses({"127.0.0.1"});
  manage("/add-a", R"({"host":"elsewhere.certfleet.test.","addresses":["127.0.0.2"]})");
  auto checked = check("elsewhere.certfleet.test", closed_port());
  ASSERT_FALSE(checked);
  EXPECT_EQ(checked.err().kind, error_kind::self_check);
  EXPECT_EQ(checked.err().detail,
            "Self-check failed: \"elsewhere.certfleet.test\" resolves to 127.0.0.2, which is not "
            "an address of this host. Check DNS and verify that \"elsewhere.certfleet.test\" "
            "resolves to an IP address on this host.");
  EXPECT_EQ(tokens_.size(), 0u);
}

// Behind NAT the domain's address is not on any interface, yet it reaches certfleet: the
// fetched token proves it, as the CA's validation will.
TEST_F(self_check_test, an_address_elsewhere_that_reaches_us_passes_as_behind_nat) {
  local_ = local_addresses({"127.0.0.1"});
  http01_server server(io_.executor(), tokens_);
  ASSERT_TRUE(server.listen("127.0.0.2:0"));
  manage("/add-a", R"({"host":"nat.certfleet.test.","addresses":["127.0.0.2"]})");
  auto checked = check("nat.certfleet.test", server.port());
  EXPECT_TRUE(checked) << checked.err().detail;
  EXPECT_EQ(server.requests_served(), 1u);
  server.stop();
}

// The CA may validate over any of the A and AAAA addresses: one that does not reach
// certfleet fails the check, though another does.
TEST_F(self_check_test, every_address_must_reach_us_including_the_ipv6_one) {
  http01_server server(io_.executor(), tokens_);
  ASSERT_TRUE(server.listen("127.0.0.1:0"));
  manage("/add-aaaa", R"({"host":"dual.certfleet.test.","addresses":["::1"]})");
  auto addresses = io_.run(lookup(*resolver_, "dual.certfleet.test"));
  ASSERT_TRUE(addresses) << addresses.err().detail;
  std::sort(addresses->begin(), addresses->end());
  EXPECT_EQ(*addresses, (dns_resolver::addresses{"127.0.0.1", "::1"}));
  auto checked = check("dual.certfleet.test", server.port());
  ASSERT_FALSE(checked) << "nothing listens on [::1]";
  EXPECT_NE(checked.err().detail.find("::1"), std::string::npos) << checked.err().detail;
  EXPECT_TRUE(checked.err().detail.starts_with("Self-check failed: ")) << checked.err().detail;
  EXPECT_EQ(tokens_.size(), 0u);
  server.stop();
  manage("/clear-aaaa", R"({"host":"dual.certfleet.test."})");
}

TEST_F(self_check_test, nothing_listening_on_the_port_is_the_connection_message) {
  const auto port = closed_port();
  auto checked = check("closed.certfleet.test", port);
  ASSERT_FALSE(checked);
  const auto& detail = checked.err().detail;
  const std::string p = std::to_string(port);
  EXPECT_TRUE(detail.starts_with(
      "Self-check failed: could not fetch a test token from \"closed.certfleet.test\" "
      "(127.0.0.1) on port " +
      p + ": "))
      << detail;
  EXPECT_TRUE(detail.ends_with(". Check that certfleet's HTTP server listens on port " + p +
                               " and that no firewall blocks it."))
      << detail;
  EXPECT_EQ(tokens_.size(), 0u) << "the test token is withdrawn after a failure";
}

// With TLS-ALPN-01 the check is a handshake with the HTTPS listener (RFC 8737).
TEST_F(self_check_test, tls_alpn_with_nothing_listening_says_to_check_https_listen) {
  const auto port = closed_port();
  auto checked = check("closed.certfleet.test", port, true);
  ASSERT_FALSE(checked);
  const auto& detail = checked.err().detail;
  const std::string p = std::to_string(port);
  EXPECT_TRUE(
      detail.starts_with("Self-check failed: could not make a TLS-ALPN-01 handshake with "
                         "\"closed.certfleet.test\" (127.0.0.1) on port " +
                         p + ": "))
      << detail;
  EXPECT_TRUE(detail.ends_with(". Check that certfleet's https_listen is on port " + p +
                               " and that no firewall blocks it."))
      << detail;
  EXPECT_FALSE(tokens_.find_alpn("closed.certfleet.test")) << "the test certificate is withdrawn";
}

TEST_F(self_check_test, tls_alpn_against_a_server_without_the_test_certificate_fails) {
  http01_server plain(io_.executor(), tokens_);  // not TLS at all
  ASSERT_TRUE(plain.listen("127.0.0.1:0"));
  auto checked = check("plain.certfleet.test", plain.port(), true);
  ASSERT_FALSE(checked);
  EXPECT_TRUE(
      checked.err().detail.starts_with("Self-check failed: could not make a TLS-ALPN-01 handshake"))
      << checked.err().detail;
  plain.stop();
}

TEST_F(self_check_test, another_web_server_on_the_port_is_the_wrong_response_message) {
  for (const std::string& reply :
       {std::string("HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found"),
        std::string("HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nwelcome page")}) {
    fake_peer peer([reply](tcp::socket& s, int) {
      std::string buffer;
      if (read_request(s, buffer)) send(s, reply);
    });
    auto checked = check("other-server.certfleet.test", peer.port());
    ASSERT_FALSE(checked);
    const std::string status = reply.substr(9, 3);
    EXPECT_EQ(
        checked.err().detail,
        "Self-check failed: \"other-server.certfleet.test\" (127.0.0.1) on port " +
            std::to_string(peer.port()) + " answered HTTP " + status +
            " without the test token. Check that port " + std::to_string(peer.port()) +
            " of \"other-server.certfleet.test\" reaches certfleet and not another web server.");
  }
}

TEST_F(self_check_test, a_silent_server_on_the_port_fails_within_the_client_timeout) {
  silent_peer silent;
  fake_peer& peer = silent.peer;
  const auto begin = std::chrono::steady_clock::now();
  auto checked = check("silent.certfleet.test", peer.port());
  ASSERT_FALSE(checked);
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 10s);
  EXPECT_TRUE(checked.err().detail.starts_with("Self-check failed: could not fetch a test token"))
      << checked.err().detail;
  EXPECT_NE(checked.err().detail.find("timed out"), std::string::npos) << checked.err().detail;
}

TEST_F(self_check_test, a_working_http01_server_passes_and_nothing_is_left_behind) {
  http01_server server(io_.executor(), tokens_);
  ASSERT_TRUE(server.listen("127.0.0.1:0"));
  for (const std::string name : {"works.certfleet.test", "works2.certfleet.test"}) {
    auto checked = check(name, server.port());
    EXPECT_TRUE(checked) << checked.err().detail;
  }
  EXPECT_EQ(tokens_.size(), 0u) << "the test tokens are withdrawn";
  EXPECT_EQ(server.requests_served(), 2u);
  EXPECT_EQ(http_.connections_opened(), 1u) << "self-checks on one address share a connection";
  EXPECT_EQ(http_.idle_connections(), 1u);
  server.stop();
}

TEST_F(self_check_test, an_unreachable_dns_server_fails_as_a_dns_lookup_in_bounded_time) {
  use_resolver({"127.0.0.1:" + std::to_string(closed_port())}, 200ms);
  const auto begin = std::chrono::steady_clock::now();
  auto checked = check("nodns.certfleet.test", 80);
  ASSERT_FALSE(checked);
  EXPECT_EQ(checked.err().detail, dns_failed("nodns.certfleet.test"));
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 5s);
}

TEST_F(self_check_test, every_failure_starts_with_self_check_failed) {
  manage("/set-servfail", R"({"host":"sf2.certfleet.test."})");
  local_ = local_addresses({"127.0.0.1"});
  manage("/add-a", R"({"host":"far2.certfleet.test","addresses":["127.0.0.3"]})");
  fake_peer wrong([](tcp::socket& s, int) {
    std::string buffer;
    if (read_request(s, buffer)) send(s, "HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n");
  });
  const std::vector<std::pair<std::string, unsigned short>> cases = {
      {"sf2.certfleet.test", 80},
      {"far2.certfleet.test", closed_port()},
      {"refused.certfleet.test", closed_port()},
      {"wrong.certfleet.test", wrong.port()},
      {"bad name with spaces", 80}};
  for (const auto& [name, port] : cases) {
    auto checked = check(name, port);
    ASSERT_FALSE(checked) << name;
    EXPECT_EQ(checked.err().kind, error_kind::self_check) << name;
    EXPECT_TRUE(checked.err().detail.starts_with("Self-check failed: ")) << checked.err().detail;
    EXPECT_NE(checked.err().detail.find("Check "), std::string::npos)
        << "says what to do: " << checked.err().detail;
  }
}

TEST(dns_resolver_setup, the_hosts_file_is_not_consulted) {
  // localhost is in /etc/hosts on every Debian system. With no DNS server answering,
  // only the hosts file could resolve it; the self-check must see what the CA sees.
  io_thread io;
  auto r =
      dns_resolver::create(io.executor(), {"127.0.0.1:" + std::to_string(closed_port())}, 200ms);
  ASSERT_TRUE(r) << r.err().detail;
  std::unique_ptr<dns_resolver> resolver = std::move(r.value());
  auto addresses = io.run(lookup(*resolver, "localhost"));
  io.run(replace(resolver, nullptr));
  ASSERT_FALSE(addresses) << "resolved from the hosts file to " << addresses->front();
  EXPECT_EQ(addresses.err().kind, error_kind::dns) << addresses.err().detail;
}

TEST(dns_resolver_setup, many_lookups_at_once_all_get_their_own_answer) {
  // Every lookup fails fast against a closed port; what matters is that each of the
  // concurrent ones is answered exactly once, on the io thread, and nothing is left.
  io_thread io;
  auto r =
      dns_resolver::create(io.executor(), {"127.0.0.1:" + std::to_string(closed_port())}, 200ms);
  ASSERT_TRUE(r) << r.err().detail;
  std::unique_ptr<dns_resolver> resolver = std::move(r.value());
  std::vector<std::future<result<dns_resolver::addresses>>> answers;
  for (int i = 0; i < 20; ++i)
    answers.push_back(io.start(lookup(*resolver, "n" + std::to_string(i) + ".certfleet.test")));
  for (int i = 0; i < 20; ++i) {
    auto answer = io_thread::wait(std::move(answers[static_cast<std::size_t>(i)]));
    ASSERT_FALSE(answer);
    EXPECT_NE(answer.err().detail.find("\"n" + std::to_string(i) + ".certfleet.test\""),
              std::string::npos)
        << answer.err().detail;
  }
  io.run(replace(resolver, nullptr));
}

TEST(dns_resolver_setup, a_dns_server_that_never_answers_times_out) {
  // A bound UDP socket nobody reads: only c-ares' own timeout, run by the io thread's
  // timer, can end the lookup.
  io_thread io;
  asio::ip::udp::socket silent(io.io(),
                               asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  auto r = dns_resolver::create(
      io.executor(), {"127.0.0.1:" + std::to_string(silent.local_endpoint().port())}, 200ms);
  ASSERT_TRUE(r) << r.err().detail;
  std::unique_ptr<dns_resolver> resolver = std::move(r.value());
  const auto begin = std::chrono::steady_clock::now();
  auto answer = io.run(lookup(*resolver, "silent.certfleet.test"));
  const auto took = std::chrono::steady_clock::now() - begin;
  io.run(replace(resolver, nullptr));
  ASSERT_FALSE(answer);
  EXPECT_EQ(answer.err().kind, error_kind::dns) << answer.err().detail;
  EXPECT_GE(took, 200ms) << "answered before any timeout could have passed";
  EXPECT_LT(took, 5s);
}

TEST(dns_resolver_setup, invalid_servers_are_a_config_error) {
  asio::io_context io;
  auto r = dns_resolver::create(io.get_executor(), {"not-an-ip"}, 200ms);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().kind, error_kind::config);
  EXPECT_NE(r.err().detail.find("not-an-ip"), std::string::npos) << r.err().detail;
}

}  // namespace
}  // namespace certfleet::protocol
