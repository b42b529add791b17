#pragma once
// Keeps export_dir in step with issued certificates: the files of each domain that
// got a new certificate, the services/<service>.pem chosen by the precedence rules,
// then the deploy hook once per batch. Runs detached (its own thread): it writes
// files and waits for the hook, which must not block the scheduler.

#include <caf/fwd.hpp>
#include <filesystem>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "actors/messages.hpp"
#include "config/configuration.hpp"
#include "storage/store.hpp"

namespace certfleet::actors {

struct export_state {
  storage::store* store = nullptr;
  std::filesystem::path state_dir;
  config::shared_configuration config;
  std::set<std::string> changed;
  bool flush_scheduled = false;
  /// Called with the names whose certificate changed (the HTTPS listener reloads them).
  std::function<void(std::vector<std::string>)> changed_hook;
  static inline const char* name = "exporter";
};

/// The exporter (interface: export_actor in messages.hpp).
export_actor::behavior_type export_behavior(export_actor::stateful_pointer<export_state> self,
                                            storage::store* store, std::filesystem::path state_dir,
                                            config::shared_configuration config,
                                            std::function<void(std::vector<std::string>)> changed);

}  // namespace certfleet::actors
