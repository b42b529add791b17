#include "cluster/cluster_node.hpp"

#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <future>
#include <optional>

#include "cluster/ownership.hpp"
#include "config/registered_domain.hpp"
#include "config/value_parsers.hpp"
#include "protocol/etcd/client.hpp"

namespace certfleet::cluster {

namespace asio = boost::asio;

struct cluster_node::impl {
  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work{io.get_executor()};
  std::shared_ptr<protocol::etcd::client> etcd;
  std::unique_ptr<membership> member;
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
  i.member = std::make_unique<membership>(
      i.io.get_executor(), i.etcd,
      membership_options{"/certfleet/" + settings.name + "/", std::move(node_name),
                         settings.lease_ttl},
      [self, on_change = std::move(on_change)](const membership_view& v) {
        {
          std::lock_guard lock(self->mutex_);
          self->view_ = v;
        }
        if (on_change) on_change(v);
      });
  i.member->start();
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

membership_view cluster_node::view() const {
  std::lock_guard lock(mutex_);
  return view_;
}

bool cluster_node::owns(const membership_view& view, std::string_view domain) const {
  if (!view.active) return false;
  return owner_of(config::registered_domain(domain), view.members) == node_;
}

}  // namespace certfleet::cluster
