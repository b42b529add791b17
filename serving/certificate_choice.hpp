#pragma once
// Which certificate a service serves, following the seed's precedence rules:
//
// Server-Default certificate: the first available of
//   1. tls_certificate_files
//   2. a Let's Encrypt certificate for a tls_certificate_auto_generate domain
//   3. a Let's Encrypt certificate for the name in `me`
//   4. a self-signed certificate for `me` (always succeeds)
// Per service, the deprecated files come before the Server-Default certificate:
//   https, sink: httpd.ssl.crt + httpd.ssl.key   ftp: pure-ftpd.pem   smtp: tls.servercert.pem
// HTTPS for a name (SNI):
//   a. httpd.ssl.listen rules WITH server_name matching the name
//   b. the name's Let's Encrypt certificate
//   c. httpd.ssl.listen rules WITHOUT server_name (also for a client that sends no SNI)
//   d. then as https above (deprecated files, Server-Default)
// A candidate that is missing, unreadable, expired or whose key does not match is
// skipped with its reason, and the next one is tried.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/configuration.hpp"
#include "core/error.hpp"
#include "core/time.hpp"

namespace certfleet::serving {

enum class service { https, ftp, smtp, sink };
std::string_view to_string(service s);
/// "https", "ftp", "smtp" or "sink"; an error lists them.
result<service> parse_service(std::string_view name);

/// A certificate chain and its key, as PEM. Key material: never print.
struct pem_pair {
  std::string chain_pem;
  std::string key_pem;
};

/// One candidate looked at, in order.
struct choice_step {
  std::string rule;  ///< e.g. "httpd.ssl.listen rule 2 (server_name www.example.com)"
  bool chosen = false;
  std::string reason;  ///< why it was skipped; empty when chosen
};

struct choice {
  std::optional<pem_pair> certificate;  ///< set unless even the self-signed fallback failed
  std::vector<choice_step> steps;       ///< every candidate considered, the winner last
  const choice_step* winner() const;
};

/// The valid Let's Encrypt certificate of a domain, if there is one.
using le_lookup = std::function<std::optional<pem_pair>(const std::string& domain)>;
/// The self-signed certificate for a name (created on first use by the daemon).
using self_signed_source = std::function<result<pem_pair>(const std::string& name)>;

/// The certificate `svc` serves for `server_name` (SNI; may be empty).
choice choose_certificate(const config::configuration& config, service svc,
                          const std::string& server_name, const le_lookup& lets_encrypt,
                          const self_signed_source& self_signed, timestamp now);

/// The self-signed certificate for `name` kept in DIR/<name>.crt and .key (0600),
/// generated (ECDSA P-256, one year) when missing or expired.
result<pem_pair> load_or_create_self_signed(const std::filesystem::path& dir,
                                            const std::string& name, timestamp now);

}  // namespace certfleet::serving
