#include "control/messages.hpp"

#include "core/time.hpp"

namespace certfleet::control {

std::string_view to_string(retry_outcome outcome) {
  switch (outcome) {
    case retry_outcome::retrying:
      return "retrying";
    case retry_outcome::not_in_renewal_window:
      return "not_in_renewal_window";
    case retry_outcome::already_in_progress:
      return "already_in_progress";
    case retry_outcome::unknown_domain:
      return "unknown_domain";
    case retry_outcome::invalid_domain:
      return "invalid_domain";
    case retry_outcome::no_answer:
      return "no_answer";
    case retry_outcome::not_saved:
      return "not_saved";
    case retry_outcome::not_enabled:
      return "not_enabled";
  }
  return "no_answer";
}

std::string describe(const retry_result& result) {
  switch (result.outcome) {
    case retry_outcome::retrying:
      return "retrying";
    case retry_outcome::not_in_renewal_window:
      return "certificate is valid and not in its renewal window, nothing to do";
    case retry_outcome::already_in_progress:
      return "an attempt is already in progress";
    case retry_outcome::unknown_domain:
      return "unknown domain (not in the configuration)";
    case retry_outcome::invalid_domain:
      return "invalid domain name: " + result.detail;
    case retry_outcome::not_saved:
      return "not retried: its state could not be saved (see certfleetd's log); free space in "
             "the state directory and try again";
    case retry_outcome::not_enabled:
      return "not retried: Let's Encrypt is not enabled; set "
             "lets_encrypt_agree_to_terms_of_service "
             "yes and lets_encrypt_registration_email in certfleet.conf, then run certfleet reload";
    case retry_outcome::no_answer:
      break;
  }
  std::string text = "no answer from the daemon";
  if (!result.detail.empty()) text += " (" + result.detail + ")";
  return text + "; try again, and check certfleetd's log if it persists";
}

bool is_problem(retry_outcome outcome) {
  return outcome == retry_outcome::unknown_domain || outcome == retry_outcome::invalid_domain ||
         outcome == retry_outcome::not_saved || outcome == retry_outcome::not_enabled;
}

std::string describe(const queue_response& q) {
  const auto duration = [](std::uint64_t s) {
    return format_duration(std::chrono::seconds(static_cast<std::int64_t>(s)));
  };
  std::string out = "Orders in flight: " + std::to_string(q.in_flight) + " of " +
                    std::to_string(q.max_in_flight) + "\n";
  out += "Waiting for an order: " + std::to_string(q.waiting_new) + " new domains, " +
         std::to_string(q.waiting_renewals) + " renewals\n";
  if (q.waiting_held > 0)
    out += "Held by a CA limit of their own (registered domain, name or failed validations): " +
           std::to_string(q.waiting_held) + "\n";
  out += "Order budget: " + std::to_string(q.budget_orders) + " orders per " +
         duration(q.budget_seconds) + "; " + std::to_string(q.budget_available) +
         " may start now (renewals spend it too, and go first)\n";
  if (q.paused_seconds > 0)
    out += "Paused: the CA answered rateLimited; orders resume in " + duration(q.paused_seconds) +
           "\n";
  if (q.waiting_new + q.waiting_renewals == 0)
    out += "Backlog: none\n";
  else if (q.backlog_seconds == 0)
    out += "Backlog: every order waiting may start now\n";
  else
    out += "Backlog: the last order waiting starts in about " + duration(q.backlog_seconds) + "\n";
  return out;
}

std::string describe(const reload_rejected& rejected) {
  return "configuration rejected, still running on the previous one:\n" + rejected.errors;
}

}  // namespace certfleet::control
