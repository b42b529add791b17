#pragma once
// Everything certfleet reads from its configuration directory, loaded as one unit: either the
// whole configuration or the list of everything wrong with it, so the daemon can keep its last
// good configuration on a failed reload.

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "config/config_file.hpp"
#include "config/control_files.hpp"
#include "config/diagnostic.hpp"

namespace certfleet::config {

inline const std::filesystem::path default_config_dir = "/etc/certfleet";

/// The loaded configuration directory.
struct configuration {
  std::filesystem::path config_dir;
  config::settings settings;              ///< certfleet.conf
  std::string me;                         ///< this server's host name; "" when unset or unusable
  std::vector<std::string> url_domains;   ///< normalised, de-duplicated, file order
  std::vector<listen_rule> listen_rules;  ///< httpd.ssl.listen
  deprecated_certificate_files deprecated_files;
  std::vector<diagnostic> warnings;  ///< problems that did not prevent loading
};

/// A loaded configuration as the daemon keeps it: one immutable copy shared by everything
/// that reads it (a reload swaps the pointer). At 100k URL domains each copy is ~6 MB.
using shared_configuration = std::shared_ptr<const configuration>;

/// Loads certfleet.conf, me, url_domains, httpd.ssl.listen and notes the deprecated
/// certificate files of `config_dir`. Missing files are empty. Errors (certfleet.conf problems,
/// bad httpd.ssl.listen rules, unreadable or oversized files, a missing directory) fail the
/// whole load and are all reported; a bad url_domains or me line is only a warning.
diagnosed<configuration> load_configuration(const std::filesystem::path& config_dir);

/// The domains that should have Let's Encrypt certificates, sorted and de-duplicated: the URL
/// domains (when url_domains_get_lets_encrypt_certs is yes), me, and every
/// tls_certificate_auto_generate domain.
std::vector<std::string> desired_domains(const configuration& config);

/// Let's Encrypt integration is on: the terms of service are agreed to and an e-mail is set.
bool lets_encrypt_enabled(const configuration& config);

/// The directives whose value differs between the configuration the daemon started with and a
/// reloaded one but that only a start applies: https_listen turned on or off, and state_dir.
/// A reload names them; they take effect at the next start. (The listeners' addresses, DNS
/// servers, self-check ports, the upstream, the redirect and the admin listener change live.)
std::vector<std::string> changes_needing_restart(const configuration& running,
                                                 const configuration& loaded);

}  // namespace certfleet::config
