#pragma once
// The daemon's control channel: a Unix socket (mode 0600) in the state directory.
// One JSON request per connection, one JSON line back:
//   {"command":"retry","domains":["a.example.com"]} -> {"ok":true,"results":[{"domain","outcome"}]}
//   {"command":"reload"} -> {"ok":true,"added":[...],"removed":[...]} or {"ok":false,"error":"..."}
//   {"command":"ping"} -> {"ok":true,"domains":N}
// Requests are rare; each is served on the server's own thread, which may block.

#include <atomic>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>

#include "core/error.hpp"

namespace certfleet::actors {

class control_server {
 public:
  /// handler: request JSON text -> response JSON text.
  using handler = std::function<std::string(const std::string&)>;
  static result<std::unique_ptr<control_server>> start(const std::filesystem::path& socket_path,
                                                       handler h);
  ~control_server();

 private:
  control_server() = default;
  void run();
  std::filesystem::path path_;
  handler handler_;
  int listen_fd_ = -1;
  int wake_fd_[2] = {-1, -1};
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

/// Client side (the CLI): sends one request, returns the response line. Errors
/// explain that the daemon is not running when nobody listens.
result<std::string> control_request(const std::filesystem::path& socket_path,
                                    const std::string& request,
                                    std::chrono::seconds timeout = std::chrono::seconds(120));

}  // namespace certfleet::actors
