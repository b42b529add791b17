// A replica of an etcd prefix against a real 3-member etcd: the paged first copy, the
// watch, resuming from a stored revision, and a copy again after compaction.
#include "cluster/replica.hpp"

#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <thread>

#include "protocol/etcd/client.hpp"
#include "tests/support/etcd_harness.hpp"
#include "tests/support/net_test_support.hpp"
#include "tests/support/pebble_harness.hpp"

namespace certfleet::cluster {
namespace {

using certfleet::testing::etcd_harness;
using certfleet::testing::run_command;
using certfleet::testing::net::io_thread;
using namespace std::chrono_literals;
namespace etcd = protocol::etcd;

// A map standing in for the daemon's LMDB copy.
class map_sink : public replica_sink {
 public:
  void begin_copy() override {
    std::lock_guard lock(mutex_);
    ++copies_;
    data_.clear();  // what the copy does not put again is gone
  }
  void put(const etcd::key_value& kv) override {
    std::lock_guard lock(mutex_);
    data_[kv.key] = kv.value;
  }
  void erase(const std::string& key) override {
    std::lock_guard lock(mutex_);
    data_.erase(key);
  }
  void end_copy(std::int64_t) override {}
  void caught_up(std::int64_t revision) override {
    std::lock_guard lock(mutex_);
    revision_ = revision;
  }
  std::map<std::string, std::string> data() {
    std::lock_guard lock(mutex_);
    return data_;
  }
  std::int64_t revision() {
    std::lock_guard lock(mutex_);
    return revision_;
  }
  int copies() {
    std::lock_guard lock(mutex_);
    return copies_;
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::string> data_;
  std::int64_t revision_ = 0;
  int copies_ = 0;
};

class Replica : public ::testing::Test {
 protected:
  std::int64_t put_many(int from, int to) {
    std::int64_t revision = 0;
    for (int i = from; i < to; i += 100) {
      etcd::txn_request t;
      for (int j = i; j < std::min(to, i + 100); ++j)
        t.success.push_back(etcd::put_request{key(j), "v" + std::to_string(j), 0});
      auto r = io_.run(client_->txn(std::move(t)));
      if (!r) throw std::runtime_error(r.err().detail);
      revision = r->revision;
    }
    return revision;
  }
  static std::string key(int i) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "/certfleet/t/domains/d%05d", i);
    return buf;
  }
  std::map<std::string, std::string> etcd_copy() {
    auto r = io_.run(client_->range(
        {"/certfleet/t/domains/", etcd::prefix_end("/certfleet/t/domains/"), 0, 0, false}));
    if (!r) throw std::runtime_error(r.err().detail);
    std::map<std::string, std::string> out;
    for (const auto& kv : r->kvs) out[kv.key] = kv.value;
    return out;
  }
  std::unique_ptr<replica> follow(std::shared_ptr<map_sink> sink, std::int64_t from) {
    auto r = std::make_unique<replica>(io_.executor(), client_,
                                       replica_options{"/certfleet/t/domains/", from}, sink);
    r->start();
    return r;
  }
  // Waits (bounded) until the sink holds what etcd holds, up to etcd's revision.
  void wait_for_copy(map_sink& sink, std::int64_t revision) {
    for (int i = 0; i < 200; ++i) {
      if (sink.revision() >= revision && sink.data() == etcd_copy()) return;
      std::this_thread::sleep_for(50ms);
    }
    FAIL() << "the replica did not catch up: it has " << sink.data().size() << " keys at revision "
           << sink.revision() << ", etcd " << etcd_copy().size() << " at " << revision;
  }

  etcd_harness cluster_;
  io_thread io_;
  std::shared_ptr<etcd::client> client_ =
      std::make_shared<etcd::client>(io_.executor(), etcd::client_options{cluster_.endpoints()});
};

TEST_F(Replica, CopiesInPagesThenFollowsEachChange) {
  const auto written = put_many(0, 2500);  // three pages of 1000
  // Outside the prefix: never copied.
  ASSERT_TRUE(io_.run(client_->put({"/certfleet/t/other", "x", 0})));
  auto sink = std::make_shared<map_sink>();
  auto r = follow(sink, 0);
  wait_for_copy(*sink, written);
  EXPECT_EQ(sink->data().size(), 2500u);
  EXPECT_EQ(sink->copies(), 1);

  put_many(2500, 2510);
  ASSERT_TRUE(io_.run(client_->remove({key(7), ""})));
  auto last = io_.run(client_->put({key(8), "changed", 0}));
  ASSERT_TRUE(last);
  wait_for_copy(*sink, *last);
  EXPECT_EQ(sink->data().count(key(7)), 0u);
  EXPECT_EQ(sink->data().at(key(8)), "changed");
  EXPECT_EQ(sink->revision(), *last);
  EXPECT_EQ(sink->copies(), 1) << "changes come through the watch, not by copying again";
}

TEST_F(Replica, AfterARestartOnlyWhatChangedMeanwhileIsRead) {
  const auto written = put_many(0, 50);
  auto sink = std::make_shared<map_sink>();
  auto r = follow(sink, 0);
  wait_for_copy(*sink, written);
  r.reset();  // the node stops
  const auto stored = sink->revision();
  ASSERT_TRUE(io_.run(client_->remove({key(1), ""})));
  const auto changed = put_many(50, 60);
  r = follow(sink, stored);  // restarts from what its store says
  wait_for_copy(*sink, changed);
  EXPECT_EQ(sink->copies(), 1);
  EXPECT_EQ(sink->data().size(), 59u);
}

TEST_F(Replica, CopiesAgainWhenTheHistoryItNeedsWasCompacted) {
  const auto written = put_many(0, 50);
  auto sink = std::make_shared<map_sink>();
  auto r = follow(sink, 0);
  wait_for_copy(*sink, written);
  r.reset();
  const auto stored = sink->revision();
  ASSERT_TRUE(io_.run(client_->remove({key(3), ""})));
  const auto changed = put_many(100, 110);
  run_command("curl -sf -X POST " + cluster_.endpoint(2) +
              "/v3/kv/compaction -d '{\"revision\":\"" + std::to_string(changed) + "\"}'");
  r = follow(sink, stored);
  wait_for_copy(*sink, changed);
  EXPECT_EQ(sink->copies(), 2);
  EXPECT_EQ(sink->data().count(key(3)), 0u) << "a key deleted while away is gone after the copy";
  EXPECT_EQ(sink->data().size(), 59u);
}

}  // namespace
}  // namespace certfleet::cluster
