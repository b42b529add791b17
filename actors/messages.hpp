#pragma once
// Every atom and message type the actors exchange, in one place (CAF 0.17 atoms are
// at most 10 characters). All messages stay inside one process, so the payload
// types are allowed as "unsafe" (not serializable) message types.

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <cstdint>
#include <functional>
#include <string>
#include <variant>
#include <vector>

#include "actors/domain_fsm.hpp"
#include "protocol/acme/issuance_types.hpp"
#include "core/error.hpp"
#include "storage/records.hpp"
#include "storage/store.hpp"

namespace certfleet::actors {

// storage actor
using persist_atom = caf::atom_constant<caf::atom("persist")>;
using durable_atom = caf::atom_constant<caf::atom("durable")>;
using save_cert_atom = caf::atom_constant<caf::atom("save_cert")>;
using load_atom = caf::atom_constant<caf::atom("load")>;
// domain actor (see domain_msg)
using wake_atom = caf::atom_constant<caf::atom("wake")>;
using retry_atom = caf::atom_constant<caf::atom("retry")>;
// acme service
using check_atom = caf::atom_constant<caf::atom("check")>;
using order_atom = caf::atom_constant<caf::atom("order")>;
using done_atom = caf::atom_constant<caf::atom("done")>;
using account_atom = caf::atom_constant<caf::atom("account")>;
// exporter
using export_atom = caf::atom_constant<caf::atom("export")>;
// supervisor
using reload_atom = caf::atom_constant<caf::atom("reload")>;
using status_atom = caf::atom_constant<caf::atom("status")>;
using count_atom = caf::atom_constant<caf::atom("count")>;

/// A milestone of an issuance, with the acknowledgement the ACME flow waits for.
struct stage_report {
  protocol::issuance_stage stage;
  std::string order_url;
  std::string key_pem;  ///< key material: never log
  std::function<void(result<void>)> ack;
};

/// What a domain asks of the ACME service.
struct order_request {
  std::string domain;
  std::optional<std::string> resume_url;
  bool has_cert = false;       ///< renewals are exempt from the new-order budget
  timestamp cert_not_after{};  ///< soonest-to-expire first
};

// What a domain actor receives, as ONE message type: CAF stores every handler of a
// behavior per actor (about 45 bytes each), so at 100k domains one handler with our
// own dispatch saves ~40 MB over a handler per message.
struct wake_command {
  std::uint32_t generation = 0;  ///< stale timers carry an older generation
};
struct retry_command {};   ///< request: answered with retry_outcome
struct retire_command {};  ///< left the configuration
struct get_command {};     ///< request: answered with the domain_record
struct self_check_result {
  bool ok = false;
  error err;
};
using domain_msg = std::variant<wake_command, retry_command, retire_command, get_command,
                                self_check_result, stage_report, protocol::issued_certificate,
                                order_failed>;

/// The outcome of retry for one domain, as the CLI prints it.
struct retry_report {
  std::string domain;
  std::string outcome;  ///< "retrying", "not in renewal window, nothing to do", "unknown domain", ...
};

/// What changed on reload.
struct reload_report {
  std::vector<std::string> added;
  std::vector<std::string> removed;
};

}  // namespace certfleet::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(certfleet::error)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(certfleet::storage::domain_record)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(certfleet::storage::write_batch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(certfleet::storage::cert_record)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(certfleet::protocol::issued_certificate)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(certfleet::actors::stage_report)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(certfleet::actors::domain_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(certfleet::actors::order_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(certfleet::actors::retry_report)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(certfleet::actors::reload_report)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(certfleet::actors::retry_outcome)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<certfleet::actors::retry_report>)
