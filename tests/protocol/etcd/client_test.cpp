// The etcd client against a real 3-member etcd cluster (Debian's etcd-server).
#include "protocol/etcd/client.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "tests/support/etcd_harness.hpp"
#include "tests/support/net_test_support.hpp"
#include "tests/support/pebble_harness.hpp"

namespace certfleet::protocol::etcd {
namespace {

using certfleet::testing::etcd_harness;
using certfleet::testing::run_command;
using certfleet::testing::net::io_thread;
using namespace std::chrono_literals;
namespace asio = boost::asio;

class EtcdClient : public ::testing::Test {
 protected:
  EtcdClient() : client_(io_.executor(), client_options{cluster_.endpoints()}) {}

  template <class T>
  T run(asio::awaitable<T> task) {
    return io_.run(std::move(task));
  }
  std::int64_t put(const std::string& key, const std::string& value, std::int64_t lease = 0) {
    auto revision = run(client_.put({key, value, lease}));
    if (!revision) throw std::runtime_error(revision.err().detail);
    return *revision;
  }
  range_result range(const std::string& prefix) {
    auto r = run(client_.range({prefix, prefix_end(prefix), 0, 0, false}));
    if (!r) throw std::runtime_error(r.err().detail);
    return std::move(*r);
  }

  etcd_harness cluster_;
  io_thread io_;
  client client_;
};

TEST_F(EtcdClient, PutsRangesAndPages) {
  const auto first = put("/t/a", "1");
  put("/t/b", "2");
  const auto last = put("/t/c", "3");
  EXPECT_LT(first, last);
  put("/u/outside", "x");

  const auto all = range("/t/");
  ASSERT_EQ(all.kvs.size(), 3u);
  EXPECT_EQ(all.kvs[0].key, "/t/a");
  EXPECT_EQ(all.kvs[2].value, "3");
  EXPECT_EQ(all.revision, last + 1);

  auto page = run(client_.range({"/t/", prefix_end("/t/"), 2, 0, false}));
  ASSERT_TRUE(page);
  EXPECT_EQ(page->kvs.size(), 2u);
  EXPECT_TRUE(page->more);
  EXPECT_EQ(page->count, 3);

  auto removed = run(client_.remove({"/t/", prefix_end("/t/")}));
  ASSERT_TRUE(removed);
  EXPECT_TRUE(range("/t/").kvs.empty());
}

TEST_F(EtcdClient, TransactionsRunOneBranch) {
  // Create-if-absent: the first wins, the second reads what the first wrote.
  const auto create_once = [&](const std::string& value) {
    txn_request t;
    t.compares.push_back({"/owner", compare::target::create_revision, compare::op::equal, 0, {}});
    t.success.push_back(put_request{"/owner", value, 0});
    t.failure.push_back(range_request{"/owner", "", 0, 0, false});
    return run(client_.txn(t));
  };
  auto first = create_once("node-a");
  ASSERT_TRUE(first) << first.err().detail;
  EXPECT_TRUE(first->succeeded);
  auto second = create_once("node-b");
  ASSERT_TRUE(second);
  EXPECT_FALSE(second->succeeded);
  ASSERT_EQ(second->ranges.size(), 1u);
  ASSERT_EQ(second->ranges[0].kvs.size(), 1u);
  EXPECT_EQ(second->ranges[0].kvs[0].value, "node-a");

  // A write conditioned on the revision it read fails once someone else wrote.
  const auto read_at = second->ranges[0].kvs[0].mod_revision;
  put("/owner", "node-c");
  txn_request stale;
  stale.compares.push_back(
      {"/owner", compare::target::mod_revision, compare::op::equal, read_at, {}});
  stale.success.push_back(put_request{"/owner", "node-b", 0});
  auto refused = run(client_.txn(stale));
  ASSERT_TRUE(refused);
  EXPECT_FALSE(refused->succeeded);
  EXPECT_EQ(range("/owner").kvs.at(0).value, "node-c");
}

TEST_F(EtcdClient, ALeaseKeepsItsKeysUntilItExpires) {
  auto lease = run(client_.grant(2));
  ASSERT_TRUE(lease) << lease.err().detail;
  put("/members/a", "alive", lease->id);
  auto refreshed = run(client_.keep_alive(lease->id));
  ASSERT_TRUE(refreshed);
  EXPECT_GT(*refreshed, 0);

  // Fencing: a write conditioned on the lease holding the member key.
  const auto fenced_put = [&] {
    txn_request t;
    t.compares.push_back({"/members/a", compare::target::lease, compare::op::equal, lease->id, {}});
    t.success.push_back(put_request{"/data", "from a", 0});
    return run(client_.txn(t));
  };
  auto while_alive = fenced_put();
  ASSERT_TRUE(while_alive);
  EXPECT_TRUE(while_alive->succeeded);

  // Without keep-alives the lease ends within its TTL (etcd may round it up a little).
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    std::this_thread::sleep_for(100ms);
    gone = range("/members/").kvs.empty();
  }
  ASSERT_TRUE(gone) << "the lease's key outlived it";
  auto late = run(client_.keep_alive(lease->id));
  ASSERT_TRUE(late);
  EXPECT_EQ(*late, 0);
  auto after = fenced_put();
  ASSERT_TRUE(after);
  EXPECT_FALSE(after->succeeded);
  EXPECT_TRUE(run(client_.revoke(lease->id)).ok() == false);  // already gone: not found
}

TEST_F(EtcdClient, WatchesSeePutsAndDeletesInOrder) {
  const auto start = put("/w/before", "0");
  std::mutex mutex;
  std::vector<watch_event> seen;
  std::atomic<bool> created = false;
  auto watching = io_.start(client_.watch(
      {"/w/", prefix_end("/w/"), 0},
      [&](watch_message& m) {
        if (m.created) created = true;
        std::lock_guard lock(mutex);
        for (auto& e : m.events) seen.push_back(e);
        return seen.size() < 3;
      },
      30s));
  for (int i = 0; i < 100 && !created; ++i) std::this_thread::sleep_for(20ms);
  ASSERT_TRUE(created);
  put("/w/x", "1");
  put("/w/x", "2");
  ASSERT_TRUE(run(client_.remove({"/w/x", ""})));
  auto ended = io_thread::wait(std::move(watching));
  ASSERT_TRUE(ended) << ended.err().detail;
  std::lock_guard lock(mutex);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].kv.value, "1");
  EXPECT_EQ(seen[1].kv.value, "2");
  EXPECT_TRUE(seen[2].deleted);
  EXPECT_EQ(seen[2].kv.key, "/w/x");
  EXPECT_GT(seen[0].kv.mod_revision, start);

  // From a past revision, a watch replays what happened since.
  std::vector<watch_event> replay;
  auto replayed = run(client_.watch(
      {"/w/", prefix_end("/w/"), start + 1},
      [&](watch_message& m) {
        for (auto& e : m.events) replay.push_back(e);
        return replay.size() < 3;
      },
      10s));
  ASSERT_TRUE(replayed);
  EXPECT_EQ(replay.size(), 3u);
}

TEST_F(EtcdClient, AWatchFromACompactedRevisionSaysWhereToReadAgain) {
  const auto first = put("/c/k", "1");
  const auto last = put("/c/k", "2");
  run_command("curl -sf -X POST " + cluster_.endpoint(1) +
              "/v3/kv/compaction -d '{\"revision\":\"" + std::to_string(last) + "\"}'");
  watch_message final_message;
  auto ended = run(client_.watch(
      {"/c/", prefix_end("/c/"), first},
      [&](watch_message& m) {
        final_message = m;
        return true;
      },
      10s));
  ASSERT_TRUE(ended) << ended.err().detail;
  EXPECT_TRUE(final_message.canceled);
  EXPECT_EQ(final_message.compact_revision, last);
}

TEST_F(EtcdClient, AnIdleWatchEndsAfterItsTimeout) {
  auto ended = run(client_.watch(
      {"/quiet/", prefix_end("/quiet/"), 0}, [](watch_message&) { return true; }, 300ms));
  ASSERT_FALSE(ended);
  EXPECT_EQ(ended.err().kind, error_kind::timeout);
  EXPECT_TRUE(ended.err().retryable);
}

TEST_F(EtcdClient, CallsMoveOnWhenAMemberIsDownAndFailRetryablyWithoutQuorum) {
  put("/q/k", "1");
  const std::string first_member = client_.endpoint();
  cluster_.stop_member(1);  // the member the client talks to first
  EXPECT_EQ(put("/q/k", "2") > 0, true);
  EXPECT_NE(client_.endpoint(), first_member);

  cluster_.stop_member(2);  // one of three left: no quorum
  const auto before = std::chrono::steady_clock::now();
  auto refused = run(client_.put({"/q/k", "3", 0}));
  const auto took = std::chrono::steady_clock::now() - before;
  ASSERT_FALSE(refused);
  EXPECT_TRUE(refused.err().retryable) << refused.err().detail;
  EXPECT_LT(took, 10s) << "each member is tried once, within the call timeout";

  cluster_.start_member(1);
  cluster_.start_member(2);
  result<std::int64_t> back = error{error_kind::network, "not tried"};
  for (int i = 0; i < 50 && !back; ++i) {
    back = run(client_.put({"/q/k", "4", 0}));
    if (!back) std::this_thread::sleep_for(200ms);
  }
  ASSERT_TRUE(back) << back.err().detail;
  EXPECT_EQ(range("/q/").kvs.at(0).value, "4");
}

}  // namespace
}  // namespace certfleet::protocol::etcd
