#include "protocol/net/http01_server.hpp"

#include "protocol/net/asio_names.hpp"
#include "protocol/net/http01_answer.hpp"

namespace certfleet::protocol {

namespace {

http_server_options server_options(const http01_options& o) {
  return {o.read_timeout, o.keep_alive_timeout, o.max_header_bytes, o.max_requests_per_connection,
          o.limits};
}

}  // namespace

http01_server::http01_server(asio::any_io_executor executor, const token_store& tokens,
                             http01_options options)
    : server_(
          std::move(executor),
          [&tokens,
           redirect = options.redirect_to_https](const http::request<http::empty_body>& req) {
            return http01_answer(req, tokens, redirect);
          },
          server_options(options)) {}

result<void> http01_server::listen(const std::string& address) {
  return server_.listen(address, "HTTP-01 challenges", "http_listen");
}

result<void> http01_server::rebind(const std::string& address) {
  return server_.rebind(address, "HTTP-01 challenges", "http_listen");
}

}  // namespace certfleet::protocol
