#pragma once
// HTTP-01 tokens shared through etcd: a node publishes each token it serves under
// tokens/TOKEN on its own lease (a token dies with its node), and a node asked for a
// token it does not hold reads it from etcd. The publishing node waits for etcd's answer
// before the CA is told to validate, so whichever node the CA's request reaches finds it.

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <boost/asio/any_io_executor.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "protocol/etcd/client.hpp"
#include "protocol/net/challenge_tokens.hpp"

namespace certfleet::cluster {

class etcd_shared_tokens final : public protocol::shared_tokens {
 public:
  /// `prefix`: the cluster's keys ("/certfleet/NAME/"); `lease`: this node's lease now (0
  /// while it holds none: nothing is published then).
  etcd_shared_tokens(boost::asio::any_io_executor executor, protocol::etcd::client_options options,
                     std::string prefix, std::function<std::int64_t()> lease);

  boost::asio::awaitable<void> publish(std::string token, std::string key_authorization) override;
  void withdraw(std::string token) override;
  boost::asio::awaitable<std::optional<std::string>> find(std::string token) override;

 private:
  boost::asio::any_io_executor executor_;
  std::shared_ptr<protocol::etcd::client> etcd_;
  std::string prefix_;
  std::function<std::int64_t()> lease_;
};

/// Whether `token` can be an ACME token (RFC 8555 §8.1: base64url, at least 128 bits):
/// anything else is not looked up in etcd, so a stranger's request costs no etcd read.
bool plausible_token(const std::string& token);

}  // namespace certfleet::cluster
