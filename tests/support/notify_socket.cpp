#include "tests/support/notify_socket.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>

#include "tests/support/time_scale.hpp"

namespace certfleet::testing {

notify_socket::notify_socket() {
  const std::string path = (dir_.path() / "notify").string();
  fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  path.copy(addr.sun_path, sizeof addr.sun_path - 1);
  EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << path;
  ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
}

notify_socket::~notify_socket() {
  ::unsetenv("NOTIFY_SOCKET");
  ::close(fd_);
}

std::string notify_socket::receive(int seconds) {
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(seconds * 1000 * time_scale())) != 1) return {};
  char buffer[4096];
  const ssize_t n = ::recv(fd_, buffer, sizeof buffer, MSG_DONTWAIT);
  return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : std::string{};
}

}  // namespace certfleet::testing
