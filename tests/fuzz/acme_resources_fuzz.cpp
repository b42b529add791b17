// RFC 8555 resources as a CA (or whatever answers at acme_directory_url) sends them: any body
// parsed as a directory, an order, an authorization or a challenge gives the resource or a
// bad_response error, never an exception; the URLs the client goes on to use parse or fail
// cleanly.

#include "protocol/acme/types.hpp"
#include "protocol/net/url.hpp"
#include "tests/fuzz/fuzz_check.hpp"

using namespace certfleet;

namespace {

constexpr std::string_view resource_url = "https://ca.example/acme/resource/1";

void check_url(const std::string& url) {
  if (auto parts = protocol::parse_url(url)) {
    FUZZ_CHECK(!parts->host.empty() && !parts->port.empty());
    FUZZ_CHECK(!parts->target.empty() && parts->target.front() == '/');
  }
}

template <class T>
void check_error(const result<T>& r) {
  if (!r) FUZZ_CHECK(r.err().kind == error_kind::bad_response && !r.err().detail.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto body = fuzz::as_text(data, size);

  auto directory = protocol::parse_directory(body);
  check_error(directory);
  if (directory) {
    FUZZ_CHECK(!directory->new_nonce.empty() && !directory->new_account.empty() &&
               !directory->new_order.empty());
    for (const auto* url : {&directory->new_nonce, &directory->new_account, &directory->new_order})
      check_url(*url);
  }

  auto order = protocol::parse_order(resource_url, body);
  check_error(order);
  if (order) {
    FUZZ_CHECK(order->url == resource_url && !order->status.empty() && !order->finalize.empty());
    check_url(order->finalize);
    for (const auto& a : order->authorizations) check_url(a);
  }

  auto authz = protocol::parse_authorization(resource_url, body);
  check_error(authz);
  if (authz) {
    FUZZ_CHECK(!authz->status.empty());
    for (const auto& c : authz->challenges) check_url(c.url);
  }

  auto challenge = protocol::parse_challenge(resource_url, body);
  check_error(challenge);
  if (challenge) FUZZ_CHECK(!challenge->status.empty() && !challenge->url.empty());
  return 0;
}
