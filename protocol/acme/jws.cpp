#include "protocol/acme/jws.hpp"

#include <openssl/ec.h>
#include <openssl/err.h>

#include <array>
#include <cstdio>
#include <mutex>

#include "protocol/acme/jwk.hpp"
#include "protocol/crypto/base64url.hpp"

namespace certfleet::protocol {
namespace {

using ecdsa_sig_ptr = std::unique_ptr<ECDSA_SIG, ossl::deleter<ECDSA_SIG_free>>;

// A JSON string literal (RFC 8259 §7). Written here because building a JSON value to
// dump it cost 1.6 % of the ACME client's instructions (three per request); the values
// (URLs, nonces) rarely hold anything to escape.
std::string json_string(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out += '"';
  std::size_t plain = 0;  // start of the characters not copied yet
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c != '"' && c != '\\' && c >= 0x20) continue;
    out.append(text, plain, i - plain);
    char escaped[8];
    std::snprintf(escaped, sizeof escaped, c < 0x20 ? "\\u%04x" : "\\%c", c);
    out += escaped;
    plain = i + 1;
  }
  out.append(text, plain);
  out += '"';
  return out;
}

// RFC 7518 §3.4: ECDSA signatures are R || S, each left-padded to the coordinate size,
// not the DER SEQUENCE OpenSSL produces.
result<std::string> der_to_raw_ecdsa(const unsigned char* der, std::size_t len, int width) {
  ecdsa_sig_ptr parsed{d2i_ECDSA_SIG(nullptr, &der, static_cast<long>(len))};
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

// A digest fetched once per process: OpenSSL 3.0 looks EVP_sha256() up in its provider
// tables on every use otherwise. Never freed (process lifetime).
const EVP_MD* fetched_digest(const char* name) { return EVP_MD_fetch(nullptr, name, nullptr); }

}  // namespace

// Signs with one key through one OpenSSL context prepared once: OpenSSL 3.0 spends as
// long setting up a signing context (provider lookups) as an ES256 signature takes.
// The digest is computed separately and the prepared context only signs it.
class jws_signer::digest_signer {
 public:
  digest_signer(EVP_PKEY* pkey, key_type type) {
    EVP_PKEY_up_ref(pkey);
    pkey_.reset(pkey);
    switch (type) {
      case key_type::ec_p256:
        alg_ = "ES256", ec_width_ = 32, md_ = sha256_;
        break;
      case key_type::ec_p384:
        alg_ = "ES384", ec_width_ = 48, md_ = sha384_;
        break;
      case key_type::rsa2048:
      case key_type::rsa3072:
      case key_type::rsa4096:
        // RFC 8555 §6.2: servers MUST support RS256 and ES256.
        alg_ = "RS256", ec_width_ = 0, md_ = sha256_;
        break;
    }
    ctx_.reset(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
    ready_ = ctx_ && md_ != nullptr && EVP_PKEY_sign_init(ctx_.get()) == 1 &&
             // RSA PKCS#1 v1.5 wraps the digest in a DigestInfo naming its algorithm.
             (ec_width_ > 0 || EVP_PKEY_CTX_set_signature_md(ctx_.get(), md_) == 1);
    if (!ready_) ERR_clear_error();
  }

  std::string_view alg() const { return alg_; }
  EVP_PKEY* pkey() const { return pkey_.get(); }

  /// The JWS signature of `input` (RFC 7518 §3.3/§3.4 form).
  result<std::string> sign(std::string_view input) const {
    if (!ready_) return error{error_kind::internal, "preparing the JWS signature failed"};
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    if (EVP_Digest(input.data(), input.size(), digest, &digest_len, md_, nullptr) != 1)
      return ossl::make_error(error_kind::internal, "hashing the JWS input failed");
    std::array<unsigned char, 1024> sig{};  // RSA 4096 needs 512, ECDSA P-384 ~104
    std::size_t sig_len = sig.size();
    {
      std::lock_guard lock(mutex_);  // an EVP_PKEY_CTX is not for concurrent use
      if (EVP_PKEY_sign(ctx_.get(), sig.data(), &sig_len, digest, digest_len) != 1)
        return ossl::make_error(error_kind::internal, "signing the JWS failed");
    }
    if (ec_width_ > 0) return der_to_raw_ecdsa(sig.data(), sig_len, ec_width_);
    return std::string(reinterpret_cast<const char*>(sig.data()), sig_len);
  }

 private:
  static inline const EVP_MD* const sha256_ = fetched_digest("SHA256");
  static inline const EVP_MD* const sha384_ = fetched_digest("SHA384");
  ossl::pkey_ptr pkey_;
  ossl::pkey_ctx_ptr ctx_;
  mutable std::mutex mutex_;
  const EVP_MD* md_ = nullptr;
  int ec_width_ = 0;  // bytes per coordinate for ECDSA; 0 for RSA
  std::string_view alg_;
  bool ready_ = false;
};

jws_signer::jws_signer(const private_key& key)
    : signer_(std::make_unique<digest_signer>(key.native(), key.type())),
      jwk_(jwk_json(key)),
      jwk_text_(jwk_.dump()),
      thumbprint_(jwk_thumbprint(jwk_)),
      alg_(signer_->alg()) {}

jws_signer::jws_signer(jws_signer&&) noexcept = default;
jws_signer& jws_signer::operator=(jws_signer&&) noexcept = default;
jws_signer::~jws_signer() = default;

result<std::string> jws_signer::sign(std::string_view url, std::string_view nonce,
                                     const std::optional<std::string>& kid,
                                     const std::optional<nlohmann::json>& payload) const {
  return sign_raw(url, nonce, kid, payload ? payload->dump() : std::string{});
}

result<std::string> jws_signer::sign_raw(std::string_view url, std::string_view nonce,
                                         const std::optional<std::string>& kid,
                                         std::string_view payload) const {
  if (url.empty()) return error{error_kind::invalid_input, "a JWS needs a url"};
  if (nonce.empty()) return error{error_kind::invalid_input, "a JWS needs a nonce"};

  // Members in a fixed order; the CA hashes the base64url text, not a re-serialization.
  std::string header = R"({"alg":")";
  header += alg_;
  header += '"';
  if (kid && !kid->empty()) {
    header += R"(,"kid":)";
    header += json_string(*kid);
  } else {
    header += R"(,"jwk":)";
    header += jwk_text_;
  }
  header += R"(,"nonce":)";
  header += json_string(nonce);
  header += R"(,"url":)";
  header += json_string(url);
  header += '}';
  return assemble(header, payload);
}

result<std::string> jws_signer::sign_key_change(std::string_view url,
                                                const nlohmann::json& payload) const {
  if (url.empty()) return error{error_kind::invalid_input, "a JWS needs a url"};
  std::string header = R"({"alg":")";
  header += alg_;
  header += R"(","jwk":)";
  header += jwk_text_;
  header += R"(,"url":)";
  header += json_string(url);
  header += '}';
  return assemble(header, payload.dump());
}

result<std::string> jws_signer::assemble(const std::string& header,
                                         std::string_view payload) const {
  std::string signing_input = base64url::encode(header);
  const std::size_t protected_len = signing_input.size();
  signing_input += '.';
  signing_input += base64url::encode(payload);

  auto sig = signer_->sign(signing_input);
  if (!sig) return std::move(sig).err();

  std::string body = R"({"protected":")";
  body.append(signing_input, 0, protected_len);
  body += R"(","payload":")";
  body.append(signing_input, protected_len + 1);
  body += R"(","signature":")";
  body += base64url::encode(*sig);
  body += "\"}";
  return body;
}

result<std::string> sign_jws(const private_key& key, const std::string& url,
                             const std::string& nonce, const std::optional<std::string>& kid,
                             const std::optional<nlohmann::json>& payload) {
  return jws_signer(key).sign(url, nonce, kid, payload);
}

}  // namespace certfleet::protocol
