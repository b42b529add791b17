#pragma once
// Wiring of the daemon: the store, the network side (io_engine), the
// actor system and its shared actors, and the control socket. certfleetd's main is
// a thin shell around this; end-to-end tests use it too.

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "actors/messages.hpp"
#include "config/configuration.hpp"
#include "core/error.hpp"

namespace certfleet::actors {

struct daemon_options {
  /// Overrides the configuration's state_dir when set (tests).
  std::filesystem::path state_dir;
  std::size_t worker_threads = 2;
  /// --new-state: begin with an empty state where the state looks lost (see
  /// storage::env_options::allow_new_state).
  bool allow_new_state = false;
};

/// The running certificate daemon (not to be confused with protocol::io_engine, its
/// network side).
class daemon {
 public:
  /// Opens the state, binds the HTTP-01 port and the control socket, spawns a domain
  /// actor per configured domain. Errors say what to fix.
  static result<std::unique_ptr<daemon>> start(config::configuration config,
                                               daemon_options options = {});
  ~daemon();
  daemon(const daemon&) = delete;
  daemon& operator=(const daemon&) = delete;

  /// Re-reads the configuration directory; on error keeps the running configuration
  /// and returns the diagnostics (as an error of kind config).
  result<reload_report> reload();
  std::vector<control::retry_result> retry(const std::vector<std::string>& domains);
  std::size_t running_domains();
  /// Makes everything persisted so far durable, then stops the network side. After
  /// this, the process may exit at once.
  void stop();

  const std::filesystem::path& state_dir() const;
  std::filesystem::path control_socket() const;

  /// The wiring's parts (defined in system.cpp).
  struct impl;

 private:
  explicit daemon(std::unique_ptr<impl> i);
  std::unique_ptr<impl> impl_;
};

}  // namespace certfleet::actors
