// Real TLS handshakes on loopback: the certificate served per SNI name.
#include "serving/https_server.hpp"

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <map>
#include <mutex>
#include <thread>

#include "protocol/crypto/crypto.hpp"
#include "tests/support/net_test_support.hpp"

namespace certfleet::serving {
namespace {

namespace http = boost::beast::http;
using namespace certfleet::testing::net;

pem_pair make(const std::string& cn) {
  auto key = protocol::private_key::generate(key_type::ec_p256);
  auto cert = protocol::make_self_signed_pem(*key, cn, std::chrono::hours(24), wall_clock{}.now());
  return {*cert, key->to_pem()};
}

// A client connection with SNI; the server certificate's CN.
struct client {
  asio::io_context io;
  asio::ssl::context ctx{asio::ssl::context::tls_client};
  asio::ssl::stream<tcp::socket> stream{io, ctx};

  client(unsigned short port, const std::string& sni, const std::string& alpn = "") {
    ctx.set_verify_mode(asio::ssl::verify_none);  // the test inspects the certificate itself
    tcp::resolver r(io);
    asio::connect(stream.lowest_layer(), r.resolve("127.0.0.1", std::to_string(port)));
    if (!sni.empty()) SSL_set_tlsext_host_name(stream.native_handle(), sni.c_str());
    if (!alpn.empty()) {
      const std::string wire = static_cast<char>(alpn.size()) + alpn;
      SSL_set_alpn_protos(stream.native_handle(),
                          reinterpret_cast<const unsigned char*>(wire.data()),
                          static_cast<unsigned>(wire.size()));
    }
    stream.handshake(asio::ssl::stream_base::client);
  }
  std::string served_pem() {
    X509* cert = SSL_get1_peer_certificate(stream.native_handle());
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(bio, cert);
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    std::string pem(data, static_cast<std::size_t>(n));
    BIO_free(bio);
    X509_free(cert);
    return pem;
  }
  std::string negotiated_protocol() {
    const unsigned char* p = nullptr;
    unsigned n = 0;
    SSL_get0_alpn_selected(stream.native_handle(), &p, &n);
    return std::string(reinterpret_cast<const char*>(p), n);
  }
  std::string served_cn() {
    X509* cert = SSL_get1_peer_certificate(stream.native_handle());
    char buf[256] = {};
    X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, buf, sizeof buf);
    X509_free(cert);
    return buf;
  }
  http::response<http::string_body> get(const std::string& target, const std::string& host = "x") {
    http::request<http::empty_body> req{http::verb::get, target, 11};
    req.set(http::field::host, host);
    http::write(stream, req);
    boost::beast::flat_buffer b;
    http::response<http::string_body> res;
    http::read(stream, b, res);
    return res;
  }
  unsigned get_status() { return get("/").result_int(); }
};

class https_server_test : public ::testing::Test {
 protected:
  void SetUp() override { start({}); }
  void start(https_options options) {
    options.tls_alpn_answers =
        [this](const std::string& name) -> std::optional<protocol::alpn_answer> {
      std::lock_guard lock(mutex_);
      auto it = challenges_.find(name);
      if (it == challenges_.end()) return std::nullopt;
      return it->second;
    };
    certs_["a.example.com"] = make("a.example.com");
    certs_["b.example.com"] = make("b.example.com");
    certs_[""] = make("default.example.com");
    server_ = std::make_unique<https_server>(
        io_.get_executor(),
        [this](const std::string& name) {
          std::lock_guard lock(mutex_);
          ++lookups_[name];
          auto it = certs_.find(name);
          return it == certs_.end() ? std::optional<pem_pair>(certs_.at(""))
                                    : std::optional<pem_pair>(it->second);
        },
        options);
    ASSERT_TRUE(server_->listen("127.0.0.1:0"));
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override { stop(); }
  void stop() {
    if (!thread_.joinable()) return;
    server_->stop();
    work_.reset();
    io_.stop();
    thread_.join();
  }
  // Restarts the server forwarding to `upstream` ("host:port").
  void restart_with_upstream(const std::string& upstream) {
    stop();
    io_.restart();
    work_.emplace(io_.get_executor());
    start({.upstream = upstream});
  }
  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_{
      io_.get_executor()};
  std::unique_ptr<https_server> server_;
  std::thread thread_;
  std::mutex mutex_;
  std::map<std::string, pem_pair> certs_;
  std::map<std::string, int> lookups_;
  std::map<std::string, protocol::alpn_answer> challenges_;
};

// RFC 8737: acme-tls/1 with a name whose challenge is published gets the challenge
// certificate and that protocol; any other handshake is served as usual.
TEST_F(https_server_test, answers_a_tls_alpn_01_challenge_only_to_acme_tls_for_its_name) {
  auto key = protocol::private_key::generate(key_type::ec_p256);
  ASSERT_TRUE(key);
  const std::string digest = protocol::tls_alpn_digest("tok.thumb");
  auto cert = protocol::make_self_signed_pem(*key, "a.example.com", std::chrono::hours(1),
                                             wall_clock{}.now(), digest);
  ASSERT_TRUE(cert);
  {
    std::lock_guard lock(mutex_);
    challenges_["a.example.com"] = {*cert, key->to_pem()};
  }
  client challenged(server_->port(), "A.example.com", "acme-tls/1");
  EXPECT_EQ(protocol::acme_identifier_of(challenged.served_pem()), digest);
  EXPECT_EQ(challenged.negotiated_protocol(), "acme-tls/1");
  boost::system::error_code ec;
  char byte = 0;
  challenged.stream.read_some(asio::buffer(&byte, 1), ec);
  EXPECT_TRUE(ec) << "the server sends nothing after the handshake";

  client browser(server_->port(), "a.example.com", "http/1.1");
  EXPECT_FALSE(protocol::acme_identifier_of(browser.served_pem()));
  EXPECT_EQ(browser.served_cn(), "a.example.com");
  EXPECT_EQ(browser.get_status(), 404u) << "served as usual";
  client other(server_->port(), "b.example.com", "acme-tls/1");
  EXPECT_FALSE(protocol::acme_identifier_of(other.served_pem())) << "no challenge for b";
}

TEST_F(https_server_test, serves_the_certificate_chosen_for_each_sni_name) {
  EXPECT_EQ(client(server_->port(), "a.example.com").served_cn(), "a.example.com");
  EXPECT_EQ(client(server_->port(), "B.Example.com").served_cn(), "b.example.com");
  EXPECT_EQ(client(server_->port(), "other.example.com").served_cn(), "default.example.com");
  EXPECT_EQ(client(server_->port(), "").served_cn(), "default.example.com") << "no SNI";
}

TEST_F(https_server_test, certificates_are_loaded_once_and_reloaded_after_invalidation) {
  client first(server_->port(), "a.example.com");
  client(server_->port(), "a.example.com");
  {
    std::lock_guard lock(mutex_);
    EXPECT_EQ(lookups_["a.example.com"], 1) << "cached after first use";
    certs_["a.example.com"] = make("renewed.a.example.com");
  }
  server_->invalidate({"a.example.com"});
  // Invalidation is posted to the server's thread; a handshake after it sees it.
  std::string cn;
  for (int i = 0; i < 50 && cn != "renewed.a.example.com"; ++i)
    cn = client(server_->port(), "a.example.com").served_cn();
  EXPECT_EQ(cn, "renewed.a.example.com");
  EXPECT_EQ(first.served_cn(), "a.example.com");
  EXPECT_EQ(first.get_status(), 404u)
      << "the connection opened before still works (no upstream: 404)";
}

// An upstream that records each request and answers "upstream says hi".
fake_peer::handler recording_upstream(fake_peer*& self) {
  return [&self](tcp::socket& s, int) {
    std::string buffer;
    while (auto request = read_request(s, buffer)) {
      self->record(*request);
      send(s,
           "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 17\r\n\r\nupstream says "
           "hi\n");
    }
  };
}

TEST_F(https_server_test, forwards_with_the_clients_host_and_x_forwarded_headers) {
  fake_peer* self = nullptr;
  fake_peer upstream(recording_upstream(self));
  self = &upstream;
  restart_with_upstream("127.0.0.1:" + std::to_string(upstream.port()));

  const auto res = client(server_->port(), "a.example.com").get("/path?q=1", "a.example.com");
  EXPECT_EQ(res.result_int(), 200u);
  EXPECT_EQ(res.body(), "upstream says hi\n");
  EXPECT_EQ(res[http::field::content_type], "text/html");
  const auto seen = upstream.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].substr(0, seen[0].find("\r\n")), "GET /path?q=1 HTTP/1.1");
  EXPECT_NE(seen[0].find("\r\nHost: a.example.com\r\n"), std::string::npos) << seen[0];
  EXPECT_NE(seen[0].find("\r\nX-Forwarded-For: 127.0.0.1\r\n"), std::string::npos) << seen[0];
  EXPECT_NE(seen[0].find("\r\nX-Forwarded-Proto: https\r\n"), std::string::npos) << seen[0];
}

// A reload sets, changes or removes http_upstream without a restart of the listener.
TEST_F(https_server_test, a_reload_changes_the_upstream_for_the_requests_that_follow) {
  fake_peer* self = nullptr;
  fake_peer upstream(recording_upstream(self));
  self = &upstream;
  EXPECT_EQ(client(server_->port(), "a.example.com").get("/", "a.example.com").result_int(), 404u);
  server_->set_upstream("127.0.0.1:" + std::to_string(upstream.port()));
  const auto res = client(server_->port(), "a.example.com").get("/x", "a.example.com");
  EXPECT_EQ(res.result_int(), 200u);
  EXPECT_EQ(upstream.requests().size(), 1u);
  server_->set_upstream("");
  EXPECT_EQ(client(server_->port(), "a.example.com").get("/", "a.example.com").result_int(), 404u);
  EXPECT_EQ(upstream.requests().size(), 1u);
}

TEST_F(https_server_test, a_target_not_starting_with_a_slash_is_refused_not_forwarded) {
  fake_peer* self = nullptr;
  fake_peer upstream(recording_upstream(self));
  self = &upstream;
  restart_with_upstream("127.0.0.1:" + std::to_string(upstream.port()));
  // Appended to "127.0.0.1:PORT", "5/x" would have gone to port PORT5.
  for (const char* target : {"5/x", "@evil.example/x", "*"}) {
    EXPECT_EQ(client(server_->port(), "a.example.com").get(target).result_int(), 400u) << target;
  }
  EXPECT_TRUE(upstream.requests().empty());
}

TEST_F(https_server_test, an_upstream_that_does_not_answer_is_a_502) {
  restart_with_upstream("127.0.0.1:" + std::to_string(closed_port()));
  const auto res = client(server_->port(), "a.example.com").get("/");
  EXPECT_EQ(res.result_int(), 502u);
  EXPECT_NE(res.body().find("upstream"), std::string::npos) << res.body();
}

}  // namespace
}  // namespace certfleet::serving
