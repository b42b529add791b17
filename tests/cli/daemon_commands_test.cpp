// retry and reload: what the CLI prints and its exit code, decided from the typed answer.
#include "tools/cli/daemon_commands.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "control/server.hpp"
#include "tests/support/temp_dir.hpp"
#include "tools/cli/exit_codes.hpp"

namespace certfleet::cli {
namespace {

using control::retry_outcome;

struct printed {
  int exit_code;
  std::string out;
  std::string err;
};

printed retry(const result<control::response>& answer) {
  std::ostringstream out, err;
  const int rc = report_retry(answer, out, err);
  return {rc, out.str(), err.str()};
}

printed reload(const result<control::response>& answer) {
  std::ostringstream out, err;
  const int rc = report_reload(answer, out, err);
  return {rc, out.str(), err.str()};
}

// A typed answer (one conversion from a message type, which result<> cannot take directly).
printed retry(control::response answer) { return retry(result<control::response>(answer)); }
printed reload(control::response answer) { return reload(result<control::response>(answer)); }

control::response retried(retry_outcome outcome, std::string detail = "") {
  return control::retry_response{{{"a.example.com", outcome, std::move(detail)}}};
}

TEST(cli_retry, exit_code_follows_the_outcome) {
  EXPECT_EQ(retry(retried(retry_outcome::retrying)).exit_code, exit_ok);
  EXPECT_EQ(retry(retried(retry_outcome::not_in_renewal_window)).exit_code, exit_ok);
  EXPECT_EQ(retry(retried(retry_outcome::already_in_progress)).exit_code, exit_ok);
  EXPECT_EQ(retry(retried(retry_outcome::no_answer, "timeout")).exit_code, exit_ok);
  EXPECT_EQ(retry(retried(retry_outcome::unknown_domain)).exit_code, exit_problem);
  EXPECT_EQ(retry(retried(retry_outcome::invalid_domain, "empty label")).exit_code, exit_problem);
  EXPECT_EQ(retry(retried(retry_outcome::not_saved)).exit_code, exit_problem);
}

TEST(cli_retry, prints_one_line_per_domain_and_fails_when_any_is_unknown) {
  const auto p = retry(control::retry_response{{
      {"a.example.com", retry_outcome::retrying, ""},
      {"nope.example.com", retry_outcome::unknown_domain, ""},
  }});
  EXPECT_EQ(p.exit_code, exit_problem);
  EXPECT_EQ(p.out,
            "a.example.com: retrying\n"
            "nope.example.com: unknown domain (not in the configuration)\n");
  EXPECT_EQ(p.err, "");
}

// `retry --all` at 100k domains: a line for each domain that could not be retried, a summary.
TEST(cli_retry, a_scope_prints_what_went_wrong_and_a_summary) {
  std::ostringstream out, err;
  const int rc =
      report_retry_summary(result<control::response>(control::response{control::retry_response{{
                               {"a.example.com", retry_outcome::retrying, ""},
                               {"b.example.com", retry_outcome::not_in_renewal_window, ""},
                               {"c.example.com", retry_outcome::not_in_renewal_window, ""},
                               {"d.example.com", retry_outcome::already_in_progress, ""},
                               {"e.example.com", retry_outcome::not_enabled, ""},
                           }}}),
                           out, err);
  EXPECT_EQ(rc, exit_problem) << "Let's Encrypt not enabled is the operator's to fix";
  EXPECT_EQ(out.str(),
            "e.example.com: not retried: Let's Encrypt is not enabled; set "
            "lets_encrypt_agree_to_terms_of_service yes and lets_encrypt_registration_email in "
            "certfleet.conf, then run certfleet reload\n"
            "Retrying 1 of 5 domains; 2 valid and not in their renewal window; 1 already in "
            "progress.\n");

  std::ostringstream quiet, none;
  EXPECT_EQ(
      report_retry_summary(result<control::response>(control::response{control::retry_response{}}),
                           quiet, none),
      exit_ok);
  EXPECT_EQ(quiet.str(), "Retrying 0 of 0 domains.\n");
}

TEST(cli_retry, no_daemon_or_an_unreadable_answer_is_unavailable) {
  const auto down = retry(error{error_kind::network, "certfleetd is not running (no answer on x)"});
  EXPECT_EQ(down.exit_code, exit_unavailable);
  EXPECT_EQ(down.err, "certfleet: certfleetd is not running (no answer on x)\n");
  EXPECT_EQ(retry(error{error_kind::bad_response, "malformed"}).exit_code, exit_unavailable);
  const auto wrong_type = retry(control::ping_response{3});
  EXPECT_EQ(wrong_type.exit_code, exit_unavailable);
  EXPECT_NE(wrong_type.err.find("wrong type"), std::string::npos);
}

TEST(cli_retry, a_refused_request_is_a_problem) {
  const auto p = retry(control::error_response{"unknown command \"retry\""});
  EXPECT_EQ(p.exit_code, exit_problem);
  EXPECT_EQ(p.err, "certfleet: unknown command \"retry\"\n");
}

printed queue(control::response answer, bool as_json = false) {
  std::ostringstream out, err;
  const int rc = report_queue(result<control::response>(answer), as_json, out, err);
  return {rc, out.str(), err.str()};
}

TEST(cli_queue, prints_what_waits_and_how_long_the_backlog_takes) {
  control::queue_response q;
  q.waiting_new = 1200;
  q.waiting_renewals = 4;
  q.in_flight = 3;
  q.max_in_flight = 16;
  q.budget_orders = 300;
  q.budget_seconds = 10800;
  q.budget_available = 0;
  q.backlog_seconds = 43200 + 120;
  auto p = queue(q);
  EXPECT_EQ(p.exit_code, exit_ok);
  EXPECT_EQ(p.out,
            "Orders in flight: 3 of 16\n"
            "Waiting for an order: 1200 new domains, 4 renewals\n"
            "Order budget: 300 orders per 3h; 0 may start now (renewals spend it too, and go "
            "first)\n"
            "Backlog: the last order waiting starts in about 12h2m\n");
  q.waiting_held = 51;
  EXPECT_NE(queue(q).out.find("Held by a CA limit of their own (registered domain, name or failed "
                              "validations): 51\n"),
            std::string::npos);
  q.paused_seconds = 600;
  EXPECT_NE(queue(q).out.find("Paused: the CA answered rateLimited; orders resume in 10m\n"),
            std::string::npos);
  q.waiting_new = 0;
  q.waiting_renewals = 0;
  EXPECT_NE(queue(q).out.find("Backlog: none\n"), std::string::npos);

  p = queue(q, true);
  EXPECT_NE(p.out.find("\"paused_seconds\":600"), std::string::npos) << p.out;
  EXPECT_EQ(queue(control::error_response{"no"}).exit_code, exit_problem);
}

TEST(cli_reload, applied_prints_the_changes) {
  const auto p = reload(control::reload_response{{"new.example.com"}, {"old.example.com"}});
  EXPECT_EQ(p.exit_code, exit_ok);
  EXPECT_EQ(p.out,
            "Configuration reloaded: 1 domain(s) added, 1 removed.\n"
            "  + new.example.com\n"
            "  - old.example.com\n");
}

// A reload never hides a directive that waits for a restart.
TEST(cli_reload, names_what_needs_a_restart) {
  const auto p = reload(control::reload_response{{}, {}, {"http_listen", "dns_servers"}});
  EXPECT_EQ(p.exit_code, exit_ok);
  EXPECT_EQ(p.out,
            "Configuration reloaded: 0 domain(s) added, 0 removed.\n"
            "Needs a restart of certfleetd to take effect (systemctl restart certfleetd): "
            "http_listen dns_servers\n");
}

TEST(cli_reload, rejected_prints_the_diagnostics_and_fails) {
  const auto p = reload(control::reload_rejected{"/etc/certfleet/certfleet.conf:4: bad\n"});
  EXPECT_EQ(p.exit_code, exit_problem);
  EXPECT_EQ(p.out, "");
  EXPECT_EQ(p.err,
            "certfleet: configuration rejected, still running on the previous one:\n"
            "/etc/certfleet/certfleet.conf:4: bad\n\n");
  EXPECT_EQ(reload(control::error_response{"reload failed"}).exit_code, exit_problem);
  EXPECT_EQ(reload(error{error_kind::timeout, "no answer"}).exit_code, exit_unavailable);
}

printed revoke(control::response answer) {
  std::ostringstream out, err;
  const int rc = report_done(result<control::response>(answer), out, err);
  return {rc, out.str(), err.str()};
}

TEST(cli_revoke, prints_what_was_done_or_why_not) {
  const auto done = revoke(control::done_response{"revoked the certificate of a.example"});
  EXPECT_EQ(done.exit_code, exit_ok);
  EXPECT_EQ(done.out, "revoked the certificate of a.example\n");
  const auto refused = revoke(control::error_response{"revoking ... failed: unauthorized"});
  EXPECT_EQ(refused.exit_code, exit_problem);
  EXPECT_EQ(refused.err, "certfleet: revoking ... failed: unauthorized\n");
  EXPECT_EQ(revoke(control::ping_response{}).exit_code, exit_unavailable) << "a wrong answer";
}

TEST(cli_daemon_commands, talk_to_a_daemon_over_its_socket) {
  testing::temp_dir dir;
  const auto socket = control::socket_in(dir.path());
  std::ostringstream out, err;
  EXPECT_EQ(retry_domains(socket, {"a.example.com"}, out, err), exit_unavailable);
  EXPECT_NE(err.str().find("certfleetd is not running"), std::string::npos);

  auto daemon = control::server::start(socket, [](const control::request& r) -> control::response {
    if (std::holds_alternative<control::reload_request>(r)) return control::reload_response{};
    if (const auto* revoke = std::get_if<control::revoke_request>(&r))
      return control::done_response{revoke->domain + " " + revoke->reason};
    if (std::holds_alternative<control::account_rollover_request>(r))
      return control::done_response{"rolled over"};
    return control::retry_response{{{"a.example.com", retry_outcome::unknown_domain, ""}}};
  });
  ASSERT_TRUE(daemon) << daemon.err().detail;
  out.str("");
  EXPECT_EQ(retry_domains(socket, {"a.example.com"}, out, err), exit_problem);
  EXPECT_EQ(out.str(), "a.example.com: unknown domain (not in the configuration)\n");
  out.str("");
  EXPECT_EQ(reload_configuration(socket, out, err), exit_ok);
  EXPECT_EQ(out.str(), "Configuration reloaded: 0 domain(s) added, 0 removed.\n");
  out.str("");
  EXPECT_EQ(revoke_certificate(socket, "a.example.com", "superseded", out, err), exit_ok);
  EXPECT_EQ(out.str(), "a.example.com superseded\n");
  out.str("");
  EXPECT_EQ(roll_over_account_key(socket, out, err), exit_ok);
  EXPECT_EQ(out.str(), "rolled over\n");
}

}  // namespace
}  // namespace certfleet::cli
