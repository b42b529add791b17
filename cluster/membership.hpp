#pragma once
// This node's membership of a certfleet cluster in etcd, and the member list all
// nodes agree on.
//
// Keys, under the cluster's prefix:
//   membership/nodes/NODE   one per live node, held by the node's lease (TTL a few
//                           seconds, kept alive three times per TTL): a node that dies,
//                           freezes or loses etcd loses its key within one TTL.
//   membership/epoch        the member list ownership is computed from (ownership.hpp),
//                           rewritten by whichever node first sees the live keys differ
//                           from it (a transaction on its revision: one writer wins).
//
// Fencing: every write a node makes for the domains it owns carries fence(): its key
// must still hold its lease, and the epoch must be the one it computed ownership
// from. A node that was paused or cut off, or that has not yet seen a member join or
// leave, has its writes refused by etcd itself, whatever it believes.
//
// Runs as coroutines on one Asio thread; nothing here blocks. on_change is called on
// that thread whenever the view changes.

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "protocol/etcd/messages.hpp"

namespace certfleet::protocol::etcd {
class client;
}

namespace certfleet::cluster {

struct membership_options {
  std::string prefix;  ///< the cluster's keys, e.g. "/certfleet/mail/"
  std::string node;    ///< this node's name (check_node_name)
  std::chrono::seconds ttl{5};
};

/// What this node knows about the cluster now.
struct membership_view {
  /// Holds a live lease and is in the epoch: may order and write, fenced.
  bool active = false;
  bool etcd_reachable = false;
  std::int64_t lease = 0;
  std::vector<std::string> members;  ///< the epoch's list, sorted
  std::int64_t epoch_revision = 0;   ///< the epoch key's mod_revision
  /// Why the node is not active, in words for status and the log ("" when active).
  std::string problem;

  bool operator==(const membership_view&) const = default;
};

class membership {
 public:
  membership(boost::asio::any_io_executor executor, std::shared_ptr<protocol::etcd::client> etcd,
             membership_options options, std::function<void(const membership_view&)> on_change);
  /// Stops the coroutines at their next step (without revoking: a crash looks the same
  /// to the others, and the lease ends within its TTL).
  ~membership();
  membership(const membership&) = delete;
  membership& operator=(const membership&) = delete;

  /// Starts joining: lease, member key, watch. Call once, from any thread.
  void start();
  /// Leaves at once: revokes the lease, so the member key goes now, not after the TTL.
  boost::asio::awaitable<void> leave();

  /// The view (on the executor's thread).
  const membership_view& view() const;
  /// Conditions that hold only while this node holds its lease and the epoch it last
  /// saw is current: put them in every transaction that writes owned state.
  std::vector<protocol::etcd::compare> fence() const;

  std::string member_key(const std::string& node) const;
  std::string epoch_key() const;

 private:
  struct state;
  std::shared_ptr<state> state_;
};

}  // namespace certfleet::cluster
