#pragma once
// The daemon's end of the control channel: a Unix socket (mode 0600) in the state directory.
// One request per connection, one answer line back (control/codec has the format). Requests
// are rare (an operator, a script); each is served on the server's own thread, which may block.

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <list>
#include <memory>
#include <thread>

#include "control/messages.hpp"
#include "core/error.hpp"

namespace certfleet::control {

/// The longest request line the server reads: a retry of 100k domains is about 3 MiB. The
/// parsed form of a hostile line this long (a list of 2M tiny values) stays under ~100 MB.
inline constexpr std::size_t max_request_bytes = 4 << 20;

/// Where the control socket of the daemon using `state_dir` is.
std::filesystem::path socket_in(const std::filesystem::path& state_dir);

class server {
 public:
  /// Serves one decoded request; may block. Malformed requests never reach it: the server
  /// answers them with an error_response itself.
  using handler = std::function<response(const request&)>;

  /// Listens on `socket_path` (created 0600). A socket file left by a killed daemon is
  /// replaced; one a daemon still answers on is an error (another certfleetd is running).
  static result<std::unique_ptr<server>> start(const std::filesystem::path& socket_path, handler h);
  /// Stops serving (an answer being computed is finished first) and removes the socket file.
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

 private:
  server() = default;
  void run();
  void serve(int fd);
  /// Starts a thread for the client on `fd`, or answers "busy" when max_clients are served.
  void admit(int fd);
  /// Joins the threads of clients that have been answered.
  void reap(bool all);
  struct client;
  std::filesystem::path path_;
  handler handler_;
  int listen_fd_ = -1;
  int wake_fd_[2] = {-1, -1};
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  std::list<std::unique_ptr<client>> clients_;  ///< touched by thread_ only
};

}  // namespace certfleet::control
