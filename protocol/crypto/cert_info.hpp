#pragma once
// What certfleet reads from a certificate, as plain data (no OpenSSL types), so the
// actors and the store can carry it without the crypto library's headers.

#include <string>
#include <vector>

#include "core/time.hpp"

namespace certfleet::protocol {

/// What certfleet needs to know about a certificate.
struct cert_info {
  timestamp not_before{};
  timestamp not_after{};
  std::string serial_hex;            ///< lower-case hex, no leading zeros
  std::string subject_cn;            ///< empty when the subject has no CN
  std::string issuer;                ///< issuer distinguished name, RFC 2253 form
  std::vector<std::string> sans;     ///< dNSName subject alternative names, in order
  std::string authority_key_id_hex;  ///< lower-case hex keyIdentifier; empty if absent
};

}  // namespace certfleet::protocol
