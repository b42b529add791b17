#include "protocol/net/http01_server.hpp"

#include "protocol/net/asio_names.hpp"
#include "protocol/net/http01_answer.hpp"

namespace certfleet::protocol {

namespace {

// A challenge this node does not hold may be another node's (in a cluster).
asio::awaitable<std::optional<http::response<http::string_body>>> ask_the_cluster(
    const token_store& tokens, const http::request<http::empty_body>& req) {
  const std::string_view target(req.target().data(), req.target().size());
  if (tokens.cluster() == nullptr || !target.starts_with(http01_challenge_prefix) ||
      (req.method() != http::verb::get && req.method() != http::verb::head))
    co_return std::nullopt;
  std::string token(target.substr(http01_challenge_prefix.size()));
  auto key_authorization = co_await tokens.cluster()->find(std::move(token));
  if (!key_authorization) co_return std::nullopt;
  co_return http01_response(req, http::status::ok, *key_authorization);
}

http_server_options server_options(const http01_options& o, const token_store& tokens) {
  http_server_options out{o.read_timeout, o.keep_alive_timeout, o.max_header_bytes,
                          o.max_requests_per_connection, o.limits};
  out.on_not_found = [&tokens](const http::request<http::empty_body>& req) {
    return ask_the_cluster(tokens, req);
  };
  return out;
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
          server_options(options, tokens)) {}

result<void> http01_server::listen(const std::string& address) {
  return server_.listen(address, "HTTP-01 challenges", "http_listen");
}

result<void> http01_server::rebind(const std::string& address) {
  return server_.rebind(address, "HTTP-01 challenges", "http_listen");
}

}  // namespace certfleet::protocol
