#include "config/configuration.hpp"

#include <algorithm>
#include <optional>

#include "config/text_file.hpp"

namespace certfleet::config {
namespace {

// The text of a control file ("" when missing); a read failure is appended to `errors`.
std::string read_control_file(const std::filesystem::path& path, std::size_t max_bytes,
                              std::vector<diagnostic>& errors) {
  auto text = read_text_file(path, max_bytes);
  if (!text) {
    errors.push_back({path.string(), 0, text.err().detail});
    return {};
  }
  return text->value_or(std::string{});
}

}  // namespace

diagnosed<configuration> load_configuration(const std::filesystem::path& config_dir) {
  diagnosed<configuration> out;
  std::error_code ec;
  if (!std::filesystem::is_directory(config_dir, ec)) {
    out.errors.push_back({config_dir.string(), 0,
                          "the configuration directory does not exist or is not a directory"});
    return out;
  }
  configuration config;
  config.config_dir = config_dir;

  diagnosed<settings> conf = load_config_file(config_dir / "certfleet.conf");
  out.errors = std::move(conf.errors);
  out.warnings = std::move(conf.warnings);
  if (conf.value) config.settings = std::move(*conf.value);

  const auto me_path = config_dir / "me";
  config.me = parse_me(read_control_file(me_path, max_me_file_size, out.errors), me_path.string(),
                       out.warnings);

  const auto domains_path = config_dir / "url_domains";
  config.url_domains =
      parse_url_domains(read_control_file(domains_path, max_url_domains_file_size, out.errors),
                        domains_path.string(), out.warnings);

  const auto listen_path = config_dir / "httpd.ssl.listen";
  config.listen_rules =
      parse_listen_rules(read_control_file(listen_path, max_listen_file_size, out.errors),
                         listen_path.string(), out.errors);

  config.deprecated_files = find_deprecated_files(config_dir, out.warnings);

  if (out.errors.empty()) {
    config.warnings = out.warnings;
    out.value = std::move(config);
  }
  return out;
}

std::vector<std::string> desired_domains(const configuration& config) {
  std::vector<std::string> domains;
  if (config.settings.url_domains_get_lets_encrypt_certs) domains = config.url_domains;
  if (!config.me.empty()) domains.push_back(config.me);
  const auto& extra = config.settings.tls_certificate_auto_generate;
  domains.insert(domains.end(), extra.begin(), extra.end());
  std::sort(domains.begin(), domains.end());
  domains.erase(std::unique(domains.begin(), domains.end()), domains.end());
  return domains;
}

std::vector<std::string> changes_needing_restart(const configuration& running,
                                                 const configuration& loaded) {
  const settings& a = running.settings;
  const settings& b = loaded.settings;
  std::vector<std::string> out;
  const auto note = [&](bool differs, const char* directive) {
    if (differs) out.emplace_back(directive);
  };
  note(a.https_listen.has_value() != b.https_listen.has_value(), "https_listen");
  note(a.state_dir != b.state_dir, "state_dir");
  // A node joins its cluster once, at start.
  note(a.cluster.etcd_endpoints != b.cluster.etcd_endpoints, "cluster_etcd_endpoints");
  note(a.cluster.name != b.cluster.name, "cluster_name");
  note(a.cluster.node_name != b.cluster.node_name, "node_name");
  note(a.cluster.etcd_ca_file != b.cluster.etcd_ca_file ||
           a.cluster.etcd_cert_file != b.cluster.etcd_cert_file ||
           a.cluster.etcd_key_file != b.cluster.etcd_key_file,
       "cluster_etcd_ca_file/cert_file/key_file");
  note(a.cluster.key_file != b.cluster.key_file, "cluster_key_file");
  note(a.cluster.lease_ttl != b.cluster.lease_ttl, "cluster_lease_ttl");
  return out;
}

bool lets_encrypt_enabled(const configuration& config) {
  return config.settings.lets_encrypt_agree_to_terms_of_service &&
         !config.settings.lets_encrypt_registration_email.empty();
}

}  // namespace certfleet::config
