#pragma once
// The commands that ask the running daemon over the control socket (retry, reload, queue): what
// they print and the exit code, decided from the typed answer (control/messages.hpp).

#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "control/messages.hpp"
#include "core/error.hpp"

namespace certfleet::cli {

/// Prints "domain: outcome" per domain to `out`. Exit: 3 when the daemon could not be asked or
/// its answer was unreadable, 1 when a name is unknown or invalid or the daemon refused the
/// request, else 0.
int report_retry(const result<control::response>& answer, std::ostream& out, std::ostream& err);

/// `retry --all` / `--failing`: one line per domain that could not be retried, then a summary
/// ("Retrying 3 of 120 domains; 117 are valid and not in their renewal window."). Exit as for
/// report_retry.
int report_retry_summary(const result<control::response>& answer, std::ostream& out,
                         std::ostream& err);

/// Prints the domains added (+) and removed (-) to `out`, or the diagnostics of a rejected
/// configuration to `err`. Exit: 3 as for retry, 1 when the reload was rejected or failed.
int report_reload(const result<control::response>& answer, std::ostream& out, std::ostream& err);

/// Prints the order queue (control::describe), or its JSON (the control answer's own) with
/// `as_json`. Exit: 3 as for retry, 1 when the daemon refused the request.
int report_queue(const result<control::response>& answer, bool as_json, std::ostream& out,
                 std::ostream& err);

/// `certfleet queue [--json]` against the daemon listening on `socket`.
int show_queue(const std::filesystem::path& socket, bool as_json, std::ostream& out,
               std::ostream& err);

/// `certfleet retry DOMAIN...` against the daemon listening on `socket`.
int retry_domains(const std::filesystem::path& socket, const std::vector<std::string>& domains,
                  std::ostream& out, std::ostream& err);

/// `certfleet retry --all` or `--failing` (`scope`) against the daemon listening on `socket`.
int retry_scope(const std::filesystem::path& socket, control::retry_scope scope, std::ostream& out,
                std::ostream& err);

/// Prints what the daemon did (a revocation, a key rollover). Exit: 3 as for retry, 1 when
/// the action was refused or failed (the message on `err` says why).
int report_done(const result<control::response>& answer, std::ostream& out, std::ostream& err);

/// `certfleet revoke DOMAIN [--reason NAME]` against the daemon listening on `socket`.
int revoke_certificate(const std::filesystem::path& socket, const std::string& domain,
                       const std::string& reason, std::ostream& out, std::ostream& err);

/// `certfleet account rollover` against the daemon listening on `socket`.
int roll_over_account_key(const std::filesystem::path& socket, std::ostream& out,
                          std::ostream& err);

/// `certfleet reload` against the daemon listening on `socket`.
int reload_configuration(const std::filesystem::path& socket, std::ostream& out, std::ostream& err);

}  // namespace certfleet::cli
