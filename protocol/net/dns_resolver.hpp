#pragma once
// DNS lookups on c-ares, so the servers are configurable (dns_servers) and tests
// can point at pebble-challtestsrv. c-ares' sockets and timeouts are watched by the
// caller's Asio executor: no thread of its own, no hand-off per lookup.
//
// Thread model: like http_client, one resolver belongs to one executor run by ONE
// thread; call resolve() and async_resolve() only on that thread.

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace certfleet::protocol {

class dns_resolver {
 public:
  using addresses = std::vector<std::string>;
  using callback = std::function<void(result<addresses>)>;

  /// servers: "ip" or "ip:port" each; empty means the system's resolv.conf.
  static result<std::unique_ptr<dns_resolver>> create(boost::asio::any_io_executor executor,
                                                      const std::vector<std::string>& servers,
                                                      std::chrono::milliseconds timeout);
  ~dns_resolver();
  dns_resolver(const dns_resolver&) = delete;
  dns_resolver& operator=(const dns_resolver&) = delete;

  /// The IPv4 and IPv6 addresses of name. done runs later on the executor, never
  /// inside this call.
  /// A name with no address is an error of kind dns whose detail says so.
  void resolve(const std::string& name, callback done);

  /// The same as an awaitable.
  boost::asio::awaitable<result<addresses>> async_resolve(const std::string& name);

 private:
  struct impl;
  explicit dns_resolver(std::unique_ptr<impl> i);
  std::unique_ptr<impl> impl_;
};

}  // namespace certfleet::protocol
