#include "cluster/cluster_node.hpp"

#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <future>
#include <optional>

#include "cluster/ownership.hpp"
#include "cluster/replica.hpp"
#include "cluster/state_publisher.hpp"
#include "cluster/store_sink.hpp"
#include "config/registered_domain.hpp"
#include "config/value_parsers.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "protocol/etcd/client.hpp"

namespace certfleet::cluster {

namespace asio = boost::asio;

struct cluster_node::impl {
  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work{io.get_executor()};
  std::shared_ptr<protocol::etcd::client> etcd;
  std::unique_ptr<membership> member;
  std::unique_ptr<state_publisher> publisher;
  std::unique_ptr<replica> copy;
  std::thread thread;
};

result<std::string> resolve_node_name(const config::settings::cluster_settings& settings) {
  if (!settings.node_name.empty()) return settings.node_name;
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0)
    return error{error_kind::config, "cannot read this host's name; set node_name"};
  std::string name(host);
  for (char& c : name) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  auto checked = config::parse_node_name(name);
  if (!checked)
    return error{error_kind::config,
                 "this host's name \"" + name + "\" cannot name a cluster node; set node_name"};
  return checked;
}

result<std::unique_ptr<cluster_node>> cluster_node::start(
    const config::settings::cluster_settings& settings, std::string node_name,
    protocol::sealing_key key, const storage::store& store, storage::group_writer& writer,
    std::function<void(const membership_view&)> on_change) {
  std::unique_ptr<cluster_node> node(new cluster_node());
  node->node_ = node_name;
  node->impl_ = std::make_unique<impl>();
  auto& i = *node->impl_;
  protocol::etcd::client_options options;
  options.endpoints = settings.etcd_endpoints;
  options.ca_file = settings.etcd_ca_file.string();
  options.cert_file = settings.etcd_cert_file.string();
  options.key_file = settings.etcd_key_file.string();
  try {
    i.etcd = std::make_shared<protocol::etcd::client>(i.io.get_executor(), std::move(options));
  } catch (const std::exception& e) {
    return error{error_kind::config,
                 std::string("cannot set up the etcd client: ") + e.what() +
                     "; check cluster_etcd_endpoints and the cluster_etcd_ files"};
  }
  cluster_node* self = node.get();
  i.member =
      std::make_unique<membership>(i.io.get_executor(), i.etcd,
                                   membership_options{"/certfleet/" + settings.name + "/",
                                                      std::move(node_name), settings.lease_ttl},
                                   [self](const membership_view& v) { self->on_view(v); });
  node->on_change_ = std::move(on_change);
  i.member->start();
  const cluster_keys keys(settings.name);
  const auto owns = [self](const std::string& domain) { return self->owns(self->view(), domain); };
  membership* member = i.member.get();
  i.publisher = std::make_unique<state_publisher>(
      i.io.get_executor(), i.etcd, keys, key,
      publisher_hooks{[member] { return member->fence(); }, owns});
  // The whole cluster prefix in one watch: the sink takes domains, certificates and orders.
  i.copy = std::make_unique<replica>(
      i.io.get_executor(), i.etcd, replica_options{keys.prefix()},
      std::make_shared<store_sink>(store, writer, keys, key, owns, [self] {
        self->synced_ = true;
        log_info(
            "cluster: this node has "
            "the cluster's state");
        if (self->on_change_) self->on_change_(self->view());
      }));
  i.copy->start();
  i.thread = std::thread([&io = i.io] { io.run(); });
  return node;
}

cluster_node::~cluster_node() {
  if (!impl_) return;
  auto& i = *impl_;
  // A clean stop gives the domains to the others now, not after the lease's TTL.
  auto left = asio::co_spawn(i.io, i.member->leave(), asio::use_future);
  left.wait_for(std::chrono::seconds(3));
  i.member.reset();
  i.work.reset();
  i.io.stop();
  if (i.thread.joinable()) i.thread.join();
}

void cluster_node::on_view(const membership_view& v) {
  {
    std::lock_guard lock(mutex_);
    view_ = v;
  }
  auto& m = metrics::global();
  m.cluster_active = v.active ? 1 : 0;
  m.cluster_members = v.members.size();
  m.cluster_etcd_up = v.etcd_reachable ? 1 : 0;
  if (on_change_) on_change_(v);
}

void cluster_node::publish(storage::write_batch batch) {
  auto& i = *impl_;
  asio::post(i.io, [&i, batch = std::move(batch)] {
    if (i.publisher) i.publisher->publish(batch);
  });
}

membership_view cluster_node::view() const {
  std::lock_guard lock(mutex_);
  return view_;
}

bool cluster_node::owns(const membership_view& view, std::string_view domain) const {
  if (!view.active || !synced_) return false;
  return owner_of(config::registered_domain(domain), view.members) == node_;
}

}  // namespace certfleet::cluster
