#include "control/client.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "control/codec.hpp"
#include "control/line_io.hpp"

namespace certfleet::control {

result<std::string> exchange_lines(const std::filesystem::path& path, const std::string& line,
                                   std::chrono::seconds timeout) {
  sockaddr_un addr;
  if (!detail::fill_address(path, addr)) {
    return error{error_kind::invalid_input, "the control socket path " + path.string() +
                                                " is too long; use a shorter --state-dir"};
  }
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return error{error_kind::internal,
                 std::string("cannot create a Unix socket: ") + std::strerror(errno)};
  }
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EACCES) {
      return error{error_kind::network, "permission denied on " + path.string() +
                                            "; run this command as the user certfleetd runs as"};
    }
    return error{error_kind::network, "certfleetd is not running (no answer on " + path.string() +
                                          "); start it, or check --state-dir"};
  }
  detail::write_all(fd, line + "\n");
  auto answer = detail::read_line(fd, max_answer_bytes, timeout);
  ::close(fd);
  if (!answer) {
    return error{answer.err().kind, "certfleetd did not answer on " + path.string() + " (" +
                                        answer.err().detail + "); check its log"};
  }
  return answer;
}

result<response> ask(const std::filesystem::path& path, const request& r,
                     std::chrono::seconds timeout) {
  auto line = exchange_lines(path, encode(r), timeout);
  if (!line) return std::move(line).err();
  return decode_response(*line);
}

}  // namespace certfleet::control
