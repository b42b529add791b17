// Bad input over the network, against real sockets on loopback: the port-80
// responder facing odd clients, the HTTP client facing odd servers, and the ACME
// parsers facing odd CA answers. Every case ends in an error value, never a crash
// or a hang.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <future>
#include <thread>

#include "protocol/acme_types.hpp"
#include "protocol/http01_server.hpp"
#include "protocol/http_client.hpp"
#include "protocol/url.hpp"
#include "tests/protocol/net_test_support.hpp"

namespace certfleet::protocol {
namespace {

using namespace certfleet::testing::net;

// Sends raw bytes to 127.0.0.1:port and returns everything the server answers
// before closing (bounded by a receive timeout).
std::string raw_exchange(unsigned short port, const std::string& bytes) {
  asio::io_context io;
  tcp::socket s(io);
  s.connect({asio::ip::make_address("127.0.0.1"), port});
  timeval tv{5, 0};
  ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  asio::write(s, asio::buffer(bytes));
  std::string out;
  boost::system::error_code ec;
  char buf[4096];
  while (std::size_t n = s.read_some(asio::buffer(buf), ec)) out.append(buf, n);
  return out;
}

class responder_test : public ::testing::Test {
 protected:
  void start(http01_options options = {}) {
    server_ = std::make_unique<http01_server>(io_.io().get_executor(), tokens_, std::move(options));
    ASSERT_TRUE(server_->listen("127.0.0.1:0"));
  }
  void TearDown() override {
    if (server_) server_->stop();
  }
  io_thread io_;
  token_store tokens_;
  std::unique_ptr<http01_server> server_;
};

TEST_F(responder_test, answers_live_tokens_only_and_never_echoes_the_request) {
  start();
  tokens_.publish("tok123", "tok123.thumb");
  auto ok = raw_exchange(server_->port(), "GET /.well-known/acme-challenge/tok123 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  EXPECT_NE(ok.find("200 OK"), std::string::npos);
  EXPECT_NE(ok.find("\r\n\r\ntok123.thumb"), std::string::npos);
  auto head = raw_exchange(server_->port(), "HEAD /.well-known/acme-challenge/tok123 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  EXPECT_NE(head.find("200 OK"), std::string::npos);
  EXPECT_EQ(head.find("tok123.thumb"), std::string::npos) << "HEAD has no body";
  auto unknown = raw_exchange(server_->port(), "GET /.well-known/acme-challenge/<script>evil HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  EXPECT_NE(unknown.find("404"), std::string::npos);
  EXPECT_EQ(unknown.find("evil"), std::string::npos) << "the path is not echoed";
  auto post = raw_exchange(server_->port(), "POST /.well-known/acme-challenge/tok123 HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  EXPECT_NE(post.find("405"), std::string::npos);
  tokens_.withdraw("tok123");
  auto gone = raw_exchange(server_->port(), "GET /.well-known/acme-challenge/tok123 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  EXPECT_NE(gone.find("404"), std::string::npos);
}

TEST_F(responder_test, oversized_or_malformed_requests_get_400_and_a_close) {
  start();
  const std::string huge = "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + std::string(20000, 'x') + "\r\n\r\n";
  auto big = raw_exchange(server_->port(), huge);
  EXPECT_NE(big.find("400"), std::string::npos);
  auto garbage = raw_exchange(server_->port(), "\x16\x03\x01 not http at all\r\n\r\n");
  EXPECT_NE(garbage.find("400"), std::string::npos);
}

TEST_F(responder_test, idle_clients_are_dropped_after_the_read_timeout) {
  start({.read_timeout = 200ms});
  asio::io_context io;
  tcp::socket s(io);
  s.connect({asio::ip::make_address("127.0.0.1"), server_->port()});
  timeval tv{5, 0};
  ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const auto start_time = std::chrono::steady_clock::now();
  char buf[16];
  boost::system::error_code ec;
  s.read_some(asio::buffer(buf), ec);
  EXPECT_EQ(ec, asio::error::eof) << ec.message();
  EXPECT_LT(std::chrono::steady_clock::now() - start_time, 3s);
}

TEST_F(responder_test, keep_alive_and_redirects_for_tls_domains_but_never_for_challenges) {
  start({.redirect_to_https = [](const std::string& host) { return host == "secure.example.com"; }});
  tokens_.publish("t", "t.k");
  auto two = raw_exchange(server_->port(),
                          "GET /.well-known/acme-challenge/t HTTP/1.1\r\nHost: secure.example.com\r\n\r\n"
                          "GET /page?x=1 HTTP/1.1\r\nHost: secure.example.com:80\r\nConnection: close\r\n\r\n");
  EXPECT_NE(two.find("200 OK"), std::string::npos) << "the challenge path is never redirected";
  EXPECT_NE(two.find("301"), std::string::npos);
  EXPECT_NE(two.find("Location: https://secure.example.com/page?x=1"), std::string::npos) << two;
  auto other = raw_exchange(server_->port(), "GET /page HTTP/1.1\r\nHost: plain.example.com\r\nConnection: close\r\n\r\n");
  EXPECT_NE(other.find("404"), std::string::npos);
}

// A fake peer that answers every connection with `reply` (after reading a little).
class fake_server {
 public:
  explicit fake_server(std::string reply, std::chrono::milliseconds delay = 0ms)
      : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}), reply_(std::move(reply)), delay_(delay) {
    thread_ = std::thread([this] {
      for (int i = 0; i < 4; ++i) {
        boost::system::error_code ec;
        tcp::socket s(io_);
        acceptor_.accept(s, ec);
        if (ec || stop_) return;
        ++accepted_;
        char buf[4096];
        s.read_some(asio::buffer(buf), ec);
        std::this_thread::sleep_for(delay_);
        asio::write(s, asio::buffer(reply_), ec);
      }
    });
  }
  ~fake_server() {
    stop_ = true;
    boost::system::error_code ec;
    tcp::socket poke(io_);
    poke.connect(acceptor_.local_endpoint(), ec);
    thread_.join();
  }
  std::string url(const std::string& path = "/") const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + path;
  }

 private:
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::string reply_;
  std::chrono::milliseconds delay_;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

asio::awaitable<result<http_response>> get(http_client& client, std::string url) {
  http_request req{.method = "GET", .url = std::move(url)};
  co_return co_await client.request(std::move(req));
}

TEST(http_client_faults, a_silent_server_times_out) {
  io_thread io;
  fake_server silent("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 3000ms);
  http_client client(io.io().get_executor(), {.timeout = 300ms});
  auto r = io.run(get(client, silent.url()));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().kind, error_kind::timeout) << r.err().detail;
  EXPECT_TRUE(r.err().retryable);
}

TEST(http_client_faults, a_huge_body_is_refused) {
  io_thread io;
  fake_server huge("HTTP/1.1 200 OK\r\nContent-Length: 5000000\r\n\r\n" + std::string(5000000, 'a'));
  http_client client(io.io().get_executor(), {.max_body_bytes = 1 << 20});
  auto r = io.run(get(client, huge.url()));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().kind, error_kind::bad_response) << r.err().detail;
}

TEST(http_client_faults, a_truncated_body_is_an_error) {
  io_thread io;
  fake_server cut("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly a few bytes");
  http_client client(io.io().get_executor(), {.timeout = 2000ms});
  auto r = io.run(get(client, cut.url()));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().kind, error_kind::network) << r.err().detail;
}

TEST(http_client_faults, nobody_listening_is_a_retryable_network_error) {
  io_thread io;
  http_client client(io.io().get_executor(), {});
  auto r = io.run(get(client, "http://127.0.0.1:1/"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().kind, error_kind::network);
  EXPECT_TRUE(r.err().retryable);
}

TEST(http_client_faults, tls_to_a_plain_server_fails_verification_cleanly) {
  io_thread io;
  fake_server plain("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  http_client client(io.io().get_executor(), {.timeout = 2000ms});
  std::string url = plain.url();
  url.replace(0, 4, "https");
  auto r = io.run(get(client, url));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().kind, error_kind::tls) << r.err().detail;
}

TEST(acme_answers, malformed_documents_are_errors_not_crashes) {
  const std::vector<std::string> bodies = {
      "", "{", "[]", "null", "\"string\"", "<html>502 Bad Gateway</html>", "{\"status\": 5}",
      "{\"status\":\"pending\"}", std::string(100000, '{'), "{\"challenges\": \"x\", \"status\": \"pending\"}"};
  for (const auto& body : bodies) {
    EXPECT_FALSE(parse_directory(body)) << body.substr(0, 40);
    EXPECT_FALSE(parse_order("https://ca/order/1", body)) << body.substr(0, 40);
  }
  EXPECT_FALSE(parse_authorization("https://ca/authz/1", "{}"));
  auto ok = parse_authorization("https://ca/authz/1", R"({"status":"pending","challenges":"x"})");
  ASSERT_TRUE(ok) << "a wrong-typed optional member is ignored";
  EXPECT_TRUE(ok->challenges.empty());
  auto dir = parse_directory(R"({"newNonce":"https://ca/n","newAccount":"https://ca/a","newOrder":"https://ca/o"})");
  ASSERT_TRUE(dir);
  EXPECT_EQ(dir->new_order, "https://ca/o");
}

TEST(urls, parse_table) {
  struct row {
    const char* url;
    bool ok;
    const char* host;
    const char* port;
    const char* target;
  };
  const row rows[] = {
      {"https://ca.example/dir", true, "ca.example", "443", "/dir"},
      {"http://a:8080", true, "a", "8080", "/"},
      {"https://[::1]:14000/dir?x=1", true, "::1", "14000", "/dir?x=1"},
      {"https://a?q", true, "a", "443", "/?q"},
      {"ftp://a/", false, "", "", ""},
      {"https://a:99999/", false, "", "", ""},
      {"https://a:x/", false, "", "", ""},
      {"https://user@a/", false, "", "", ""},
      {"https://", false, "", "", ""},
  };
  for (const auto& r : rows) {
    auto u = parse_url(r.url);
    ASSERT_EQ(u.ok(), r.ok) << r.url;
    if (!r.ok) continue;
    EXPECT_EQ(u->host, r.host) << r.url;
    EXPECT_EQ(u->port, r.port) << r.url;
    EXPECT_EQ(u->target, r.target) << r.url;
  }
}

}  // namespace
}  // namespace certfleet::protocol
