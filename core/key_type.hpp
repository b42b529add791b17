#pragma once
// The private-key algorithms certfleet generates for certificates: one enum and one
// spelling table, shared by the configuration, the crypto library and the CLI.

#include <string_view>

#include "core/error.hpp"

namespace certfleet {

enum class key_type { ec_p256, ec_p384, rsa2048, rsa3072, rsa4096 };

/// The configuration spelling: "ecdsa-p256", "ecdsa-p384", "rsa2048", "rsa3072", "rsa4096".
std::string_view to_string(key_type type);

/// The inverse of to_string. Error (config): any other name, with the accepted list.
result<key_type> parse_key_type(std::string_view name);

/// "ecdsa-p256, ecdsa-p384, rsa2048, rsa3072, rsa4096", for messages.
std::string_view key_type_names();

}  // namespace certfleet
