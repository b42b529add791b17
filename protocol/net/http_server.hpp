#pragma once
// A small HTTP/1.1 server for answers computed in memory: GET/HEAD with no request body,
// bounded header size, read timeouts, keep-alive, a connection cap (accept_loop). The
// port-80 responder (http01_server) and the admin listener (metrics, status page) run on it.

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "protocol/net/accept_loop.hpp"

namespace certfleet::protocol {

using http_handler = std::function<boost::beast::http::response<boost::beast::http::string_body>(
    const boost::beast::http::request<boost::beast::http::empty_body>&)>;

/// A second, asynchronous chance for a request the handler answered 404 (a cluster's
/// HTTP-01 token held by another node): its answer replaces the 404 when it gives one.
using http_fallback = std::function<boost::asio::awaitable<
    std::optional<boost::beast::http::response<boost::beast::http::string_body>>>(
    const boost::beast::http::request<boost::beast::http::empty_body>&)>;

struct http_server_options {
  std::chrono::milliseconds read_timeout{10000};
  /// How long a kept-alive connection may wait for its next request.
  std::chrono::milliseconds keep_alive_timeout{5000};
  std::size_t max_header_bytes = 8 * 1024;
  unsigned max_requests_per_connection = 1000;
  accept_limits limits;
  http_fallback on_not_found;  ///< none: a 404 stays a 404
};

class http_server {
 public:
  http_server(boost::asio::any_io_executor executor, http_handler handler,
              http_server_options options = {});
  ~http_server();

  /// Binds "host:port" (IPv6 as "[::]:80") and starts accepting. `what` names the server and
  /// `directive` the setting that chose the address, in the error (e.g. the port is in use).
  result<void> listen(const std::string& address, const std::string& what,
                      const std::string& directive);
  /// Moves to another address after listen (accept_loop::rebind): nothing changes on error.
  result<void> rebind(const std::string& address, const std::string& what,
                      const std::string& directive);
  /// The port actually bound (useful with port 0).
  unsigned short port() const;
  void stop();

  std::uint64_t requests_served() const { return served_->load(); }
  /// Connections open now; only on the executor's thread (tests).
  std::size_t open_connections() const;
  /// The connection cap in force.
  std::size_t max_connections() const;

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
  std::shared_ptr<std::atomic<std::uint64_t>> served_;
};

/// A request as a page handler sees it (no Beast types).
struct plain_request {
  std::string method;         ///< "GET" or "HEAD"
  std::string target;         ///< path and query, as sent
  std::string authorization;  ///< the Authorization header; empty when absent
};
struct plain_response {
  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  /// Added to the answer's headers (a page's Content-Security-Policy, a Basic challenge).
  std::vector<std::pair<std::string, std::string>> headers = {};
};

/// An http_handler for `page`: 405 for methods other than GET and HEAD, no body for HEAD,
/// keep-alive as asked, and headers that keep the answer out of caches and frames.
http_handler plain_handler(std::function<plain_response(const plain_request&)> page);

}  // namespace certfleet::protocol
