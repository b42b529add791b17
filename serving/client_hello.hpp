#pragma once
// Reading two ClientHello extensions as a client sent them, before OpenSSL has looked at
// them (the HTTPS listener's ClientHello callback): bytes from anyone, so every length is
// checked against what arrived.

#include <string>
#include <string_view>

namespace certfleet::serving {

/// Whether an ALPN extension's protocol list (RFC 7301 §3.1) names `wanted`. False for a
/// list whose lengths do not add up.
bool offers_protocol(std::string_view alpn_extension, std::string_view wanted);

/// The host name of a server_name extension (RFC 6066 §3) in lower case; "" when it has none
/// or its lengths do not add up.
std::string server_name_of(std::string_view sni_extension);

}  // namespace certfleet::serving
