#include "protocol/net/url.hpp"

#include <algorithm>

namespace certfleet::protocol {

result<url_parts> parse_url(std::string_view url) {
  auto bad = [&](const char* why) {
    return error{error_kind::invalid_input,
                 "invalid URL \"" + std::string(url.substr(0, 200)) + "\": " + why};
  };
  // Spaces and control characters would end up in the request line or Host header
  // (header injection through a URL from the CA): refuse them.
  if (std::any_of(url.begin(), url.end(),
                  [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; }))
    return bad("it contains a space or a control character");
  url_parts out;
  std::string_view rest;
  if (url.starts_with("https://")) {
    rest = url.substr(8);
  } else if (url.starts_with("http://")) {
    out.tls = false;
    rest = url.substr(7);
  } else {
    return bad("it must start with https:// or http://");
  }
  rest = rest.substr(0, rest.find('#'));  // RFC 3986 §3.5: a fragment is never sent
  const auto slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  out.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (out.target.front() == '?') out.target.insert(0, "/");
  if (authority.find('@') != std::string_view::npos) return bad("user information is not allowed");
  std::string_view port;
  if (authority.starts_with("[")) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return bad("unterminated IPv6 literal");
    out.host = authority.substr(1, close - 1);
    const auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad("garbage after the IPv6 literal");
      port = after.substr(1);
    }
  } else {
    const auto colon = authority.rfind(':');
    out.host = authority.substr(0, colon);
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
    if (out.host.find(':') != std::string::npos) return bad("an IPv6 address needs [brackets]");
  }
  if (out.host.empty()) return bad("no host");
  if (port.empty()) {
    out.port = out.tls ? "443" : "80";
  } else {
    if (port.size() > 5 ||
        !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return bad("the port is not a number");
    const int n = std::stoi(std::string(port));
    if (n < 1 || n > 65535) return bad("the port is out of range");
    out.port = port;
  }
  return out;
}

}  // namespace certfleet::protocol
