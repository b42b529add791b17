#pragma once
// Publishes this node's writes for the domains it owns to etcd (docs/cluster.md): domain
// records and orders in flight under the node's fence (refused by etcd once the node lost
// its lease or the member list changed), certificates whenever they are newer than
// etcd's (never lost to fencing), private keys sealed under the cluster key.
//
// Writes queue by etcd key and coalesce (the latest write of a key wins), so a node cut
// off from etcd holds at most one pending write per key and sends them when etcd is back.
// A fenced write refused after a membership change is sent again under the new fence if
// this node still owns the domain, and dropped if it does not (the new owner decides).
//
// Runs as one coroutine on the cluster's io thread; call publish() on that thread.

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cluster/state_codec.hpp"
#include "protocol/crypto/sealed.hpp"
#include "protocol/etcd/messages.hpp"
#include "storage/store.hpp"

namespace certfleet::protocol::etcd {
class client;
}

namespace certfleet::cluster {

struct publisher_hooks {
  /// The compares that fence this node's writes now (membership::fence).
  std::function<std::vector<protocol::etcd::compare>()> fence;
  /// Whether this node owns the domain now.
  std::function<bool(const std::string& domain)> owns;
};

class state_publisher {
 public:
  state_publisher(boost::asio::any_io_executor executor,
                  std::shared_ptr<protocol::etcd::client> etcd, cluster_keys keys,
                  protocol::sealing_key key, publisher_hooks hooks);
  ~state_publisher();

  /// Queues what `batch` changed (accounts and budgets stay local for now).
  void publish(const storage::write_batch& batch);
  /// Writes waiting to be sent (tests, metrics).
  std::size_t pending() const;

 private:
  struct state;
  std::shared_ptr<state> state_;
};

}  // namespace certfleet::cluster
