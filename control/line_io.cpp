#include "control/line_io.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace certfleet::control::detail {

bool fill_address(const std::filesystem::path& path, sockaddr_un& addr) {
  std::memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  const std::string p = path.string();
  if (p.size() >= sizeof addr.sun_path) return false;
  std::memcpy(addr.sun_path, p.c_str(), p.size() + 1);
  return true;
}

result<std::string> read_line(int fd, std::size_t max_bytes, std::chrono::milliseconds timeout) {
  std::string data;
  // Large reads, and each searched once for the newline: a 4 MiB request (a retry of
  // 100k domains) searched whole after every 4 KiB read cost the square of its size.
  char buf[65536];
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool closed = false;
  auto newline = std::string::npos;
  while (!closed && newline == std::string::npos) {
    if (data.size() > max_bytes) {
      return error{error_kind::invalid_input,
                   "the message is longer than " + std::to_string(max_bytes) + " bytes"};
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      const auto searched = data.size();
      data.append(buf, static_cast<std::size_t>(n));
      newline = data.find('\n', searched);
    }
    closed = n <= 0;
  }
  if (newline == std::string::npos && !closed) {
    return error{error_kind::timeout, "no complete line arrived in time"};
  }
  if (newline == std::string::npos && data.empty()) {
    return error{error_kind::timeout, "the connection was closed without an answer"};
  }
  if (newline != std::string::npos) data.resize(newline);
  if (data.size() > max_bytes) {
    return error{error_kind::invalid_input,
                 "the message is longer than " + std::to_string(max_bytes) + " bytes"};
  }
  return data;
}

bool write_all(int fd, const std::string& text) {
  std::size_t off = 0;
  while (off < text.size()) {
    const ssize_t n = ::send(fd, text.data() + off, text.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace certfleet::control::detail
