#pragma once
// The one error type of certfleet, and result<T> for APIs that can fail.
// protocol/ and storage/ return results; they never throw across their APIs.

#include <cassert>
#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace certfleet {

/// What went wrong, coarse enough to decide what to do about it.
/// The ACME kinds mirror RFC 8555 §6.7 problem types one to one.
enum class error_kind {
  // RFC 8555 §6.7 problem types (urn:ietf:params:acme:error:<name>), then RFC 9773's
  account_does_not_exist,
  already_revoked,
  bad_csr,
  bad_nonce,
  bad_public_key,
  bad_revocation_reason,
  bad_signature_algorithm,
  caa,
  compound,
  connection,
  dns,
  external_account_required,
  incorrect_response,
  invalid_contact,
  malformed,
  order_not_ready,
  rate_limited,
  rejected_identifier,
  server_internal,
  tls,
  unauthorized,
  unsupported_contact,
  unsupported_identifier,
  user_action_required,
  already_replaced,  ///< RFC 9773 §7.4: the certificate in `replaces` was already replaced
  // certfleet's own
  network,        ///< could not reach the peer, or the connection broke
  timeout,        ///< the peer did not answer in time
  server_error,   ///< HTTP 5xx without a problem document
  bad_response,   ///< the peer answered something we cannot use
  self_check,     ///< the domain does not reach this host
  not_enabled,    ///< Let's Encrypt integration is not enabled in the configuration
  storage,        ///< LMDB or the file system failed
  config,         ///< configuration is invalid
  invalid_input,  ///< a caller passed something unusable (bad domain, bad PEM, ...)
  internal,       ///< a bug or an OpenSSL failure we cannot classify
};

/// What certfleet does about errors of one kind: the one policy table (error.cpp, with
/// the reasons). The ACME problem table (protocol/acme/problem.cpp) maps URNs to kinds
/// and takes retryability from here; the domain state machine reads invalidates_order.
struct error_policy {
  error_kind kind;
  std::string_view name;  ///< stable, lower-case (e.g. "rate_limited"), for logs and tests
  /// May the same request, sent again later without a human changing anything on our
  /// side, succeed? The default of error::retryable for this kind.
  bool retryable;
  /// After a failed attempt with this error, the stored ACME order cannot be resumed:
  /// the next attempt creates a new order.
  bool invalidates_order;
  /// The CA failed (unreachable, broken, or rate limiting), not the domain or the
  /// configuration: counts toward moving the domain to the fallback CA.
  bool ca_fault;
};

/// Every kind's policy, in error_kind order (one row per kind).
std::span<const error_policy> error_policies();
/// The policy row of `kind`.
const error_policy& policy_of(error_kind kind);

/// Stable, lower-case name of a kind (e.g. "rate_limited"), for logs and tests.
std::string_view to_string(error_kind kind);

/// A failure: what kind, a sentence for a human, and whether trying again may help.
struct error {
  error_kind kind = error_kind::internal;
  /// Human-readable; says what failed and, where we know, what to do.
  /// Never contains key material.
  std::string detail;
  /// The kind's policy (policy_of(kind).retryable) unless the producer knows better for
  /// this one error (a compound problem is retryable when all its subproblems are).
  bool retryable = false;
  /// Set when the peer told us when to come back (HTTP Retry-After).
  std::optional<std::chrono::seconds> retry_after;

  error() = default;
  /// Retryable as the kind's policy says.
  error(error_kind k, std::string d)
      : kind(k), detail(std::move(d)), retryable(policy_of(k).retryable) {}
  error(error_kind k, std::string d, bool r,
        std::optional<std::chrono::seconds> after = std::nullopt)
      : kind(k), detail(std::move(d)), retryable(r), retry_after(after) {}
};

/// Whether the stored order must be replaced after `e` (its kind's policy).
inline bool invalidates_order(const error& e) { return policy_of(e.kind).invalidates_order; }
/// Whether `e` is the CA's fault (its kind's policy).
inline bool is_ca_fault(const error& e) { return policy_of(e.kind).ca_fault; }

/// Either a T or an error. Check with ok() (or bool) before value().
template <class T>
class [[nodiscard]] result {
 public:
  /// An internal error; exists because Asio's co_spawn needs default-constructible results.
  result() : v_(std::in_place_index<1>, error{error_kind::internal, "no result was produced"}) {}
  result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  result(error e) : v_(std::in_place_index<1>, std::move(e)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const error& err() const& {
    assert(!ok());
    return std::get<1>(v_);
  }
  error&& err() && {
    assert(!ok());
    return std::get<1>(std::move(v_));
  }

 private:
  std::variant<T, error> v_;
};

template <>
class [[nodiscard]] result<void> {
 public:
  result() = default;
  result(error e) : e_(std::move(e)) {}

  bool ok() const { return !e_.has_value(); }
  explicit operator bool() const { return ok(); }
  const error& err() const& {
    assert(!ok());
    return *e_;
  }
  error&& err() && {
    assert(!ok());
    return std::move(*e_);
  }

 private:
  std::optional<error> e_;
};

}  // namespace certfleet
