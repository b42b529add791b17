#pragma once
// Where the CLI finds the daemon's state (LMDB files and the control socket).

#include <filesystem>

namespace certfleet::cli {

/// `state_dir_option` when set, else state_dir of certfleet.conf in `config_dir`, else the
/// default. Read with config/'s parser; a certfleet.conf with errors on other lines still gives
/// its state_dir, so `certfleet reload` reaches the daemon (which reports the errors) and
/// `certfleet status` works. A missing or unreadable file gives the default.
std::filesystem::path state_dir_of(const std::filesystem::path& config_dir,
                                   const std::filesystem::path& state_dir_option);

}  // namespace certfleet::cli
