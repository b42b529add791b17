#pragma once
// The HTTPS listener: picks the certificate per client by SNI (through a provider
// that applies the precedence rules), loads each certificate on first use into a
// bounded cache, and forwards requests to the installation's HTTP upstream (or
// answers 404 without one). It also answers the CA's TLS-ALPN-01 challenges. A renewed certificate
// is picked up by invalidating its name: new handshakes get the new one, open connections keep
// theirs.

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "protocol/net/accept_loop.hpp"
#include "protocol/net/challenge_tokens.hpp"
#include "serving/certificate_choice.hpp"

namespace certfleet::serving {

struct https_options {
  std::string upstream;           ///< "host:port" of the HTTP server to forward to; empty: 404
  std::size_t cache_size = 1000;  ///< certificates kept loaded (LRU)
  std::chrono::milliseconds timeout{15000};
  /// How long a kept-alive connection may wait for its next request.
  std::chrono::milliseconds keep_alive_timeout{5000};
  protocol::accept_limits limits;
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_body_bytes = 8 * 1024 * 1024;
  /// TLS-ALPN-01 (RFC 8737): the challenge certificate published for a name; a handshake
  /// asking for acme-tls/1 with that name gets it, and the connection ends there. Empty: none.
  std::function<std::optional<protocol::alpn_answer>(const std::string& name)> tls_alpn_answers;
};

/// The certificate to serve for a name ("" when the client sent no SNI).
using certificate_provider = std::function<std::optional<pem_pair>(const std::string& name)>;

class https_server {
 public:
  https_server(boost::asio::any_io_executor executor, certificate_provider provider,
               https_options options = {});
  ~https_server();

  /// Binds "host:port" and starts accepting; the error says what to change.
  result<void> listen(const std::string& address);
  unsigned short port() const;
  /// Forget the loaded certificates of these names (all when empty); thread-safe.
  void invalidate(std::vector<std::string> names);
  /// Moves to another address (a reload's https_listen); nothing changes on error.
  result<void> rebind(const std::string& address);
  /// A reload's http_upstream ("host:port"; empty: none), for the requests that follow.
  void set_upstream(std::string upstream);
  void stop();

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace certfleet::serving
