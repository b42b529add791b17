#pragma once
// What the port-80 server answers to one parsed request: the challenge path, the https
// redirect, 404 and 405. A pure function of the request and the live tokens, kept apart
// from the socket loop so the unit tests and the fuzzer (tests/fuzz) can drive it without
// a connection.

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <functional>
#include <string>

#include "protocol/net/challenge_tokens.hpp"

namespace certfleet::protocol {

/// RFC 8555 §8.3: where HTTP-01 key authorizations are served.
inline constexpr std::string_view http01_challenge_prefix = "/.well-known/acme-challenge/";

/// A plain-text response with the server's headers, keep-alive as the request asked, and
/// no body for HEAD.
boost::beast::http::response<boost::beast::http::string_body> http01_response(
    const boost::beast::http::request<boost::beast::http::empty_body>& req,
    boost::beast::http::status status, std::string body);

/// The answer to `req`: 405 for anything but GET and HEAD; the key authorization of a live
/// token on the challenge path (404 otherwise); a 301 to https:// when `redirect_to_https`
/// is set and returns true for the request's Host (lower-cased, without its port); else 404.
/// The request's content is never echoed in a body.
boost::beast::http::response<boost::beast::http::string_body> http01_answer(
    const boost::beast::http::request<boost::beast::http::empty_body>& req,
    const token_store& tokens,
    const std::function<bool(const std::string& host)>& redirect_to_https);

}  // namespace certfleet::protocol
