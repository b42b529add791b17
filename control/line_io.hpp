#pragma once
// Internal to control/: the socket address and line-at-a-time I/O that the server and the
// client share.

#include <sys/un.h>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <string>

#include "core/error.hpp"

namespace certfleet::control::detail {

/// False when the path does not fit a Unix socket address (about 107 bytes).
bool fill_address(const std::filesystem::path& path, sockaddr_un& addr);

/// Reads one line (without its newline) from `fd`. The peer may also end the line by closing
/// its side. Errors: nothing arrived before the deadline or the peer closed at once (timeout),
/// the line is longer than max_bytes (invalid_input).
result<std::string> read_line(int fd, std::size_t max_bytes, std::chrono::milliseconds timeout);

/// Writes all of `text`; false when the peer went away.
bool write_all(int fd, const std::string& text);

}  // namespace certfleet::control::detail
