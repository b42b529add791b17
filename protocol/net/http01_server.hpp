#pragma once
// The port-80 server: answers HTTP-01 challenges (RFC 8555 §8.3) for live tokens
// and nothing else of interest. GET/HEAD only, bounded request size, read
// timeouts, keep-alive; the input is never echoed back.

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "core/error.hpp"
#include "protocol/net/accept_loop.hpp"
#include "protocol/net/challenge_tokens.hpp"
#include "protocol/net/http_server.hpp"

namespace certfleet::protocol {

struct http01_options {
  std::chrono::milliseconds read_timeout{10000};
  /// How long a kept-alive connection may wait for its next request.
  std::chrono::milliseconds keep_alive_timeout{5000};
  std::size_t max_header_bytes = 8 * 1024;
  unsigned max_requests_per_connection = 1000;
  /// When set and it returns true for a Host, plain requests (other than the
  /// challenge path) get a 301 to https:// (url_domains_always_use_tls).
  std::function<bool(const std::string& host)> redirect_to_https;
  accept_limits limits;
};

class http01_server {
 public:
  http01_server(boost::asio::any_io_executor executor, const token_store& tokens,
                http01_options options = {});

  /// Binds "host:port" (IPv6 as "[::]:80") and starts accepting. The error names
  /// the address and says what to do (e.g. another server already uses the port).
  result<void> listen(const std::string& address);
  /// Moves to another address (a reload's http_listen); nothing changes on error.
  result<void> rebind(const std::string& address);
  /// The port actually bound (useful with port 0).
  unsigned short port() const { return server_.port(); }
  void stop() { server_.stop(); }

  std::uint64_t requests_served() const { return server_.requests_served(); }
  /// Connections open now; only on the executor's thread (tests).
  std::size_t open_connections() const { return server_.open_connections(); }
  /// The connection cap in force.
  std::size_t max_connections() const { return server_.max_connections(); }

 private:
  http_server server_;
};

}  // namespace certfleet::protocol
