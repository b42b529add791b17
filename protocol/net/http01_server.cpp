#include "protocol/net/http01_server.hpp"

#include "protocol/net/accept_loop.hpp"
#include "protocol/net/asio_names.hpp"
#include "protocol/net/http01_answer.hpp"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace certfleet::protocol {

struct http01_server::impl {
  impl(asio::any_io_executor ex, const token_store& t, http01_options o,
       std::shared_ptr<std::atomic<std::uint64_t>> s)
      : executor(std::move(ex)),
        tokens(t),
        options(std::move(o)),
        served(std::move(s)),
        listener(executor, options.limits) {}

  asio::any_io_executor executor;
  const token_store& tokens;
  http01_options options;
  std::shared_ptr<std::atomic<std::uint64_t>> served;
  accept_loop listener;

  http::response<http::string_body> answer(const http::request<http::empty_body>& req) {
    return http01_answer(req, tokens, options.redirect_to_https);
  }

  // Closing a socket with unread input makes the kernel send a reset, which can
  // destroy the 400 before the client reads it: half-close, then read and discard
  // what the client still sends, bounded in bytes and time (a lingering close).
  asio::awaitable<void> drain(beast::tcp_stream& stream) {
    error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream.expires_after(
        std::min<std::chrono::milliseconds>(options.read_timeout, std::chrono::seconds(2)));
    char discard[4096];
    for (std::size_t total = 0; !ec && total < 256 * 1024;) {
      total += co_await stream.async_read_some(asio::buffer(discard),
                                               asio::redirect_error(asio::use_awaitable, ec));
    }
  }

  asio::awaitable<void> serve(tcp::socket socket, std::shared_ptr<accepted_connection> conn) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer(options.max_header_bytes);
    for (unsigned n = 0; n < options.max_requests_per_connection; ++n) {
      http::request_parser<http::empty_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
      parser.body_limit(0);
      // A kept-alive connection waits less for its next request than a new one for
      // its first: a client that sends one every few seconds must not hold it forever.
      stream.expires_after(n == 0 ? options.read_timeout
                                  : std::min(options.read_timeout, options.keep_alive_timeout));
      error_code ec;
      conn->set_idle(true);
      co_await http::async_read(stream, buffer, parser,
                                asio::redirect_error(asio::use_awaitable, ec));
      conn->set_idle(false);
      if (ec == http::error::end_of_stream || ec == beast::error::timeout) break;
      if (ec) {
        // Oversized or malformed: answer 400 without echoing anything, then close.
        http::request<http::empty_body> dummy;
        auto res = http01_response(dummy, http::status::bad_request, "Bad request\n");
        res.keep_alive(false);
        co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
        if (!ec) co_await drain(stream);
        break;
      }
      auto res = answer(parser.get());
      served->fetch_add(1, std::memory_order_relaxed);
      const bool keep = res.keep_alive();
      co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
      if (ec || !keep) break;
    }
    error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }
};

http01_server::http01_server(asio::any_io_executor executor, const token_store& tokens,
                             http01_options options)
    : served_(std::make_shared<std::atomic<std::uint64_t>>(0)) {
  impl_ = std::make_shared<impl>(std::move(executor), tokens, std::move(options), served_);
}

http01_server::~http01_server() { stop(); }

result<void> http01_server::listen(const std::string& address) {
  auto serve = [i = impl_.get()](tcp::socket socket, std::shared_ptr<accepted_connection> conn) {
    return i->serve(std::move(socket), std::move(conn));
  };
  return impl_->listener.listen(address, "HTTP-01 challenges", "http_listen", serve, impl_);
}

unsigned short http01_server::port() const { return impl_->listener.port(); }
std::size_t http01_server::open_connections() const { return impl_->listener.open_connections(); }
std::size_t http01_server::max_connections() const { return impl_->listener.max_connections(); }

void http01_server::stop() {
  if (impl_) impl_->listener.stop();
}

}  // namespace certfleet::protocol
