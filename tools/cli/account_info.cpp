#include "tools/cli/account_info.hpp"

#include "config/config_file.hpp"
#include "config/diagnostic.hpp"
#include "storage/store.hpp"

namespace certfleet::cli {

result<std::string> describe_account(const std::filesystem::path& config_dir,
                                     const std::filesystem::path& state_dir) {
  auto conf = config::load_config_file(config_dir / "certfleet.conf");
  if (!conf.ok()) return error{error_kind::config, config::format_diagnostics(conf.errors)};
  const std::string& ca = conf.value->acme_directory_url;
  auto store = storage::store::open(state_dir, storage::open_mode::read_only);
  if (!store) return std::move(store).err();
  auto account = store->get_account(ca);
  if (!account) return std::move(account).err();
  if (!*account)
    return "No ACME account is registered at " + ca +
           " yet: certfleetd registers one before its first order (once "
           "lets_encrypt_agree_to_terms_of_service and lets_encrypt_registration_email are set).\n";
  const auto& a = **account;
  return "CA:       " + ca + "\nAccount:  " + a.account_url + "\nContact:  " +
         (a.contact.empty() ? std::string("(not known: registered before certfleet kept it)")
                            : a.contact) +
         "\n";
}

}  // namespace certfleet::cli
