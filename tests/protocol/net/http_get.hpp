#pragma once
// The one-line request the http_client tests make most.

#include "protocol/net/http_client.hpp"

namespace certfleet::protocol {

inline boost::asio::awaitable<result<http_response>> get(http_client& client, std::string url,
                                                         std::string method = "GET") {
  http_request req{.method = std::move(method), .url = std::move(url)};
  co_return co_await client.request(std::move(req));
}

}  // namespace certfleet::protocol
