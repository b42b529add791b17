#pragma once
// Keeps one domain actor per desired domain: spawns them at start from the stored
// records, and on every reload diffs the desired set against the running one
// (spawning the added, retiring the removed, leaving the rest untouched). Restarts
// a crashed domain actor from its stored state, within a restart budget. Routes
// the operator's retry to the domain actors.

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <filesystem>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "actors/domain_actor.hpp"
#include "actors/messages.hpp"
#include "config/configuration.hpp"
#include "storage/store.hpp"

namespace certfleet::actors {

/// The engine-wide settings derived from a configuration.
acme_settings acme_settings_from(const config::configuration& config);

struct supervisor_state {
  storage::store* store = nullptr;
  domain_env* env = nullptr;
  acme_actor acme;
  std::filesystem::path config_dir;
  /// One entry per running domain actor (monitored; retired ones are demonitored
  /// first, so a down message always means a crash).
  std::unordered_map<std::string, caf::actor> domains;
  std::unordered_map<std::string, std::vector<std::chrono::steady_clock::time_point>> restarts;
  /// Called with each configuration the supervisor applies (the daemon keeps it).
  std::function<void(const config::shared_configuration&)> on_applied;
  static inline const char* name = "supervisor";
};

/// The supervisor (interface: supervisor_actor in messages.hpp). Spawns the domains of
/// `initial` at once; `on_applied` is called with it and with every reloaded one.
supervisor_actor::behavior_type supervisor_behavior(
    supervisor_actor::stateful_pointer<supervisor_state> self, storage::store* store,
    domain_env* env, acme_actor acme, config::shared_configuration initial,
    std::function<void(const config::shared_configuration&)> on_applied);

}  // namespace certfleet::actors
