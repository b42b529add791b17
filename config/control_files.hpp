#pragma once
// The one-purpose files of the configuration directory (GreenArrow's "control" files):
//
//   me                 this server's host name, one line
//   url_domains        one URL domain per line; '#' starts a comment
//   httpd.ssl.listen   manually configured HTTPS certificates, one rule per line:
//
//       LISTEN_ADDRESS CERT_FILE KEY_FILE [server_name=NAME[,NAME...]]
//
//     LISTEN_ADDRESS is IPV4:PORT or [IPV6]:PORT; CERT_FILE and KEY_FILE are absolute paths of
//     PEM files. With server_name, the certificate is used for those names (SNI) and takes
//     precedence over Let's Encrypt certificates; "*.example.com" matches one label. Without
//     it, the certificate is the address's default, used only for names that have no Let's
//     Encrypt certificate. Blank lines and '#' comments are allowed. E.g.
//
//       0.0.0.0:443 /etc/ssl/a.crt /etc/ssl/a.key server_name=www.example.com,example.com
//       [::]:443 /etc/ssl/default.crt /etc/ssl/default.key
//
//   httpd.ssl.crt + httpd.ssl.key, pure-ftpd.pem, tls.servercert.pem
//                      deprecated per-service certificates; certfleet only notes they exist
//
// A missing file is the same as an empty one.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/diagnostic.hpp"
#include "config/value_parsers.hpp"

namespace certfleet::config {

inline constexpr std::size_t max_me_file_size = 64 * 1024;
inline constexpr std::size_t max_url_domains_file_size = 64 * 1024 * 1024;
inline constexpr std::size_t max_listen_file_size = 1024 * 1024;

/// One line of httpd.ssl.listen.
struct listen_rule {
  host_port address;
  std::filesystem::path cert_file;
  std::filesystem::path key_file;
  /// Normalised names ("*.example.com" allowed); empty: the address's default certificate.
  std::vector<std::string> server_names;
  bool operator==(const listen_rule&) const = default;
};

/// The deprecated certificate files that exist (full paths); unset when absent.
struct deprecated_certificate_files {
  std::optional<std::filesystem::path> httpd_ssl_crt;
  std::optional<std::filesystem::path> httpd_ssl_key;
  std::optional<std::filesystem::path> pure_ftpd_pem;
  std::optional<std::filesystem::path> tls_servercert_pem;
  bool operator==(const deprecated_certificate_files&) const = default;
};

/// The host name in `me`, normalised; "" when the file is empty. An unusable name is a warning
/// (no certificate is requested for it), not an error.
std::string parse_me(std::string_view text, std::string_view file_name,
                     std::vector<diagnostic>& warnings);

/// The normalised URL domains, first-seen order, duplicates removed. A bad line is a warning
/// naming file:line; the other lines still count.
std::vector<std::string> parse_url_domains(std::string_view text, std::string_view file_name,
                                           std::vector<diagnostic>& warnings);

/// The rules of httpd.ssl.listen. A bad line is an error (a misread TLS rule would serve the
/// wrong certificate), appended to `errors`.
std::vector<listen_rule> parse_listen_rules(std::string_view text, std::string_view file_name,
                                            std::vector<diagnostic>& errors);

/// Which deprecated certificate files exist in `config_dir`. A lone httpd.ssl.crt or
/// httpd.ssl.key is a warning.
deprecated_certificate_files find_deprecated_files(const std::filesystem::path& config_dir,
                                                   std::vector<diagnostic>& warnings);

}  // namespace certfleet::config
