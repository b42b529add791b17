#pragma once
// The domain state machine: a pure function from (record, event, context) to the next
// record plus the effects the domain actor carries out. No CAF, no I/O, no clock reads.
//
//   pending --started/wake/retry-------+
//   valid ----wake at renewal point-----+--> self_checking --self_check_passed--> queued
//   failing --wake at retry time--------+    (skipped when the self-check is disabled or
//   (retry_requested: pending, failing,      a stored order is resumed after a crash)
//    valid inside its renewal window)
//
//   queued --order_started--> ordering --challenge_submitted--> validating
//     --csr_submitted--> finalizing
//   (queued waits for the ACME service's order budget, however long: the attempt's
//   deadline starts when the order does. order_created stores the order URL; ordering
//   may go straight to finalizing or issued)
//
//   ordering | validating | finalizing --issued--> valid
//   (also self_checking, queued, failing: a late certificate of an attempt that timed out)
//   in flight --self_check_failed | order_failed | wake past the deadline--> failing
//   any phase --deconfigured--> retired --reconfigured--> valid, or a new attempt
//   any start of an attempt while Let's Encrypt is not enabled (context.acme_enabled) -->
//   disabled: nothing is attempted, nothing fails, no retry is scheduled
//   disabled --acme_enabled (the reload that enables it), started, wake--> an attempt at once
//   valid | failing --certificate_revoked--> a new attempt at once (stored first)
//
// Attempts that fail by the CA's fault (core/error.hpp ca_fault) are counted in a row
// (ca_failures); from context.fallback_after of them on, orders go to the fallback CA,
// until a certificate is issued: the next renewal tries the primary CA again.
//
// A valid certificate's renewal point is the fallback rule, or earlier when the CA suggests
// a window (RFC 9773, ARI): the domain asks for it every few hours (fetch_renewal_info,
// ari_check_at) and renews at its own moment of the window (renewal_due).
//
// The record is the state: its `phase` says where the domain is, and persisting the
// record after each step is all a restart needs. An in-flight phase found by `started`
// means the daemon died mid-attempt; the attempt resumes (the stored order if any).
// Events that do not fit the current phase are ignored: the record stays as it was.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "actors/renewal_policy.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/time.hpp"
#include "storage/records.hpp"

namespace certfleet::actors {

// ---- events -------------------------------------------------------------------------

/// The actor was spawned from the stored record (daemon start or domain added).
struct started {};
/// The single wake timer fired. Ignored (and re-armed) when now < next_attempt.
struct wake {};
struct self_check_passed {};
/// err.detail should begin with "Self-check failed:"; it is added when missing.
struct self_check_failed {
  error err;
};
/// The ACME service took the order from its queue and sends it to the CA now.
struct order_started {};
/// The CA created the order; its URL is persisted so a restart can resume it.
struct order_created {
  std::string order_url;
};
/// The challenge was answered; the CA is validating (RFC 8555 §7.5.1).
struct challenge_submitted {};
/// The CSR was sent (RFC 8555 §7.4); waiting for and downloading the certificate.
struct csr_submitted {};
/// The CA issued a certificate. It is stored only when the step takes it
/// (step::takes_certificate): in flight, or late from an attempt that timed out.
struct issued {
  timestamp not_before;
  timestamp not_after;
};
/// The attempt failed. Whether the stored order stays resumable is the error's policy
/// (invalidates_order in core/error.hpp).
struct order_failed {
  error err;
  /// False when the attempt ended before the CA saw the order (no ACME account, ACME
  /// not enabled): the stored order is then kept whatever the error.
  bool order_contacted = true;
};
/// The operator's `retry`: attempt now unless that would renew early.
struct retry_requested {};
/// The domain left the configuration: stop all work.
struct deconfigured {};
/// RFC 9773: the CA's suggested renewal window for the certificate that expires at
/// `cert_not_after` (an answer about an older certificate is ignored).
struct renewal_info_received {
  timestamp cert_not_after;
  timestamp start;
  timestamp end;
  std::string explanation_url;                      ///< empty when the CA gave none
  std::optional<std::chrono::seconds> retry_after;  ///< when to ask again
};
/// The renewal window could not be had: `offered` false when the CA has no ARI at all;
/// otherwise `err` says why (unreachable, or an answer that cannot be used).
struct renewal_info_failed {
  timestamp cert_not_after;
  bool offered = true;
  error err;
};
/// The domain is back in the configuration.
struct reconfigured {};
/// The CA revoked the certificate that expires at `cert_not_after` (the operator's
/// `certfleet revoke`): it is replaced at once, as after a CA's mass revocation.
struct certificate_revoked {
  timestamp cert_not_after;
};
/// A reload enabled Let's Encrypt: a disabled domain starts its attempt now.
struct acme_enabled {};

using event = std::variant<started, wake, self_check_passed, self_check_failed, order_started,
                           order_created, challenge_submitted, csr_submitted, issued, order_failed,
                           retry_requested, deconfigured, reconfigured, renewal_info_received,
                           renewal_info_failed, certificate_revoked, acme_enabled>;

// ---- effects ------------------------------------------------------------------------

enum class retry_outcome : std::uint8_t {
  retrying,               ///< an attempt starts now
  not_in_renewal_window,  ///< valid certificate outside its renewal window: left alone
  already_in_progress,    ///< an attempt is running; it was left alone
  not_configured,         ///< the domain is retired
  not_saved,              ///< the state could not be stored: nothing was done (the actor)
  not_enabled,            ///< Let's Encrypt is not enabled: nothing was done
};

/// Check that the domain reaches this host over HTTP; answer with self_check_passed/failed.
struct run_self_check {};
/// Run (or resume, when resume_url is set) the ACME order; answer with order_created,
/// challenge_submitted, csr_submitted, then issued or order_failed.
struct start_order {
  std::optional<std::string> resume_url;
  /// A renewal once the CA's suggested window has begun (RFC 9773): exempt from the order
  /// budget, as Let's Encrypt exempts it from its limits.
  bool ari_renewal = false;
  /// To the fallback CA: the last context.fallback_after attempts failed by the CA's fault.
  bool fallback = false;
};
/// Ask the CA for the current certificate's renewal window (RFC 9773); answer with
/// renewal_info_received or renewal_info_failed.
struct fetch_renewal_info {};
/// Drop this domain's waiting entry from the ACME service's order queue.
struct cancel_order {};
/// Arm the wake timer for `at`, replacing any armed one (the actor keeps one timer).
/// `at` may be in the past: fire at once.
struct schedule_wake {
  timestamp at;
};
/// Answer the pending retry_requested.
struct reply_retry {
  retry_outcome outcome;
};
/// A line for the daemon's log.
struct log_entry {
  log_level level;
  std::string message;
};

using effect = std::variant<run_self_check, start_order, cancel_order, schedule_wake, reply_retry,
                            log_entry, fetch_renewal_info>;

/// The result of one transition. The actor persists `state` first when `persist` is true,
/// then carries out `effects` in order.
struct step {
  storage::domain_record state;
  /// True when the change must survive a restart: must_persist, and an operator's retry.
  bool persist = false;
  /// The step made the `issued` event's certificate the domain's current one: store it with
  /// the step. False for a certificate nothing waits for (a retired or valid domain).
  bool takes_certificate = false;
  std::vector<effect> effects;
};

/// What a transition may depend on besides the record and the event.
struct context {
  timestamp now;
  /// Retry schedule; nullptr means default_policy().
  const policy* pol = nullptr;
  /// lets_encrypt_certs_self_check: attempts begin with the self-check.
  bool self_check_enabled = true;
  /// acme_fallback_after when a fallback CA is configured; 0 when none is.
  std::uint32_t fallback_after = 0;
  /// Let's Encrypt is enabled (terms agreed, e-mail set): attempts may start.
  bool acme_enabled = true;
};

/// The next state and effects of a domain for `ev` at `ctx.now`. Pure and total: every
/// (phase, event) pair is handled; those that do not fit leave the record unchanged.
step transition(const storage::domain_record& state, const event& ev, const context& ctx);

// ---- queries ------------------------------------------------------------------------

/// The seed's renewal warning: the domain is configured and either has a certificate and
/// has failed to renew for at least pol.warning_after, or has no certificate and failed
/// to register at least once.
bool needs_warning(const storage::domain_record& r, timestamp now, const policy& pol);

/// `status --only-errors`: never attempted yet (pending), waiting for Let's Encrypt to be
/// enabled (disabled), or failing (failure_count > 0).
bool is_error(const storage::domain_record& r);

/// Why nothing is attempted while Let's Encrypt is not enabled, and what to do: the answer to
/// an order, a retry, and a disabled domain's line in status.
error not_enabled_error();

/// The error message a user sees for a failing domain (status, alerts, the status page):
/// "Registration failed: ..." when it has no certificate yet, "Renewal failed: ..." when it has.
std::string failure_message(const storage::domain_record& r);

/// When the current certificate is due for renewal: the fallback rule (renewal_point), or
/// earlier, at this domain's moment of the CA's suggested window (ari_renewal_point).
timestamp renewal_due(const storage::domain_record& r, timestamp now);

/// True for self_checking, queued, ordering, validating and finalizing.
bool in_progress(storage::domain_phase p);

/// Whether going from `before` to `after` must be stored before acting on it. Not
/// when only the steps of an attempt in flight change (self-checking -> ordering ->
/// validating -> finalizing, and the attempt's deadline): after a crash the stored
/// record starts the same attempt again, resuming the stored order when there is one.
/// Nor when only a valid domain's schedule changes (next_attempt, ari_check_at): every
/// start derives it again.
/// The order URL, results, failures and (de)configuration always are.
bool must_persist(const storage::domain_record& before, const storage::domain_record& after);

/// Stable lower-case name of a phase ("self_checking") for logs and the CLI.
std::string_view phase_name(storage::domain_phase p);

/// Stable lower-case name of an event's type ("order_failed") for logs and tests.
std::string_view event_name(const event& ev);

}  // namespace certfleet::actors
