#pragma once
// The CLI's end of the control channel (also bench/fleet_probe's): one request, one answer.

#include <chrono>
#include <filesystem>
#include <string>

#include "control/messages.hpp"
#include "core/error.hpp"

namespace certfleet::control {

/// The longest answer read: a reload that adds or retires every domain of a large fleet.
inline constexpr std::size_t max_answer_bytes = 64 << 20;

/// Sends `r` on the socket and returns the daemon's decoded answer. Errors say what to do:
/// the daemon is not running (nobody listens: kind network), the socket is not ours
/// (permission: kind network), it did not answer in time (timeout), or its answer is
/// unreadable (bad_response).
result<response> ask(const std::filesystem::path& socket_path, const request& r,
                     std::chrono::seconds timeout = std::chrono::seconds(120));

/// The same exchange with text: sends `line` (a newline is added) and returns the answer line.
/// For tests and probes that must send what the codec would never produce.
result<std::string> exchange_lines(const std::filesystem::path& socket_path,
                                   const std::string& line,
                                   std::chrono::seconds timeout = std::chrono::seconds(120));

}  // namespace certfleet::control
