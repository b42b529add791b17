#include "tools/cli/daemon_commands.hpp"

#include "control/client.hpp"
#include "control/codec.hpp"
#include "tools/cli/exit_codes.hpp"

namespace certfleet::cli {

namespace {

// The answer as the expected type, or the exit code of why there is none (printed to err).
template <class T>
const T* expect(const result<control::response>& answer, std::ostream& err, int& exit_code) {
  if (!answer) {
    err << "certfleet: " << answer.err().detail << "\n";
    exit_code = exit_unavailable;
    return nullptr;
  }
  if (const auto* refused = std::get_if<control::error_response>(&*answer)) {
    err << "certfleet: " << refused->message << "\n";
    exit_code = exit_problem;
    return nullptr;
  }
  const T* typed = std::get_if<T>(&*answer);
  if (!typed) {
    err << "certfleet: certfleetd answered with a message of the wrong type; "
           "check its log, and restart it if it was upgraded\n";
    exit_code = exit_unavailable;
  }
  return typed;
}

}  // namespace

int report_retry(const result<control::response>& answer, std::ostream& out, std::ostream& err) {
  int rc = exit_ok;
  const auto* retried = expect<control::retry_response>(answer, err, rc);
  if (!retried) return rc;
  for (const auto& r : retried->results) {
    out << r.domain << ": " << control::describe(r) << "\n";
    if (control::is_problem(r.outcome)) rc = exit_problem;
  }
  return rc;
}

int report_retry_summary(const result<control::response>& answer, std::ostream& out,
                         std::ostream& err) {
  int rc = exit_ok;
  const auto* retried = expect<control::retry_response>(answer, err, rc);
  if (!retried) return rc;
  std::size_t retrying = 0, not_due = 0, in_progress = 0;
  for (const auto& r : retried->results) {
    switch (r.outcome) {
      case control::retry_outcome::retrying:
        ++retrying;
        break;
      case control::retry_outcome::not_in_renewal_window:
        ++not_due;
        break;
      case control::retry_outcome::already_in_progress:
        ++in_progress;
        break;
      default:
        // At 100k domains only what went wrong is worth a line.
        out << r.domain << ": " << control::describe(r) << "\n";
        if (control::is_problem(r.outcome)) rc = exit_problem;
    }
  }
  out << "Retrying " << retrying << " of " << retried->results.size() << " domains";
  if (not_due > 0) out << "; " << not_due << " valid and not in their renewal window";
  if (in_progress > 0) out << "; " << in_progress << " already in progress";
  out << ".\n";
  return rc;
}

int report_reload(const result<control::response>& answer, std::ostream& out, std::ostream& err) {
  if (answer) {
    if (const auto* rejected = std::get_if<control::reload_rejected>(&*answer)) {
      err << "certfleet: " << control::describe(*rejected) << "\n";
      return exit_problem;
    }
  }
  int rc = exit_ok;
  const auto* reloaded = expect<control::reload_response>(answer, err, rc);
  if (!reloaded) return rc;
  out << "Configuration reloaded: " << reloaded->added.size() << " domain(s) added, "
      << reloaded->removed.size() << " removed.\n";
  for (const auto& d : reloaded->added) out << "  + " << d << "\n";
  for (const auto& d : reloaded->removed) out << "  - " << d << "\n";
  if (!reloaded->restart_needed.empty()) {
    out << "Needs a restart of certfleetd to take effect (systemctl restart certfleetd):";
    for (const auto& d : reloaded->restart_needed) out << " " << d;
    out << "\n";
  }
  return exit_ok;
}

int report_queue(const result<control::response>& answer, bool as_json, std::ostream& out,
                 std::ostream& err) {
  int rc = exit_ok;
  const auto* queue = expect<control::queue_response>(answer, err, rc);
  if (!queue) return rc;
  if (as_json)
    out << control::encode(control::response{*queue}) << "\n";
  else
    out << control::describe(*queue);
  return exit_ok;
}

int show_queue(const std::filesystem::path& socket, bool as_json, std::ostream& out,
               std::ostream& err) {
  return report_queue(control::ask(socket, control::queue_request{}), as_json, out, err);
}

int retry_domains(const std::filesystem::path& socket, const std::vector<std::string>& domains,
                  std::ostream& out, std::ostream& err) {
  return report_retry(control::ask(socket, control::retry_request{domains}), out, err);
}

int retry_scope(const std::filesystem::path& socket, control::retry_scope scope, std::ostream& out,
                std::ostream& err) {
  return report_retry_summary(control::ask(socket, control::retry_request{{}, scope}), out, err);
}

int report_done(const result<control::response>& answer, std::ostream& out, std::ostream& err) {
  int rc = exit_ok;
  const auto* done = expect<control::done_response>(answer, err, rc);
  if (!done) return rc;
  out << done->message << "\n";
  return exit_ok;
}

int revoke_certificate(const std::filesystem::path& socket, const std::string& domain,
                       const std::string& reason, std::ostream& out, std::ostream& err) {
  return report_done(control::ask(socket, control::revoke_request{domain, reason}), out, err);
}

int roll_over_account_key(const std::filesystem::path& socket, std::ostream& out,
                          std::ostream& err) {
  return report_done(control::ask(socket, control::account_rollover_request{}), out, err);
}

int reload_configuration(const std::filesystem::path& socket, std::ostream& out,
                         std::ostream& err) {
  return report_reload(control::ask(socket, control::reload_request{}), out, err);
}

}  // namespace certfleet::cli
