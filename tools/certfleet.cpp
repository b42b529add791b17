// certfleet: the operator's command line (status, retry, reload, warnings, csr).
#include <CLI/CLI.hpp>
#include <iostream>

#include "control/server.hpp"
#include "core/process_guard.hpp"
#include "core/revocation_reason.hpp"
#include "core/time.hpp"
#include "storage/store.hpp"
#include "tools/cli/account_info.hpp"
#include "tools/cli/cert_for.hpp"
#include "tools/cli/csr_files.hpp"
#include "tools/cli/daemon_commands.hpp"
#include "tools/cli/exit_codes.hpp"
#include "tools/cli/save_problems.hpp"
#include "tools/cli/state_dir.hpp"
#include "tools/cli/status_format.hpp"

using namespace certfleet;
using namespace certfleet::cli;

namespace {

struct global_options {
  std::string config_dir = "/etc/certfleet";
  std::string state_dir;
};

std::filesystem::path state_dir_of(const global_options& g) {
  return cli::state_dir_of(g.config_dir, g.state_dir);
}

result<std::vector<storage::domain_record>> read_domains(const global_options& g) {
  auto store = storage::store::open(state_dir_of(g), storage::open_mode::read_only);
  if (!store) return std::move(store).err();
  return store->list_domains();
}

std::vector<control::save_problem> save_problems_of(const global_options& g) {
  return cli::ask_save_problems(control::socket_in(state_dir_of(g)));
}

int cmd_status(const global_options& g, bool only_errors, bool as_json, bool exit_code) {
  auto domains = read_domains(g);
  if (!domains) {
    std::cerr << "certfleet: " << domains.err().detail << "\n";
    return exit_unavailable;
  }
  cli::mark_unsaved(*domains, save_problems_of(g));
  std::cout << (as_json ? cli::format_status_json(*domains, only_errors)
                        : cli::format_status_table(*domains, only_errors));
  return exit_code && cli::any_failing(*domains) ? exit_problem : exit_ok;
}

int cmd_warnings(const global_options& g) {
  auto domains = read_domains(g);
  if (!domains) {
    std::cerr << "certfleet: " << domains.err().detail << "\n";
    return exit_unavailable;
  }
  auto warnings = cli::save_warnings(save_problems_of(g));
  for (auto& w : cli::renewal_warnings(*domains, wall_clock{}.now())) warnings.push_back(w);
  for (const auto& w : warnings) std::cout << w << "\n";
  return warnings.empty() ? exit_ok : exit_problem;
}

}  // namespace

int main(int argc, char** argv) {
  keep_memory_private();  // `certfleet cert-for` and `csr` handle private keys too
  explain_fatal_signals("certfleet");
  CLI::App app{"certfleet: status and control of certfleetd's certificates"};
  app.require_subcommand(1);
  app.footer(
      "Run `certfleet COMMAND --help` for a command's options.\n"
      "status, warnings, account and cert-for read the state and configuration directly; "
      "retry, reload, queue, revoke and account rollover ask the running certfleetd.\n"
      "Exit codes: 0 success, 1 a problem (warnings, unknown domains, a rejected reload), "
      "2 usage, 3 no state or daemon not running. See certfleet(1) and certfleetd(8).");
  app.set_version_flag("--version", std::string("certfleet ") + CERTFLEET_VERSION);
  global_options g;
  app.add_option("--config-dir", g.config_dir, "configuration directory")->capture_default_str();
  app.add_option("--state-dir", g.state_dir,
                 "state directory (default: state_dir of certfleet.conf)");

  bool only_errors = false, as_json = false;
  auto* status = app.add_subcommand("status", "certificate status of every configured domain");
  status->alias("lets_encrypt_status");
  status->add_flag("--only-errors", only_errors, "only domains not yet attempted or failing");
  status->add_flag("--json", as_json, "JSON output");
  bool status_exit_code = false;
  status->add_flag("--exit-code", status_exit_code,
                   "for scripts: exit 1 when any configured domain is failing (its last attempt "
                   "failed), else 0");

  std::vector<std::string> retry_domains;
  auto* retry = app.add_subcommand("retry", "retry registration or renewal of domains now");
  retry->alias("lets_encrypt_retry");
  bool retry_all = false, retry_failing = false;
  auto* named = retry->add_option("DOMAIN", retry_domains, "domain names");
  auto* all = retry->add_flag("--all", retry_all,
                              "every configured domain (valid certificates outside their renewal "
                              "window are still left alone)");
  auto* failing =
      retry->add_flag("--failing", retry_failing, "every domain whose last attempt failed");
  named->excludes(all)->excludes(failing);
  all->excludes(failing);
  retry->require_option(1);

  auto* reload = app.add_subcommand("reload", "validate and apply the configuration");
  bool queue_json = false;
  auto* queue = app.add_subcommand(
      "queue", "orders waiting for the order budget, in flight, and how long the backlog takes");
  queue->add_flag("--json", queue_json, "JSON output");
  auto* warnings = app.add_subcommand("warnings", "renewal warnings; exit 1 when there are any");

  std::string csr_domain, csr_key_type = cli::default_csr_key_type, csr_out = ".", csr_subject;
  auto* csr = app.add_subcommand("csr", "write a private key (server.key) and a CSR (server.csr)");
  csr->add_option("--domain", csr_domain, "the certificate's name")->required();
  csr->add_option("--key-type", csr_key_type, "ecdsa-p256, ecdsa-p384, rsa2048, rsa3072 or rsa4096")
      ->capture_default_str();
  csr->add_option("--out", csr_out, "directory to write the files to")->capture_default_str();
  csr->add_option("--subject", csr_subject,
                  "the subject, as openssl req -subj takes it: /C=US/ST=Utah/O=Example Inc "
                  "(CN is the domain unless given)");

  std::string cert_for_name, cert_for_service = "https";
  auto* cert_for =
      app.add_subcommand("cert-for", "which certificate a service serves for a name, and why");
  cert_for->add_option("NAME", cert_for_name,
                       "the name a client asks for (SNI); empty: the default");
  cert_for->add_option("--service", cert_for_service, "https, ftp, smtp or sink")
      ->capture_default_str();

  auto* account = app.add_subcommand("account", "the ACME account at the CA: URL and contact");
  auto* rollover = account->add_subcommand(
      "rollover", "give the account a new key at the CA (the old one stops working)");

  std::string revoke_domain, revoke_reason = "unspecified";
  auto* revoke = app.add_subcommand(
      "revoke", "revoke a domain's certificate at the CA, then order a new one at once");
  revoke->add_option("DOMAIN", revoke_domain, "the domain whose certificate is revoked")
      ->required();
  revoke
      ->add_option("--reason", revoke_reason,
                   "unspecified, keyCompromise, affiliationChanged, superseded or "
                   "cessationOfOperation")
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? exit_ok : exit_usage;
  }
  if (*status) return cmd_status(g, only_errors, as_json, status_exit_code);
  if (*retry) {
    const auto socket = control::socket_in(state_dir_of(g));
    if (retry_all) return cli::retry_scope(socket, control::retry_scope::all, std::cout, std::cerr);
    if (retry_failing)
      return cli::retry_scope(socket, control::retry_scope::failing, std::cout, std::cerr);
    return cli::retry_domains(socket, retry_domains, std::cout, std::cerr);
  }
  if (*reload) {
    return cli::reload_configuration(control::socket_in(state_dir_of(g)), std::cout, std::cerr);
  }
  if (*warnings) return cmd_warnings(g);
  if (*revoke) {
    if (!revocation_reason_code(revoke_reason)) {
      std::cerr << "certfleet: unknown revocation reason \"" << revoke_reason << "\"; give one of "
                << revocation_reason_names() << "\n";
      return exit_usage;
    }
    return cli::revoke_certificate(control::socket_in(state_dir_of(g)), revoke_domain,
                                   revoke_reason, std::cout, std::cerr);
  }
  if (*queue)
    return cli::show_queue(control::socket_in(state_dir_of(g)), queue_json, std::cout, std::cerr);
  if (*cert_for) {
    auto svc = serving::parse_service(cert_for_service);
    if (!svc) {
      std::cerr << "certfleet: " << svc.err().detail << "\n";
      return exit_usage;
    }
    auto report = cli::describe_certificate_for(g.config_dir, state_dir_of(g), cert_for_name, *svc);
    if (!report) {
      std::cerr << "certfleet: " << report.err().detail << "\n";
      return exit_problem;
    }
    std::cout << *report;
    return exit_ok;
  }
  if (*rollover)
    return cli::roll_over_account_key(control::socket_in(state_dir_of(g)), std::cout, std::cerr);
  if (*account) {
    auto report = cli::describe_account(g.config_dir, state_dir_of(g));
    if (!report) {
      std::cerr << "certfleet: " << report.err().detail << "\n";
      return exit_unavailable;
    }
    std::cout << *report;
    return exit_ok;
  }
  if (*csr) {
    auto written = cli::write_csr_files(csr_domain, csr_key_type, csr_out, csr_subject);
    if (!written) {
      std::cerr << "certfleet: " << written.err().detail << "\n";
      return exit_problem;
    }
    std::cout << *written;
    return exit_ok;
  }
  return exit_usage;
}
