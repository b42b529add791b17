#include "protocol/net/http01_answer.hpp"

#include "protocol/net/asio_names.hpp"

#include <cctype>

namespace certfleet::protocol {

namespace {

// Host header without a port, lower-cased.
std::string host_of(const http::request<http::empty_body>& req) {
  std::string host(req[http::field::host]);
  if (!host.empty() && host.front() == '[') {
    if (auto close = host.find(']'); close != std::string::npos)
      host.resize(close + 1);  // "[v6]:80"
  } else if (auto colon = host.find(':'); colon != std::string::npos) {
    host.resize(colon);
  }
  for (auto& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return host;
}

}  // namespace

http::response<http::string_body> http01_response(const http::request<http::empty_body>& req,
                                                  http::status status, std::string body) {
  http::response<http::string_body> res{status, req.version()};
  res.set(http::field::server, "certfleet");
  res.set(http::field::content_type, "text/plain");
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  if (req.method() == http::verb::head) res.body().clear();
  return res;
}

http::response<http::string_body> http01_answer(
    const http::request<http::empty_body>& req, const token_store& tokens,
    const std::function<bool(const std::string& host)>& redirect_to_https) {
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    auto res = http01_response(req, http::status::method_not_allowed, "Method not allowed\n");
    res.set(http::field::allow, "GET, HEAD");
    return res;
  }
  const std::string_view target(req.target().data(), req.target().size());
  if (target.starts_with(http01_challenge_prefix)) {
    // RFC 8555 §8.3: the body is exactly the key authorization.
    if (auto key_auth = tokens.find(std::string(target.substr(http01_challenge_prefix.size())))) {
      return http01_response(req, http::status::ok, *key_auth);
    }
    return http01_response(req, http::status::not_found, "Not found\n");
  }
  if (redirect_to_https) {
    const std::string host = host_of(req);
    if (!host.empty() && redirect_to_https(host)) {
      auto res = http01_response(req, http::status::moved_permanently, "Moved\n");
      res.set(http::field::location, "https://" + host + std::string(target));
      return res;
    }
  }
  return http01_response(req, http::status::not_found, "Not found\n");
}

}  // namespace certfleet::protocol
