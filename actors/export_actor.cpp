#include "actors/export_actor.hpp"

#include <caf/all.hpp>

#include "core/log.hpp"
#include "serving/export_files.hpp"
#include "serving/stored_certificate.hpp"

namespace certfleet::actors {

namespace {

using self_ptr = export_actor::stateful_pointer<export_state>;
// Issuances arriving together are exported together, and the hook runs once.
constexpr auto batch_window = std::chrono::seconds(1);

// services/<service>.pem as the precedence rules choose now (a new certificate, or a
// configuration that changed which one wins); returns how many files changed.
std::size_t export_services(self_ptr self) {
  auto& st = self->state;
  const auto& s = st.config->settings;
  const auto lets_encrypt = serving::stored_certificates(*st.store);
  const auto now = wall_clock{}.now();
  auto self_signed = [&](const std::string& me) {
    return serving::load_or_create_self_signed(st.state_dir / "self-signed", me, now);
  };
  std::size_t changed = 0;
  for (auto svc : {serving::service::https, serving::service::ftp, serving::service::smtp,
                   serving::service::sink}) {
    auto chosen = serving::choose_certificate(*st.config, svc, "", lets_encrypt, self_signed, now);
    if (!chosen.certificate) continue;
    auto written = serving::export_service(s.export_dir, svc, *chosen.certificate);
    if (!written)
      log_error("export: " + written.err().detail);
    else if (*written)
      ++changed;
  }
  return changed;
}

// At start and after a reload: the service files follow the configuration even when no
// certificate is issued (tls_certificate_files alone, a precedence change); the hook runs
// when one changed.
void refresh_services(self_ptr self) {
  const auto& s = self->state.config->settings;
  if (s.export_dir.empty()) return;
  const std::size_t changed = export_services(self);
  if (changed == 0) return;
  log_info("export: " + std::to_string(changed) + " service file(s) in " + s.export_dir.string() +
           "/services changed");
  if (!s.deploy_hook.empty()) {
    if (auto r = serving::run_deploy_hook(s.deploy_hook, {}, s.deploy_hook_timeout); !r)
      log_error("export: " + r.err().detail);
  }
}

void flush(self_ptr self) {
  auto& st = self->state;
  st.flush_scheduled = false;
  const auto& s = st.config->settings;
  std::vector<std::string> names(st.changed.begin(), st.changed.end());
  st.changed.clear();
  if (st.changed_hook && !names.empty()) st.changed_hook(names);
  if (s.export_dir.empty() || names.empty()) return;

  const auto lets_encrypt = serving::stored_certificates(*st.store);
  for (const auto& name : names) {
    auto pair = lets_encrypt(name);
    if (!pair) continue;
    if (auto r = serving::export_domain(s.export_dir, name, *pair); !r)
      log_error("export: " + r.err().detail);
  }
  export_services(self);
  log_info("export: wrote " + std::to_string(names.size()) + " domain(s) to " +
           s.export_dir.string());
  if (!s.deploy_hook.empty()) {
    if (auto r = serving::run_deploy_hook(s.deploy_hook, names, s.deploy_hook_timeout); !r)
      log_error("export: " + r.err().detail);
  }
}

}  // namespace

export_actor::behavior_type export_behavior(self_ptr self, storage::store* store,
                                            std::filesystem::path state_dir,
                                            config::shared_configuration config,
                                            std::function<void(std::vector<std::string>)> changed) {
  self->state.changed_hook = std::move(changed);
  self->state.store = store;
  self->state.state_dir = std::move(state_dir);
  self->state.config = std::move(config);
  refresh_services(self);  // detached: file I/O is fine here
  return {
      [=](export_atom, std::string& domain) {
        self->state.changed.insert(std::move(domain));
        if (!self->state.flush_scheduled) {
          self->state.flush_scheduled = true;
          self->delayed_send(self, batch_window, flush_atom::value);
        }
      },
      [=](flush_atom) { flush(self); },
      [=](reload_atom, config::shared_configuration& next) {
        self->state.config = std::move(next);
        refresh_services(self);
      },
  };
}

}  // namespace certfleet::actors
