#pragma once
// An asynchronous HTTP/1.1 client for talking to the ACME CA (https) and to ourselves
// (the self-check, plain http): requests written by hand, responses read with
// Beast's parser, TLS by OpenSSL over http_transport. Keeps connections alive in a
// small pool per endpoint; connecting, the TLS handshake and each request/response
// exchange have a timeout; response sizes are limited.
//
// Thread model: one http_client belongs to one io_context run by ONE thread; call
// request() only from coroutines on that io_context.

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "protocol/net/url.hpp"

namespace boost::asio::ssl {
class context;
}

namespace certfleet::protocol {

struct http_request {
  std::string method = "GET";  ///< GET, HEAD or POST
  std::string url;             ///< absolute http:// or https:// URL
  std::string content_type;    ///< for POST
  std::string body;
  std::string accept;  ///< Accept header, if any
  /// Connect to this IP address instead of resolving the URL's host (the Host
  /// header and TLS SNI still use the URL's host). Used by the self-check.
  std::string connect_address;
  /// False: one-off request (e.g. a self-check to one domain): the connection is
  /// closed afterwards instead of kept idle in the pool, which would otherwise
  /// hold one socket per domain forever.
  bool keep_alive = true;
  /// Sent as Host instead of the URL's host[:port] (a reverse proxy passes its client's).
  std::string host_header;
  /// More header fields (e.g. X-Forwarded-For). A name or value with a line break is
  /// refused before anything is sent.
  std::vector<std::pair<std::string, std::string>> headers;
};

struct http_response {
  unsigned status = 0;
  std::string content_type;
  std::string location;
  std::string replay_nonce;
  std::string retry_after;
  std::vector<std::string> links;  ///< every Link header
  std::string body;
};

struct http_client_options {
  /// PEM file of CAs to trust instead of the system store (tests trust pebble's CA).
  std::string ca_bundle;
  /// PEM files of a client certificate (chain) and its key, shown when a server asks
  /// (etcd with client authentication). Both or neither.
  std::string client_certificate;
  std::string client_key;
  std::chrono::milliseconds timeout{30000};  ///< per connect, TLS handshake, and exchange
  std::size_t max_body_bytes = 1 << 20;
  std::size_t max_idle_per_endpoint = 32;
  std::string user_agent = std::string("certfleet/") + CERTFLEET_VERSION;
};

class http_client {
 public:
  /// Fails (throws std::runtime_error) only if the CA bundle or the client certificate
  /// cannot be loaded: that is a start-up configuration error.
  http_client(boost::asio::any_io_executor executor, http_client_options options);
  ~http_client();
  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  /// Sends one request. A reused keep-alive connection that turns out closed is
  /// retried once on a fresh connection. Network failures and timeouts come back as
  /// retryable errors (network, timeout, tls); any HTTP status is a success here.
  boost::asio::awaitable<result<http_response>> request(http_request req);

  /// Sends one request whose answer is a stream (etcd's watch) on a connection of its
  /// own: the bytes of a 2xx answer's body go to on_data as they arrive, until the body
  /// ends (the response comes back without a body), on_data returns false (likewise),
  /// or nothing arrives for idle_timeout (a timeout error). Any other status is read
  /// whole and returned with its body, as request() does.
  boost::asio::awaitable<result<http_response>> stream(
      http_request req, std::function<bool(std::string_view)> on_data,
      std::chrono::milliseconds idle_timeout);

  /// Connections currently idle in the pool (for tests).
  std::size_t idle_connections() const;
  /// Connections opened so far (each https one costs a TLS handshake).
  std::size_t connections_opened() const { return connections_opened_; }

 private:
  struct connection;
  boost::asio::awaitable<result<std::unique_ptr<connection>>> connect(
      const url_parts& url, const std::string& connect_address);
  boost::asio::awaitable<result<http_response>> exchange(connection& conn, const http_request& req,
                                                         const url_parts& url);

  boost::asio::any_io_executor executor_;
  http_client_options options_;
  std::unique_ptr<boost::asio::ssl::context> tls_;
  std::map<std::string, std::vector<std::unique_ptr<connection>>> idle_;
  std::size_t connections_opened_ = 0;
};

}  // namespace certfleet::protocol
