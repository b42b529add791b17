#pragma once
// A listening socket and the loop that accepts on it, shared by the HTTP-01 and the
// HTTPS servers so the two cannot drift apart. It also keeps port 80 usable under a
// connection flood: connections are capped in total and per client address; at a cap
// the connection that has waited longest for its next request is closed to make room
// (so the CA's validation requests still get in), and a full descriptor table pauses
// accepting briefly instead of spinning.

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "core/error.hpp"

namespace certfleet::protocol {

struct accept_limits {
  /// Connections open at once; 0: a quarter of the process's descriptor limit
  /// (RLIMIT_NOFILE), leaving the rest to the CA, LMDB and the other server.
  std::size_t max_connections = 0;
  /// Connections open at once from one client address (a NAT may hide many clients).
  std::size_t max_per_address = 256;
};

/// One accepted connection as the accept loop sees it. The server marks it idle while
/// it waits for the next request; an idle connection may be closed to make room.
class accepted_connection {
 public:
  virtual ~accepted_connection() = default;
  virtual void set_idle(bool idle) = 0;
};

class accept_loop {
 public:
  /// Serves one accepted connection; runs as its own coroutine on the executor.
  using connection_handler = std::function<boost::asio::awaitable<void>(
      boost::asio::ip::tcp::socket, std::shared_ptr<accepted_connection>)>;

  explicit accept_loop(boost::asio::any_io_executor executor, accept_limits limits = {});
  ~accept_loop();
  accept_loop(const accept_loop&) = delete;
  accept_loop& operator=(const accept_loop&) = delete;

  /// Binds "host:port" and starts accepting; `purpose` and `directive` name the server
  /// and its setting in the error (see bind_and_listen). The loop keeps `owner` alive
  /// (the server's state that `serve` uses) until it stops.
  result<void> listen(const std::string& address, const std::string& purpose,
                      const std::string& directive, connection_handler serve,
                      std::shared_ptr<void> owner);
  /// The port actually bound (useful with port 0); 0 before listen.
  unsigned short port() const;
  /// Connections open now (for tests and metrics). Only on the executor's thread.
  std::size_t open_connections() const;
  /// The total cap in force (after resolving 0 from RLIMIT_NOFILE).
  std::size_t max_connections() const;
  /// Moves to another address (a reload's new listen directive): binds it, then closes the
  /// old one; connections already accepted run to their end. On error (the address is taken)
  /// nothing changes. After listen; any thread.
  result<void> rebind(const std::string& address, const std::string& purpose,
                      const std::string& directive);
  /// Stops accepting; connections already accepted run to their end. Any thread; idempotent.
  void stop();

 private:
  struct state;
  struct tracked;
  static boost::asio::awaitable<void> run(std::shared_ptr<state> s, connection_handler serve,
                                          std::shared_ptr<void> owner);
  static boost::asio::awaitable<void> serve_tracked(std::shared_ptr<state> s,
                                                    connection_handler serve,
                                                    boost::asio::ip::tcp::socket socket,
                                                    std::string address);
  std::shared_ptr<state> current() const;
  static void stop(const std::shared_ptr<state>& s);

  mutable std::mutex mutex_;      ///< guards state_ (swapped by rebind) and what listen kept
  std::shared_ptr<state> state_;  ///< of the address listened on now
  connection_handler serve_;
  std::weak_ptr<void> owner_;  ///< weak: the owner holds this loop
};

}  // namespace certfleet::protocol
