#include "protocol/net/http_server.hpp"

#include "protocol/net/asio_names.hpp"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace certfleet::protocol {

struct http_server::impl {
  impl(asio::any_io_executor ex, http_handler h, http_server_options o,
       std::shared_ptr<std::atomic<std::uint64_t>> s)
      : executor(std::move(ex)),
        handler(std::move(h)),
        options(o),
        served(std::move(s)),
        listener(executor, options.limits) {}

  asio::any_io_executor executor;
  http_handler handler;
  http_server_options options;
  std::shared_ptr<std::atomic<std::uint64_t>> served;
  accept_loop listener;

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
        http::response<http::string_body> res{http::status::bad_request, 11};
        res.set(http::field::content_type, "text/plain; charset=utf-8");
        res.body() = "Bad request\n";
        res.keep_alive(false);
        res.prepare_payload();
        co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
        if (!ec) co_await drain(stream);
        break;
      }
      auto res = handler(parser.get());
      if (res.result() == http::status::not_found && options.on_not_found) {
        auto other = co_await options.on_not_found(parser.get());
        if (other) res = std::move(*other);
      }
      served->fetch_add(1, std::memory_order_relaxed);
      const bool keep = res.keep_alive();
      co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
      if (ec || !keep) break;
    }
    error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }
};

http_server::http_server(asio::any_io_executor executor, http_handler handler,
                         http_server_options options)
    : served_(std::make_shared<std::atomic<std::uint64_t>>(0)) {
  impl_ = std::make_shared<impl>(std::move(executor), std::move(handler), options, served_);
}

http_server::~http_server() { stop(); }

result<void> http_server::listen(const std::string& address, const std::string& what,
                                 const std::string& directive) {
  auto serve = [i = impl_.get()](tcp::socket socket, std::shared_ptr<accepted_connection> conn) {
    return i->serve(std::move(socket), std::move(conn));
  };
  return impl_->listener.listen(address, what, directive, serve, impl_);
}

result<void> http_server::rebind(const std::string& address, const std::string& what,
                                 const std::string& directive) {
  return impl_->listener.rebind(address, what, directive);
}

unsigned short http_server::port() const { return impl_->listener.port(); }
std::size_t http_server::open_connections() const { return impl_->listener.open_connections(); }
std::size_t http_server::max_connections() const { return impl_->listener.max_connections(); }

void http_server::stop() {
  if (impl_) impl_->listener.stop();
}

http_handler plain_handler(std::function<plain_response(const plain_request&)> page) {
  return [page = std::move(page)](const http::request<http::empty_body>& req) {
    const bool head = req.method() == http::verb::head;
    plain_response answer;
    if (req.method() != http::verb::get && !head) {
      answer = {405, "text/plain; charset=utf-8", "Only GET and HEAD are served here.\n"};
    } else {
      answer = page({std::string(req.method_string()), std::string(req.target()),
                     std::string(req[http::field::authorization])});
    }
    http::response<http::string_body> res{static_cast<http::status>(answer.status), req.version()};
    res.set(http::field::content_type, answer.content_type);
    res.set(http::field::cache_control, "no-store");
    res.set("X-Content-Type-Options", "nosniff");
    res.set("X-Frame-Options", "DENY");
    if (answer.status == 405) res.set(http::field::allow, "GET, HEAD");
    if (answer.status == 401) res.set(http::field::www_authenticate, "Bearer");
    for (const auto& [name, value] : answer.headers) res.insert(name, value);
    res.keep_alive(req.keep_alive());
    const std::size_t length = answer.body.size();
    if (!head) res.body() = std::move(answer.body);
    res.content_length(length);
    return res;
  };
}

}  // namespace certfleet::protocol
