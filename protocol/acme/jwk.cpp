#include "protocol/acme/jwk.hpp"

#include <openssl/core_names.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <span>

#include "protocol/crypto/base64url.hpp"

namespace certfleet::protocol {
namespace {

[[noreturn]] void fatal(const char* what) {
  // Reading the public parameters of a key OpenSSL already accepted only fails when
  // memory runs out.
  std::fprintf(stderr, "certfleet: fatal: %s\n", what);
  std::abort();
}

// A big-endian unsigned integer parameter of the key; left-padded with zeros to
// `width` bytes when width > 0, minimal otherwise.
std::string bn_param(EVP_PKEY* pkey, const char* name, int width) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &raw) != 1) fatal("reading a public key parameter failed");
  ossl::bn_ptr bn{raw};
  const int size = width > 0 ? width : BN_num_bytes(bn.get());
  std::string out(static_cast<std::size_t>(size), '\0');
  if (BN_bn2binpad(bn.get(), reinterpret_cast<unsigned char*>(out.data()), size) != size)
    fatal("encoding a public key parameter failed");
  return out;
}

}  // namespace

nlohmann::json jwk_json(const private_key& key) {
  EVP_PKEY* pkey = key.native();
  switch (key.type()) {
    case key_type::ec_p256:
    case key_type::ec_p384: {
      const bool p256 = key.type() == key_type::ec_p256;
      const int width = p256 ? 32 : 48;  // RFC 7518 §6.2.1.2: the full coordinate size
      return nlohmann::json{
          {"crv", p256 ? "P-256" : "P-384"},
          {"kty", "EC"},
          {"x", base64url::encode(bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, width))},
          {"y", base64url::encode(bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, width))},
      };
    }
    case key_type::rsa2048:
    case key_type::rsa3072:
    case key_type::rsa4096:
      return rsa_jwk_json(base64url::encode(bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, 0)),
                          base64url::encode(bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, 0)));
  }
  fatal("unknown key type");
}

nlohmann::json rsa_jwk_json(std::string_view n_b64url, std::string_view e_b64url) {
  return nlohmann::json{{"e", e_b64url}, {"kty", "RSA"}, {"n", n_b64url}};
}

std::string jwk_thumbprint(const nlohmann::json& jwk) {
  // RFC 7638 §3.2: only the required members count (not "alg", "kid", ...).
  static constexpr std::array<const char*, 4> ec_members{"crv", "kty", "x", "y"};
  static constexpr std::array<const char*, 3> rsa_members{"e", "kty", "n"};
  const std::string kty = jwk.is_object() ? jwk.value("kty", "") : "";
  const auto required = [&]() -> std::span<const char* const> {
    if (kty == "EC") return ec_members;
    if (kty == "RSA") return rsa_members;
    return {};
  }();
  nlohmann::json canonical = nlohmann::json::object();
  for (const char* member : required)
    if (jwk.contains(member)) canonical[member] = jwk[member];
  // nlohmann::json keeps object members sorted and dump() adds no whitespace, which is
  // RFC 7638 §3.3's canonical form for these ASCII-only members.
  return base64url::encode(sha256((required.empty() ? jwk : canonical).dump()));
}

std::string jwk_thumbprint(const private_key& key) { return jwk_thumbprint(jwk_json(key)); }

std::string key_authorization(std::string_view token, std::string_view thumbprint) {
  std::string out;
  out.reserve(token.size() + 1 + thumbprint.size());
  out += token;
  out += '.';
  out += thumbprint;
  return out;
}

}  // namespace certfleet::protocol
