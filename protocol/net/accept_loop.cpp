#include "protocol/net/accept_loop.hpp"

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "protocol/net/listen_address.hpp"

namespace certfleet::protocol {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

struct accept_loop::state {
  explicit state(asio::any_io_executor ex) : executor(std::move(ex)), acceptor(executor) {}
  asio::any_io_executor executor;
  tcp::acceptor acceptor;
  std::atomic<bool> stopped{false};
};

accept_loop::accept_loop(asio::any_io_executor executor)
    : state_(std::make_shared<state>(std::move(executor))) {}

accept_loop::~accept_loop() { stop(); }

result<void> accept_loop::listen(const std::string& address, const std::string& purpose,
                                 const std::string& directive, connection_handler serve,
                                 std::shared_ptr<void> owner) {
  auto bound = bind_and_listen(state_->acceptor, address, purpose, directive);
  if (!bound) return bound;
  asio::co_spawn(state_->executor, run(state_, std::move(serve), std::move(owner)), asio::detached);
  return {};
}

asio::awaitable<void> accept_loop::run(std::shared_ptr<state> s, connection_handler serve,
                                       std::shared_ptr<void> owner) {
  while (!s->stopped) {
    error_code ec;
    tcp::socket socket =
        co_await s->acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (s->stopped || ec == asio::error::operation_aborted) co_return;
      continue;  // e.g. EMFILE: keep serving the connections we have
    }
    asio::co_spawn(s->executor, serve(std::move(socket)), asio::detached);
  }
}

unsigned short accept_loop::port() const {
  error_code ec;
  return state_->acceptor.local_endpoint(ec).port();
}

void accept_loop::stop() {
  if (state_->stopped.exchange(true)) return;
  // The acceptor belongs to the io thread: close it there.
  asio::post(state_->executor, [s = state_] {
    error_code ec;
    s->acceptor.close(ec);
  });
}

}  // namespace certfleet::protocol
