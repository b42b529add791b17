#pragma once
// A local copy of every key under one etcd prefix, kept current by a watch: the first
// copy (and a copy after the watch's history was compacted away) is read in pages at
// one revision, so it is consistent; from then on each change arrives in etcd's order.
// A restart resumes from the revision the sink last stored, so nothing is read twice
// and nothing is missed.
//
// Runs as a coroutine on one Asio thread; the sink is called on that thread.

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "protocol/etcd/messages.hpp"

namespace certfleet::protocol::etcd {
class client;
}

namespace certfleet::cluster {

/// Where a replica's changes go (the daemon's LMDB, a map in a test).
class replica_sink {
 public:
  virtual ~replica_sink() = default;
  /// A full copy starts: every key not put again before end_copy is gone.
  virtual void begin_copy() = 0;
  virtual void put(const protocol::etcd::key_value& kv) = 0;
  virtual void erase(const std::string& key) = 0;
  /// The full copy is complete at `revision`.
  virtual void end_copy(std::int64_t revision) = 0;
  /// Everything up to `revision` has been given: store it with the data, and give it
  /// back as the start revision after a restart.
  virtual void caught_up(std::int64_t revision) = 0;
};

struct replica_options {
  std::string prefix;
  /// The revision the sink has everything up to (0: none; begin with a full copy).
  std::int64_t revision = 0;
  std::int64_t page_size = 1000;  ///< keys per read of a full copy
  /// A quiet watch is re-opened after this long (a cheap request), so a member that
  /// went away silently is noticed.
  std::chrono::seconds idle_reopen{30};
};

class replica {
 public:
  replica(boost::asio::any_io_executor executor, std::shared_ptr<protocol::etcd::client> etcd,
          replica_options options, std::shared_ptr<replica_sink> sink);
  /// Stops at the next step; the sink is not called after that step.
  ~replica();
  replica(const replica&) = delete;
  replica& operator=(const replica&) = delete;

  void start();

 private:
  struct state;
  std::shared_ptr<state> state_;
};

}  // namespace certfleet::cluster
