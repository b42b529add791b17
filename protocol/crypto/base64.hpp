#pragma once
// RFC 4648 §4 base64 with padding: how etcd's JSON gateway carries keys and values.

#include <string>
#include <string_view>

#include "core/error.hpp"

namespace certfleet::protocol::base64 {

std::string encode(std::string_view bytes);

/// Decodes padded base64. Errors (kind invalid_input): a character outside the
/// alphabet, whitespace, or a length that is not a multiple of 4.
result<std::string> decode(std::string_view text);

}  // namespace certfleet::protocol::base64
