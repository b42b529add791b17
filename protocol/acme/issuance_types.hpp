#pragma once
// The plain data of one issuance: what is asked for, the milestones reported on the
// way and what comes out. No Asio, so the actors can include it.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/key_type.hpp"
#include "protocol/crypto/cert_info.hpp"

namespace certfleet::protocol {

/// Milestones reported while a certificate is obtained.
enum class issuance_stage {
  order_created,        ///< the order exists at the CA; its URL and key must be saved
  challenge_submitted,  ///< the CA is validating
  csr_submitted,        ///< the CSR was sent (RFC 8555 §7.4)
};

enum class challenge_kind : std::uint8_t { http_01, tls_alpn_01 };
/// "http-01" or "tls-alpn-01", as RFC 8555 and RFC 8737 name them.
inline const char* challenge_name(challenge_kind k) {
  return k == challenge_kind::http_01 ? "http-01" : "tls-alpn-01";
}

struct issuance_request {
  std::vector<std::string> domains;  ///< the first one is the CN
  key_type key = key_type::ec_p256;
  /// Continue this order (its URL and the certificate key saved for it).
  std::optional<std::string> resume_order_url;
  std::optional<std::string> resume_key_pem;
  /// The chain (PEM, leaf first) of the certificate this order replaces; empty for a first
  /// certificate. Named in the order's `replaces` (RFC 9773 §5) when the CA offers ARI.
  std::string replaced_chain_pem;
  /// The CA's certificate profile (draft-ietf-acme-profiles); empty: the CA's default.
  std::string profile;
  /// How the domain proves control: HTTP-01 on port 80 (the seed's), or TLS-ALPN-01
  /// (RFC 8737) on the HTTPS listener when port 80 is closed.
  challenge_kind challenge = challenge_kind::http_01;
};

/// External Account Binding credentials (RFC 8555 §7.3.4), from the operator's account at
/// the CA. The HMAC key is a secret: never logged.
struct account_binding {
  std::string kid;
  std::string hmac_key;  ///< base64url, as the CA hands it out
  bool operator==(const account_binding&) const = default;
};

struct issued_certificate {
  std::string order_url;
  std::string chain_pem;
  std::string key_pem;  ///< key material: never log
  cert_info info;
  std::string ca_url;  ///< the directory URL of the CA that issued it
};

}  // namespace certfleet::protocol
