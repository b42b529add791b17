#include "core/error.hpp"

namespace certfleet {

std::string_view to_string(error_kind kind) {
  switch (kind) {
    case error_kind::account_does_not_exist: return "account_does_not_exist";
    case error_kind::already_revoked: return "already_revoked";
    case error_kind::bad_csr: return "bad_csr";
    case error_kind::bad_nonce: return "bad_nonce";
    case error_kind::bad_public_key: return "bad_public_key";
    case error_kind::bad_revocation_reason: return "bad_revocation_reason";
    case error_kind::bad_signature_algorithm: return "bad_signature_algorithm";
    case error_kind::caa: return "caa";
    case error_kind::compound: return "compound";
    case error_kind::connection: return "connection";
    case error_kind::dns: return "dns";
    case error_kind::external_account_required: return "external_account_required";
    case error_kind::incorrect_response: return "incorrect_response";
    case error_kind::invalid_contact: return "invalid_contact";
    case error_kind::malformed: return "malformed";
    case error_kind::order_not_ready: return "order_not_ready";
    case error_kind::rate_limited: return "rate_limited";
    case error_kind::rejected_identifier: return "rejected_identifier";
    case error_kind::server_internal: return "server_internal";
    case error_kind::tls: return "tls";
    case error_kind::unauthorized: return "unauthorized";
    case error_kind::unsupported_contact: return "unsupported_contact";
    case error_kind::unsupported_identifier: return "unsupported_identifier";
    case error_kind::user_action_required: return "user_action_required";
    case error_kind::network: return "network";
    case error_kind::timeout: return "timeout";
    case error_kind::server_error: return "server_error";
    case error_kind::bad_response: return "bad_response";
    case error_kind::self_check: return "self_check";
    case error_kind::not_enabled: return "not_enabled";
    case error_kind::storage: return "storage";
    case error_kind::config: return "config";
    case error_kind::invalid_input: return "invalid_input";
    case error_kind::internal: return "internal";
  }
  return "unknown";
}

}  // namespace certfleet
