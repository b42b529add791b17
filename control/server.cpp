#include "control/server.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "control/client.hpp"
#include "control/codec.hpp"
#include "control/line_io.hpp"
#include "core/log.hpp"

namespace certfleet::control {

namespace {

// Clients served at once. Each has its own thread, so a client that sends nothing or
// never reads its answer delays no other; past this many the newcomer is told to retry.
constexpr std::size_t max_clients = 16;
// How long one send to a client may block: a client that stops reading loses its answer.
constexpr timeval send_timeout{10, 0};

}  // namespace

struct server::client {
  std::thread thread;
  std::atomic<bool> done{false};
};

std::filesystem::path socket_in(const std::filesystem::path& state_dir) {
  return state_dir / "control.sock";
}

result<std::unique_ptr<server>> server::start(const std::filesystem::path& path, handler h) {
  std::unique_ptr<server> s(new server());
  s->path_ = path;
  s->handler_ = std::move(h);
  sockaddr_un addr;
  if (!detail::fill_address(path, addr)) {
    return error{error_kind::config, "the control socket path " + path.string() +
                                         " is too long; use a shorter state_dir"};
  }
  // A socket file left by a daemon that was killed: remove it, unless a daemon answers.
  if (std::filesystem::exists(path)) {
    if (ask(path, ping_request{}, std::chrono::seconds(2))) {
      return error{error_kind::config,
                   "another certfleetd is already running with state directory " +
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

server::~server() {
  stopping_ = true;
  if (wake_fd_[1] >= 0) [[maybe_unused]]
    auto n = ::write(wake_fd_[1], "x", 1);
  if (thread_.joinable()) thread_.join();
  for (int fd : {listen_fd_, wake_fd_[0], wake_fd_[1]})
    if (fd >= 0) ::close(fd);
  // Only a server that got as far as listening owns the file; another daemon's stays.
  if (listen_fd_ >= 0 && wake_fd_[0] >= 0) ::unlink(path_.c_str());
}

void server::run() {
  while (!stopping_) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_[0], POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) continue;
    if (fds[1].revents) break;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    admit(fd);
  }
  reap(true);
}

void server::admit(int fd) {
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof send_timeout);
  reap(false);
  if (clients_.size() >= max_clients) {
    detail::write_all(fd,
                      encode(error_response{"certfleetd is serving " + std::to_string(max_clients) +
                                            " other control requests; try again shortly"}) +
                          "\n");
    ::close(fd);
    return;
  }
  auto c = std::make_unique<client>();
  client* raw = c.get();
  c->thread = std::thread([this, fd, raw] {
    serve(fd);
    ::close(fd);
    raw->done = true;
  });
  clients_.push_back(std::move(c));
}

void server::reap(bool all) {
  for (auto it = clients_.begin(); it != clients_.end();) {
    if (all || (*it)->done) {
      (*it)->thread.join();
      it = clients_.erase(it);
    } else {
      ++it;
    }
  }
}

void server::serve(int fd) {
  auto line = detail::read_line(fd, max_request_bytes, std::chrono::seconds(5));
  if (!line) {
    log_warning("control: request not read: " + line.err().detail);
    detail::write_all(
        fd,
        encode(error_response{"the control request was not read: " + line.err().detail}) + "\n");
    return;
  }
  response answer;
  if (auto r = decode_request(*line); !r) {
    answer = error_response{r.err().detail};
  } else {
    try {
      answer = handler_(*r);
    } catch (const std::exception& e) {
      log_error(std::string("control: request failed: ") + e.what());
      answer = error_response{"certfleetd failed to serve the request (" + std::string(e.what()) +
                              "); check its log"};
    }
  }
  detail::write_all(fd, encode(answer) + "\n");
}

}  // namespace certfleet::control
