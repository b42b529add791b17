#pragma once
// HMAC-SHA256 (RFC 2104) on OpenSSL 3, for External Account Binding (RFC 8555 §7.3.4).

#include <string>
#include <string_view>

#include "core/error.hpp"

namespace certfleet::protocol {

/// The 32-byte HMAC-SHA256 of `data` under `key`. Errors (internal): OpenSSL failed.
result<std::string> hmac_sha256(std::string_view key, std::string_view data);

}  // namespace certfleet::protocol
