#include "protocol/net/self_check.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <openssl/rand.h>

#include <algorithm>
#include <optional>

#include "core/metrics.hpp"
#include "protocol/crypto/base64url.hpp"
#include "protocol/crypto/crypto.hpp"
#include "protocol/net/tls_alpn_probe.hpp"

namespace certfleet::protocol {

namespace asio = boost::asio;

namespace {

std::string check_dns_hint(const std::string& domain) {
  return "Check DNS and verify that \"" + domain + "\" resolves to an IP address on this host.";
}

error failed(std::string what) {
  return error{error_kind::self_check, "Self-check failed: " + std::move(what), true};
}

// Why one address did not pass, for the error and the metrics; nullopt when it passed.
struct address_failure {
  metrics::self_check_failure why;
  error err;
};
using address_check = std::optional<address_failure>;

address_check unreachable(std::string what) {
  return address_failure{metrics::self_check_failure::unreachable, failed(std::move(what))};
}
address_check wrong_answer(std::string what) {
  return address_failure{metrics::self_check_failure::wrong_answer, failed(std::move(what))};
}

// The check's failure, counted by reason.
error counted(metrics::self_check_failure why, error err) {
  metrics::count_self_check_failure(why);
  return err;
}

std::string random_token() {
  unsigned char bytes[24];
  RAND_bytes(bytes, sizeof bytes);
  return base64url::encode(std::string_view(reinterpret_cast<char*>(bytes), sizeof bytes));
}

std::string url_host(const std::string& ip) {
  return ip.find(':') != std::string::npos ? "[" + ip + "]" : ip;
}

// The TLS-ALPN-01 form of step 3: the HTTPS listener shows a test certificate published
// for the domain to a handshake offering acme-tls/1.
asio::awaitable<address_check> check_tls_alpn(const std::string& domain, const std::string& ip,
                                              token_store& tokens, unsigned short port) {
  const std::string digest = tls_alpn_digest(random_token());
  auto key = private_key::generate(key_type::ec_p256);
  if (!key) co_return address_failure{metrics::self_check_failure::unreachable, key.err()};
  auto cert = make_self_signed_pem(*key, domain, std::chrono::hours(1), wall_clock{}.now(), digest);
  if (!cert) co_return address_failure{metrics::self_check_failure::unreachable, cert.err()};
  result<std::string> shown;
  {
    const auto served = publication::alpn(tokens, domain, *cert, key->to_pem());
    shown = co_await fetch_tls_alpn_certificate(ip, port, domain, std::chrono::seconds(10));
  }
  const std::string where =
      "\"" + domain + "\" (" + url_host(ip) + ") on port " + std::to_string(port);
  if (!shown) {
    co_return unreachable("could not make a TLS-ALPN-01 handshake with " + where + ": " +
                          shown.err().detail + ". Check that certfleet's https_listen is on port " +
                          std::to_string(port) + " and that no firewall blocks it.");
  }
  if (acme_identifier_of(*shown) != digest) {
    co_return wrong_answer(where +
                           " showed another certificate to an acme-tls/1 handshake. Check " +
                           "that port " + std::to_string(port) + " of \"" + domain +
                           "\" reaches certfleet's https_listen and not another TLS server.");
  }
  co_return std::nullopt;
}

}  // namespace

local_addresses::local_addresses() { refresh(); }

local_addresses::local_addresses(std::vector<std::string> addresses)
    : addresses_(std::move(addresses)), from_interfaces_(false) {}

void local_addresses::refresh() {
  if (!from_interfaces_) return;
  addresses_.clear();
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return;
  for (auto* ifa = list; ifa != nullptr; ifa = ifa->ifa_next) {
    if (ifa->ifa_addr == nullptr) continue;
    char buf[INET6_ADDRSTRLEN] = {};
    if (ifa->ifa_addr->sa_family == AF_INET) {
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(ifa->ifa_addr)->sin_addr, buf, sizeof buf);
    } else if (ifa->ifa_addr->sa_family == AF_INET6) {
      inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(ifa->ifa_addr)->sin6_addr, buf,
                sizeof buf);
    } else {
      continue;
    }
    addresses_.emplace_back(buf);
  }
  freeifaddrs(list);
}

bool local_addresses::contains(const std::string& ip) const {
  if (from_interfaces_ && ip.starts_with("127.")) return true;  // all of 127.0.0.0/8 is this host
  return std::find(addresses_.begin(), addresses_.end(), ip) != addresses_.end();
}

namespace {

// Step 3 over HTTP through one address: the published test token must come back.
asio::awaitable<address_check> fetch_token_through(const std::string& domain, const std::string& ip,
                                                   http_client& http, const std::string& token,
                                                   const std::string& expected,
                                                   unsigned short port) {
  const std::string url =
      "http://" + domain + ":" + std::to_string(port) + "/.well-known/acme-challenge/" + token;
  // Kept alive: the next domain's self-check on the same address reuses the connection.
  http_request req{.method = "GET", .url = url, .connect_address = ip};
  auto res = co_await http.request(std::move(req));
  const std::string where =
      "\"" + domain + "\" (" + url_host(ip) + ") on port " + std::to_string(port);
  if (!res) {
    co_return unreachable("could not fetch a test token from " + where + ": " + res.err().detail +
                          ". Check that certfleet's HTTP server listens on port " +
                          std::to_string(port) + " and that no firewall blocks it.");
  }
  if (res->status != 200 || res->body != expected) {
    co_return wrong_answer(where + " answered HTTP " + std::to_string(res->status) +
                           " without the test token. Check that port " + std::to_string(port) +
                           " of \"" + domain + "\" reaches certfleet and not another web server.");
  }
  co_return std::nullopt;
}

}  // namespace

asio::awaitable<result<void>> run_self_check(const std::string& domain, dns_resolver& resolver,
                                             http_client& http, token_store& tokens,
                                             const local_addresses& local,
                                             self_check_options options) {
  auto resolved = co_await resolver.async_resolve(domain);
  if (!resolved)
    co_return counted(metrics::self_check_failure::dns,
                      failed("DNS lookup failed. " + check_dns_hint(domain)));
  if (resolved->size() > max_self_check_addresses) resolved->resize(max_self_check_addresses);

  // One test token for all the addresses, withdrawn when the check ends.
  const std::string token = random_token();
  const std::string expected = random_token();
  std::optional<publication> served;
  if (!options.tls_alpn) {
    served.emplace(publication::token(tokens, token, expected));
    // In a cluster the domain may point at another node: it must find the token too.
    std::string shared_token = token, shared_answer = expected;
    co_await tokens.shared(std::move(shared_token), std::move(shared_answer));
  }
  for (const std::string& ip : *resolved) {
    // Not a conditional expression: GCC 12 miscompiles co_await in one (a double free).
    address_check missed;
    if (options.tls_alpn)
      missed = co_await check_tls_alpn(domain, ip, tokens, options.tls_port);
    else
      missed = co_await fetch_token_through(domain, ip, http, token, expected, options.port);
    if (!missed) continue;
    if (!local.contains(ip)) {
      // Behind NAT the fetch would have passed; it failed, so the address is the likely cause.
      co_return counted(
          metrics::self_check_failure::not_this_host,
          failed("\"" + domain + "\" resolves to " + ip +
                 ", which is not an address of this host. " + check_dns_hint(domain)));
    }
    co_return counted(missed->why, std::move(missed->err));
  }
  co_return result<void>{};
}

}  // namespace certfleet::protocol
