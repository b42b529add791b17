#include "config/value_parsers.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <vector>

#include "config/domain_name.hpp"

namespace certfleet::config {
namespace {

error bad(std::string reason) { return error{error_kind::invalid_input, std::move(reason)}; }

// inet_pton reads a C string: a NUL inside `s` would end the address early and let the
// bytes after it through (found by fuzz_config_file: "8::\0<garbage>" was an IPv6 address).
bool is_ipv4(std::string_view s) {
  in_addr a{};
  return s.find('\0') == std::string_view::npos &&
         inet_pton(AF_INET, std::string(s).c_str(), &a) == 1;
}

bool is_ipv6(std::string_view s) {
  in6_addr a{};
  return s.find('\0') == std::string_view::npos &&
         inet_pton(AF_INET6, std::string(s).c_str(), &a) == 1;
}

bool is_host_name(std::string_view s) {
  if (s.empty() || s.size() > 253 || s.front() == '.' || s.front() == '-') return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.';
  });
}

struct split_address {
  std::string host;
  std::optional<std::string_view> port;  // nullopt: no ":PORT" part
  bool bracketed = false;
};

// Splits "HOST:PORT", "[V6]:PORT", "[V6]" or "HOST" without judging the parts.
result<split_address> split_host_port(std::string_view text) {
  split_address out;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return bad("\"[\" without a matching \"]\"");
    out.host = std::string(text.substr(1, close - 1));
    out.bracketed = true;
    const std::string_view rest = text.substr(close + 1);
    if (rest.empty()) return out;
    if (rest.front() != ':') return bad("expected \":PORT\" after \"]\"");
    out.port = rest.substr(1);
    return out;
  }
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) {
    out.host = std::string(text);
    return out;
  }
  if (text.find(':', colon + 1) != std::string_view::npos) {
    return bad("write an IPv6 address in brackets, e.g. \"[::]:80\"");
  }
  out.host = std::string(text.substr(0, colon));
  out.port = text.substr(colon + 1);
  return out;
}

}  // namespace

std::string host_port::to_string() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::optional<bool> parse_yes_no(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; });
  if (lower == "yes") return true;
  if (lower == "no") return false;
  return std::nullopt;
}

result<std::uint64_t> parse_bounded(std::string_view text, std::uint64_t min, std::uint64_t max) {
  const std::string range =
      "expected a whole number from " + std::to_string(min) + " to " + std::to_string(max);
  if (text.empty() || text.size() > 18 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return bad(range);
  }
  std::uint64_t n = 0;
  for (const char c : text) n = n * 10 + std::uint64_t(c - '0');
  if (n < min || n > max) return bad(range);
  return n;
}

result<std::uint16_t> parse_port(std::string_view text) {
  auto n = parse_bounded(text, 1, 65535);
  if (!n) return bad("expected a port number from 1 to 65535");
  return static_cast<std::uint16_t>(*n);
}

result<host_port> parse_listen_address(std::string_view text) {
  static const std::string forms =
      "expected IPV4:PORT or [IPV6]:PORT, e.g. \"0.0.0.0:80\" or \"[::]:80\"";
  auto parts = split_host_port(text);
  if (!parts) return bad(parts.err().detail + "; " + forms);
  if (!parts->port) return bad("missing \":PORT\"; " + forms);
  const bool ok_host = parts->bracketed ? is_ipv6(parts->host) : is_ipv4(parts->host);
  if (!ok_host) return bad("listen on an IP address, not " + parts->host + "; " + forms);
  auto port = parse_port(*parts->port);
  if (!port) return std::move(port).err();
  return host_port{parts->host, *port};
}

result<host_port> parse_host_port(std::string_view text) {
  static const std::string forms = "expected HOST:PORT or [IPV6]:PORT, e.g. \"127.0.0.1:8080\"";
  auto parts = split_host_port(text);
  if (!parts) return bad(parts.err().detail + "; " + forms);
  if (!parts->port) return bad("missing \":PORT\"; " + forms);
  const bool ok_host = parts->bracketed ? is_ipv6(parts->host) : is_host_name(parts->host);
  if (!ok_host) return bad("\"" + parts->host + "\" is not a host name or IP address; " + forms);
  auto port = parse_port(*parts->port);
  if (!port) return std::move(port).err();
  return host_port{parts->host, *port};
}

result<host_port> parse_dns_server(std::string_view text) {
  static const std::string forms = "expected IP, IP:PORT or [IPV6]:PORT, e.g. \"192.0.2.53\"";
  if (is_ipv6(text)) return host_port{std::string(text), 53};  // bare IPv6, no port
  auto parts = split_host_port(text);
  if (!parts) return bad(parts.err().detail + "; " + forms);
  const bool ok_host = parts->bracketed ? is_ipv6(parts->host) : is_ipv4(parts->host);
  if (!ok_host) return bad("\"" + parts->host + "\" is not an IP address; " + forms);
  std::uint16_t port = 53;
  if (parts->port) {
    auto p = parse_port(*parts->port);
    if (!p) return std::move(p).err();
    port = *p;
  }
  return host_port{parts->host, port};
}

result<std::chrono::seconds> parse_duration(std::string_view text) {
  static const std::string forms =
      "expected a duration such as \"90s\", \"30m\", \"3h\", \"1d\" or \"1h30m\"";
  if (text.empty()) return bad(forms);
  if (std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    auto n = parse_bounded(text, 1, 100LL * 365 * 86400);
    if (!n) return bad(forms);
    return std::chrono::seconds(*n);
  }
  std::uint64_t total = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t j = i;
    while (j < text.size() && text[j] >= '0' && text[j] <= '9') ++j;
    if (j == i || j == text.size() || j - i > 9) return bad(forms);
    std::uint64_t n = 0;
    for (std::size_t k = i; k < j; ++k) n = n * 10 + std::uint64_t(text[k] - '0');
    switch (text[j]) {
      case 'd':
        total += n * 86400;
        break;
      case 'h':
        total += n * 3600;
        break;
      case 'm':
        total += n * 60;
        break;
      case 's':
        total += n;
        break;
      default:
        return bad(forms);
    }
    i = j + 1;
  }
  if (total == 0) return bad("the duration must be longer than zero; " + forms);
  if (total > 100ULL * 365 * 86400) return bad("the duration is longer than 100 years");
  return std::chrono::seconds(total);
}

result<std::string> parse_node_name(std::string_view text) {
  const auto allowed = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
  };
  const bool starts_well =
      !text.empty() && ((text[0] >= 'a' && text[0] <= 'z') || (text[0] >= '0' && text[0] <= '9'));
  if (text.size() > 64 || !starts_well || !std::all_of(text.begin(), text.end(), allowed))
    return error{error_kind::config,
                 "node name \"" + std::string(text) +
                     "\" is not usable; give node_name 1-64 characters of a-z, 0-9, '.', '_' or "
                     "'-', starting with a letter or digit"};
  return std::string(text);
}

result<std::string> parse_etcd_endpoint(std::string_view text) {
  const std::string form =
      "expected an etcd member's client URL, e.g. http://10.0.0.1:2379 or https://etcd1:2379";
  std::string_view rest = text;
  if (rest.rfind("http://", 0) == 0) {
    rest.remove_prefix(7);
  } else if (rest.rfind("https://", 0) == 0) {
    rest.remove_prefix(8);
  } else {
    return bad(form);
  }
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find('/') != std::string_view::npos) return bad(form + " (no path)");
  auto address = parse_host_port(rest);
  if (!address) return bad(form);
  return std::string(text.substr(0, text.size() - (text.back() == '/' ? 1 : 0)));
}

result<std::string> parse_email(std::string_view text) {
  static const std::string form = "expected an e-mail address such as \"admin@example.com\"";
  const auto at = text.rfind('@');
  if (at == std::string_view::npos || at == 0 || text.size() > 254) return bad(form);
  const std::string_view local = text.substr(0, at);
  if (local.size() > 64 || local.find('@') != std::string_view::npos) return bad(form);
  for (const char c : local) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '<' || c == '>' || c == ',' || c == ';' || c == '"') {
      return bad(form + "; the part before \"@\" contains " +
                 (u <= 0x20 ? std::string("a space or control character")
                            : "\"" + std::string(1, c) + "\""));
    }
  }
  auto domain = normalize_domain(text.substr(at + 1));
  if (!domain || text.substr(at + 1).find_first_of(" \t") != std::string_view::npos) {
    return bad(form + "; the part after \"@\" is not a valid domain name");
  }
  return std::string(local) + "@" + *domain;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

bool is_loopback(const std::string& ip) { return ip.starts_with("127.") || ip == "::1"; }

}  // namespace certfleet::config
