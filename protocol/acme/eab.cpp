#include "protocol/acme/eab.hpp"

#include "protocol/crypto/base64url.hpp"
#include "protocol/crypto/hmac.hpp"

namespace certfleet::protocol {

result<nlohmann::json> external_account_binding(const account_binding& binding,
                                                const nlohmann::json& account_jwk,
                                                const std::string& new_account_url) {
  auto key = base64url::decode(binding.hmac_key);
  if (!key || key->empty())
    return error{error_kind::config,
                 "acme_eab_hmac_key is not base64url (copy it again from your CA account)"};
  nlohmann::json header;
  header["alg"] = "HS256";
  header["kid"] = binding.kid;
  header["url"] = new_account_url;
  const std::string protected_b64 = base64url::encode(header.dump());
  const std::string payload_b64 = base64url::encode(account_jwk.dump());
  auto mac = hmac_sha256(*key, protected_b64 + "." + payload_b64);
  if (!mac) return std::move(mac).err();
  nlohmann::json out;
  out["protected"] = protected_b64;
  out["payload"] = payload_b64;
  out["signature"] = base64url::encode(*mac);
  return out;
}

}  // namespace certfleet::protocol
