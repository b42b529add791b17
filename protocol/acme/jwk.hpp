#pragma once
// JSON Web Keys (RFC 7517/7518) for the public half of an account key, and their
// RFC 7638 thumbprints (used in key authorizations, RFC 8555 §8.1).

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "protocol/crypto/key.hpp"

namespace certfleet::protocol {

/// The public JWK of `key`, only the members RFC 7638 §3.2 requires:
/// EC {"crv","kty","x","y"} with coordinates left-padded to the field size;
/// RSA {"e","kty","n"}. Precondition: `key` is not moved-from.
nlohmann::json jwk_json(const private_key& key);

/// An RSA JWK from its base64url modulus and exponent (e.g. from RFC 7638's example).
nlohmann::json rsa_jwk_json(std::string_view n_b64url, std::string_view e_b64url);

/// RFC 7638 thumbprint: base64url(SHA-256(canonical JSON)), where the canonical JSON
/// has the required members in lexicographic order and no whitespace. Other members of
/// an EC or RSA `jwk` (alg, kid, ...) are left out.
std::string jwk_thumbprint(const nlohmann::json& jwk);
std::string jwk_thumbprint(const private_key& key);

/// RFC 8555 §8.1 key authorization: token "." thumbprint.
std::string key_authorization(std::string_view token, std::string_view thumbprint);

}  // namespace certfleet::protocol
