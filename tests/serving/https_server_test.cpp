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

namespace certfleet::serving {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

pem_pair make(const std::string& cn) {
  auto key = protocol::private_key::generate(key_type::ec_p256);
  auto cert = protocol::make_self_signed_pem(*key, cn, std::chrono::hours(24), system_clock{}.now());
  return {*cert, key->to_pem()};
}

// A client connection with SNI; the server certificate's CN.
struct client {
  asio::io_context io;
  asio::ssl::context ctx{asio::ssl::context::tls_client};
  asio::ssl::stream<tcp::socket> stream{io, ctx};

  client(unsigned short port, const std::string& sni) {
    ctx.set_verify_mode(asio::ssl::verify_none);  // the test inspects the certificate itself
    tcp::resolver r(io);
    asio::connect(stream.lowest_layer(), r.resolve("127.0.0.1", std::to_string(port)));
    if (!sni.empty()) SSL_set_tlsext_host_name(stream.native_handle(), sni.c_str());
    stream.handshake(asio::ssl::stream_base::client);
  }
  std::string served_cn() {
    X509* cert = SSL_get1_peer_certificate(stream.native_handle());
    char buf[256] = {};
    X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, buf, sizeof buf);
    X509_free(cert);
    return buf;
  }
  unsigned get_status() {
    http::request<http::empty_body> req{http::verb::get, "/", 11};
    req.set(http::field::host, "x");
    http::write(stream, req);
    boost::beast::flat_buffer b;
    http::response<http::string_body> res;
    http::read(stream, b, res);
    return res.result_int();
  }
};

class https_server_test : public ::testing::Test {
 protected:
  void SetUp() override {
    certs_["a.example.com"] = make("a.example.com");
    certs_["b.example.com"] = make("b.example.com");
    certs_[""] = make("default.example.com");
    server_ = std::make_unique<https_server>(io_.get_executor(), [this](const std::string& name) {
      std::lock_guard lock(mutex_);
      ++lookups_[name];
      auto it = certs_.find(name);
      return it == certs_.end() ? std::optional<pem_pair>(certs_.at("")) : std::optional<pem_pair>(it->second);
    });
    ASSERT_TRUE(server_->listen("127.0.0.1:0"));
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    server_->stop();
    work_.reset();
    io_.stop();
    thread_.join();
  }
  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_{io_.get_executor()};
  std::unique_ptr<https_server> server_;
  std::thread thread_;
  std::mutex mutex_;
  std::map<std::string, pem_pair> certs_;
  std::map<std::string, int> lookups_;
};

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
  for (int i = 0; i < 50 && cn != "renewed.a.example.com"; ++i) cn = client(server_->port(), "a.example.com").served_cn();
  EXPECT_EQ(cn, "renewed.a.example.com");
  EXPECT_EQ(first.served_cn(), "a.example.com");
  EXPECT_EQ(first.get_status(), 404u) << "the connection opened before still works (no upstream: 404)";
}

}  // namespace
}  // namespace certfleet::serving
