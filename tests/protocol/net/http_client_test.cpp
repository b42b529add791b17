// http_client against scripted peers on loopback: keep-alive, stale pooled
// connections, timeouts, refused connections, size limits, truncation and the Host
// header. TLS is in http_client_tls_test.cpp.
#include <gtest/gtest.h>

#include "tests/support/net_test_support.hpp"

#include <boost/asio/ssl.hpp>
#include <fstream>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include "tests/protocol/net/http_get.hpp"
#include "tests/support/pebble_harness.hpp"
#include "tests/support/temp_dir.hpp"

namespace certfleet::protocol {
namespace {

using namespace certfleet::testing::net;
using certfleet::testing::run_command;
using certfleet::testing::temp_dir;

const std::string ok_reply =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok";

// Answers every request on a connection with `reply`, keeping it open.
fake_peer::handler keep_alive_server(fake_peer*& self, std::string reply) {
  return [&self, reply](tcp::socket& s, int) {
    std::string buffer;
    while (auto req = read_request(s, buffer)) {
      self->record(*req);
      send(s, reply);
    }
  };
}

// A peer answering every request with `reply` on kept-alive connections; the handler
// records requests through `self`, set once the peer exists.
struct keep_alive_peer {
  explicit keep_alive_peer(std::string reply) : peer(keep_alive_server(self, std::move(reply))) {
    self = &peer;
  }
  fake_peer* self = nullptr;
  fake_peer peer;
};

TEST(http_client, keep_alive_reuses_one_connection) {
  io_thread io;
  keep_alive_peer server(ok_reply);
  auto& peer = server.peer;
  http_client client(io.executor(), {.timeout = 2000ms});
  for (int i = 0; i < 3; ++i) {
    auto r = io.run(get(client, peer.url("/n" + std::to_string(i))));
    ASSERT_TRUE(r) << r.err().detail;
    EXPECT_EQ(r->status, 200u);
    EXPECT_EQ(r->body, "ok");
    EXPECT_EQ(r->content_type, "text/plain");
  }
  EXPECT_EQ(peer.accepted(), 1);
  EXPECT_EQ(client.connections_opened(), 1u);
  EXPECT_EQ(client.idle_connections(), 1u);
  EXPECT_EQ(peer.requests().size(), 3u);
}

TEST(http_client, plain_requests_to_one_address_share_a_connection_across_host_names) {
  io_thread io;
  keep_alive_peer server(ok_reply);
  auto& peer = server.peer;
  http_client client(io.executor(), {.timeout = 2000ms});
  const std::string port = std::to_string(peer.port());
  for (const std::string host : {"a.example", "b.example", "c.example"}) {
    http_request req{.method = "GET",
                     .url = "http://" + host + ":" + port + "/t",
                     .connect_address = "127.0.0.1"};
    auto r = io.run(client.request(std::move(req)));
    ASSERT_TRUE(r) << r.err().detail;
  }
  EXPECT_EQ(peer.accepted(), 1)
      << "the self-checks of many domains on one address reuse one connection";
  const auto reqs = peer.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_NE(reqs[1].find("\r\nHost: b.example:" + port + "\r\n"), std::string::npos)
      << "each request still names its own host: " << reqs[1];
}

TEST(http_client, sends_the_non_default_port_in_host_and_the_path_and_query) {
  io_thread io;
  keep_alive_peer server(ok_reply);
  auto& peer = server.peer;
  http_client client(io.executor(), {.timeout = 2000ms, .user_agent = "certfleet-test/1"});
  auto r = io.run(get(client, peer.url("/dir?x=1")));
  ASSERT_TRUE(r) << r.err().detail;
  const auto reqs = peer.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_TRUE(reqs[0].starts_with("GET /dir?x=1 HTTP/1.1\r\n")) << reqs[0];
  EXPECT_NE(reqs[0].find("\r\nHost: 127.0.0.1:" + std::to_string(peer.port()) + "\r\n"),
            std::string::npos)
      << reqs[0];
  EXPECT_NE(reqs[0].find("\r\nUser-Agent: certfleet-test/1\r\n"), std::string::npos) << reqs[0];
}

TEST(http_client, a_post_is_sent_as_one_complete_request) {
  io_thread io;
  keep_alive_peer server(ok_reply);
  auto& peer = server.peer;
  http_client client(io.executor(), {.timeout = 2000ms, .user_agent = "certfleet-test/1"});
  http_request req{.method = "POST",
                   .url = peer.url("/new-order"),
                   .content_type = "application/jose+json",
                   .body = R"({"a":1})",
                   .accept = "application/pem-certificate-chain"};
  auto r = io.run(client.request(std::move(req)));
  ASSERT_TRUE(r) << r.err().detail;
  const auto reqs = peer.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0],
            "POST /new-order HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(peer.port()) +
                "\r\nUser-Agent: certfleet-test/1\r\nAccept: application/pem-certificate-chain"
                "\r\nContent-Type: application/jose+json\r\nContent-Length: 7\r\n\r\n{\"a\":1}");
}

TEST(http_client, an_empty_post_says_content_length_0_and_a_get_says_nothing) {
  io_thread io;
  keep_alive_peer server(ok_reply);
  auto& peer = server.peer;
  http_client client(io.executor(), {.timeout = 2000ms});
  ASSERT_TRUE(io.run(get(client, peer.url("/a"), "POST")));
  ASSERT_TRUE(io.run(get(client, peer.url("/b"))));
  const auto reqs = peer.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_TRUE(reqs[0].ends_with("\r\nContent-Length: 0\r\n\r\n")) << reqs[0];
  EXPECT_EQ(reqs[1].find("Content-Length"), std::string::npos) << reqs[1];
}

TEST(http_client, a_header_value_with_a_line_break_is_refused_before_sending) {
  io_thread io;
  keep_alive_peer server(ok_reply);
  auto& peer = server.peer;
  http_client client(io.executor(), {.timeout = 2000ms});
  std::vector<http_request> requests(4, http_request{.method = "GET", .url = peer.url("/a")});
  requests[0].accept = "text/plain\r\nX-Injected: 1";
  requests[1].host_header = "a.example.com\r\nX-Injected: 1";
  requests[2].headers = {{"X-Forwarded-For", "127.0.0.1\nX-Injected: 1"}};
  requests[3].headers = {{"X-Injected: 1\r\nX-Forwarded-For", "127.0.0.1"}};
  for (auto& req : requests) {
    auto r = io.run(client.request(std::move(req)));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.err().kind, error_kind::invalid_input);
  }
  EXPECT_TRUE(peer.requests().empty());
}

TEST(http_client, a_host_header_and_extra_headers_are_sent_as_given) {
  io_thread io;
  keep_alive_peer server(ok_reply);
  auto& peer = server.peer;
  http_client client(io.executor(), {.timeout = 2000ms});
  http_request req{.method = "GET", .url = peer.url("/a")};
  req.host_header = "customer.example.com";
  req.headers = {{"X-Forwarded-Proto", "https"}};
  auto r = io.run(client.request(std::move(req)));
  ASSERT_TRUE(r) << r.err().detail;
  const auto seen = peer.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_NE(seen[0].find("\r\nHost: customer.example.com\r\n"), std::string::npos) << seen[0];
  EXPECT_NE(seen[0].find("\r\nX-Forwarded-Proto: https\r\n"), std::string::npos) << seen[0];
}

TEST(http_client, a_connection_with_bytes_after_the_response_is_not_reused) {
  io_thread io;
  // Each answer is followed by the start of a response nobody asked for.
  keep_alive_peer server(ok_reply + "HTTP/1.1 200 OK\r\n");
  auto& peer = server.peer;
  http_client client(io.executor(), {.timeout = 2000ms});
  for (int i = 0; i < 2; ++i) {
    auto r = io.run(get(client, peer.url("/n")));
    ASSERT_TRUE(r) << r.err().detail;
    EXPECT_EQ(r->body, "ok");
  }
  EXPECT_EQ(client.connections_opened(), 2u);
  EXPECT_EQ(client.idle_connections(), 0u);
}

TEST(http_client, a_pooled_connection_closed_by_the_server_is_retried_on_a_fresh_one) {
  io_thread io;
  fake_peer* peer_ptr = nullptr;
  fake_peer peer(answer_once_then_close(peer_ptr));
  peer_ptr = &peer;
  http_client client(io.executor(), {.timeout = 2000ms});
  auto first = io.run(get(client, peer.url()));
  ASSERT_TRUE(first) << first.err().detail;
  EXPECT_EQ(first->body, "0");
  ASSERT_TRUE(peer.wait_done(1));
  EXPECT_EQ(client.idle_connections(), 1u);
  auto second = io.run(get(client, peer.url()));
  ASSERT_TRUE(second) << "the stale connection is retried transparently: " << second.err().detail;
  EXPECT_EQ(second->body, "1");
  EXPECT_EQ(peer.accepted(), 2);
}

TEST(http_client, several_stale_pooled_connections_still_cost_only_one_retry) {
  io_thread io;
  fake_peer* peer_ptr = nullptr;
  fake_peer peer(answer_once_then_close(peer_ptr, 2));
  peer_ptr = &peer;
  http_client client(io.executor(), {.timeout = 2000ms});
  // Two requests in flight at once open two connections; both go to the pool.
  auto a = io.start(get(client, peer.url()));
  auto b = io.start(get(client, peer.url()));
  ASSERT_TRUE(io_thread::wait(std::move(a)));
  ASSERT_TRUE(io_thread::wait(std::move(b)));
  ASSERT_TRUE(peer.wait_done(2));
  EXPECT_EQ(client.idle_connections(), 2u);
  auto third = io.run(get(client, peer.url()));
  ASSERT_TRUE(third) << third.err().detail;
  EXPECT_EQ(third->body, "2");
  EXPECT_EQ(peer.accepted(), 3);
}

TEST(http_client, a_server_that_never_answers_times_out_within_the_timeout) {
  io_thread io;
  silent_peer silent;
  fake_peer& peer = silent.peer;
  http_client client(io.executor(), {.timeout = 200ms});
  const auto start = std::chrono::steady_clock::now();
  auto r = io.run(get(client, peer.url()));
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().kind, error_kind::timeout) << r.err().detail;
  EXPECT_TRUE(r.err().retryable);
  EXPECT_NE(r.err().detail.find("timed out"), std::string::npos) << r.err().detail;
  EXPECT_GE(took, 150ms);
  EXPECT_LT(took, 2s);
  EXPECT_EQ(client.idle_connections(), 0u);
}

TEST(http_client, a_server_that_stops_mid_header_times_out) {
  io_thread io;
  fake_peer* peer_ptr = nullptr;
  fake_peer peer([&](tcp::socket& s, int) {
    std::string buffer;
    read_request(s, buffer);
    send(s, "HTTP/1.1 200 OK\r\nContent-Le");
    peer_ptr->wait_for_stop();
  });
  peer_ptr = &peer;
  http_client client(io.executor(), {.timeout = 200ms});
  auto r = io.run(get(client, peer.url()));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().kind, error_kind::timeout) << r.err().detail;
}

TEST(http_client, connection_refused_is_a_retryable_network_error) {
  io_thread io;
  http_client client(io.executor(), {.timeout = 2000ms});
  const auto port = closed_port();
  auto r = io.run(get(client, "http://127.0.0.1:" + std::to_string(port) + "/"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().kind, error_kind::network) << r.err().detail;
  EXPECT_TRUE(r.err().retryable);
  EXPECT_NE(r.err().detail.find("127.0.0.1:" + std::to_string(port)), std::string::npos)
      << r.err().detail;
}

TEST(http_client, tls_to_a_plain_http_server_is_a_tls_error) {
  io_thread io;
  // Answers the ClientHello with plain HTTP, as a misconfigured port would.
  fake_peer peer([](tcp::socket& s, int) {
    char hello[512];
    boost::system::error_code ec;
    s.read_some(asio::buffer(hello), ec);
    send(s, ok_reply);
  });
  http_client client(io.executor(), {.timeout = 2000ms});
  auto r = io.run(get(client, peer.url("/", "https")));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().kind, error_kind::tls) << r.err().detail;
}

TEST(http_client, an_invalid_url_is_refused_before_any_connection) {
  io_thread io;
  http_client client(io.executor(), {});
  auto r = io.run(get(client, "ftp://127.0.0.1/"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().kind, error_kind::invalid_input);
  EXPECT_EQ(client.connections_opened(), 0u);
}

// A server that answers one request with `reply` and then closes.
fake_peer::handler one_reply(std::string reply) {
  return [reply](tcp::socket& s, int) {
    std::string buffer;
    if (read_request(s, buffer)) send(s, reply);
  };
}

std::string chunked(std::size_t total, std::size_t chunk) {
  std::string out;
  const std::string piece(chunk, 'x');
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", chunk);
  for (std::size_t sent = 0; sent < total; sent += chunk) out += size + piece + "\r\n";
  return out + "0\r\n\r\n";
}

TEST(http_client, bodies_over_max_body_bytes_are_refused_however_they_are_framed) {
  const std::size_t limit = 64 * 1024;
  const std::string big(200 * 1024, 'a');
  const std::vector<std::pair<const char*, std::string>> replies = {
      {"content-length",
       "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(big.size()) + "\r\n\r\n" + big},
      {"chunked",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(big.size(), 4096)},
      {"until close", "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + big},
      {"huge declared length", "HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\nabc"},
  };
  for (const auto& [framing, reply] : replies) {
    io_thread io;
    fake_peer peer(one_reply(reply));
    http_client client(io.executor(), {.timeout = 2000ms, .max_body_bytes = limit});
    auto r = io.run(get(client, peer.url()));
    ASSERT_FALSE(r) << framing;
    EXPECT_EQ(r.err().kind, error_kind::bad_response) << framing << ": " << r.err().detail;
    EXPECT_NE(r.err().detail.find(std::to_string(limit)), std::string::npos) << r.err().detail;
    EXPECT_EQ(client.idle_connections(), 0u) << framing << ": never pooled";
  }
}

TEST(http_client, a_body_just_under_the_limit_is_accepted) {
  const std::string body(64 * 1024, 'b');
  io_thread io;
  fake_peer peer(one_reply("HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) +
                           "\r\n\r\n" + body));
  http_client client(io.executor(), {.timeout = 2000ms, .max_body_bytes = body.size()});
  auto r = io.run(get(client, peer.url()));
  ASSERT_TRUE(r) << r.err().detail;
  EXPECT_EQ(r->body, body);
}

TEST(http_client, head_with_a_large_content_length_is_not_a_body) {
  io_thread io;
  fake_peer peer(
      one_reply("HTTP/1.1 200 OK\r\nContent-Length: 5000000\r\nReplay-Nonce: abc\r\n\r\n"));
  http_client client(io.executor(), {.timeout = 2000ms, .max_body_bytes = 1024});
  auto r = io.run(get(client, peer.url(), "HEAD"));
  ASSERT_TRUE(r) << r.err().detail;
  EXPECT_EQ(r->status, 200u);
  EXPECT_EQ(r->replay_nonce, "abc");
  EXPECT_TRUE(r->body.empty());
}

TEST(http_client, truncated_or_garbled_answers_are_errors_not_crashes) {
  const std::vector<std::pair<const char*, std::string>> replies = {
      {"short content-length body",
       "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly a few bytes"},
      {"unfinished chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc"},
      {"bad chunk size",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"},
      {"header cut", "HTTP/1.1 200 OK\r\nContent-Le"},
      {"nothing", ""},
      {"not http", "SSH-2.0-OpenSSH_9.2\r\n\r\n"},
      {"bad status", "HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n"},
      {"two lengths", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"},
  };
  for (const auto& [what, reply] : replies) {
    io_thread io;
    fake_peer peer(one_reply(reply));
    http_client client(io.executor(), {.timeout = 2000ms});
    auto r = io.run(get(client, peer.url()));
    ASSERT_FALSE(r) << what;
    EXPECT_TRUE(r.err().kind == error_kind::network || r.err().kind == error_kind::bad_response)
        << what << ": " << to_string(r.err().kind) << " " << r.err().detail;
    EXPECT_TRUE(r.err().retryable) << what;
    EXPECT_FALSE(r.err().detail.empty());
    EXPECT_EQ(client.idle_connections(), 0u) << what;
  }
}

}  // namespace
}  // namespace certfleet::protocol

namespace certfleet::protocol {
namespace {

using namespace certfleet::testing::net;

// A stream answer (etcd's watch): chunks arrive one by one, and a line may span two.
TEST(http_client_stream, gives_each_chunk_as_it_arrives_until_told_to_stop) {
  io_thread io;
  fake_peer peer([](tcp::socket& s, int) {
    std::string buffer;
    if (!read_request(s, buffer)) return;
    send(s, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\none\ntw\r\n");
    std::this_thread::sleep_for(50ms);
    send(s, "3\r\no\nt\r\n");
    send(s, "5\r\nhree\n\r\n");
    std::this_thread::sleep_for(500ms);  // does not end by itself
  });
  http_client client(io.executor(), {.timeout = 2000ms});
  std::string seen;
  auto r = io.run(client.stream(
      {.method = "POST", .url = peer.url("/watch"), .body = "{}"},
      [&](std::string_view data) {
        seen += data;
        return seen.find("three\n") == std::string::npos;
      },
      5000ms));
  ASSERT_TRUE(r) << r.err().detail;
  EXPECT_EQ(r->status, 200u);
  EXPECT_TRUE(r->body.empty());
  EXPECT_EQ(seen, "one\ntwo\nthree\n");
}

TEST(http_client_stream, returns_an_error_answer_whole) {
  io_thread io;
  fake_peer peer([](tcp::socket& s, int) {
    std::string buffer;
    if (!read_request(s, buffer)) return;
    send(s,
         "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 20\r\n\r\n{\"error\":\"no leader\"");
  });
  http_client client(io.executor(), {.timeout = 2000ms});
  bool called = false;
  auto r = io.run(client.stream(
      {.method = "POST", .url = peer.url("/watch")},
      [&](std::string_view) { return called = true; }, 5000ms));
  ASSERT_TRUE(r) << r.err().detail;
  EXPECT_EQ(r->status, 503u);
  EXPECT_EQ(r->body, "{\"error\":\"no leader\"");
  EXPECT_FALSE(called);
}

TEST(http_client_stream, ends_with_a_timeout_when_the_stream_goes_quiet) {
  io_thread io;
  fake_peer peer([](tcp::socket& s, int) {
    std::string buffer;
    if (!read_request(s, buffer)) return;
    send(s, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nx\n\r\n");
    std::this_thread::sleep_for(2s);
  });
  http_client client(io.executor(), {.timeout = 2000ms});
  int calls = 0;
  auto r = io.run(client.stream(
      {.method = "POST", .url = peer.url("/watch")}, [&](std::string_view) { return ++calls > 0; },
      200ms));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().kind, error_kind::timeout);
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace certfleet::protocol
