// certfleet: the operator's command line (status, retry, reload, warnings, csr).
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include "actors/control_server.hpp"
#include "config/config_file.hpp"
#include "protocol/crypto/crypto.hpp"
#include "core/time.hpp"
#include "storage/store.hpp"
#include "tools/cli/cert_for.hpp"
#include "tools/cli/csr_files.hpp"
#include "tools/cli/status_format.hpp"

using namespace certfleet;
using json = nlohmann::json;

namespace {

// Exit codes
constexpr int exit_ok = 0;
constexpr int exit_problem = 1;  // warnings present, unknown domains, rejected reload
constexpr int exit_usage = 2;
constexpr int exit_unavailable = 3;  // no state or no daemon

struct global_options {
  std::string config_dir = "/etc/certfleet";
  std::string state_dir;
};

// --state-dir, else state_dir from certfleet.conf, else the default.
std::filesystem::path state_dir_of(const global_options& g) {
  if (!g.state_dir.empty()) return g.state_dir;
  const auto conf = std::filesystem::path(g.config_dir) / "certfleet.conf";
  if (std::filesystem::exists(conf)) {
    auto settings = config::load_config_file(conf);
    if (settings.ok()) return settings.value->state_dir;
    // A broken file must not send `reload` to the wrong daemon: take the state_dir
    // line alone, so the daemon itself can report the errors.
    std::ifstream in(conf);
    for (std::string line; std::getline(in, line);) {
      if (!line.starts_with("state_dir")) continue;
      auto value = line.substr(9);
      value.erase(0, value.find_first_not_of(" \t"));
      value.erase(value.find_last_not_of(" \t\r") + 1);
      if (!value.empty() && value.front() == '/') return value;
    }
  }
  return config::settings{}.state_dir;
}

result<std::vector<storage::domain_record>> read_domains(const global_options& g) {
  auto store = storage::store::open(state_dir_of(g), storage::open_mode::read_only);
  if (!store) return std::move(store).err();
  return store->list_domains();
}

int cmd_status(const global_options& g, bool only_errors, bool as_json) {
  auto domains = read_domains(g);
  if (!domains) {
    std::cerr << "certfleet: " << domains.err().detail << "\n";
    return exit_unavailable;
  }
  std::cout << (as_json ? cli::format_status_json(*domains, only_errors)
                        : cli::format_status_table(*domains, only_errors));
  return exit_ok;
}

int cmd_warnings(const global_options& g) {
  auto domains = read_domains(g);
  if (!domains) {
    std::cerr << "certfleet: " << domains.err().detail << "\n";
    return exit_unavailable;
  }
  const auto warnings = cli::renewal_warnings(*domains, system_clock{}.now());
  for (const auto& w : warnings) std::cout << w << "\n";
  return warnings.empty() ? exit_ok : exit_problem;
}

result<json> ask_daemon(const global_options& g, const json& request) {
  auto answer = actors::control_request(state_dir_of(g) / "control.sock", request.dump());
  if (!answer) return std::move(answer).err();
  json j = json::parse(*answer, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return error{error_kind::bad_response, "certfleetd sent an unreadable answer; check its log"};
  }
  return j;
}

int cmd_retry(const global_options& g, const std::vector<std::string>& domains) {
  auto answer = ask_daemon(g, {{"command", "retry"}, {"domains", domains}});
  if (!answer) {
    std::cerr << "certfleet: " << answer.err().detail << "\n";
    return exit_unavailable;
  }
  int rc = exit_ok;
  for (const auto& r : (*answer)["results"]) {
    const std::string outcome = r.value("outcome", "");
    std::cout << r.value("domain", "") << ": " << outcome << "\n";
    if (outcome.starts_with("unknown") || outcome.starts_with("invalid")) rc = exit_problem;
  }
  return rc;
}

int cmd_reload(const global_options& g) {
  auto answer = ask_daemon(g, {{"command", "reload"}});
  if (!answer) {
    std::cerr << "certfleet: " << answer.err().detail << "\n";
    return exit_unavailable;
  }
  if (!answer->value("ok", false)) {
    std::cerr << "certfleet: " << answer->value("error", "reload failed") << "\n";
    return exit_problem;
  }
  const auto added = (*answer)["added"].get<std::vector<std::string>>();
  const auto removed = (*answer)["removed"].get<std::vector<std::string>>();
  std::cout << "Configuration reloaded: " << added.size() << " domain(s) added, " << removed.size()
            << " removed.\n";
  for (const auto& d : added) std::cout << "  + " << d << "\n";
  for (const auto& d : removed) std::cout << "  - " << d << "\n";
  return exit_ok;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"certfleet: status and control of certfleetd's certificates"};
  app.require_subcommand(1);
  global_options g;
  app.add_option("--config-dir", g.config_dir, "configuration directory")->capture_default_str();
  app.add_option("--state-dir", g.state_dir, "state directory (default: state_dir of certfleet.conf)");

  bool only_errors = false, as_json = false;
  auto* status = app.add_subcommand("status", "certificate status of every configured domain");
  status->alias("lets_encrypt_status");
  status->add_flag("--only-errors", only_errors, "only domains not yet attempted or failing");
  status->add_flag("--json", as_json, "JSON output");

  std::vector<std::string> retry_domains;
  auto* retry = app.add_subcommand("retry", "retry registration or renewal of domains now");
  retry->alias("lets_encrypt_retry");
  retry->add_option("DOMAIN", retry_domains, "domain names")->required();

  auto* reload = app.add_subcommand("reload", "validate and apply the configuration");
  auto* warnings = app.add_subcommand("warnings", "renewal warnings; exit 1 when there are any");

  std::string csr_domain, csr_key_type = "ecdsa-p256", csr_out = ".";
  auto* csr = app.add_subcommand("csr", "write a private key (server.key) and a CSR (server.csr)");
  csr->add_option("--domain", csr_domain, "the certificate's name")->required();
  csr->add_option("--key-type", csr_key_type, "ecdsa-p256, ecdsa-p384, rsa2048, rsa3072 or rsa4096")
      ->capture_default_str();
  csr->add_option("--out", csr_out, "directory to write the files to")->capture_default_str();

  std::string cert_for_name, cert_for_service = "https";
  auto* cert_for = app.add_subcommand("cert-for", "which certificate a service serves for a name, and why");
  cert_for->add_option("NAME", cert_for_name, "the name a client asks for (SNI); empty: the default");
  cert_for->add_option("--service", cert_for_service, "https, ftp, smtp or sink")->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? exit_ok : exit_usage;
  }
  if (*status) return cmd_status(g, only_errors, as_json);
  if (*retry) return cmd_retry(g, retry_domains);
  if (*reload) return cmd_reload(g);
  if (*warnings) return cmd_warnings(g);
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
  if (*csr) {
    auto written = cli::write_csr_files(csr_domain, csr_key_type, csr_out);
    if (!written) {
      std::cerr << "certfleet: " << written.err().detail << "\n";
      return exit_problem;
    }
    std::cout << *written;
    return exit_ok;
  }
  return exit_usage;
}
