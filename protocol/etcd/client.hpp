#pragma once
// An etcd v3 client over etcd's JSON gateway and certfleet's own HTTP client: the
// key-value calls, transactions, leases and watches a cluster of certfleetd nodes
// needs, never blocking (coroutines on one Asio thread, like http_client).
//
// Why the JSON gateway and not gRPC: etcd 3.4 serves it on its client port, every
// call certfleet makes is one small request, and it reuses the HTTP/TLS client the
// ACME side already has (keep-alive, timeouts, limits), where gRPC would add a second
// networking stack and its own threads to the daemon. Watches are one long HTTP
// answer, read as it arrives.
//
// Several endpoints: a call goes to the member that answered last; when that member
// is unreachable, has no leader or times out, the call moves on to the next member,
// each member tried once per call.

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "protocol/etcd/messages.hpp"

namespace certfleet::protocol {
class http_client;
}

namespace certfleet::protocol::etcd {

struct client_options {
  /// Client URLs of the members, http:// or https://.
  std::vector<std::string> endpoints;
  /// For https endpoints: the CA that signed the members' certificates, and the
  /// client certificate and key when etcd asks for one.
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  /// Per call and per member; shorter than a lease's TTL so that a keep-alive can
  /// try another member in time.
  std::chrono::milliseconds timeout{2000};
  std::size_t max_answer_bytes = 64 << 20;  ///< a range of many records comes in one answer
};

class client {
 public:
  /// Throws std::runtime_error when the options are unusable (no endpoint, a bad URL,
  /// TLS files that cannot be loaded): a start-up configuration error.
  client(boost::asio::any_io_executor executor, client_options options);
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  boost::asio::awaitable<result<range_result>> range(range_request request);
  /// The store's revision after the put.
  boost::asio::awaitable<result<std::int64_t>> put(put_request request);
  boost::asio::awaitable<result<std::int64_t>> remove(delete_request request);
  boost::asio::awaitable<result<txn_result>> txn(txn_request request);

  boost::asio::awaitable<result<lease_grant>> grant(std::int64_t ttl_seconds);
  /// The lease's TTL after the refresh; 0 when the lease is gone.
  boost::asio::awaitable<result<std::int64_t>> keep_alive(std::int64_t lease);
  boost::asio::awaitable<result<bool>> revoke(std::int64_t lease);

  /// Watches a key range: each message goes to on_message (in order) until it returns
  /// false, etcd cancels the watch (a compacted start revision: the message says
  /// from where to read again), the stream breaks, or nothing arrives for
  /// idle_timeout. Returns the error that ended it, or true when on_message or etcd did.
  boost::asio::awaitable<result<bool>> watch(watch_request request,
                                             std::function<bool(watch_message&)> on_message,
                                             std::chrono::milliseconds idle_timeout);

  /// The member the next call goes to first (for logs and status).
  const std::string& endpoint() const { return options_.endpoints[current_]; }

 private:
  boost::asio::awaitable<result<std::string>> call(std::string_view path, std::string body);
  template <class T>
  boost::asio::awaitable<result<T>> ask(std::string_view path, std::string body,
                                        result<T> (*parse)(std::string_view));

  client_options options_;
  std::unique_ptr<protocol::http_client> http_;
  std::size_t current_ = 0;
};

/// Splits "URL[,URL...]" or a list of URLs and checks each is an http(s) URL with a
/// host; the error names the bad one.
result<std::vector<std::string>> parse_endpoints(const std::vector<std::string>& words);

}  // namespace certfleet::protocol::etcd
