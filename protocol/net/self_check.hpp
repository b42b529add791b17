#pragma once
// The seed's self-check: before ordering a certificate for a domain, prove that the
// domain reaches this host over HTTP, so we do not spend CA requests (and rate
// limits) on domains that would fail validation anyway.
//   1. resolve the domain (c-ares, configurable servers);
//   2. one of its addresses must be an address of this host;
//   3. GET http://<domain>:<port>/.well-known/acme-challenge/<random token> from that
//      address must return the random value we published (with TLS-ALPN-01: a handshake
//      offering acme-tls/1 must show the test certificate we published).
// Every failure reads "Self-check failed: ..." and says what to check.

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "protocol/net/challenge_tokens.hpp"
#include "protocol/net/dns_resolver.hpp"
#include "protocol/net/http_client.hpp"

namespace certfleet::protocol {

/// The IP addresses of this host's interfaces (getifaddrs), plus all of 127.0.0.0/8.
class local_addresses {
 public:
  /// Reads the interfaces now.
  local_addresses();
  bool contains(const std::string& ip) const;
  void refresh();

 private:
  std::vector<std::string> addresses_;
};

struct self_check_options {
  unsigned short port = 80;
  /// Check as TLS-ALPN-01 validates (RFC 8737) instead of over HTTP: a handshake for the
  /// domain on `tls_port` offering acme-tls/1 must show a test certificate published here.
  bool tls_alpn = false;
  unsigned short tls_port = 443;
};

boost::asio::awaitable<result<void>> run_self_check(const std::string& domain,
                                                    dns_resolver& resolver, http_client& http,
                                                    token_store& tokens,
                                                    const local_addresses& local,
                                                    self_check_options options);

}  // namespace certfleet::protocol
