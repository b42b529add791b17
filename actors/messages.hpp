#pragma once
// Every atom, message type and actor interface the actors exchange, in one place (CAF
// 0.17 atoms are at most 10 characters). The single-instance actors are typed
// (caf::typed_actor): a message outside an interface does not compile. The per-domain
// actor stays untyped for memory (see domain_msg). All messages stay inside one
// process, so the payload types are allowed as "unsafe" (not serializable) types.

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>
#include <cstdint>
#include <functional>
#include <string>
#include <variant>
#include <vector>

#include "actors/domain_fsm.hpp"
#include "config/configuration.hpp"
#include "control/messages.hpp"
#include "core/error.hpp"
#include "core/key_type.hpp"
#include "core/order_budget.hpp"
#include "protocol/acme/issuance_types.hpp"
#include "protocol/engine/io_engine.hpp"
#include "storage/records.hpp"
#include "storage/store.hpp"

namespace certfleet::actors {

// ---- atoms ----------------------------------------------------------------------------
// storage actor
using persist_atom = caf::atom_constant<caf::atom("persist")>;
using durable_atom = caf::atom_constant<caf::atom("durable")>;
using problems_atom = caf::atom_constant<caf::atom("problems")>;
// wake timer
using wake_atom = caf::atom_constant<caf::atom("wake")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;
// acme service
using check_atom = caf::atom_constant<caf::atom("check")>;
using check_done_atom = caf::atom_constant<caf::atom("chk_done")>;
using order_atom = caf::atom_constant<caf::atom("order")>;
using cancel_atom = caf::atom_constant<caf::atom("cancel")>;
using queue_atom = caf::atom_constant<caf::atom("queue")>;
using ownership_atom = caf::atom_constant<caf::atom("owners")>;
using places_atom = caf::atom_constant<caf::atom("places")>;
using order_done_atom = caf::atom_constant<caf::atom("order_done")>;
using account_done_atom = caf::atom_constant<caf::atom("acct_done")>;
using pump_atom = caf::atom_constant<caf::atom("pump")>;
using window_atom = caf::atom_constant<caf::atom("window")>;
using profile_atom = caf::atom_constant<caf::atom("profile")>;
using profile_done_atom = caf::atom_constant<caf::atom("prof_done")>;
using contact_done_atom = caf::atom_constant<caf::atom("cont_done")>;
using revoke_atom = caf::atom_constant<caf::atom("revoke")>;
using revoke_done_atom = caf::atom_constant<caf::atom("rev_done")>;
using rollover_atom = caf::atom_constant<caf::atom("rollover")>;
using rollover_key_atom = caf::atom_constant<caf::atom("roll_key")>;
using rollover_done_atom = caf::atom_constant<caf::atom("roll_done")>;
// exporter
using export_atom = caf::atom_constant<caf::atom("export")>;
using flush_atom = caf::atom_constant<caf::atom("flush")>;
// supervisor (reload_atom also tells the acme service and the exporter)
using retry_atom = caf::atom_constant<caf::atom("retry")>;
using reload_atom = caf::atom_constant<caf::atom("reload")>;
using count_atom = caf::atom_constant<caf::atom("count")>;
using trim_atom = caf::atom_constant<caf::atom("trim")>;

// ---- the acme service's internal messages ----------------------------------------------

/// The new key of an account key rollover, to store before the CA is asked (then `ack`).
struct new_account_key {
  std::string key_pem;  ///< key material: never log
  protocol::io_engine::ack ack;
};

// ---- the domain actor (untyped) -------------------------------------------------------

/// A milestone of an issuance, with the acknowledgement the ACME flow waits for.
struct stage_report {
  protocol::issuance_stage stage;
  std::string order_url;
  std::string key_pem;  ///< key material: never log
  std::function<void(result<void>)> ack;
};

// What a domain actor receives, as ONE message type: CAF stores every handler of a
// behavior per actor (about 45 bytes each), so at 100k domains one handler with our
// own dispatch saves ~40 MB over a handler per message.
struct wake_command {
  std::uint32_t generation = 0;  ///< stale timers carry an older generation
};
struct retry_command {};   ///< request: answered with retry_outcome
struct retire_command {};  ///< left the configuration
/// Another node of the cluster owns the domain now: stop, storing nothing (the new owner
/// carries on from the stored record).
struct hand_over_command {};
struct get_command {};  ///< request: answered with the domain_record
struct self_check_result {
  bool ok = false;
  error err;
};
/// Everything a domain actor handles: from the wake timer (wake_command), the
/// supervisor (retry_command, retire_command), anyone (get_command), the acme service
/// (self_check_result, order_started, stage_report, issued_certificate, order_failed,
/// renewal_info_received, renewal_info_failed), the supervisor after a revocation
/// (certificate_revoked) or after a reload that enabled Let's Encrypt (acme_enabled).
using domain_msg = std::variant<wake_command, retry_command, retire_command, hand_over_command,
                                get_command, self_check_result, order_started, stage_report,
                                protocol::issued_certificate, order_failed, renewal_info_received,
                                renewal_info_failed, certificate_revoked, acme_enabled>;

// ---- payloads of the typed actors -----------------------------------------------------

/// What a domain asks of the ACME service.
struct order_request {
  std::string domain;
  std::optional<std::string> resume_url;
  bool has_cert = false;       ///< a renewal: goes before new domains when the budget is short
  timestamp cert_not_after{};  ///< soonest-to-expire first
  bool failing = false;        ///< its last attempt failed: after those that did not
  bool ari_renewal = false;    ///< the CA's suggested window began: spends no budget, goes first
  bool fallback = false;       ///< to the fallback CA (when one is configured)
};

/// The ACME service's settings, derived from the configuration (acme_settings_from).
/// The fallback CA (acme_fallback_*), with its own trust, profile and EAB.
struct fallback_ca_settings {
  std::string directory_url;  ///< empty: no fallback CA
  std::string ca_bundle;
  std::string profile;
  std::optional<protocol::account_binding> binding;
};

struct acme_settings {
  bool enabled = false;  ///< terms agreed and an email set
  std::string email;
  std::string directory_url;
  std::string ca_bundle;  ///< acme_ca_bundle; empty: the system's trust store
  key_type key = key_type::ec_p256;
  std::uint32_t orders_in_flight = 16;
  order_budget budget;               ///< every order (renewals too)
  bool lets_encrypt_limits = false;  ///< spend Let's Encrypt's scoped limits (ca_limits.hpp)
  std::string profile;               ///< the CA's certificate profile; empty: its default
  std::optional<protocol::account_binding> binding;  ///< EAB for a new account
  std::uint32_t self_checks_in_flight = 64;
  fallback_ca_settings fallback;
  protocol::challenge_kind challenge = protocol::challenge_kind::http_01;
};

/// What changed on reload.
struct reload_report {
  std::vector<std::string> added;
  std::vector<std::string> removed;
};

// ---- the typed actors -----------------------------------------------------------------

/// The single LMDB writer (storage_actor.hpp).
using storage_actor = caf::typed_actor<
    /// Stores the batch in one transaction; answers (true, "") once durable, or (false,
    /// what failed). A certificate in put_certs without `previous` keeps the stored one
    /// as previous (it stays until the new one is in use).
    caf::replies_to<persist_atom, storage::write_batch>::with<bool, std::string>,
    /// Internal: the group writer's outcome of submission `id`.
    caf::reacts_to<durable_atom, std::uint64_t, bool, std::string>,
    /// The domains whose latest change failed to store (and why), sorted by name.
    caf::replies_to<problems_atom>::with<std::vector<control::save_problem>>>;

/// One timer for all domain actors (wake_timer.hpp).
using wake_timer_actor = caf::typed_actor<
    /// From a domain actor: send it domain_msg{wake_command{generation}} when the actor
    /// clock's time since epoch reaches `at` nanoseconds.
    caf::reacts_to<wake_atom, std::int64_t, std::uint32_t>,
    /// Internal: the armed CAF timer of generation `n` fired.
    caf::reacts_to<tick_atom, std::uint64_t>>;

/// The gateway to the CA and the network (acme_service.hpp). Answers go to the sender
/// as domain_msg: self_check_result for a check; order_started (when the order leaves the
/// queue), then stage_report, issued_certificate or order_failed for an order. An order
/// of a domain already waiting updates its entry; cancel drops the waiting entry.
using acme_actor = caf::typed_actor<
    caf::reacts_to<check_atom, std::string>, caf::reacts_to<order_atom, order_request>,
    /// The CA's renewal window for the domain's stored certificate, which expires at the
    /// given microseconds since the epoch: answered as renewal_info_received or _failed.
    caf::reacts_to<window_atom, std::string, std::int64_t>,
    /// Whether the CA offers the certificate profile: (true, {}), or (false, why): kind
    /// config when it does not, another kind when the CA could not be asked.
    /// (profile, directory URL, CA bundle): asks that CA, which a reload may be about to name.
    caf::replies_to<profile_atom, std::string, std::string, std::string>::with<bool, error>,
    /// Internal: the answer to profile check `id`.
    caf::reacts_to<profile_done_atom, std::uint64_t, bool, error>,
    /// Revokes the domain's stored certificate with the CRLReason code given: (ok, why
    /// not, the certificate's not_after in microseconds since the epoch; 0 when it has none).
    caf::replies_to<revoke_atom, std::string, std::int32_t>::with<bool, error, std::int64_t>,
    /// Internal: revocation `id` ended (ok, why not).
    caf::reacts_to<revoke_done_atom, std::uint64_t, bool, error>,
    /// Gives the account a new key at the CA (RFC 8555 §7.3.5): (ok, why not, the account URL).
    caf::replies_to<rollover_atom>::with<bool, error, std::string>,
    /// Internal: the rollover's new key, to be stored before the CA hears of it.
    caf::reacts_to<rollover_key_atom, new_account_key>,
    /// Internal: the rollover ended (ok, the account with its new key, why not).
    caf::reacts_to<rollover_done_atom, bool, protocol::account_credentials, error>,
    /// Internal: the account's contact update to the email ended (ok, email, why not, at which CA).
    caf::reacts_to<contact_done_atom, bool, std::string, error, protocol::ca_role>,
    caf::reacts_to<cancel_atom, std::string>,
    /// How the order queue stands (certfleet queue).
    caf::replies_to<queue_atom>::with<control::queue_response>,
    /// Where each domain waits for an order (order_queue::place_of): its place from 1, 0 when
    /// a limit holds it, -1 when it is not waiting (the status page).
    caf::replies_to<places_atom, std::vector<std::string>>::with<std::vector<std::int64_t>>,
    caf::reacts_to<reload_atom, acme_settings>,
    /// Internal: a self-check, an order or the account registration ended; the queue
    /// may move on.
    caf::reacts_to<check_done_atom>,
    caf::reacts_to<order_done_atom, std::string, bool, error, protocol::ca_role>,
    /// (ok, the account, whether it was stored before, why not, the CA generation it was
    /// asked of: an answer of a CA left by a reload is dropped, which CA).
    caf::reacts_to<account_done_atom, bool, protocol::account_credentials, bool, error,
                   std::uint32_t, protocol::ca_role>,
    caf::reacts_to<pump_atom>>;

/// Exports new certificates to files and runs the deploy hook (export_actor.hpp).
using export_actor = caf::typed_actor<
    /// The domain has a new certificate.
    caf::reacts_to<export_atom, std::string>,
    /// New settings (export_dir, deploy_hook, the precedence rules).
    caf::reacts_to<reload_atom, config::shared_configuration>,
    /// Internal: the batch window closed.
    caf::reacts_to<flush_atom>>;

/// Keeps one domain actor per configured domain (supervisor.hpp).
using supervisor_actor = caf::typed_actor<
    /// The operator's retry, one report per name given.
    caf::replies_to<retry_atom, std::vector<std::string>>::with<std::vector<control::retry_result>>,
    /// The operator's revocation of a domain's certificate with a CRLReason code: (true,
    /// what was done) or (false, what failed and what to do). A revoked certificate is
    /// replaced at once.
    caf::replies_to<revoke_atom, std::string, std::int32_t>::with<bool, std::string>,
    /// Re-reads the configuration directory: (applied, what changed, diagnostics).
    caf::replies_to<reload_atom>::with<bool, reload_report, std::string>,
    /// Running domain actors.
    caf::replies_to<count_atom>::with<std::size_t>,
    /// Internal: give memory back after a large reload.
    caf::reacts_to<trim_atom>,
    /// The cluster's membership changed: hand over and take over domains.
    caf::reacts_to<ownership_atom>>;

}  // namespace certfleet::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(certfleet::error)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(certfleet::storage::domain_record)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(certfleet::storage::write_batch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(certfleet::protocol::issued_certificate)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(certfleet::protocol::account_credentials)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(certfleet::actors::new_account_key)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(certfleet::protocol::ca_role)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(certfleet::config::shared_configuration)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(certfleet::actors::domain_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(certfleet::actors::order_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(certfleet::actors::acme_settings)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(certfleet::control::retry_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(certfleet::control::queue_response)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(certfleet::actors::reload_report)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(certfleet::actors::retry_outcome)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<certfleet::control::retry_result>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<certfleet::control::save_problem>)
