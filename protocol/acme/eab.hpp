#pragma once
// External Account Binding (RFC 8555 §7.3.4): the object a newAccount request carries to
// tie the new ACME account to an account the operator has at the CA (ZeroSSL, Google,
// Sectigo and private CAs require it).

#include <nlohmann/json.hpp>
#include <string>

#include "core/error.hpp"
#include "protocol/acme/issuance_types.hpp"

namespace certfleet::protocol {

/// The externalAccountBinding member of a newAccount payload: a flattened JWS whose
/// protected header is {"alg":"HS256","kid":binding.kid,"url":new_account_url}, whose
/// payload is the account's public JWK, MACed with the base64url-decoded binding.hmac_key.
/// Errors (config): the HMAC key is not base64url (the message never quotes it).
result<nlohmann::json> external_account_binding(const account_binding& binding,
                                                const nlohmann::json& account_jwk,
                                                const std::string& new_account_url);

}  // namespace certfleet::protocol
