#pragma once
// Runs an operator's hook command (deploy_hook, warning_hook): through /bin/sh with arguments,
// an optional document on stdin, and a timeout after which it is killed with its children.

#include <chrono>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace certfleet {

struct hook_command {
  std::string directive;  ///< the directive that set it, e.g. "deploy_hook": names it in errors
  std::string command;    ///< run as /bin/sh -c 'COMMAND "$@"'
  std::vector<std::string> args;
  std::string input;  ///< given on stdin (from an unlinked file: never blocks on a pipe)
  std::chrono::seconds timeout{60};
};

/// Runs the hook and waits for it; blocks the calling thread (not for an event-based actor).
/// Errors: timeout (killed, with its process group) saying to raise DIRECTIVE_timeout, or
/// internal with "DIRECTIVE \"COMMAND\" failed (exit status N)" for the caller to complete.
result<void> run_hook(const hook_command& hook);

}  // namespace certfleet
