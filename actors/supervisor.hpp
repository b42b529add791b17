#pragma once
// Keeps one domain actor per desired domain (in a cluster: per desired domain this node
// owns): spawns them at start from the stored records, and on every reload diffs the
// desired set against the running one (spawning the added, retiring the removed, leaving
// the rest untouched); when the cluster's membership changes, hands over the domains it
// no longer owns (their actors stop without storing anything) and spawns those it gained. Restarts
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

/// Which domains run on this node: asked once per change of the cluster's membership.
using ownership_predicate = std::function<bool(const std::string&)>;
using ownership_source = std::function<ownership_predicate()>;

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
  /// The configuration applied last (for the ownership changes between reloads).
  config::shared_configuration applied;
  /// In a cluster: returns which domains this node owns now (a snapshot); null when this
  /// node is alone and runs every desired domain.
  ownership_source ownership;
  static inline const char* name = "supervisor";
};

/// The supervisor (interface: supervisor_actor in messages.hpp). Spawns the domains of
/// `initial` at once; `on_applied` is called with it and with every reloaded one.
supervisor_actor::behavior_type supervisor_behavior(
    supervisor_actor::stateful_pointer<supervisor_state> self, storage::store* store,
    domain_env* env, acme_actor acme, config::shared_configuration initial,
    std::function<void(const config::shared_configuration&)> on_applied,
    ownership_source ownership);

}  // namespace certfleet::actors
