#include "tools/cli/cert_for.hpp"

#include "config/domain_name.hpp"
#include "protocol/crypto/crypto.hpp"
#include "serving/stored_certificate.hpp"
#include "storage/store.hpp"

namespace certfleet::cli {
namespace {

// "  CA:          URL" for a certificate certfleet obtained over ACME (and which of the two
// CAs that is), or "" for any other.
std::string issuing_ca(const storage::store& store, const std::string& rule,
                       const std::string& chain_pem, const config::configuration& config) {
  const std::string prefix = "Let's Encrypt certificate for ";
  if (rule.rfind(prefix, 0) != 0) return {};
  auto pair = store.get_certs(rule.substr(prefix.size()));
  if (!pair || !*pair || (*pair)->current.chain_pem != chain_pem) return {};
  const std::string& ca = (*pair)->current.ca_url;
  if (ca.empty()) return "  CA:          not recorded (issued before certfleet kept it)\n";
  const auto& s = config.settings;
  const char* which = ca == s.acme_directory_url            ? " (acme_directory_url)"
                      : ca == s.acme_fallback.directory_url ? " (the fallback CA)"
                                                            : " (no longer configured)";
  return "  CA:          " + ca + which + "\n";
}

}  // namespace

result<std::string> describe_certificate_for(const std::filesystem::path& config_dir,
                                             const std::filesystem::path& state_dir,
                                             const std::string& raw_name, serving::service svc) {
  auto name =
      raw_name.empty() ? result<std::string>(std::string()) : config::normalize_domain(raw_name);
  if (!name) return std::move(name).err();
  auto loaded = config::load_configuration(config_dir);
  if (!loaded.ok()) {
    return error{error_kind::config,
                 "the configuration has errors:\n" + config::format_diagnostics(loaded.errors)};
  }
  const auto now = wall_clock{}.now();
  // The CLI only reads: the state may be absent (daemon never started).
  auto store = storage::store::open(state_dir, storage::open_mode::read_only);
  serving::le_lookup lets_encrypt = [&](const std::string&) -> std::optional<serving::pem_pair> {
    return std::nullopt;  // no state yet: no Let's Encrypt certificate
  };
  if (store) lets_encrypt = serving::stored_certificates(*store);
  bool ephemeral = false;
  serving::self_signed_source self_signed =
      [&](const std::string& me) -> result<serving::pem_pair> {
    const auto dir = state_dir / "self-signed";
    if (std::filesystem::exists(dir / (me + ".crt")))
      return serving::load_or_create_self_signed(dir, me, now);
    ephemeral = true;  // certfleetd creates it; show what it would look like
    auto key = protocol::private_key::generate(key_type::ec_p256);
    if (!key) return std::move(key).err();
    auto cert = protocol::make_self_signed_pem(*key, me, std::chrono::hours(24 * 365), now);
    if (!cert) return std::move(cert).err();
    return serving::pem_pair{*cert, ""};
  };
  const auto c =
      serving::choose_certificate(*loaded.value, svc, *name, lets_encrypt, self_signed, now);

  std::string out = "Certificate " + std::string(serving::to_string(svc)) + " serves" +
                    (name->empty() ? std::string() : " for " + *name) + ":\n";
  if (const auto* w = c.winner()) {
    out += "  rule:        " + w->rule +
           (ephemeral ? " (created by certfleetd when it starts)" : "") + "\n";
    if (auto info = protocol::parse_certificate_pem(c.certificate->chain_pem)) {
      std::string sans;
      for (const auto& s : info->sans) sans += (sans.empty() ? "" : ", ") + s;
      out += "  subject:     " + info->subject_cn + "\n";
      out += "  names:       " + sans + "\n";
      out += "  issuer:      " + info->issuer + "\n";
      if (store) out += issuing_ca(*store, w->rule, c.certificate->chain_pem, *loaded.value);
      out += "  expires:     " + format_rfc3339(info->not_after) + "\n";
    }
  } else {
    out += "  none: every rule was skipped\n";
  }
  out += "Checked in order:\n";
  int n = 0;
  for (const auto& step : c.steps) {
    out += "  " + std::to_string(++n) + ". " + step.rule + ": " +
           (step.chosen ? std::string("used") : "skipped, " + step.reason) + "\n";
  }
  return out;
}

}  // namespace certfleet::cli
