#include "cluster/shared_challenge_tokens.hpp"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "core/log.hpp"

namespace certfleet::cluster {

namespace asio = boost::asio;
namespace etcd = protocol::etcd;

// Every coroutine argument is a named object: GCC 12 destroys temporaries built inside
// a co_await expression twice.

bool plausible_token(const std::string& token) {
  return token.size() >= 16 && token.size() <= 128 &&
         std::all_of(token.begin(), token.end(), [](char c) {
           return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_';
         });
}

etcd_shared_tokens::etcd_shared_tokens(asio::any_io_executor executor, etcd::client_options options,
                                       std::string prefix, std::function<std::int64_t()> lease)
    : executor_(executor),
      etcd_(std::make_shared<etcd::client>(std::move(executor), std::move(options))),
      prefix_(std::move(prefix) + "tokens/"),
      lease_(std::move(lease)) {}

asio::awaitable<void> etcd_shared_tokens::publish(std::string token,
                                                  std::string key_authorization) {
  const std::int64_t lease = lease_();
  if (lease == 0) {
    log_warning(
        "cluster: challenge token not shared: this node holds no lease in etcd; only "
        "this node can answer the CA");
    co_return;
  }
  etcd::put_request put{prefix_ + token, std::move(key_authorization), lease};
  auto stored = co_await etcd_->put(std::move(put));
  if (!stored)
    log_warning("cluster: challenge token not shared (" + stored.err().detail +
                "); only this node can answer the CA");
}

namespace {
// A function, not a lambda: a coroutine lambda's captures die with the lambda object.
asio::awaitable<void> remove_token(std::shared_ptr<etcd::client> client,
                                   etcd::delete_request gone) {
  // A token left behind goes with the node's lease; nothing to do on failure.
  (void)co_await client->remove(std::move(gone));
}
}  // namespace

void etcd_shared_tokens::withdraw(std::string token) {
  etcd::delete_request gone{prefix_ + token, ""};
  asio::co_spawn(executor_, remove_token(etcd_, std::move(gone)), asio::detached);
}

asio::awaitable<std::optional<std::string>> etcd_shared_tokens::find(std::string token) {
  if (!plausible_token(token)) co_return std::nullopt;
  etcd::range_request get{prefix_ + token, "", 1, 0, false};
  auto found = co_await etcd_->range(std::move(get));
  if (!found || found->kvs.empty()) co_return std::nullopt;
  co_return std::move(found->kvs.front().value);
}

}  // namespace certfleet::cluster
