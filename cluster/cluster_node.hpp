#pragma once
// This daemon as a node of a cluster (docs/cluster.md): its etcd client and membership on
// a thread of their own, and the question the supervisor asks of each domain: does this
// node own it now?
//
// Ownership goes by the domain's registered domain (config::registered_domain), so all
// names under one registered domain have one owner and the CA's limits per registered
// domain are counted by one node.

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "cluster/membership.hpp"
#include "config/config_file.hpp"
#include "core/error.hpp"
#include "protocol/crypto/sealed.hpp"
#include "storage/group_writer.hpp"

namespace certfleet::cluster {

class cluster_node {
 public:
  /// Joins the cluster of `settings` as `node_name`; on_change runs on the node's thread
  /// after every change of the view (keep it short: post a message). Errors (config): the
  /// endpoints or the etcd TLS files are unusable.
  /// `writer`: this node's store, which the replica of the other nodes' state feeds;
  /// `key`: the cluster key that seals private keys in etcd.
  /// Until the first copy of the cluster's state is stored, this node owns nothing (its
  /// own records may be older than what the others did while it was away); on_change is
  /// called again when it is.
  static result<std::unique_ptr<cluster_node>> start(
      const config::settings::cluster_settings& settings, std::string node_name,
      protocol::sealing_key key, const storage::store& store, storage::group_writer& writer,
      std::function<void(const membership_view&)> on_change);
  /// Leaves the cluster (revokes the lease, so the others take over at once) and stops
  /// the thread.
  ~cluster_node();
  cluster_node(const cluster_node&) = delete;
  cluster_node& operator=(const cluster_node&) = delete;

  const std::string& node_name() const { return node_; }
  /// The latest view (any thread).
  membership_view view() const;
  /// Whether this node is active and owns `domain` in `view` (any thread).
  bool owns(const membership_view& view, std::string_view domain) const;
  /// Publishes what this node stored for its domains (any thread; sent in the background,
  /// fenced: see state_publisher).
  void publish(storage::write_batch batch);

 private:
  cluster_node() = default;
  /// The membership's news (on the node's thread): kept, counted, passed on.
  void on_view(const membership_view& v);
  struct impl;
  std::unique_ptr<impl> impl_;
  std::string node_;
  mutable std::mutex mutex_;
  membership_view view_;
  std::atomic<bool> synced_{false};
  std::function<void(const membership_view&)> on_change_;
};

/// The node name of a cluster member: node_name when set, else this host's name (lower
/// case). The error says to set node_name when the host name is not usable.
result<std::string> resolve_node_name(const config::settings::cluster_settings& settings);

}  // namespace certfleet::cluster
