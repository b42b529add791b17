#pragma once
// The seed's self-check: before ordering a certificate for a domain, prove that the
// domain reaches this host over HTTP, so we do not spend CA requests (and rate
// limits) on domains that would fail validation anyway.
//   1. resolve the domain (c-ares, configurable servers): every A and AAAA address;
//   2. through EVERY address (the CA may use any of them), GET
//      http://<domain>:<port>/.well-known/acme-challenge/<random token> must return the
//      random value we published (with TLS-ALPN-01: a handshake offering acme-tls/1 must
//      show the test certificate we published).
// The address need not be on this host: behind NAT or a load balancer the fetch itself
// proves the domain reaches certfleet. Only when a fetch fails through an address that is
// not this host's does the error say so ("resolves to A.B.C.D, which is not an address of
// this host"). Every failure reads "Self-check failed: ..." and says what to check.

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
  /// Exactly these addresses (tests: a host whose public address is elsewhere, as behind NAT).
  explicit local_addresses(std::vector<std::string> addresses);
  bool contains(const std::string& ip) const;
  /// Reads the interfaces again (not for a fixed list).
  void refresh();

 private:
  std::vector<std::string> addresses_;
  bool from_interfaces_ = true;
};

/// At most this many of a domain's addresses are checked (each costs a fetch).
inline constexpr std::size_t max_self_check_addresses = 8;

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
