#include "cluster/replica.hpp"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <functional>

#include "core/log.hpp"
#include "protocol/etcd/client.hpp"

namespace certfleet::cluster {

namespace asio = boost::asio;
namespace etcd = protocol::etcd;

// Every coroutine argument is a named object: GCC 12 destroys temporaries built inside
// a co_await expression twice.
struct replica::state {
  asio::any_io_executor executor;
  std::shared_ptr<etcd::client> etcd;
  replica_options options;
  std::shared_ptr<replica_sink> sink;
  bool stopped = false;

  asio::awaitable<void> pause(std::chrono::milliseconds d) {
    asio::steady_timer timer(executor, d);
    co_await timer.async_wait(asio::use_awaitable);
  }

  // Reads everything under the prefix at one revision, page by page. Returns the
  // revision, or 0 when etcd failed (the caller waits and tries again).
  static asio::awaitable<std::int64_t> copy(std::shared_ptr<state> self) {
    const std::string end = etcd::prefix_end(self->options.prefix);
    std::string from = self->options.prefix;
    std::int64_t at = 0;
    bool begun = false;
    while (!self->stopped) {
      etcd::range_request page{from, end, self->options.page_size, at, false};
      auto got = co_await self->etcd->range(std::move(page));
      if (self->stopped) co_return 0;
      if (!got) {
        log_warning("cluster: cannot read " + self->options.prefix +
                    " from etcd: " + got.err().detail);
        co_return 0;  // a compacted `at` included: the next copy starts afresh
      }
      if (!begun) {
        at = got->revision;
        self->sink->begin_copy();
        begun = true;
      }
      for (const auto& kv : got->kvs) self->sink->put(kv);
      if (!got->more || got->kvs.empty()) break;
      from = got->kvs.back().key + std::string(1, '\0');  // the next key after the last
    }
    if (self->stopped) co_return 0;
    self->sink->end_copy(at);
    self->sink->caught_up(at);
    co_return at;
  }

  static asio::awaitable<void> run(std::shared_ptr<state> self) {
    std::int64_t revision = self->options.revision;
    while (!self->stopped) {
      if (revision == 0) {
        revision = co_await copy(self);
        if (revision == 0) {
          if (self->stopped) co_return;
          co_await self->pause(std::chrono::milliseconds(500));
          continue;
        }
      }
      bool compacted = false;
      etcd::watch_request request{self->options.prefix, etcd::prefix_end(self->options.prefix),
                                  revision + 1};
      std::function<bool(etcd::watch_message&)> on_message = [&](etcd::watch_message& m) {
        if (self->stopped) return false;
        if (m.compact_revision != 0) {
          compacted = true;
          return false;
        }
        for (const auto& e : m.events) {
          if (e.deleted) {
            self->sink->erase(e.kv.key);
          } else {
            self->sink->put(e.kv);
          }
          revision = std::max(revision, e.kv.mod_revision);
        }
        // Only the events' own revisions count: a header's revision can run ahead of
        // events a catching-up watch has still to send.
        if (!m.events.empty()) self->sink->caught_up(revision);
        return true;
      };
      const auto idle =
          std::chrono::duration_cast<std::chrono::milliseconds>(self->options.idle_reopen);
      auto watched = co_await self->etcd->watch(std::move(request), std::move(on_message), idle);
      if (self->stopped) co_return;
      if (compacted) {
        log_info("cluster: etcd compacted the history of " + self->options.prefix +
                 " past this node's copy; reading it again");
        revision = 0;
        continue;
      }
      if (!watched && watched.err().kind != error_kind::timeout)
        co_await self->pause(std::chrono::milliseconds(500));
    }
  }
};

replica::replica(asio::any_io_executor executor, std::shared_ptr<etcd::client> etcd,
                 replica_options options, std::shared_ptr<replica_sink> sink)
    : state_(std::make_shared<state>()) {
  state_->executor = std::move(executor);
  state_->etcd = std::move(etcd);
  state_->options = std::move(options);
  state_->sink = std::move(sink);
}

replica::~replica() {
  auto s = state_;
  asio::post(s->executor, [s] { s->stopped = true; });
}

void replica::start() { asio::co_spawn(state_->executor, state::run(state_), asio::detached); }

}  // namespace certfleet::cluster
