#pragma once
// ACME problem documents (RFC 7807, RFC 8555 §6.7) and HTTP Retry-After (RFC 9110
// §10.2.3), turned into certfleet errors.

#include <chrono>
#include <optional>
#include <span>
#include <string_view>

#include "core/error.hpp"
#include "core/time.hpp"

namespace certfleet::protocol {

/// One RFC 8555 §6.7 problem type: "urn:ietf:params:acme:error:<name>". Whether it is
/// retryable and whether it invalidates an order is its kind's policy (core/error.hpp).
struct acme_problem_type {
  std::string_view name;  ///< e.g. "badNonce"
  error_kind kind;
};

/// The one table of all 24 RFC 8555 §6.7 problem types and RFC 9773's alreadyReplaced.
std::span<const acme_problem_type> acme_problem_types();

/// The error a CA's non-2xx answer stands for. For an ACME problem document the kind
/// comes from acme_problem_types() and the retryable flag from the kind's policy
/// (policy_of); the detail is the CA's "detail"
/// plus a summary of "subproblems" (identifier and detail each), capped in length.
/// Anything else (wrong content type, HTML, malformed JSON, no "type", a type outside
/// the ACME namespace) becomes server_error (HTTP 5xx, retryable), rate_limited (429,
/// retryable) or bad_response, quoting at most ~200 bytes of the body.
/// `retry_after_header` (may be empty) sets error.retry_after when it parses.
error parse_problem(int http_status, std::string_view content_type, std::string_view body,
                    std::string_view retry_after_header, timestamp now);

/// The longest Retry-After taken as given: a week. No CA asks for more, and the cap keeps
/// "now + Retry-After" in range for every clock (9223372036854775807 seconds overflowed).
inline constexpr std::chrono::seconds max_retry_after = std::chrono::hours(24 * 7);

/// An HTTP Retry-After value as a delay from `now`: delta-seconds ("120") or an
/// IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"; a date in the past gives 0s).
/// Anything else, including negative or overflowing numbers: nullopt.
std::optional<std::chrono::seconds> parse_retry_after(std::string_view header, timestamp now);

}  // namespace certfleet::protocol
