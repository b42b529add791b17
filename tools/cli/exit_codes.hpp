#pragma once
// certfleet's exit codes (README, "Command line").

namespace certfleet::cli {

inline constexpr int exit_ok = 0;
inline constexpr int exit_problem = 1;  ///< warnings present, unknown domains, rejected reload
inline constexpr int exit_usage = 2;
inline constexpr int exit_unavailable = 3;  ///< no state, or the daemon is not running

}  // namespace certfleet::cli
