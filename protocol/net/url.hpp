#pragma once
// Splitting an absolute http(s) URL into what a connection needs.

#include <string>
#include <string_view>

#include "core/error.hpp"

namespace certfleet::protocol {

struct url_parts {
  bool tls = true;     ///< https
  std::string host;    ///< without brackets for IPv6 literals
  std::string port;    ///< explicit or the scheme's default
  std::string target;  ///< path and query, at least "/"
};

/// Parses "https://host[:port]/path?query" (or http). Errors name the URL.
result<url_parts> parse_url(std::string_view url);

}  // namespace certfleet::protocol
