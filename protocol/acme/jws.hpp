#pragma once
// JSON Web Signatures (RFC 7515) in the flattened JSON serialization that RFC 8555
// §6.2 requires for every ACME POST.

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "protocol/crypto/key.hpp"

namespace certfleet::protocol {

/// Signs ACME requests with one account key. Built once per key: it caches the JWS
/// algorithm, a prepared OpenSSL signing context and the serialized JWK so that each
/// request costs one digest and one signature. Holds its own reference to the key, so
/// it may outlive the private_key it was made from. sign() is const and safe to call
/// from several threads at once.
class jws_signer {
 public:
  /// Precondition: `key` is not moved-from.
  explicit jws_signer(const private_key& key);

  jws_signer(jws_signer&&) noexcept;
  jws_signer& operator=(jws_signer&&) noexcept;
  ~jws_signer();

  /// "ES256" (P-256), "ES384" (P-384) or "RS256" (RSA); RFC 7518 §3.1.
  const std::string& alg() const { return alg_; }
  /// The public JWK (see jwk_json).
  const nlohmann::json& jwk() const { return jwk_; }
  /// RFC 7638 thumbprint of jwk(), for key authorizations.
  const std::string& thumbprint() const { return thumbprint_; }

  /// The JWS request body {"protected","payload","signature"} (RFC 8555 §6.2). The
  /// protected header holds alg, nonce, url and either "kid" (when kid has a non-empty
  /// value: an existing account, RFC 8555 §6.2) or "jwk" (newAccount, revocation by
  /// certificate key). payload nullopt is a POST-as-GET (RFC 8555 §6.3): empty payload.
  /// Errors (invalid_input): empty url or nonce; internal: OpenSSL failed.
  result<std::string> sign(std::string_view url, std::string_view nonce,
                           const std::optional<std::string>& kid,
                           const std::optional<nlohmann::json>& payload) const;

  /// As sign(), with the payload already serialized (empty: POST-as-GET).
  result<std::string> sign_raw(std::string_view url, std::string_view nonce,
                               const std::optional<std::string>& kid,
                               std::string_view payload) const;

  /// The inner JWS of an account key change (RFC 8555 §7.3.5), signed with the new key:
  /// its protected header holds alg, jwk and url, and no nonce. Errors as sign().
  result<std::string> sign_key_change(std::string_view url, const nlohmann::json& payload) const;

 private:
  /// The flattened JWS of `header` (serialized) over `payload` (serialized).
  result<std::string> assemble(const std::string& header, std::string_view payload) const;
  class digest_signer;
  std::unique_ptr<digest_signer> signer_;
  nlohmann::json jwk_;
  std::string jwk_text_;
  std::string thumbprint_;
  std::string alg_;
};

/// jws_signer(key).sign(...): for a single request. Many requests with one key are
/// cheaper through one jws_signer.
result<std::string> sign_jws(const private_key& key, const std::string& url,
                             const std::string& nonce, const std::optional<std::string>& kid,
                             const std::optional<nlohmann::json>& payload);

}  // namespace certfleet::protocol
