#pragma once
// A service manager's end of sd_notify for tests: a unix datagram socket bound in a
// temporary directory and named by NOTIFY_SOCKET while this lives, as systemd sets it up
// for a Type=notify service (a certfleetd started meanwhile inherits it).

#include <filesystem>
#include <string>

#include "tests/support/temp_dir.hpp"

namespace certfleet::testing {

class notify_socket {
 public:
  notify_socket();
  ~notify_socket();  ///< unsets NOTIFY_SOCKET
  notify_socket(const notify_socket&) = delete;
  notify_socket& operator=(const notify_socket&) = delete;

  /// The next message, or "" when none came within `seconds` (times time_scale()).
  std::string receive(int seconds = 10);

 private:
  temp_dir dir_;
  int fd_ = -1;
};

}  // namespace certfleet::testing
