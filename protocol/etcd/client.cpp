#include "protocol/etcd/client.hpp"

#include <stdexcept>

#include "protocol/net/http_client.hpp"
#include "protocol/net/url.hpp"

namespace certfleet::protocol::etcd {

namespace asio = boost::asio;

// Every coroutine argument is a named object: GCC 12 destroys temporaries built inside
// a co_await expression twice.

namespace {

http_client_options http_options(const client_options& o) {
  http_client_options h;
  h.ca_bundle = o.ca_file;
  h.client_certificate = o.cert_file;
  h.client_key = o.key_file;
  h.timeout = o.timeout;
  h.max_body_bytes = o.max_answer_bytes;
  h.max_idle_per_endpoint = 4;
  return h;
}

std::string without_trailing_slash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

}  // namespace

result<std::vector<std::string>> parse_endpoints(const std::vector<std::string>& words) {
  std::vector<std::string> out;
  for (const auto& word : words) {
    std::size_t start = 0;
    while (start <= word.size()) {
      const std::size_t comma = word.find(',', start);
      const std::string url =
          word.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      start = comma == std::string::npos ? word.size() + 1 : comma + 1;
      if (url.empty()) continue;
      auto parts = parse_url(url);
      if (!parts)
        return error{error_kind::config,
                     "etcd endpoint \"" + url +
                         "\" is not a URL like http://10.0.0.1:2379: " + parts.err().detail};
      if (parts->target != "/")
        return error{error_kind::config,
                     "etcd endpoint \"" + url + "\" has a path; give the member's client URL only"};
      out.push_back(without_trailing_slash(url));
    }
  }
  if (out.empty()) return error{error_kind::config, "no etcd endpoint given"};
  return out;
}

client::client(asio::any_io_executor executor, client_options options)
    : options_(std::move(options)) {
  auto endpoints = parse_endpoints(options_.endpoints);
  if (!endpoints) throw std::runtime_error(endpoints.err().detail);
  options_.endpoints = std::move(*endpoints);
  http_ = std::make_unique<http_client>(std::move(executor), http_options(options_));
}

client::~client() = default;

asio::awaitable<result<std::string>> client::call(std::string_view path, std::string body) {
  error last{error_kind::network, "no etcd member answered", true};
  for (std::size_t tried = 0; tried < options_.endpoints.size(); ++tried) {
    http_request req;
    req.method = "POST";
    req.url = options_.endpoints[current_] + std::string(path);
    req.content_type = "application/json";
    req.body = body;
    auto res = co_await http_->request(std::move(req));
    if (res && res->status == 200) co_return std::move(res->body);
    last = res ? error_from_answer(res->status, res->body) : res.err();
    if (!last.retryable) co_return last;
    last.detail = options_.endpoints[current_] + ": " + last.detail;
    current_ = (current_ + 1) % options_.endpoints.size();
  }
  co_return last;
}

// One call: the request's body to `path`, the answer through `parse`.
template <class T>
asio::awaitable<result<T>> client::ask(std::string_view path, std::string body,
                                       result<T> (*parse)(std::string_view)) {
  auto answer = co_await call(path, std::move(body));
  if (!answer) co_return answer.err();
  co_return parse(*answer);
}

namespace {
result<bool> acknowledged(std::string_view) { return true; }
}  // namespace

asio::awaitable<result<range_result>> client::range(range_request request) {
  return ask(range_path, range_body(request), parse_range);
}
asio::awaitable<result<std::int64_t>> client::put(put_request request) {
  return ask(put_path, put_body(request), parse_revision);
}
asio::awaitable<result<std::int64_t>> client::remove(delete_request request) {
  return ask(delete_path, delete_body(request), parse_revision);
}
asio::awaitable<result<txn_result>> client::txn(txn_request request) {
  return ask(txn_path, txn_body(request), parse_txn);
}
asio::awaitable<result<lease_grant>> client::grant(std::int64_t ttl_seconds) {
  return ask(grant_path, grant_body(ttl_seconds), parse_grant);
}
asio::awaitable<result<std::int64_t>> client::keep_alive(std::int64_t lease) {
  return ask(keep_alive_path, lease_id_body(lease), parse_keep_alive);
}
asio::awaitable<result<bool>> client::revoke(std::int64_t lease) {
  return ask(revoke_path, lease_id_body(lease), acknowledged);
}

asio::awaitable<result<bool>> client::watch(watch_request request,
                                            std::function<bool(watch_message&)> on_message,
                                            std::chrono::milliseconds idle_timeout) {
  http_request req;
  req.method = "POST";
  req.url = options_.endpoints[current_] + std::string(watch_path);
  req.content_type = "application/json";
  req.body = watch_body(request);
  // The gateway writes one JSON object per line; a line may span reads.
  std::string pending;
  std::optional<error> broken;
  bool ended = false;
  std::function<bool(std::string_view)> on_data = [&](std::string_view data) {
    pending.append(data);
    std::size_t start = 0;
    for (std::size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
      auto message = parse_watch_message(std::string_view(pending).substr(start, nl - start));
      if (!message) {
        broken = message.err();
        return false;
      }
      if (!on_message(*message) || message->canceled) {
        ended = true;
        return false;
      }
    }
    pending.erase(0, start);
    if (pending.size() > options_.max_answer_bytes) {
      broken = error{error_kind::bad_response, "an etcd watch message is too large", true};
      return false;
    }
    return true;
  };
  auto res = co_await http_->stream(std::move(req), std::move(on_data), idle_timeout);
  if (broken) co_return *broken;
  if (ended) co_return true;
  if (!res) {
    // The member the watch was on is gone: the next one goes to another.
    current_ = (current_ + 1) % options_.endpoints.size();
    co_return res.err();
  }
  if (res->status != 200) co_return error_from_answer(res->status, res->body);
  co_return error{error_kind::network, "etcd ended the watch stream", true};
}

}  // namespace certfleet::protocol::etcd
