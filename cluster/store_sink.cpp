#include "cluster/store_sink.hpp"

#include "core/log.hpp"
#include "storage/record_codec.hpp"

namespace certfleet::cluster {

store_sink::store_sink(const storage::store& store, storage::group_writer& writer,
                       cluster_keys keys, protocol::sealing_key key,
                       std::function<bool(const std::string&)> owns,
                       std::function<void()> first_copy_stored)
    : store_(store),
      writer_(writer),
      keys_(std::move(keys)),
      key_(key),
      owns_(std::move(owns)),
      first_copy_stored_(std::move(first_copy_stored)) {}

void store_sink::end_copy(std::int64_t) {
  storage::write_batch batch = std::move(batch_);
  batch_ = {};
  if (copied_) {
    if (!batch.empty()) writer_.submit(std::move(batch), [](result<void>) {});
    return;
  }
  copied_ = true;
  // Submitted even when empty: its answer says everything before it is durable too.
  writer_.submit(std::move(batch), [done = first_copy_stored_](result<void> r) {
    if (!r) log_error("cluster: storing the copy of the cluster's state failed: " + r.err().detail);
    if (done) done();
  });
}

std::string store_sink::domain_of(const std::string& key, const std::string& folder) const {
  if (key.rfind(folder, 0) != 0) return {};
  return key.substr(folder.size());
}

void store_sink::put(const protocol::etcd::key_value& kv) {
  if (auto name = domain_of(kv.key, keys_.domains()); !name.empty()) {
    if (skipped(name)) return;
    auto record = storage::decode_domain(kv.value);
    if (!record || record->name != name) {
      log_warning("cluster: the record of " + name + " in etcd is not usable; left out");
      return;
    }
    batch_.put_domains.push_back(std::move(*record));
  } else if (auto name = domain_of(kv.key, keys_.certs()); !name.empty()) {
    if (skipped(name)) return;
    auto pair = open_certs(key_, kv.key, kv.value);
    if (!pair || pair->current.domain != name) {
      log_warning("cluster: the certificate of " + name + " in etcd is not usable (" +
                  (pair ? std::string("another domain's") : pair.err().detail) + "); left out");
      return;
    }
    if (auto stored = store_.get_certs(name);
        stored && *stored && (*stored)->current.not_after >= pair->current.not_after)
      return;
    batch_.put_certs.push_back(std::move(*pair));
  } else if (auto name = domain_of(kv.key, keys_.orders()); !name.empty()) {
    if (skipped(name)) return;
    auto order = open_order(key_, kv.key, kv.value);
    if (!order || order->domain != name) {
      log_warning("cluster: the order of " + name + " in etcd is not usable; left out");
      return;
    }
    batch_.put_pending_orders.push_back(std::move(*order));
  }
}

void store_sink::erase(const std::string& key) {
  if (auto name = domain_of(key, keys_.domains()); !name.empty() && !skipped(name)) {
    batch_.erase_domains.push_back(name);
  } else if (auto order = domain_of(key, keys_.orders()); !order.empty() && !skipped(order)) {
    batch_.erase_pending_orders.push_back(order);
  }
}

void store_sink::caught_up(std::int64_t) {
  if (batch_.empty()) return;
  storage::write_batch batch = std::move(batch_);
  batch_ = {};
  writer_.submit(std::move(batch), [](result<void> r) {
    if (!r) log_error("cluster: storing what other nodes published failed: " + r.err().detail);
  });
}

}  // namespace certfleet::cluster
