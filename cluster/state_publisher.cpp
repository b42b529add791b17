#include "cluster/state_publisher.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <optional>

#include "core/log.hpp"
#include "protocol/etcd/client.hpp"

namespace certfleet::cluster {

namespace asio = boost::asio;
namespace etcd = protocol::etcd;

// Every coroutine argument is a named object: GCC 12 destroys temporaries built inside
// a co_await expression twice.

namespace {

enum class write_kind { fenced_put, fenced_delete, newer_certificate };

struct pending_write {
  write_kind kind = write_kind::fenced_put;
  std::string domain;
  std::string value;  ///< empty for a delete
};

constexpr std::size_t writes_per_transaction = 64;  // etcd allows 128 operations

}  // namespace

struct state_publisher::state {
  asio::any_io_executor executor;
  std::shared_ptr<etcd::client> etcd;
  cluster_keys keys;
  protocol::sealing_key key;
  publisher_hooks hooks;
  std::map<std::string, pending_write> queue;  // by etcd key: the latest write wins
  bool draining = false;
  bool stopped = false;

  state(asio::any_io_executor ex, std::shared_ptr<etcd::client> c, cluster_keys k,
        protocol::sealing_key s, publisher_hooks h)
      : executor(std::move(ex)),
        etcd(std::move(c)),
        keys(std::move(k)),
        key(s),
        hooks(std::move(h)) {}

  void enqueue(std::string etcd_key, pending_write w) { queue[std::move(etcd_key)] = std::move(w); }

  asio::awaitable<void> pause(std::chrono::milliseconds d) {
    asio::steady_timer timer(executor, d);
    co_await timer.async_wait(asio::use_awaitable);
  }

  // A certificate goes in when etcd has none for the domain, or an older one.
  static asio::awaitable<result<bool>> put_newer(std::shared_ptr<state> self, std::string key,
                                                 std::string value) {
    etcd::txn_request create;
    create.compares.push_back(
        {key, etcd::compare::target::create_revision, etcd::compare::op::equal, 0, {}});
    create.success.push_back(etcd::put_request{key, value, 0});
    auto created = co_await self->etcd->txn(std::move(create));
    if (!created) co_return created.err();
    if (created->succeeded) co_return true;
    etcd::txn_request replace;
    replace.compares.push_back(
        {key, etcd::compare::target::value, etcd::compare::op::less, 0, value});
    replace.success.push_back(etcd::put_request{key, value, 0});
    auto replaced = co_await self->etcd->txn(std::move(replace));
    if (!replaced) co_return replaced.err();
    co_return true;  // not newer: etcd's is kept, which is what the rule wants
  }

  static asio::awaitable<void> drain(std::shared_ptr<state> self) {
    while (!self->stopped && !self->queue.empty()) {
      // One batch of fenced writes, or one certificate, from the front of the queue.
      std::vector<std::pair<std::string, pending_write>> batch;
      auto it = self->queue.begin();
      if (it->second.kind == write_kind::newer_certificate) {
        batch.emplace_back(it->first, std::move(it->second));
        self->queue.erase(it);
      } else {
        while (it != self->queue.end() && batch.size() < writes_per_transaction) {
          if (it->second.kind == write_kind::newer_certificate) {
            ++it;
            continue;
          }
          batch.emplace_back(it->first, std::move(it->second));
          it = self->queue.erase(it);
        }
      }
      result<bool> sent = error{error_kind::internal, "not sent"};
      if (batch.front().second.kind == write_kind::newer_certificate) {
        std::string key = batch.front().first;
        std::string value = batch.front().second.value;
        sent = co_await put_newer(self, std::move(key), std::move(value));
      } else {
        etcd::txn_request t;
        t.compares = self->hooks.fence();
        for (const auto& [key, w] : batch) {
          if (w.kind == write_kind::fenced_delete)
            t.success.push_back(etcd::delete_request{key, ""});
          else
            t.success.push_back(etcd::put_request{key, w.value, 0});
        }
        auto done = co_await self->etcd->txn(std::move(t));
        if (done) {
          sent = done->succeeded;
        } else {
          sent = done.err();
        }
      }
      if (self->stopped) co_return;
      if (sent && *sent) continue;
      // Not sent: etcd away (all of it waits), or the fence refused (what this node still
      // owns waits for the new fence; the rest is the new owner's to write).
      const bool refused = sent.ok();
      std::size_t dropped = 0;
      for (auto& [key, w] : batch) {
        if (self->queue.count(key)) continue;  // a later write of the key is queued
        if (refused && !self->hooks.owns(w.domain)) {
          ++dropped;
          continue;
        }
        self->queue.emplace(key, std::move(w));
      }
      if (dropped != 0)
        log_info("cluster: " + std::to_string(dropped) +
                 " writes for domains another node owns now were left to it");
      if (!refused)
        log_warning("cluster: cannot publish to etcd (" + sent.err().detail + "); " +
                    std::to_string(self->queue.size()) + " writes wait");
      co_await self->pause(std::chrono::milliseconds(refused ? 200 : 1000));
    }
    self->draining = false;
  }

  void start_draining(const std::shared_ptr<state>& self) {
    if (draining || queue.empty()) return;
    draining = true;
    asio::co_spawn(executor, drain(self), asio::detached);
  }
};

state_publisher::state_publisher(asio::any_io_executor executor, std::shared_ptr<etcd::client> etcd,
                                 cluster_keys keys, protocol::sealing_key key,
                                 publisher_hooks hooks)
    : state_(std::make_shared<state>(std::move(executor), std::move(etcd), std::move(keys), key,
                                     std::move(hooks))) {}

state_publisher::~state_publisher() { state_->stopped = true; }

std::size_t state_publisher::pending() const { return state_->queue.size(); }

void state_publisher::publish(const storage::write_batch& batch) {
  auto& s = *state_;
  for (const auto& d : batch.put_domains)
    s.enqueue(s.keys.domain(d.name), {write_kind::fenced_put, d.name, encode_domain(d)});
  for (const auto& pair : batch.put_certs) {
    const std::string& name = pair.current.domain;
    auto sealed = seal_certs(s.key, s.keys.cert(name), pair);
    if (!sealed) {
      log_error("cluster: cannot seal the certificate of " + name + ": " + sealed.err().detail);
      continue;
    }
    s.enqueue(s.keys.cert(name), {write_kind::newer_certificate, name, std::move(*sealed)});
  }
  for (const auto& o : batch.put_pending_orders) {
    auto sealed = seal_order(s.key, s.keys.order(o.domain), o);
    if (!sealed) {
      log_error("cluster: cannot seal the order of " + o.domain + ": " + sealed.err().detail);
      continue;
    }
    s.enqueue(s.keys.order(o.domain), {write_kind::fenced_put, o.domain, std::move(*sealed)});
  }
  for (const auto& name : batch.erase_pending_orders)
    s.enqueue(s.keys.order(name), {write_kind::fenced_delete, name, {}});
  for (const auto& name : batch.erase_domains) {
    s.enqueue(s.keys.domain(name), {write_kind::fenced_delete, name, {}});
    s.enqueue(s.keys.cert(name), {write_kind::fenced_delete, name, {}});
    s.enqueue(s.keys.order(name), {write_kind::fenced_delete, name, {}});
  }
  s.start_draining(state_);
}

}  // namespace certfleet::cluster
