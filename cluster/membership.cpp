#include "cluster/membership.hpp"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <map>

#include "cluster/ownership.hpp"
#include "core/log.hpp"
#include "protocol/etcd/client.hpp"

namespace certfleet::cluster {

namespace asio = boost::asio;
namespace etcd = protocol::etcd;
using clock = std::chrono::steady_clock;

namespace {
std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out.append(out.empty() ? "" : ", ").append(n);
  return out;
}
}  // namespace

struct membership::state : std::enable_shared_from_this<membership::state> {
  asio::any_io_executor executor;
  std::shared_ptr<etcd::client> etcd;
  membership_options options;
  std::function<void(const membership_view&)> on_change;
  bool stopped = false;

  membership_view view;
  bool registered = false;  // our member key holds view.lease
  clock::time_point last_keep_alive{};
  std::map<std::string, std::int64_t> live;  // member keys seen: node -> lease
  bool epoch_seen = false;
  bool epoch_write_in_flight = false;

  std::string nodes_prefix() const { return options.prefix + "membership/nodes/"; }
  std::string epoch_key() const { return options.prefix + "membership/epoch"; }

  asio::awaitable<void> pause(std::chrono::milliseconds d) {
    asio::steady_timer timer(executor, d);
    co_await timer.async_wait(asio::use_awaitable);
  }

  void publish(membership_view next) {
    const bool in_epoch =
        std::find(next.members.begin(), next.members.end(), options.node) != next.members.end();
    next.active = registered && next.etcd_reachable && in_epoch;
    if (next.active) {
      next.problem.clear();
    } else if (next.problem.empty()) {
      next.problem = !next.etcd_reachable ? "etcd cannot be reached; ordering is paused"
                     : !registered        ? "joining the cluster"
                                          : "waiting for the cluster's member list to include "
                                            "this node";
    }
    if (next == view) return;
    const bool was_active = view.active;
    const bool members_changed = view.members != next.members;
    view = std::move(next);
    // One line when the node starts or stops taking part, or the member list changes.
    if (view.active && (!was_active || members_changed))
      log_info("cluster: node " + options.node +
               " is active; members: " + join_names(view.members));
    else if (!view.active && was_active)
      log_info("cluster: node " + options.node + " is not active: " + view.problem);
    if (on_change) on_change(view);
  }

  // Puts the live member keys into the epoch when they differ (one writer wins).
  void reconcile() {
    membership_view next = view;
    publish(next);
    if (!registered || epoch_write_in_flight || !epoch_seen) return;
    std::vector<std::string> live_names;
    for (const auto& [node, lease] : live) live_names.push_back(node);
    if (live_names == view.members) return;
    epoch_write_in_flight = true;
    asio::co_spawn(executor, write_epoch(shared_from_this(), std::move(live_names)),
                   asio::detached);
  }

  static asio::awaitable<void> write_epoch(std::shared_ptr<state> self,
                                           std::vector<std::string> members) {
    etcd::txn_request t;
    t.compares.push_back({self->epoch_key(),
                          etcd::compare::target::mod_revision,
                          etcd::compare::op::equal,
                          self->view.epoch_revision,
                          {}});
    t.success.push_back(etcd::put_request{self->epoch_key(), encode_members(members), 0});
    auto written = co_await self->etcd->txn(std::move(t));
    self->epoch_write_in_flight = false;
    // Lost the race or failed: the watch brings the news either way.
    if (!written && !self->stopped)
      log_warning("cluster: cannot update the member list in etcd: " + written.err().detail);
  }

  void apply(const etcd::key_value& kv, bool deleted) {
    if (kv.key == epoch_key()) {
      membership_view next = view;
      epoch_seen = true;
      if (deleted) {
        next.members.clear();
        next.epoch_revision = 0;
      } else if (auto members = decode_members(kv.value)) {
        next.members = std::move(*members);
        next.epoch_revision = kv.mod_revision;
      } else {
        log_error("cluster: " + members.err().detail);
        next.members.clear();
        next.epoch_revision = kv.mod_revision;
      }
      publish(std::move(next));
    } else if (kv.key.rfind(nodes_prefix(), 0) == 0) {
      const std::string node = kv.key.substr(nodes_prefix().size());
      if (deleted) {
        live.erase(node);
      } else {
        live[node] = kv.lease;
      }
    }
  }

  static asio::awaitable<void> session(std::shared_ptr<state> self) {
    const auto ttl = std::chrono::duration_cast<std::chrono::milliseconds>(self->options.ttl);
    while (!self->stopped) {
      auto lease = co_await self->etcd->grant(self->options.ttl.count());
      if (self->stopped) co_return;
      if (!lease) {
        membership_view next = self->view;
        next.etcd_reachable = false;
        next.problem = "etcd cannot be reached (" + lease.err().detail + "); ordering is paused";
        self->publish(std::move(next));
        co_await self->pause(std::chrono::milliseconds(500));
        continue;
      }
      // Our key, unless a live node already uses the name (our own previous run, until
      // its lease ends, or a second node configured with the same node_name).
      const std::string key = self->nodes_prefix() + self->options.node;
      etcd::txn_request join;
      join.compares.push_back(
          {key, etcd::compare::target::create_revision, etcd::compare::op::equal, 0, {}});
      join.success.push_back(etcd::put_request{key, self->options.node, lease->id});
      auto joined = co_await self->etcd->txn(std::move(join));
      if (self->stopped) co_return;
      if (!joined || !joined->succeeded) {
        membership_view next = self->view;
        next.etcd_reachable = joined.ok();
        next.problem = joined ? "node name " + self->options.node +
                                    " is held by a live node; waiting for it to go (give each node "
                                    "its own node_name)"
                              : "etcd cannot be reached (" + joined.err().detail + ")";
        self->publish(std::move(next));
        (void)co_await self->etcd->revoke(lease->id);
        co_await self->pause(ttl / 2);
        continue;
      }
      self->registered = true;
      self->last_keep_alive = clock::now();
      membership_view next = self->view;
      next.lease = lease->id;
      next.etcd_reachable = true;
      next.problem.clear();
      self->publish(std::move(next));
      self->reconcile();

      // Keep the lease alive; give it up (locally) once a whole TTL passed unconfirmed:
      // by then etcd may have ended it and another node may own our domains.
      while (!self->stopped) {
        co_await self->pause(ttl / 3);
        if (self->stopped) co_return;
        auto left = co_await self->etcd->keep_alive(lease->id);
        if (self->stopped) co_return;
        membership_view now = self->view;
        if (left && *left > 0) {
          // Alive again after etcd was away (a new etcd leader extends every lease): the
          // lease still holds our key, and the fence protects whatever happened meanwhile.
          self->registered = true;
          self->last_keep_alive = clock::now();
          now.etcd_reachable = true;
          now.problem.clear();
          self->publish(std::move(now));
          continue;
        }
        const bool gone = left.ok();  // etcd says the lease ended
        const bool expired = clock::now() - self->last_keep_alive >= ttl;
        now.etcd_reachable = left.ok();
        if (gone || expired) {
          self->registered = false;
          now.problem = gone ? "this node's lease in etcd ended (it was paused or cut off); "
                               "rejoining"
                             : "etcd cannot be reached (" + left.err().detail +
                                   "); ordering is paused until it answers";
        } else {
          now.problem = "etcd cannot be reached (" + left.err().detail + ")";
        }
        self->publish(std::move(now));
        if (gone) break;  // a new lease and key
      }
    }
  }

  static asio::awaitable<void> watch_loop(std::shared_ptr<state> self) {
    const std::string prefix = self->options.prefix + "membership/";
    std::int64_t next_revision = 0;  // 0: list everything first
    while (!self->stopped) {
      if (next_revision == 0) {
        etcd::range_request everything{prefix, etcd::prefix_end(prefix), 0, 0, false};
        auto listed = co_await self->etcd->range(std::move(everything));
        if (self->stopped) co_return;
        if (!listed) {
          co_await self->pause(std::chrono::milliseconds(500));
          continue;
        }
        self->live.clear();
        self->epoch_seen = true;  // absent counts as seen: the first node writes it
        membership_view next = self->view;
        next.members.clear();
        next.epoch_revision = 0;
        self->publish(std::move(next));
        for (const auto& kv : listed->kvs) self->apply(kv, false);
        next_revision = listed->revision + 1;
        self->reconcile();
      }
      // Named, not built inside co_await: GCC 12 destroys such temporaries twice.
      etcd::watch_request request{prefix, etcd::prefix_end(prefix), next_revision};
      std::function<bool(etcd::watch_message&)> on_message = [&](etcd::watch_message& m) {
        if (self->stopped) return false;
        if (m.compact_revision != 0) {
          next_revision = 0;  // history is gone: list again
          return false;
        }
        for (const auto& e : m.events) {
          self->apply(e.kv, e.deleted);
          next_revision = std::max(next_revision, e.kv.mod_revision + 1);
        }
        if (!m.events.empty()) self->reconcile();
        return true;
      };
      auto watched = co_await self->etcd->watch(std::move(request), std::move(on_message),
                                                std::chrono::seconds(30));
      if (self->stopped) co_return;
      if (!watched && watched.err().kind != error_kind::timeout)
        co_await self->pause(std::chrono::milliseconds(500));
    }
  }
};

membership::membership(asio::any_io_executor executor, std::shared_ptr<etcd::client> etcd,
                       membership_options options,
                       std::function<void(const membership_view&)> on_change)
    : state_(std::make_shared<state>()) {
  state_->executor = std::move(executor);
  state_->etcd = std::move(etcd);
  state_->options = std::move(options);
  state_->on_change = std::move(on_change);
  state_->view.problem = "joining the cluster";
}

membership::~membership() {
  // The coroutines hold the state; they end at their next step.
  auto s = state_;
  asio::post(s->executor, [s] {
    s->stopped = true;
    s->on_change = nullptr;
  });
}

void membership::start() {
  asio::co_spawn(state_->executor, state::session(state_), asio::detached);
  asio::co_spawn(state_->executor, state::watch_loop(state_), asio::detached);
}

asio::awaitable<void> membership::leave() {
  state_->stopped = true;
  if (state_->view.lease != 0) (void)co_await state_->etcd->revoke(state_->view.lease);
  membership_view gone = state_->view;
  gone.active = false;
  gone.lease = 0;
  gone.problem = "left the cluster";
  state_->view = gone;
}

const membership_view& membership::view() const { return state_->view; }

std::vector<etcd::compare> membership::fence() const {
  return {{member_key(state_->options.node),
           etcd::compare::target::lease,
           etcd::compare::op::equal,
           state_->view.lease,
           {}},
          {epoch_key(),
           etcd::compare::target::mod_revision,
           etcd::compare::op::equal,
           state_->view.epoch_revision,
           {}}};
}

std::string membership::member_key(const std::string& node) const {
  return state_->nodes_prefix() + node;
}
std::string membership::epoch_key() const { return state_->epoch_key(); }

}  // namespace certfleet::cluster
