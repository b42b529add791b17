#include "core/error.hpp"

#include <array>
#include <cstddef>

namespace certfleet {
namespace {

using ek = error_kind;
using namespace std::string_view_literals;

// "retryable": may the same request, sent again later without a human changing anything
// on our side, succeed?
//  - yes for transient CA state: badNonce (retry at once with a fresh nonce), rateLimited
//    (after Retry-After), serverInternal, orderNotReady (the authorizations are still
//    being validated: poll, then finalize again); and for our network, timeout, HTTP 5xx,
//    storage (a full disk can be freed) and not_enabled (the operator enables it);
//  - yes for validation failures (connection, dns, tls, incorrectResponse, unauthorized,
//    caa, self_check): they depend on the domain's DNS, network path and web server,
//    which are outside certfleet and often fixed or recovered without us, so the domain
//    retries on its back-off schedule (the self-check explains what to fix);
//  - no for what our request or configuration got wrong, or what the CA's policy
//    refuses: malformed, badCSR, badPublicKey, badSignatureAlgorithm, badRevocationReason,
//    alreadyRevoked, rejectedIdentifier, unsupportedIdentifier, invalidContact,
//    unsupportedContact, externalAccountRequired, accountDoesNotExist (needs a new
//    account, not the same request), userActionRequired (a human must accept terms),
//    alreadyReplaced (the same `replaces` is refused again; the order goes without it),
//    and an answer we cannot use, a bad input, a configuration error or a bug;
//  - compound: decided per error from its subproblems (problem.cpp).
//
// "invalidates_order": only errors that leave the CA's order untouched keep it resumable:
// the CA was not reached or did not decide (network, timeout, 5xx, serverInternal),
// the request is repeated with a fresh nonce (badNonce), the CA asked us to come back
// later (rateLimited), or the failure was ours before or after talking to the CA
// (storage, not_enabled). After anything else the order is invalid at the CA (a failed
// validation makes it so, RFC 8555 §7.1.6) or its state is unknown: a new order is the
// safe next step, and costs one request.
//
// "ca_fault": the CA failed, not the domain or the configuration: it could not be reached
// or did not answer in time (network, timeout; an order only ever talks to the CA), it
// failed (5xx, serverInternal, an answer we cannot use, nonces it keeps refusing, an order
// it never got ready), or it is rate limiting. After acme_fallback_after of these in a row
// a domain's next order goes to the fallback CA. A failed validation (dns, connection, tls,
// incorrectResponse, unauthorized, caa) is the domain's, and would fail at any CA.
constexpr std::array<error_policy, 35> policies{{
    {ek::account_does_not_exist, "account_does_not_exist"sv, false, true, false},
    {ek::already_revoked, "already_revoked"sv, false, true, false},
    {ek::bad_csr, "bad_csr"sv, false, true, false},
    {ek::bad_nonce, "bad_nonce"sv, true, false, true},
    {ek::bad_public_key, "bad_public_key"sv, false, true, false},
    {ek::bad_revocation_reason, "bad_revocation_reason"sv, false, true, false},
    {ek::bad_signature_algorithm, "bad_signature_algorithm"sv, false, true, false},
    {ek::caa, "caa"sv, true, true, false},
    {ek::compound, "compound"sv, false, true, false},
    {ek::connection, "connection"sv, true, true, false},
    {ek::dns, "dns"sv, true, true, false},
    {ek::external_account_required, "external_account_required"sv, false, true, false},
    {ek::incorrect_response, "incorrect_response"sv, true, true, false},
    {ek::invalid_contact, "invalid_contact"sv, false, true, false},
    {ek::malformed, "malformed"sv, false, true, false},
    {ek::order_not_ready, "order_not_ready"sv, true, true, true},
    {ek::rate_limited, "rate_limited"sv, true, false, true},
    {ek::rejected_identifier, "rejected_identifier"sv, false, true, false},
    {ek::server_internal, "server_internal"sv, true, false, true},
    {ek::tls, "tls"sv, true, true, false},
    {ek::unauthorized, "unauthorized"sv, true, true, false},
    {ek::unsupported_contact, "unsupported_contact"sv, false, true, false},
    {ek::unsupported_identifier, "unsupported_identifier"sv, false, true, false},
    {ek::user_action_required, "user_action_required"sv, false, true, false},
    {ek::already_replaced, "already_replaced"sv, false, true, false},
    {ek::network, "network"sv, true, false, true},
    {ek::timeout, "timeout"sv, true, false, true},
    {ek::server_error, "server_error"sv, true, false, true},
    {ek::bad_response, "bad_response"sv, false, true, true},
    {ek::self_check, "self_check"sv, true, true, false},
    {ek::not_enabled, "not_enabled"sv, true, false, false},
    {ek::storage, "storage"sv, true, false, false},
    {ek::config, "config"sv, false, true, false},
    {ek::invalid_input, "invalid_input"sv, false, true, false},
    {ek::internal, "internal"sv, false, true, false},
}};

// The table is indexed by kind: a row out of place is a compile error, not a wrong answer.
constexpr bool rows_in_kind_order() {
  for (std::size_t i = 0; i < policies.size(); ++i)
    if (static_cast<std::size_t>(policies[i].kind) != i) return false;
  return true;
}
static_assert(rows_in_kind_order(), "error policy rows must follow error_kind's order");
static_assert(policies.size() == static_cast<std::size_t>(ek::internal) + 1,
              "every error_kind needs a policy row");

}  // namespace

std::span<const error_policy> error_policies() { return policies; }

const error_policy& policy_of(error_kind kind) {
  const auto i = static_cast<std::size_t>(kind);
  // A value outside the enum (a corrupt byte) gets the most careful row: internal.
  return i < policies.size() ? policies[i] : policies.back();
}

std::string_view to_string(error_kind kind) {
  return static_cast<std::size_t>(kind) < policies.size() ? policy_of(kind).name : "unknown";
}

}  // namespace certfleet
