#pragma once
// A listening socket and the loop that accepts on it, shared by the HTTP-01 and the
// HTTPS servers so the two cannot drift apart (they once did: one had a plain bool
// `stopped` read across threads, the other an atomic).

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <memory>
#include <string>

#include "core/error.hpp"

namespace certfleet::protocol {

class accept_loop {
 public:
  /// Serves one accepted connection; runs as its own coroutine on the executor.
  using connection_handler =
      std::function<boost::asio::awaitable<void>(boost::asio::ip::tcp::socket)>;

  explicit accept_loop(boost::asio::any_io_executor executor);
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
  /// Stops accepting; connections already accepted run to their end. Any thread; idempotent.
  void stop();

 private:
  struct state;
  static boost::asio::awaitable<void> run(std::shared_ptr<state> s, connection_handler serve,
                                          std::shared_ptr<void> owner);
  std::shared_ptr<state> state_;
};

}  // namespace certfleet::protocol
