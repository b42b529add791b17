#pragma once
// Parsers for the kinds of values certfleet.conf directives take. Each returns the typed value
// or an error whose detail says what was expected (the caller adds file:line and directive).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/time.hpp"

namespace certfleet::config {

/// A host (IP literal or name) and a port. IPv6 hosts are stored without brackets.
struct host_port {
  std::string host;
  std::uint16_t port = 0;

  /// "host:port", or "[v6]:port" for an IPv6 host.
  std::string to_string() const;
  bool operator==(const host_port&) const = default;
};

/// "yes" or "no" (any case). nullopt for anything else.
std::optional<bool> parse_yes_no(std::string_view text);

/// An IP address of this host alone: 127.0.0.0/8 or ::1.
bool is_loopback(const std::string& ip);

/// An address to listen on: "IPV4:PORT" or "[IPV6]:PORT", port 1-65535.
result<host_port> parse_listen_address(std::string_view text);

/// A peer to connect to: "HOST:PORT" or "[IPV6]:PORT", HOST an IP literal or a host name.
result<host_port> parse_host_port(std::string_view text);

/// A DNS server: "IP", "IP:PORT" or "[IPV6]:PORT"; the port defaults to 53.
result<host_port> parse_dns_server(std::string_view text);

/// A port number 1-65535.
result<std::uint16_t> parse_port(std::string_view text);

/// An unsigned integer within [min, max]; decimal digits only.
result<std::uint64_t> parse_bounded(std::string_view text, std::uint64_t min, std::uint64_t max);

/// A positive duration: a sequence of NUMBER UNIT with units d, h, m, s ("3h", "1h30m"), or a
/// bare number of seconds ("90").
result<std::chrono::seconds> parse_duration(std::string_view text);

/// The shortest way to write a duration in parse_duration's syntax (core/time.hpp).
using certfleet::format_duration;

/// A plausible e-mail address: LOCAL@DOMAIN with no spaces, DOMAIN a valid domain name.
/// Returns the address with its domain lower-cased.
result<std::string> parse_email(std::string_view text);

/// A cluster node's name (node_name): 1-64 characters of [a-z0-9._-], starting with a
/// letter or digit; the same on every node's view of the cluster.
result<std::string> parse_node_name(std::string_view text);

/// An etcd member's client URL: http:// or https://, HOST:PORT, no path.
result<std::string> parse_etcd_endpoint(std::string_view text);

/// Levenshtein distance between two strings (for "did you mean" suggestions).
std::size_t edit_distance(std::string_view a, std::string_view b);

}  // namespace certfleet::config
