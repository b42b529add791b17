#include "protocol/jws.hpp"

#include <openssl/ec.h>

#include "protocol/base64url.hpp"
#include "protocol/jwk.hpp"

namespace certfleet::protocol {
namespace {

using ecdsa_sig_ptr = std::unique_ptr<ECDSA_SIG, ossl::deleter<ECDSA_SIG_free>>;

// A JSON string literal, escaped.
std::string json_string(std::string_view text) { return nlohmann::json(text).dump(); }

// What signing needs to know about a key, all cheap to derive.
struct signing_params {
  EVP_PKEY* pkey;
  const EVP_MD* md;  // static OpenSSL object, never freed
  int ec_width;      // bytes per coordinate for ECDSA; 0 for RSA
  std::string_view alg;
};

signing_params params_for(const private_key& key) {
  switch (key.type()) {
    case key_type::ec_p256:
      return {key.native(), EVP_sha256(), 32, "ES256"};
    case key_type::ec_p384:
      return {key.native(), EVP_sha384(), 48, "ES384"};
    case key_type::rsa2048:
    case key_type::rsa3072:
    case key_type::rsa4096:
      // RFC 8555 §6.2: servers MUST support RS256 and ES256.
      return {key.native(), EVP_sha256(), 0, "RS256"};
  }
  return {key.native(), EVP_sha256(), 0, "RS256"};
}

// RFC 7518 §3.4: ECDSA signatures are R || S, each left-padded to the coordinate size,
// not the DER SEQUENCE OpenSSL produces.
result<std::string> der_to_raw_ecdsa(const std::string& der_sig, int width) {
  const auto* der = reinterpret_cast<const unsigned char*>(der_sig.data());
  ecdsa_sig_ptr parsed{d2i_ECDSA_SIG(nullptr, &der, static_cast<long>(der_sig.size()))};
  if (!parsed) return ossl::make_error(error_kind::internal, "decoding the ECDSA signature failed");
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(parsed.get(), &r, &s);
  std::string raw(static_cast<std::size_t>(2 * width), '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  if (BN_bn2binpad(r, out, width) != width || BN_bn2binpad(s, out + width, width) != width)
    return ossl::make_error(error_kind::internal, "encoding the ECDSA signature failed");
  return raw;
}

// `jwk_text` is the serialized JWK; only read when there is no kid.
result<std::string> sign_with(const signing_params& key, std::string_view jwk_text,
                              std::string_view url, std::string_view nonce,
                              const std::optional<std::string>& kid, std::string_view payload) {
  if (url.empty()) return error{error_kind::invalid_input, "a JWS needs a url"};
  if (nonce.empty()) return error{error_kind::invalid_input, "a JWS needs a nonce"};

  // Members in a fixed order; the CA hashes the base64url text, not a re-serialization.
  std::string header = R"({"alg":")";
  header += key.alg;
  header += '"';
  if (kid && !kid->empty()) {
    header += R"(,"kid":)";
    header += json_string(*kid);
  } else {
    header += R"(,"jwk":)";
    header += jwk_text;
  }
  header += R"(,"nonce":)";
  header += json_string(nonce);
  header += R"(,"url":)";
  header += json_string(url);
  header += '}';

  std::string signing_input = base64url::encode(header);
  const std::size_t protected_len = signing_input.size();
  signing_input += '.';
  signing_input += base64url::encode(payload);

  ossl::md_ctx_ptr ctx{EVP_MD_CTX_new()};
  std::size_t sig_len = 0;
  const auto* input = reinterpret_cast<const unsigned char*>(signing_input.data());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, key.md, nullptr, key.pkey) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &sig_len, input, signing_input.size()) != 1)
    return ossl::make_error(error_kind::internal, "preparing the JWS signature failed");
  std::string sig(sig_len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &sig_len, input,
                     signing_input.size()) != 1)
    return ossl::make_error(error_kind::internal, "signing the JWS failed");
  sig.resize(sig_len);
  if (key.ec_width > 0) {
    auto raw = der_to_raw_ecdsa(sig, key.ec_width);
    if (!raw) return std::move(raw).err();
    sig = std::move(*raw);
  }

  std::string body = R"({"protected":")";
  body.append(signing_input, 0, protected_len);
  body += R"(","payload":")";
  body.append(signing_input, protected_len + 1);
  body += R"(","signature":")";
  body += base64url::encode(sig);
  body += "\"}";
  return body;
}

}  // namespace

jws_signer::jws_signer(const private_key& key)
    : jwk_(jwk_json(key)), jwk_text_(jwk_.dump()), thumbprint_(jwk_thumbprint(jwk_)) {
  const signing_params params = params_for(key);
  EVP_PKEY_up_ref(key.native());
  pkey_.reset(key.native());
  md_ = params.md;
  ec_width_ = params.ec_width;
  alg_ = params.alg;
}

result<std::string> jws_signer::sign(std::string_view url, std::string_view nonce,
                                     const std::optional<std::string>& kid,
                                     const std::optional<nlohmann::json>& payload) const {
  return sign_raw(url, nonce, kid, payload ? payload->dump() : std::string{});
}

result<std::string> jws_signer::sign_raw(std::string_view url, std::string_view nonce,
                                         const std::optional<std::string>& kid,
                                         std::string_view payload) const {
  return sign_with({pkey_.get(), md_, ec_width_, alg_}, jwk_text_, url, nonce, kid, payload);
}

result<std::string> sign_jws(const private_key& key, const std::string& url,
                             const std::string& nonce, const std::optional<std::string>& kid,
                             const std::optional<nlohmann::json>& payload) {
  // Only derive the JWK when the header carries it (newAccount); kid requests skip it.
  const std::string jwk_text = kid && !kid->empty() ? std::string{} : jwk_json(key).dump();
  return sign_with(params_for(key), jwk_text, url, nonce, kid,
                   payload ? payload->dump() : std::string{});
}

}  // namespace certfleet::protocol
