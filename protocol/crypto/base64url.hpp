#pragma once
// RFC 4648 §5 base64url without padding, as JOSE (RFC 7515 §2) and ACME use it.

#include <string>
#include <string_view>

#include "core/error.hpp"

namespace certfleet::protocol::base64url {

/// Encodes bytes as base64url with no '=' padding.
std::string encode(std::string_view bytes);

/// Decodes unpadded base64url. Errors (kind invalid_input): a character outside
/// [A-Za-z0-9_-] (including '=' padding and whitespace), an impossible length, or
/// non-zero trailing bits (a non-canonical encoding).
result<std::string> decode(std::string_view text);

}  // namespace certfleet::protocol::base64url
