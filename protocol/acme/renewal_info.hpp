#pragma once
// RFC 9773, ACME Renewal Information (ARI): the identifier a CA knows a certificate by, and
// the renewal window the CA suggests for it. Plain functions over plain data: the client
// fetches, these read.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/time.hpp"

namespace certfleet::protocol {

/// RFC 9773 §4.2: when the CA suggests renewing, and why (explanationURL, optional).
struct renewal_window {
  timestamp start{};
  timestamp end{};
  std::string explanation_url;  ///< empty when the CA gave none
};

/// What a renewalInfo request answered.
struct renewal_info_answer {
  /// False when the CA's directory has no renewalInfo: it offers no windows (and nothing was
  /// asked). `window` is then empty.
  bool offered = true;
  renewal_window window;
  std::optional<std::chrono::seconds> retry_after;  ///< the CA's Retry-After, if any
};

/// RFC 9773 §4.1: base64url(keyIdentifier of the Authority Key Identifier) "." base64url(the
/// serial number's DER content octets), from the hex forms cert_info carries. Errors
/// (invalid_input): no AKI (the CA's certificates always carry one), or a hex string that is
/// not one.
result<std::string> ari_certificate_id(std::string_view authority_key_id_hex,
                                       std::string_view serial_hex);

/// ari_certificate_id of the first certificate in `chain_pem` (the leaf, as stored).
/// Errors (invalid_input): no certificate, or one without an Authority Key Identifier.
result<std::string> ari_certificate_id_of(std::string_view chain_pem);

/// RFC 9773 §4.2: the renewalInfo resource's body. Errors (bad_response): not JSON, no
/// suggestedWindow, a time that is not RFC 3339, or an end not after the start (§4.2: such a
/// window is not used).
result<renewal_window> parse_renewal_info(std::string_view body);

/// An RFC 3339 date-time ("2025-01-02T04:05:06Z", fractions and offsets allowed) as UTC.
result<timestamp> parse_rfc3339(std::string_view text);

}  // namespace certfleet::protocol
