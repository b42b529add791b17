#pragma once
// A TLS-ALPN-01 validation as the CA makes it (RFC 8737 §3): a handshake with the
// domain's name (SNI) offering only acme-tls/1, keeping the certificate the server shows.
// The self-check uses it to prove the domain reaches this host's HTTPS listener.

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <string>

#include "core/error.hpp"

namespace certfleet::protocol {

/// The certificate (PEM) `ip`:`port` presents to a handshake for `domain` offering
/// acme-tls/1; the connection is closed after it, as the CA does. Not verified: the
/// caller compares what it proves. Errors (network, timeout, tls) say what failed.
boost::asio::awaitable<result<std::string>> fetch_tls_alpn_certificate(
    std::string ip, unsigned short port, std::string domain, std::chrono::milliseconds timeout);

}  // namespace certfleet::protocol
