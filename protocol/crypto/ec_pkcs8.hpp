#pragma once
// PKCS#8 PEM of an EC private key without OpenSSL 3.0's encoder machinery, which
// builds an encoder chain on every call (~100 us, more than generating the key).

#include <openssl/evp.h>

#include <optional>
#include <string>
#include <string_view>

namespace certfleet::protocol {

/// "-----BEGIN PRIVATE KEY-----": PrivateKeyInfo (RFC 5208) holding an ECPrivateKey
/// (RFC 5915) with the public key and without parameters (they are in the algorithm
/// identifier), byte for byte what OpenSSL writes. `public_point` is the key's
/// uncompressed public point, `curve_nid` its named curve and `scalar_bytes` its order's
/// size (32 for P-256). nullopt when OpenSSL fails or the point is empty.
std::optional<std::string> ec_private_key_pkcs8_pem(EVP_PKEY* key, std::string_view public_point,
                                                    int curve_nid, int scalar_bytes);

}  // namespace certfleet::protocol
