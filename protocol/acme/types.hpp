#pragma once
// RFC 8555 resources as certfleet uses them, parsed from the CA's JSON.

#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace certfleet::protocol {

/// RFC 8555 §7.1.1
struct acme_directory {
  std::string new_nonce;
  std::string new_account;
  std::string new_order;
  std::string revoke_cert;
  std::string key_change;  ///< RFC 8555 §7.3.5; empty: the CA offers no key rollover
  std::optional<std::string> terms_of_service;
  /// RFC 9773 §3: where to ask for a certificate's renewal window; empty: the CA has no ARI.
  std::string renewal_info;
  /// draft-ietf-acme-profiles meta.profiles: name -> the CA's description, sorted by name.
  std::map<std::string, std::string> profiles;
  /// RFC 8555 §7.3.4 meta.externalAccountRequired: new accounts need an EAB.
  bool external_account_required = false;
};

/// RFC 8555 §7.1.3. Everything needed to continue the order after a restart is its URL.
struct acme_order {
  std::string url;
  std::string status;  ///< pending, ready, processing, valid, invalid
  std::vector<std::string> identifiers;
  std::vector<std::string> authorizations;
  std::string finalize;
  std::string certificate;  ///< set once valid
};

/// RFC 8555 §7.1.5
struct acme_challenge {
  std::string type;
  std::string url;
  std::string token;
  std::string status;        ///< pending, processing, valid, invalid
  std::string error_detail;  ///< the CA's "error" detail, when validation failed
};

/// RFC 8555 §7.1.4
struct acme_authorization {
  std::string url;
  std::string status;  ///< pending, valid, invalid, deactivated, expired, revoked
  std::string identifier;
  std::vector<acme_challenge> challenges;
  std::string error_detail;  ///< from the failed challenge's "error", when invalid
};

result<acme_directory> parse_directory(std::string_view body);
result<acme_order> parse_order(std::string_view url, std::string_view body);
result<acme_authorization> parse_authorization(std::string_view url, std::string_view body);
result<acme_challenge> parse_challenge(std::string_view url, std::string_view body);

/// draft-ietf-acme-profiles: whether the CA at `directory_url` offers `profile`. Errors
/// (config): its directory lists no profiles, or not this one (the message lists the names
/// it offers, so the operator can pick one).
result<void> check_profile(const acme_directory& dir, std::string_view directory_url,
                           std::string_view profile);

}  // namespace certfleet::protocol
