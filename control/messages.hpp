#pragma once
// The control channel's messages: what the CLI (and bench/fleet_probe) may ask certfleetd on
// its control socket, and every answer it can get. These types are the contract between the
// two processes; control/codec turns them into one JSON line each, and the text a person sees
// for an answer is derived here, from the types, in one place.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace certfleet::control {

// ---- requests -------------------------------------------------------------------------

/// Is the daemon up, and how many domains does it run?
struct ping_request {
  bool operator==(const ping_request&) const = default;
};
/// Re-read the configuration directory and apply it.
struct reload_request {
  bool operator==(const reload_request&) const = default;
};
/// Which domains a retry is for.
enum class retry_scope : std::uint8_t {
  named,    ///< the domains of the request
  all,      ///< every configured domain (`retry --all`)
  failing,  ///< every configured domain whose last attempt failed (`retry --failing`)
};
/// Retry registration or renewal of these domains now (as the operator typed them).
struct retry_request {
  std::vector<std::string> domains;  ///< for retry_scope::named; empty otherwise
  retry_scope scope = retry_scope::named;
  bool operator==(const retry_request&) const = default;
};
/// Which domains have a change the daemon could not store (e.g. a full disk)?
struct save_problems_request {
  bool operator==(const save_problems_request&) const = default;
};
/// How does the ACME service's order queue stand?
struct queue_request {
  bool operator==(const queue_request&) const = default;
};
/// Revoke a domain's certificate at the CA, then order a new one. `reason` is a CRLReason
/// name ("keyCompromise"; core/revocation_reason.hpp), "unspecified" when not given.
struct revoke_request {
  std::string domain;
  std::string reason = "unspecified";
  bool operator==(const revoke_request&) const = default;
};
/// Give the ACME account a new key at the CA (RFC 8555 §7.3.5).
struct account_rollover_request {
  bool operator==(const account_rollover_request&) const = default;
};
using request = std::variant<ping_request, reload_request, retry_request, save_problems_request,
                             queue_request, revoke_request, account_rollover_request>;

// ---- responses ------------------------------------------------------------------------

/// Answer to ping: the number of domains the daemon runs an actor for.
struct ping_response {
  std::size_t domains = 0;
  bool operator==(const ping_response&) const = default;
};
/// Answer to a reload that was applied: the domains added and retired.
struct reload_response {
  std::vector<std::string> added;
  std::vector<std::string> removed;
  /// Directives whose new values take effect only at the next start (e.g. http_listen).
  std::vector<std::string> restart_needed;
  bool operator==(const reload_response&) const = default;
};
/// Answer to a reload whose configuration was refused; the daemon keeps the running one.
struct reload_rejected {
  std::string errors;  ///< the diagnostics, one "file:line: message" per line
  bool operator==(const reload_rejected&) const = default;
};

/// What retry did for one domain.
enum class retry_outcome : std::uint8_t {
  retrying,               ///< an attempt starts now
  not_in_renewal_window,  ///< valid certificate outside its renewal window: left alone
  already_in_progress,    ///< an attempt is running; it was left alone
  unknown_domain,         ///< not in the configuration (never configured, or retired)
  invalid_domain,         ///< not a domain name; detail says why
  no_answer,              ///< the daemon's part for this domain did not answer; detail says which
  not_saved,              ///< the retry could not be stored (e.g. a full disk); nothing started
  not_enabled,            ///< Let's Encrypt is not enabled in the configuration; nothing started
};

/// retry's answer for one domain.
struct retry_result {
  std::string domain;  ///< normalised when the name was valid, else as sent
  retry_outcome outcome = retry_outcome::no_answer;
  std::string detail;  ///< why, for invalid_domain and no_answer; empty otherwise
  bool operator==(const retry_result&) const = default;
};
/// Answer to retry: one result per requested domain, in request order.
struct retry_response {
  std::vector<retry_result> results;
  bool operator==(const retry_response&) const = default;
};

/// A domain whose latest change is held in the daemon's memory because storing it failed.
struct save_problem {
  std::string domain;
  std::string message;  ///< "could not save state: <why> in <directory>; ..."
  bool operator==(const save_problem&) const = default;
};
/// Answer to save_problems: empty when everything is stored.
struct save_problems_response {
  std::vector<save_problem> problems;
  bool operator==(const save_problems_response&) const = default;
};

/// Answer to queue: what waits for an order and what runs, and how long the orders waiting
/// will take at the order budget (renewals spend it too, and go first).
struct queue_response {
  std::uint64_t waiting_new = 0;       ///< domains without a certificate waiting for an order
  std::uint64_t waiting_renewals = 0;  ///< domains with a certificate waiting for an order
  /// Of those, held by a CA limit of their own (registered domain, name, failures).
  std::uint64_t waiting_held = 0;
  std::uint64_t in_flight = 0;         ///< orders running now
  std::uint64_t max_in_flight = 0;     ///< orders_in_flight
  std::uint64_t budget_orders = 0;     ///< order_budget: this many new orders ...
  std::uint64_t budget_seconds = 0;    ///< ... per this many seconds
  std::uint64_t budget_available = 0;  ///< new orders that may start now (whole tokens)
  std::uint64_t paused_seconds = 0;    ///< left of a pause after a rateLimited answer; 0: none
  /// Until the last order waiting may start (0 when all may start now).
  std::uint64_t backlog_seconds = 0;
  bool operator==(const queue_response&) const = default;
};

/// Answer to an action the daemon carried out (a revocation, a key rollover): what was done.
/// A failure is an error_response.
struct done_response {
  std::string message;
  bool operator==(const done_response&) const = default;
};

/// Answer to a request the daemon could not serve (malformed, unknown, or it failed).
struct error_response {
  std::string message;  ///< says what failed and what to do
  bool operator==(const error_response&) const = default;
};

using response =
    std::variant<ping_response, reload_response, reload_rejected, retry_response,
                 save_problems_response, queue_response, done_response, error_response>;

// ---- what a person reads --------------------------------------------------------------

/// The stable wire name of an outcome ("not_in_renewal_window"), as control/codec sends it.
std::string_view to_string(retry_outcome outcome);

/// The sentence the CLI prints after "domain: " (e.g. "an attempt is already in progress").
std::string describe(const retry_result& result);

/// Whether this outcome means the operator asked for something that cannot be done (an
/// unknown or invalid name): the CLI then exits 1. Outcomes that leave a domain alone on
/// purpose, and a domain that did not answer in time, are not problems of the request.
bool is_problem(retry_outcome outcome);

/// `certfleet queue`'s text: in flight, waiting, the budget, and when the backlog of new
/// domains is through ("about 11 h 40 min") when there is one.
std::string describe(const queue_response& queue);

/// The message for a rejected reload: that it was rejected, that the daemon keeps running on
/// its previous configuration, then the diagnostics.
std::string describe(const reload_rejected& rejected);

}  // namespace certfleet::control
