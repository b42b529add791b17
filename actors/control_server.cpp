#include "actors/control_server.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/log.hpp"

namespace certfleet::actors {

namespace {

constexpr std::size_t max_request_bytes = 1 << 20;

bool fill_address(const std::filesystem::path& path, sockaddr_un& addr) {
  std::memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  const std::string p = path.string();
  if (p.size() >= sizeof addr.sun_path) return false;
  std::memcpy(addr.sun_path, p.c_str(), p.size() + 1);
  return true;
}

// Reads until newline, EOF, the size limit or the deadline.
std::string read_line(int fd, std::chrono::milliseconds timeout) {
  std::string data;
  char buf[4096];
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (data.size() < max_request_bytes && data.find('\n') == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    data.append(buf, static_cast<std::size_t>(n));
  }
  if (auto nl = data.find('\n'); nl != std::string::npos) data.resize(nl);
  return data;
}

void write_all(int fd, const std::string& text) {
  std::size_t off = 0;
  while (off < text.size()) {
    const ssize_t n = ::send(fd, text.data() + off, text.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;
    off += static_cast<std::size_t>(n);
  }
}

}  // namespace

result<std::unique_ptr<control_server>> control_server::start(const std::filesystem::path& path,
                                                              handler h) {
  std::unique_ptr<control_server> s(new control_server());
  s->path_ = path;
  s->handler_ = std::move(h);
  sockaddr_un addr;
  if (!fill_address(path, addr)) {
    return error{error_kind::config, "the control socket path " + path.string() +
                                         " is too long; use a shorter state_dir"};
  }
  // A socket file left by a daemon that was killed: remove it, unless a daemon answers.
  if (std::filesystem::exists(path)) {
    if (control_request(path, "{\"command\":\"ping\"}", std::chrono::seconds(2))) {
      return error{error_kind::config, "another certfleetd is already running with state directory " +
                                           path.parent_path().string() + "; stop it first"};
    }
    ::unlink(path.c_str());
  }
  s->listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const mode_t old_mask = ::umask(0177);  // the socket is created 0600
  const int bound = ::bind(s->listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::umask(old_mask);
  if (bound != 0 || ::listen(s->listen_fd_, 16) != 0) {
    return error{error_kind::config, "cannot listen on the control socket " + path.string() + ": " +
                                         std::strerror(errno)};
  }
  if (::pipe2(s->wake_fd_, O_CLOEXEC) != 0)
    return error{error_kind::internal, "cannot create the control server's wake-up pipe"};
  s->thread_ = std::thread([p = s.get()] { p->run(); });
  return s;
}

control_server::~control_server() {
  stopping_ = true;
  if (wake_fd_[1] >= 0) [[maybe_unused]] auto n = ::write(wake_fd_[1], "x", 1);
  if (thread_.joinable()) thread_.join();
  for (int fd : {listen_fd_, wake_fd_[0], wake_fd_[1]})
    if (fd >= 0) ::close(fd);
  ::unlink(path_.c_str());
}

void control_server::run() {
  while (!stopping_) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_[0], POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) continue;
    if (fds[1].revents) return;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    const std::string request = read_line(fd, std::chrono::seconds(5));
    std::string response;
    try {
      response = handler_(request);
    } catch (const std::exception& e) {
      response = std::string("{\"ok\":false,\"error\":\"internal error\"}");
      log_error(std::string("control: request failed: ") + e.what());
    }
    write_all(fd, response + "\n");
    ::close(fd);
  }
}

result<std::string> control_request(const std::filesystem::path& path, const std::string& request,
                                    std::chrono::seconds timeout) {
  sockaddr_un addr;
  if (!fill_address(path, addr)) return error{error_kind::invalid_input, "socket path too long"};
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return error{error_kind::internal, std::strerror(errno)};
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
  write_all(fd, request + "\n");
  std::string line = read_line(fd, timeout);
  ::close(fd);
  if (line.empty()) {
    return error{error_kind::timeout, "certfleetd did not answer on " + path.string() +
                                          "; check its log"};
  }
  return line;
}

}  // namespace certfleet::actors
