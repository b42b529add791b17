#pragma once
// The local replica's sink: what other nodes published to etcd (domain records,
// certificates, orders in flight) goes into this node's LMDB through the store's single
// writer, so `certfleet status` and the HTTPS listener here see the whole fleet, and a
// domain this node takes over carries on from its owner's last state (its certificate,
// its order in flight) instead of ordering again. The first copy (at start) is stored
// whole, before this node runs any domain (its own records may be older than what the
// others did while it was away); after it, entries of domains this node owns are skipped:
// their running actors hold the newer state.

#include <functional>
#include <string>

#include "cluster/replica.hpp"
#include "cluster/state_codec.hpp"
#include "protocol/crypto/sealed.hpp"
#include "storage/group_writer.hpp"

namespace certfleet::cluster {

class store_sink final : public replica_sink {
 public:
  /// `first_copy_stored`: called once, on the writer thread, when the first copy is durable.
  /// A certificate from etcd replaces the stored one only when it expires later: one this
  /// node issued just before it stopped, and never published, is kept.
  store_sink(const storage::store& store, storage::group_writer& writer, cluster_keys keys,
             protocol::sealing_key key, std::function<bool(const std::string& domain)> owns,
             std::function<void()> first_copy_stored);

  void begin_copy() override {}
  void put(const protocol::etcd::key_value& kv) override;
  void erase(const std::string& key) override;
  void end_copy(std::int64_t revision) override;
  /// Submits what was gathered since the last call as one write.
  void caught_up(std::int64_t revision) override;

 private:
  // The domain an entry under `folder` ("domains/") is about, or "" for another key.
  std::string domain_of(const std::string& key, const std::string& folder) const;

  const storage::store& store_;
  storage::group_writer& writer_;
  cluster_keys keys_;
  protocol::sealing_key key_;
  /// Whether the sink leaves `domain` to its running actor (never before the first copy).
  bool skipped(const std::string& domain) const { return copied_ && owns_(domain); }

  std::function<bool(const std::string&)> owns_;
  std::function<void()> first_copy_stored_;
  bool copied_ = false;
  storage::write_batch batch_;
};

}  // namespace certfleet::cluster
