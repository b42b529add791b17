#include "serving/certificate_choice.hpp"

#include <fstream>
#include <sstream>

#include "protocol/crypto/crypto.hpp"
#include "serving/private_dir.hpp"

namespace certfleet::serving {

namespace {

using protocol::private_key;

std::optional<std::string> read_file(const std::filesystem::path& path, std::string& reason) {
  std::ifstream in(path);
  if (!in) {
    reason = std::filesystem::exists(path)
                 ? path.string() + " cannot be read (check its permissions)"
                 : path.string() + " does not exist";
    return std::nullopt;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A usable pair: parses, the key matches the certificate, not expired.
bool usable(const pem_pair& pair, const std::string& where, timestamp now, std::string& reason) {
  auto cert = protocol::certificate::from_pem(pair.chain_pem);
  if (!cert) {
    reason = where + " holds no readable certificate";
    return false;
  }
  auto key = private_key::from_pem(pair.key_pem);
  if (!key) {
    reason = where + " holds no readable private key";
    return false;
  }
  if (!cert->holds_key(*key)) {
    reason = "the certificate and key of " + where + " do not match";
    return false;
  }
  if (const auto not_after = cert->info().not_after; not_after <= now) {
    reason = "the certificate of " + where + " expired on " + format_rfc3339(not_after);
    return false;
  }
  return true;
}

std::optional<pem_pair> load_files(const std::filesystem::path& cert,
                                   const std::filesystem::path& key, timestamp now,
                                   std::string& reason) {
  auto c = read_file(cert, reason);
  if (!c) return std::nullopt;
  auto k = read_file(key, reason);
  if (!k) return std::nullopt;
  pem_pair pair{*c, *k};
  const std::string where = cert == key ? cert.string() : cert.string() + " + " + key.string();
  if (!usable(pair, where, now, reason)) return std::nullopt;
  return pair;
}

bool name_matches(const std::string& pattern, const std::string& name) {
  if (pattern == name) return true;
  // "*.example.com" matches exactly one more label.
  if (pattern.starts_with("*.") && name.size() > pattern.size() - 1) {
    const std::string suffix = pattern.substr(1);
    if (name.ends_with(suffix)) {
      const std::string label = name.substr(0, name.size() - suffix.size());
      return !label.empty() && label.find('.') == std::string::npos;
    }
  }
  return false;
}

// Walks candidates in order, recording each; stops at the first usable one.
class chooser {
 public:
  explicit chooser(timestamp now) : now_(now) {}

  bool done() const { return result_.certificate.has_value(); }

  void try_files(const std::string& rule, const std::filesystem::path& cert,
                 const std::filesystem::path& key) {
    if (done()) return;
    std::string reason;
    if (auto pair = load_files(cert, key, now_, reason)) return take(rule, std::move(*pair));
    skip(rule, reason);
  }

  void try_lets_encrypt(const std::string& domain, const le_lookup& lookup) {
    if (done()) return;
    const std::string rule = "Let's Encrypt certificate for " + domain;
    auto pair = lookup ? lookup(domain) : std::nullopt;
    if (!pair) return skip(rule, "none valid yet (see certfleet status)");
    std::string reason;
    if (!usable(*pair, rule, now_, reason)) return skip(rule, reason);
    take(rule, std::move(*pair));
  }

  void try_self_signed(const std::string& me, const self_signed_source& source) {
    if (done()) return;
    const std::string rule = "self-signed certificate for " + (me.empty() ? "localhost" : me);
    if (!source) return skip(rule, "not available here");
    auto pair = source(me.empty() ? "localhost" : me);
    if (!pair) return skip(rule, pair.err().detail);
    take(rule, std::move(*pair));
  }

  void skip(std::string rule, std::string reason) {
    if (done()) return;  // the steps end with the winner
    result_.steps.push_back({std::move(rule), false, std::move(reason)});
  }

  choice finish() { return std::move(result_); }

 private:
  void take(std::string rule, pem_pair pair) {
    result_.steps.push_back({std::move(rule), true, {}});
    result_.certificate = std::move(pair);
  }

  timestamp now_;
  choice result_;
};

void server_default(chooser& c, const config::configuration& config, const le_lookup& le,
                    const self_signed_source& self_signed) {
  const auto& s = config.settings;
  if (s.tls_certificate_files) {
    c.try_files("tls_certificate_files", s.tls_certificate_files->cert,
                s.tls_certificate_files->key);
  } else {
    c.skip("tls_certificate_files", "not set");
  }
  for (const auto& domain : s.tls_certificate_auto_generate) c.try_lets_encrypt(domain, le);
  if (!config.me.empty()) c.try_lets_encrypt(config.me, le);
  c.try_self_signed(config.me, self_signed);
}

void deprecated_files(chooser& c, const config::configuration& config, service svc) {
  const auto& d = config.deprecated_files;
  const char* advice = " (deprecated: prefer tls_certificate_files)";
  switch (svc) {
    case service::https:
    case service::sink:
      if (d.httpd_ssl_crt && d.httpd_ssl_key)
        c.try_files(std::string("httpd.ssl.crt + httpd.ssl.key") + advice, *d.httpd_ssl_crt,
                    *d.httpd_ssl_key);
      break;
    case service::ftp:
      if (d.pure_ftpd_pem)
        c.try_files(std::string("pure-ftpd.pem") + advice, *d.pure_ftpd_pem, *d.pure_ftpd_pem);
      break;
    case service::smtp:
      if (d.tls_servercert_pem)
        c.try_files(std::string("tls.servercert.pem") + advice, *d.tls_servercert_pem,
                    *d.tls_servercert_pem);
      break;
  }
}

}  // namespace

std::string_view to_string(service s) {
  switch (s) {
    case service::https:
      return "https";
    case service::ftp:
      return "ftp";
    case service::smtp:
      return "smtp";
    case service::sink:
      return "sink";
  }
  return "https";
}

result<service> parse_service(std::string_view name) {
  for (service s : {service::https, service::ftp, service::smtp, service::sink})
    if (to_string(s) == name) return s;
  return error{error_kind::invalid_input,
               "unknown service \"" + std::string(name) + "\"; use https, ftp, smtp or sink"};
}

const choice_step* choice::winner() const {
  return certificate && !steps.empty() && steps.back().chosen ? &steps.back() : nullptr;
}

choice choose_certificate(const config::configuration& config, service svc,
                          const std::string& server_name, const le_lookup& lets_encrypt,
                          const self_signed_source& self_signed, timestamp now) {
  chooser c(now);
  if (svc == service::https) {
    // A client that sends no name (no SNI) matches no server_name, but the listen address's
    // default certificate (a rule without server_name) is still its certificate.
    for (std::size_t i = 0; i < config.listen_rules.size() && !server_name.empty(); ++i) {
      const auto& rule = config.listen_rules[i];
      for (const auto& pattern : rule.server_names) {
        if (!name_matches(pattern, server_name)) continue;
        c.try_files(
            "httpd.ssl.listen rule " + std::to_string(i + 1) + " (server_name " + pattern + ")",
            rule.cert_file, rule.key_file);
      }
    }
    if (!server_name.empty()) c.try_lets_encrypt(server_name, lets_encrypt);
    for (std::size_t i = 0; i < config.listen_rules.size(); ++i) {
      const auto& rule = config.listen_rules[i];
      if (!rule.server_names.empty()) continue;
      c.try_files("httpd.ssl.listen rule " + std::to_string(i + 1) + " (no server_name)",
                  rule.cert_file, rule.key_file);
    }
  }
  deprecated_files(c, config, svc);
  server_default(c, config, lets_encrypt, self_signed);
  return c.finish();
}

result<pem_pair> load_or_create_self_signed(const std::filesystem::path& dir,
                                            const std::string& name, timestamp now) {
  const auto cert_path = dir / (name + ".crt");
  const auto key_path = dir / (name + ".key");
  std::string reason;
  if (auto existing = load_files(cert_path, key_path, now, reason)) return *existing;

  // Written like exports (serving/private_dir.hpp): no symlink followed, atomic, 0600.
  auto out = private_dir::open(dir, "state_dir");
  if (!out) return std::move(out).err();
  auto key = private_key::generate(key_type::ec_p256);
  if (!key) return std::move(key).err();
  auto cert = protocol::make_self_signed_pem(*key, name, std::chrono::hours(24 * 365), now);
  if (!cert) return std::move(cert).err();
  const std::string key_pem = key->to_pem();
  if (auto r = out->replace_file(name + ".key", key_pem, 0600); !r) return std::move(r).err();
  if (auto r = out->replace_file(name + ".crt", *cert, 0644); !r) return std::move(r).err();
  return pem_pair{*cert, key_pem};
}

}  // namespace certfleet::serving
