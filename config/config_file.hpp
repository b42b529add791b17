#pragma once
// certfleet.conf: one `directive value` per line.
//
//   # a comment                       whole-line comments start with '#'
//   lets_encrypt_agree_to_terms_of_service yes
//   deploy_hook "/usr/local/bin/reload nginx"   # trailing comments follow whitespace
//   tls_certificate_auto_generate a.example.com b.example.com
//
// The value is the rest of the line, trimmed. A value may be written in double quotes (then '#'
// inside it is not a comment, and \" and \\ are escapes); in list values each word may be
// quoted. Blank lines and CRLF endings are fine. Directive names are those of the GreenArrow
// TLS documentation, plus certfleet's own (acme_directory_url, state_dir, ...).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/diagnostic.hpp"
#include "config/value_parsers.hpp"
#include "core/key_type.hpp"
#include "core/order_budget.hpp"

namespace certfleet::config {

inline constexpr std::size_t max_config_file_size = 1024 * 1024;
inline constexpr std::size_t max_config_line_length = 4096;

/// A certificate and its key, both PEM files.
struct certificate_files {
  std::filesystem::path cert;
  std::filesystem::path key;
  bool operator==(const certificate_files&) const = default;
};

/// Which rate limits of its CA certfleet spends ahead of time (acme_rate_limits).
enum class ca_rate_limits : std::uint8_t {
  automatic,     ///< Let's Encrypt's when the directory is Let's Encrypt's, else none
  lets_encrypt,  ///< Let's Encrypt's, whatever the directory (a CA that copies them)
  none,          ///< only order_budget (pebble, a private CA)
};

/// Every directive of certfleet.conf, typed, with its default.
struct settings {
  // --- GreenArrow's directives ---
  bool lets_encrypt_agree_to_terms_of_service = false;
  std::string lets_encrypt_registration_email;  ///< empty: not set
  bool url_domains_get_lets_encrypt_certs = true;
  bool url_domains_always_use_tls = false;
  std::optional<certificate_files> tls_certificate_files;
  std::vector<std::string> tls_certificate_auto_generate;  ///< normalised, first-seen order
  bool lets_encrypt_certs_self_check = true;
  // --- certfleet's own ---
  std::string acme_directory_url = "https://acme-v02.api.letsencrypt.org/directory";
  std::filesystem::path acme_ca_bundle;  ///< empty: the system trust store
  host_port http_listen{"0.0.0.0", 80};
  std::optional<host_port> https_listen;  ///< unset: no HTTPS listener
  /// Where Prometheus metrics (/metrics) are served; unset: nowhere. Beyond loopback it needs
  /// admin_token_file.
  std::optional<host_port> admin_listen;
  /// A 0600 file holding the bearer token the admin listener requires; empty: none.
  std::filesystem::path admin_token_file;
  std::uint16_t self_check_port = 80;
  /// How domains prove control to the CA: HTTP-01 on port 80 (the seed's), or TLS-ALPN-01
  /// (RFC 8737) on https_listen, for installations whose port 80 is closed.
  enum class challenge { http_01, tls_alpn_01 } challenge_type = challenge::http_01;
  int challenge_type_line = 0;
  /// The port a TLS-ALPN-01 self-check connects to (where the CA validates: 443).
  std::uint16_t self_check_tls_port = 443;
  std::vector<host_port> dns_servers;  ///< empty: the system resolver
  std::filesystem::path state_dir = "/var/lib/certfleet";
  certfleet::key_type key_type = certfleet::key_type::ec_p256;
  std::uint32_t orders_in_flight = 16;
  certfleet::order_budget order_budget;
  ca_rate_limits acme_rate_limits = ca_rate_limits::automatic;
  /// The CA's certificate profile for new orders (draft-ietf-acme-profiles); empty: the
  /// CA's default. Checked against the directory's meta.profiles at start and reload.
  std::string lets_encrypt_profile;
  int lets_encrypt_profile_line = 0;  ///< where it was set, for that check's diagnostic
  /// External Account Binding (RFC 8555 §7.3.4) for CAs that require it: both or neither.
  std::string acme_eab_kid;
  std::string acme_eab_hmac_key;  ///< base64url; a secret: never in a diagnostic or a log
  /// The CA a domain's orders go to after `after` attempts in a row failed by the primary
  /// CA's fault (rate limits, outages); the next renewal tries the primary again.
  struct fallback_ca {
    std::string directory_url;  ///< empty: no fallback CA
    std::filesystem::path ca_bundle;
    std::string profile;
    int profile_line = 0;
    std::string eab_kid;
    std::string eab_hmac_key;  ///< a secret: never in a diagnostic or a log
    std::uint32_t after = 3;
    bool operator==(const fallback_ca&) const = default;
  } acme_fallback;
  std::filesystem::path export_dir;  ///< empty: certificates are not exported as files
  std::string deploy_hook;           ///< empty: no hook
  std::chrono::seconds deploy_hook_timeout{60};
  /// Run when domains enter or leave the warning state (or expiry_alert_days), with a JSON
  /// document on stdin; empty: no hook.
  std::string warning_hook;
  std::chrono::seconds warning_hook_timeout{60};
  /// Alert for any certificate expiring within this many days, whatever its state; 0: off.
  std::chrono::days expiry_alert_days{0};
  std::optional<host_port> http_upstream;  ///< unset: no proxying of other HTTP requests
  /// Several nodes sharing one fleet through etcd (docs/cluster.md). Without endpoints this
  /// node is alone, as by default, and the other fields must stay unset.
  struct cluster_settings {
    std::vector<std::string> etcd_endpoints;  ///< client URLs of the etcd members
    std::string name = "certfleet";           ///< the keys' prefix: /certfleet/NAME/
    std::string node_name;                    ///< empty: this host's name
    std::filesystem::path etcd_ca_file;       ///< for https endpoints
    std::filesystem::path etcd_cert_file;     ///< client certificate, when etcd asks for one
    std::filesystem::path etcd_key_file;
    std::filesystem::path key_file;  ///< the cluster key (sealing secrets in etcd)
    std::chrono::seconds lease_ttl{5};
    bool operator==(const cluster_settings&) const = default;
  } cluster;

  bool operator==(const settings&) const = default;
};

/// Parses the text of a certfleet.conf; `file_name` is used in diagnostics.
/// Never stops at the first problem: on any error, value is empty and errors lists them all.
diagnosed<settings> parse_config_text(std::string_view text, std::string_view file_name);

/// Reads and parses `path`. A missing file gives the defaults; a file larger than
/// max_config_file_size is refused.
diagnosed<settings> load_config_file(const std::filesystem::path& path);

/// Whether certfleet spends Let's Encrypt's scoped limits for these settings:
/// acme_rate_limits, with `auto` resolved from acme_directory_url's host.
bool uses_lets_encrypt_limits(const settings& s);

/// The names of all directives, in documentation order.
const std::vector<std::string_view>& directive_names();

}  // namespace certfleet::config
