// The port-80 responder (http01_server) facing real clients on loopback: what it
// serves, what it refuses, and how it treats slow, big and many clients.
#include <gtest/gtest.h>

#include "tests/protocol/net/http01_test_support.hpp"

#include <boost/asio/post.hpp>
#include <thread>

#include "protocol/net/http01_server.hpp"

namespace certfleet::protocol {
namespace {

using namespace certfleet::testing::net;
using namespace std::chrono_literals;

using http01_server_test = http01_fixture;

TEST_F(http01_server_test, serves_the_key_authorization_on_get_and_head) {
  start();
  tokens_.publish("tok_A-1", "tok_A-1.thumbprint");
  const auto res = exchange(server_->port(), get("/.well-known/acme-challenge/tok_A-1"));
  EXPECT_TRUE(res.starts_with("HTTP/1.1 200 OK\r\n")) << res;
  EXPECT_NE(res.find("Content-Length: 18\r\n"), std::string::npos) << res;
  EXPECT_EQ(body_of(res), "tok_A-1.thumbprint") << "RFC 8555 §8.3: exactly the key authorization";

  const auto head =
      exchange(server_->port(), get("/.well-known/acme-challenge/tok_A-1", "a.example", "HEAD"));
  EXPECT_TRUE(head.starts_with("HTTP/1.1 200 OK\r\n")) << head;
  EXPECT_EQ(body_of(head), "") << "HEAD has no body";
  EXPECT_EQ(server_->requests_served(), 2u);
}

// A reload's http_listen: the responder binds the new address, then closes the old one; a
// connection accepted before goes on; a taken address changes nothing.
TEST_F(http01_server_test, rebind_moves_to_a_new_address_and_a_taken_one_changes_nothing) {
  start();
  tokens_.publish("tok", "tok.thumb");
  const std::string path = "/.well-known/acme-challenge/tok";
  const unsigned short first = server_->port();
  raw_client before(first);
  before.write(get_keep_alive(path));
  ASSERT_TRUE(before.read_response()) << "accepted before the move";

  const unsigned short next = closed_port();
  auto moved = server_->rebind("127.0.0.1:" + std::to_string(next));
  ASSERT_TRUE(moved) << moved.err().detail;
  EXPECT_EQ(server_->port(), next);
  EXPECT_EQ(body_of(exchange(server_->port(), get(path))), "tok.thumb");
  before.write(get(path));
  EXPECT_EQ(body_of(before.read_to_end()), "tok.thumb") << "the old connection is still served";
  bool closed = false;
  for (int i = 0; i < 100 && !closed; ++i) {  // the old acceptor closes on the io thread
    try {
      raw_client probe(first);
    } catch (const std::exception&) {
      closed = true;
    }
    if (!closed) std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(closed) << "the old address still accepts";

  http01_server other(io_.executor(), tokens_);
  ASSERT_TRUE(other.listen("127.0.0.1:0"));
  auto taken = server_->rebind("127.0.0.1:" + std::to_string(other.port()));
  ASSERT_FALSE(taken);
  EXPECT_NE(taken.err().detail.find("http_listen"), std::string::npos) << taken.err().detail;
  EXPECT_EQ(server_->port(), next);
  EXPECT_EQ(body_of(exchange(server_->port(), get(path))), "tok.thumb") << "still where it was";
  other.stop();
}

TEST_F(http01_server_test, unknown_tokens_and_other_paths_get_404_without_echo) {
  start();
  tokens_.publish("known", "known.k");
  const std::vector<std::string> targets = {
      "/.well-known/acme-challenge/ECHOMARK",
      "/.well-known/acme-challenge/",
      "/.well-known/acme-challenge/known/ECHOMARK",
      "/.well-known/acme-challenge/known?ECHOMARK",
      "/ECHOMARK",
      "/",
      "/%3Cscript%3EECHOMARK",
  };
  for (const auto& target : targets) {
    const auto res = exchange(server_->port(), get(target, "ECHOMARK.example"));
    EXPECT_TRUE(res.starts_with("HTTP/1.1 404 Not Found\r\n")) << target << "\n" << res;
    EXPECT_EQ(res.find("ECHOMARK"), std::string::npos) << "the request is never echoed: " << res;
    EXPECT_EQ(res.find("known.k"), std::string::npos) << target;
  }
  tokens_.withdraw("known");
  EXPECT_NE(exchange(server_->port(), get("/.well-known/acme-challenge/known")).find("404"),
            std::string::npos)
      << "a withdrawn token is no longer served";
}

TEST_F(http01_server_test, other_methods_get_405_with_allow) {
  start();
  tokens_.publish("t", "t.k");
  for (const std::string method : {"POST", "PUT", "DELETE", "OPTIONS"}) {
    const auto res =
        exchange(server_->port(), method +
                                      " /.well-known/acme-challenge/t HTTP/1.1\r\nHost: a\r\n"
                                      "Content-Length: 0\r\nConnection: close\r\n\r\n");
    EXPECT_TRUE(res.starts_with("HTTP/1.1 405 Method Not Allowed\r\n")) << method << "\n" << res;
    EXPECT_NE(res.find("Allow: GET, HEAD\r\n"), std::string::npos) << res;
    EXPECT_EQ(res.find("t.k"), std::string::npos) << method;
  }
}

TEST_F(http01_server_test, a_request_with_a_body_is_refused) {
  start();
  const auto res =
      exchange(server_->port(), "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n" +
                                    std::string(5000, 'b'));
  EXPECT_NE(res.find(" 400 "), std::string::npos) << res.substr(0, 200);
}

TEST_F(http01_server_test, an_oversized_header_gets_400_and_a_close) {
  start();
  raw_client c(server_->port());
  // 16 KiB of header, twice the default limit; sent without the final CRLF so the
  // server must decide before the request ends.
  c.write("GET /.well-known/acme-challenge/x HTTP/1.1\r\nHost: a\r\nX-Big: " +
          std::string(16 * 1024, 'x') + "\r\n");
  bool closed = false;
  const auto res = c.read_to_end(&closed);
  EXPECT_TRUE(res.starts_with("HTTP/1.1 400 Bad Request\r\n")) << res.substr(0, 200);
  EXPECT_NE(res.find("Connection: close\r\n"), std::string::npos) << res;
  EXPECT_TRUE(closed) << "the server closes after a 400";
}

TEST_F(http01_server_test, garbage_gets_400_and_a_close) {
  start();
  for (const std::string& bytes :
       {std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 15),
        std::string("GET\r\n\r\n"), std::string("GET / HTTP/9.9\r\n\r\n"),
        std::string("GET / HTTP/1.1\r\nBad Header Line\r\n\r\n")}) {
    raw_client c(server_->port());
    c.write(bytes);
    bool closed = false;
    const auto res = c.read_to_end(&closed);
    EXPECT_TRUE(res.starts_with("HTTP/1.1 400 Bad Request\r\n")) << res;
    EXPECT_TRUE(closed);
  }
}

TEST_F(http01_server_test, a_client_that_sends_nothing_is_dropped_after_the_read_timeout) {
  start({.read_timeout = 200ms});
  raw_client silent(server_->port());
  raw_client partial(server_->port());
  partial.write("GET /.well-known/acme-challenge/x HTTP/1.1\r\nHost: a\r\n");
  const auto begin = std::chrono::steady_clock::now();
  bool closed = false;
  EXPECT_EQ(silent.read_to_end(&closed), "");
  EXPECT_TRUE(closed) << "dropped, not left open until our own receive timeout";
  EXPECT_EQ(partial.read_to_end(&closed), "") << "a half-sent request gets no answer";
  EXPECT_TRUE(closed);
  const auto took = std::chrono::steady_clock::now() - begin;
  EXPECT_GE(took, 150ms);
  EXPECT_LT(took, 3s);
}

TEST_F(http01_server_test, keep_alive_serves_several_requests_on_one_connection) {
  start();
  tokens_.publish("k1", "k1.a");
  tokens_.publish("k2", "k2.b");
  raw_client c(server_->port());
  for (int round = 0; round < 5; ++round) {
    const std::string token = round % 2 ? "k2" : "k1";
    c.write("GET /.well-known/acme-challenge/" + token + " HTTP/1.1\r\nHost: a\r\n\r\n");
    auto res = c.read_response();
    ASSERT_TRUE(res) << "round " << round;
    EXPECT_TRUE(res->starts_with("HTTP/1.1 200 OK\r\n")) << *res;
    EXPECT_EQ(body_of(*res), round % 2 ? "k2.b" : "k1.a");
  }
  // Pipelined: two requests in one write, two answers in order.
  c.write(
      "GET /.well-known/acme-challenge/k1 HTTP/1.1\r\nHost: a\r\n\r\n"
      "GET /.well-known/acme-challenge/nope HTTP/1.1\r\nHost: a\r\n\r\n");
  auto first = c.read_response();
  auto second = c.read_response();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(body_of(*first), "k1.a");
  EXPECT_TRUE(second->starts_with("HTTP/1.1 404")) << *second;
  EXPECT_EQ(server_->requests_served(), 7u);
}

TEST_F(http01_server_test, redirects_tls_domains_to_https_but_never_the_challenge_path) {
  start({.redirect_to_https = [](const std::string& host) {
    return host == "secure.example.com" || host == "[2001:db8::1]";
  }});
  tokens_.publish("t", "t.k");
  struct row {
    std::string host, target, location;
  };
  const std::vector<row> rows = {
      {"secure.example.com", "/", "https://secure.example.com/"},
      {"Secure.Example.COM", "/page?x=1&y=2", "https://secure.example.com/page?x=1&y=2"},
      {"secure.example.com:80", "/a/b", "https://secure.example.com/a/b"},
      {"[2001:db8::1]:80", "/v6", "https://[2001:db8::1]/v6"},
      {"[2001:db8::1]", "/v6", "https://[2001:db8::1]/v6"},
  };
  for (const auto& r : rows) {
    const auto res = exchange(server_->port(), get(r.target, r.host));
    EXPECT_TRUE(res.starts_with("HTTP/1.1 301 Moved Permanently\r\n")) << r.host << r.target << "\n"
                                                                       << res;
    EXPECT_NE(res.find("\r\nLocation: " + r.location + "\r\n"), std::string::npos) << res;
  }
  const auto challenge =
      exchange(server_->port(), get("/.well-known/acme-challenge/t", "secure.example.com"));
  EXPECT_TRUE(challenge.starts_with("HTTP/1.1 200 OK\r\n")) << challenge;
  EXPECT_EQ(body_of(challenge), "t.k");
  const auto unknown =
      exchange(server_->port(), get("/.well-known/acme-challenge/zz", "secure.example.com"));
  EXPECT_TRUE(unknown.starts_with("HTTP/1.1 404"))
      << "an unknown token is not redirected either: " << unknown;
  const auto plain = exchange(server_->port(), get("/page", "plain.example.com"));
  EXPECT_TRUE(plain.starts_with("HTTP/1.1 404")) << plain;
  const auto no_host = exchange(server_->port(), "GET /page HTTP/1.0\r\n\r\n");
  EXPECT_TRUE(no_host.starts_with("HTTP/1.0 404") || no_host.starts_with("HTTP/1.1 404"))
      << no_host;
}

TEST_F(http01_server_test, two_hundred_concurrent_connections_are_all_served) {
  start();
  tokens_.publish("many", "many.k");
  constexpr int n = 200;
  std::vector<std::unique_ptr<raw_client>> clients;
  for (int i = 0; i < n; ++i) clients.push_back(std::make_unique<raw_client>(server_->port()));
  // All 200 are open before any sends its request.
  for (auto& c : clients) c->write(get("/.well-known/acme-challenge/many"));
  int ok = 0;
  for (auto& c : clients) {
    const auto res = c->read_to_end();
    if (res.starts_with("HTTP/1.1 200 OK\r\n") && body_of(res) == "many.k") ++ok;
  }
  EXPECT_EQ(ok, n);
  EXPECT_EQ(server_->requests_served(), static_cast<std::uint64_t>(n));
}

TEST_F(http01_server_test, stop_closes_the_listener) {
  start();
  const auto port = server_->port();
  server_->stop();
  // stop() posts the close to the io thread; once a later post has run, it is done.
  ASSERT_EQ(asio::post(io_.io(), asio::use_future).wait_for(5s), std::future_status::ready);
  asio::io_context io;
  tcp::socket s(io);
  boost::system::error_code ec;
  s.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
  const bool refused = ec == asio::error::connection_refused;
  EXPECT_TRUE(refused);
}

TEST_F(http01_server_test, a_port_in_use_is_a_config_error_naming_the_address) {
  start();
  http01_server second(io_.executor(), tokens_);
  const std::string address = "127.0.0.1:" + std::to_string(server_->port());
  auto r = second.listen(address);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().kind, error_kind::config);
  EXPECT_NE(r.err().detail.find(address), std::string::npos) << r.err().detail;
}

}  // namespace
}  // namespace certfleet::protocol

namespace certfleet::protocol {
namespace {

using namespace certfleet::testing::net;

// A cluster's tokens as another node holds them (cluster/shared_challenge_tokens is the
// real one, tested against etcd in the cluster e2e test).
struct other_nodes final : shared_tokens {
  std::map<std::string, std::string> held{{"held_by_another_node", "held_by_another_node.thumb"}};
  std::vector<std::string> published, withdrawn;
  boost::asio::awaitable<void> publish(std::string token, std::string) override {
    published.push_back(std::move(token));
    co_return;
  }
  void withdraw(std::string token) override { withdrawn.push_back(std::move(token)); }
  boost::asio::awaitable<std::optional<std::string>> find(std::string token) override {
    const auto it = held.find(token);
    if (it == held.end()) co_return std::nullopt;
    co_return it->second;
  }
};

using http01_cluster_test = http01_fixture;

TEST_F(http01_cluster_test, a_token_another_node_published_is_served_here_too) {
  auto cluster = std::make_unique<other_nodes>();
  other_nodes* others = cluster.get();
  tokens_.share_with(std::move(cluster));
  start();
  const auto res =
      exchange(server_->port(), get("/.well-known/acme-challenge/held_by_another_node"));
  EXPECT_TRUE(res.starts_with("HTTP/1.1 200 OK\r\n")) << res;
  EXPECT_EQ(body_of(res), "held_by_another_node.thumb");
  const auto missing = exchange(server_->port(), get("/.well-known/acme-challenge/nobody_has_it"));
  EXPECT_TRUE(missing.starts_with("HTTP/1.1 404")) << missing;
  const auto other_path = exchange(server_->port(), get("/held_by_another_node"));
  EXPECT_TRUE(other_path.starts_with("HTTP/1.1 404")) << "only the challenge path is shared";

  // What this node serves goes to the others, and is withdrawn from them at the end.
  {
    auto served = publication::token(tokens_, "mine", "mine.thumb");
    EXPECT_EQ(body_of(exchange(server_->port(), get("/.well-known/acme-challenge/mine"))),
              "mine.thumb");
    io_.run(tokens_.shared("mine", "mine.thumb"));
  }
  EXPECT_EQ(others->published, std::vector<std::string>{"mine"});
  EXPECT_EQ(others->withdrawn, std::vector<std::string>{"mine"});
}

}  // namespace
}  // namespace certfleet::protocol
