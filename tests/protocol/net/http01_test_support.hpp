#pragma once
// Blocking raw-socket clients for the port-80 server's tests.

#include <gtest/gtest.h>

#include "tests/support/net_test_support.hpp"

#include "protocol/net/http01_server.hpp"

namespace certfleet::protocol {

using namespace certfleet::testing::net;

// A blocking client connection with a receive timeout, so no read waits forever.
class raw_client {
 public:
  /// Connects to 127.0.0.1:port from `from` (any 127.x.y.z address works on Linux).
  explicit raw_client(unsigned short port, std::chrono::milliseconds timeout = 5s,
                      const std::string& from = "127.0.0.1")
      : socket_(shared_io()) {
    socket_.open(tcp::v4());
    socket_.bind({asio::ip::make_address(from), 0});
    socket_.connect({asio::ip::make_address("127.0.0.1"), port});
    set_receive_timeout(socket_.native_handle(), timeout);
  }
  void write(const std::string& bytes) { asio::write(socket_, asio::buffer(bytes)); }
  /// One response with a Content-Length body (what the responder always sends).
  std::optional<std::string> read_response() { return read_request(socket_, buffer_); }
  /// Everything until the server closes; `closed` says whether it did (vs. a timeout).
  std::string read_to_end(bool* closed = nullptr) {
    std::string out = std::move(buffer_);
    buffer_.clear();
    char buf[4096];
    boost::system::error_code ec;
    while (std::size_t n = socket_.read_some(asio::buffer(buf), ec)) out.append(buf, n);
    if (closed) *closed = ec == asio::error::eof || ec == asio::error::connection_reset;
    return out;
  }
  tcp::socket& socket() { return socket_; }

 private:
  // Blocking calls only: one io_context serves every client (200 of them would
  // otherwise cost 200 epoll descriptors).
  static asio::io_context& shared_io() {
    static asio::io_context io;
    return io;
  }
  tcp::socket socket_;
  std::string buffer_;
};

inline std::string exchange(unsigned short port, const std::string& request) {
  raw_client c(port);
  c.write(request);
  return c.read_to_end();
}

inline std::string get(const std::string& target, const std::string& host = "a.example",
                       const std::string& method = "GET") {
  return method + " " + target + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n";
}

/// A request that keeps the connection open afterwards.
inline std::string get_keep_alive(const std::string& target) {
  return "GET " + target + " HTTP/1.1\r\nHost: a.example\r\n\r\n";
}

inline std::string body_of(const std::string& response) {
  const auto end = response.find("\r\n\r\n");
  return end == std::string::npos ? std::string() : response.substr(end + 4);
}

/// A port-80 server on 127.0.0.1:0 with its own io thread and token store.
class http01_fixture : public ::testing::Test {
 protected:
  void start(http01_options options = {}) {
    server_ = std::make_unique<http01_server>(io_.executor(), tokens_, std::move(options));
    auto listening = server_->listen("127.0.0.1:0");
    ASSERT_TRUE(listening) << listening.err().detail;
    ASSERT_NE(server_->port(), 0);
  }
  void TearDown() override {
    if (server_) server_->stop();
  }
  io_thread io_;
  token_store tokens_;
  std::unique_ptr<http01_server> server_;
};

}  // namespace certfleet::protocol
