// http_client over TLS against scripted peers on loopback: verification with a test
// CA made by the openssl CLI, pooling, records, resets and handshake timeouts.
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

// A test CA, a certificate for "localhost" only (no IP SAN) signed by it, and an
// unrelated CA, made once with the openssl CLI.
class tls_files {
 public:
  tls_files() {
    const std::string d = dir_.path().string();
    const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes ";
    run_command("openssl req -x509 " + ec + "-days 2 -subj '/CN=net test CA' -keyout " + d +
                "/ca.key -out " + d + "/ca.pem 2>&1");
    run_command("openssl req -x509 " + ec + "-days 2 -subj '/CN=other CA' -keyout " + d +
                "/other.key -out " + d + "/other.pem 2>&1");
    run_command("openssl req " + ec + "-subj /CN=localhost -keyout " + d + "/leaf.key -out " + d +
                "/leaf.csr 2>&1");
    std::ofstream(d + "/ext.cnf") << "subjectAltName=DNS:localhost\n";
    run_command("openssl x509 -req -in " + d + "/leaf.csr -CA " + d + "/ca.pem -CAkey " + d +
                "/ca.key -CAcreateserial -days 2 -extfile " + d + "/ext.cnf -out " + d +
                "/leaf.pem 2>&1");
  }
  std::string path(const std::string& name) const { return (dir_.path() / name).string(); }

 private:
  temp_dir dir_;
};

class http_client_tls : public ::testing::Test {
 public:
  static void SetUpTestSuite() { files_ = new tls_files(); }
  static void TearDownTestSuite() {
    delete files_;
    files_ = nullptr;
  }

  // A TLS server presenting the localhost certificate that hands each connection, once
  // its handshake is done, to `serve`, and counts failed handshakes.
  using tls_handler = std::function<void(asio::ssl::stream<tcp::socket&>&, int)>;
  static fake_peer::handler tls_peer(tls_handler serve,
                                     std::atomic<int>* handshakes_failed = nullptr) {
    return [serve, handshakes_failed](tcp::socket& s, int index) {
      asio::ssl::context ctx(asio::ssl::context::tls_server);
      ctx.use_certificate_chain_file(files_->path("leaf.pem"));
      ctx.use_private_key_file(files_->path("leaf.key"), asio::ssl::context::pem);
      asio::ssl::stream<tcp::socket&> tls(s, ctx);
      boost::system::error_code ec;
      tls.handshake(asio::ssl::stream_base::server, ec);
      if (!ec) {
        serve(tls, index);
      } else if (handshakes_failed != nullptr) {
        ++*handshakes_failed;
      }
    };
  }

  // Answers every request with "tls ok".
  static fake_peer::handler tls_server(std::atomic<int>& handshakes_failed) {
    return tls_peer(
        [](asio::ssl::stream<tcp::socket&>& tls, int) {
          std::string buffer;
          while (read_request(tls, buffer))
            send(tls, "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\ntls ok");
        },
        &handshakes_failed);
  }

  static http_client_options trusting(std::chrono::milliseconds timeout = 5000ms) {
    return {.ca_bundle = files_->path("ca.pem"), .timeout = timeout};
  }

  static tls_files* files_;
};
tls_files* http_client_tls::files_ = nullptr;

TEST_F(http_client_tls, the_right_ca_bundle_works_and_the_connection_is_kept) {
  io_thread io;
  std::atomic<int> failed{0};
  fake_peer peer(tls_server(failed));
  http_client client(io.executor(), {.ca_bundle = files_->path("ca.pem"), .timeout = 5000ms});
  for (int i = 0; i < 2; ++i) {
    auto r = io.run(get(client, peer.url("/", "https", "localhost")));
    ASSERT_TRUE(r) << r.err().detail;
    EXPECT_EQ(r->body, "tls ok");
  }
  EXPECT_EQ(client.connections_opened(), 1u) << "one TLS handshake for two requests";
  EXPECT_EQ(failed, 0);
}

// What a request to the localhost TLS server by `host` fails with, trusting `ca_bundle`
// (empty: the system store).
error tls_failure(const std::string& ca_bundle, const std::string& host) {
  io_thread io;
  std::atomic<int> failed{0};
  fake_peer peer(http_client_tls::tls_server(failed));
  http_client client(io.executor(), {.ca_bundle = ca_bundle, .timeout = 5000ms});
  auto r = io.run(get(client, peer.url("/", "https", host)));
  if (r) return error{error_kind::internal, "the request succeeded"};
  return r.err();
}

TEST_F(http_client_tls, an_untrusted_certificate_is_a_tls_error) {
  const error e = tls_failure(files_->path("other.pem"), "localhost");
  EXPECT_EQ(e.kind, error_kind::tls) << e.detail;
  EXPECT_TRUE(e.retryable);
  EXPECT_NE(e.detail.find("acme_ca_bundle"), std::string::npos) << e.detail;
}

TEST_F(http_client_tls, the_system_store_does_not_trust_the_test_ca) {
  const error e = tls_failure("", "localhost");
  EXPECT_EQ(e.kind, error_kind::tls) << e.detail;
}

TEST_F(http_client_tls, a_name_the_certificate_does_not_cover_is_a_tls_error) {
  // Trusted CA, but the certificate names localhost, not 127.0.0.1.
  const error e = tls_failure(files_->path("ca.pem"), "127.0.0.1");
  EXPECT_EQ(e.kind, error_kind::tls) << e.detail;
}

TEST_F(http_client_tls, a_large_body_in_many_small_records_is_read_whole) {
  io_thread io;
  std::string body(100 * 1000, ' ');
  for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('a' + i % 26);
  fake_peer peer(tls_peer([&body](asio::ssl::stream<tcp::socket&>& tls, int) {
    std::string buffer;
    if (!read_request(tls, buffer)) return;
    send(tls, "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n");
    for (std::size_t at = 0; at < body.size(); at += 997)
      send(tls, body.substr(at, 997));  // a record each
    read_request(tls, buffer);          // keep the connection until the client is done
  }));
  http_client client(io.executor(), trusting());
  auto r = io.run(get(client, peer.url("/", "https", "localhost")));
  ASSERT_TRUE(r) << r.err().detail;
  EXPECT_EQ(r->body.size(), body.size());
  EXPECT_TRUE(r->body == body) << "the body arrives whole and in order";
  EXPECT_EQ(client.idle_connections(), 1u);
}

TEST_F(http_client_tls, a_pooled_connection_the_server_reset_is_retried_on_a_fresh_one) {
  io_thread io;
  fake_peer* peer_ptr = nullptr;
  std::atomic<bool> answer_read{false};
  fake_peer peer(
      tls_peer([&peer_ptr, &answer_read](asio::ssl::stream<tcp::socket&>& tls, int index) {
        std::string buffer;
        if (!read_request(tls, buffer)) return;
        send(tls, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n" + std::to_string(index));
        if (index == 0) {
          // An abortive close (RST, no close_notify) once the answer is read: a reset
          // discards what the client has not read yet.
          const auto give_up = std::chrono::steady_clock::now() + 5s;
          while (!answer_read && std::chrono::steady_clock::now() < give_up)
            std::this_thread::sleep_for(1ms);
          boost::system::error_code ec;
          tls.next_layer().set_option(asio::socket_base::linger(true, 0), ec);
          tls.next_layer().close(ec);
          peer_ptr->done();
          return;
        }
        read_request(tls, buffer);
      }));
  peer_ptr = &peer;
  http_client client(io.executor(), trusting());
  auto first = io.run(get(client, peer.url("/", "https", "localhost")));
  answer_read = true;
  ASSERT_TRUE(first) << first.err().detail;
  ASSERT_TRUE(peer.wait_done(1));
  std::this_thread::sleep_for(50ms);  // the reset reaches the client's socket
  auto second = io.run(get(client, peer.url("/", "https", "localhost")));
  ASSERT_TRUE(second) << "the reset connection is retried transparently: " << second.err().detail;
  EXPECT_EQ(second->body, "1");
  EXPECT_EQ(client.connections_opened(), 2u);
}

TEST_F(http_client_tls, a_server_that_never_answers_the_handshake_times_out) {
  io_thread io;
  silent_peer silent;
  fake_peer& peer = silent.peer;
  http_client client(io.executor(), trusting(200ms));
  auto r = io.run(get(client, peer.url("/", "https", "localhost")));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().kind, error_kind::timeout) << r.err().detail;
  EXPECT_NE(r.err().detail.find("timed out"), std::string::npos) << r.err().detail;
}

TEST_F(http_client_tls, a_record_after_the_response_keeps_the_connection_out_of_the_pool) {
  io_thread io;
  fake_peer peer(tls_peer([](asio::ssl::stream<tcp::socket&>& tls, int) {
    std::string buffer;
    if (!read_request(tls, buffer)) return;
    // Corked: the response and a stray record leave in one segment, so the client
    // receives both at once and decrypts only the first.
    const int fd = tls.next_layer().native_handle();
    int on = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_CORK, &on, sizeof on);
    send(tls, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    send(tls, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstray");
    on = 0;
    ::setsockopt(fd, IPPROTO_TCP, TCP_CORK, &on, sizeof on);
    read_request(tls, buffer);
  }));
  http_client client(io.executor(), trusting());
  auto r = io.run(get(client, peer.url("/", "https", "localhost")));
  ASSERT_TRUE(r) << r.err().detail;
  EXPECT_EQ(r->body, "ok");
  EXPECT_EQ(client.idle_connections(), 0u) << "its next answer would be the stray one";
}

TEST_F(http_client_tls, a_connection_cut_in_the_middle_of_a_body_is_an_error) {
  io_thread io;
  fake_peer peer(tls_peer([](asio::ssl::stream<tcp::socket&>& tls, int) {
    std::string buffer;
    if (!read_request(tls, buffer)) return;
    send(tls, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nonly ten b");
    boost::system::error_code ec;
    tls.next_layer().close(ec);  // no close_notify: a cut, not an end
  }));
  http_client client(io.executor(), trusting());
  auto r = io.run(get(client, peer.url("/", "https", "localhost")));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().kind, error_kind::network) << r.err().detail;
  EXPECT_TRUE(r.err().retryable);
  EXPECT_EQ(client.idle_connections(), 0u);
}

TEST_F(http_client_tls, a_missing_ca_bundle_is_a_start_up_error) {
  io_thread io;
  EXPECT_THROW(http_client(io.executor(), {.ca_bundle = files_->path("no-such.pem")}),
               std::runtime_error);
}

}  // namespace
}  // namespace certfleet::protocol
