// Membership, the agreed member list and fencing, against a real 3-member etcd.
#include "cluster/membership.hpp"

#include <gtest/gtest.h>

#include <boost/asio/post.hpp>
#include <mutex>
#include <thread>

#include "protocol/etcd/client.hpp"
#include "tests/support/etcd_harness.hpp"
#include "tests/support/net_test_support.hpp"

namespace certfleet::cluster {
namespace {

using certfleet::testing::etcd_harness;
using certfleet::testing::net::io_thread;
using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace etcd = protocol::etcd;

// 2 s, not cluster_lease_ttl's default 5 s: these tests wait for leases to end several
// times, and the rule is the same at any TTL (etcd's smallest lease, about 1.5 election
// timeouts, is below it). The three-node e2e test runs the default.
constexpr auto ttl = std::chrono::seconds(2);

class Membership : public ::testing::Test {
 protected:
  std::shared_ptr<etcd::client> new_client() {
    return std::make_shared<etcd::client>(io_.executor(),
                                          etcd::client_options{cluster_.endpoints()});
  }
  // A node: its own etcd client, as in separate processes.
  std::unique_ptr<membership> join(const std::string& node) {
    auto m = std::make_unique<membership>(
        io_.executor(), new_client(), membership_options{"/certfleet/test/", node, ttl}, nullptr);
    m->start();
    return m;
  }
  membership_view view_of(const membership& m) {
    std::promise<membership_view> p;
    asio::post(io_.io(), [&] { p.set_value(m.view()); });
    return io_thread::wait(p.get_future());
  }
  // Waits (bounded) until `done` holds for every node's view; returns how long it took.
  template <class Pred>
  std::chrono::milliseconds wait_until(const std::vector<membership*>& nodes, Pred done,
                                       std::chrono::milliseconds limit) {
    const auto start = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - start < limit) {
      bool all = true;
      for (auto* m : nodes) all = all && done(view_of(*m));
      if (all)
        return std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::steady_clock::now() - start);
      std::this_thread::sleep_for(50ms);
    }
    throw std::runtime_error("the views did not settle in time");
  }
  static auto members_are(std::vector<std::string> expected) {
    return [expected](const membership_view& v) { return v.active && v.members == expected; };
  }
  etcd::txn_result fenced_write(const membership& m, std::vector<etcd::compare> fence) {
    etcd::txn_request t;
    t.compares = std::move(fence);
    t.success.push_back(etcd::put_request{"/certfleet/test/domains/x", m.member_key("w"), 0});
    auto r = io_.run(client_->txn(std::move(t)));
    if (!r) throw std::runtime_error(r.err().detail);
    return *r;
  }
  std::vector<etcd::compare> fence_of(const membership& m) {
    std::promise<std::vector<etcd::compare>> p;
    asio::post(io_.io(), [&] { p.set_value(m.fence()); });
    return io_thread::wait(p.get_future());
  }

  etcd_harness cluster_;
  io_thread io_;
  std::shared_ptr<etcd::client> client_ = new_client();
};

TEST_F(Membership, NodesAgreeOnOneMemberList) {
  auto a = join("node-a");
  auto b = join("node-b");
  auto c = join("node-c");
  wait_until({a.get(), b.get(), c.get()}, members_are({"node-a", "node-b", "node-c"}), 10s);
  const auto va = view_of(*a), vb = view_of(*b), vc = view_of(*c);
  EXPECT_EQ(va.epoch_revision, vb.epoch_revision);
  EXPECT_EQ(vb.epoch_revision, vc.epoch_revision);
  EXPECT_TRUE(va.problem.empty());
  EXPECT_NE(va.lease, vb.lease);
  EXPECT_TRUE(fenced_write(*a, fence_of(*a)).succeeded);
}

TEST_F(Membership, ADeadNodeLeavesTheListWithinTwoTtlsAndItsWritesAreRefused) {
  auto a = join("node-a");
  auto b = join("node-b");
  auto c = join("node-c");
  wait_until({a.get(), b.get(), c.get()}, members_are({"node-a", "node-b", "node-c"}), 10s);
  const auto stale_fence_of_c = fence_of(*c);
  const auto old_fence_of_a = fence_of(*a);
  c.reset();  // as kill -9: no revoke, its lease just stops being kept alive
  const auto took = wait_until({a.get(), b.get()}, members_are({"node-a", "node-b"}), 10s);
  EXPECT_LE(took, 2 * ttl + 500ms);
  // c's writes are refused by etcd: its lease is gone.
  EXPECT_FALSE(fenced_write(*a, stale_fence_of_c).succeeded);
  // a's fence from before the change is refused too: a must see the new list first.
  EXPECT_FALSE(fenced_write(*a, old_fence_of_a).succeeded);
  EXPECT_TRUE(fenced_write(*a, fence_of(*a)).succeeded);
}

TEST_F(Membership, ALeavingNodeGoesAtOnceAndAJoiningOneIsAddedToTheList) {
  auto a = join("node-a");
  auto b = join("node-b");
  wait_until({a.get(), b.get()}, members_are({"node-a", "node-b"}), 10s);
  io_.run([&]() -> asio::awaitable<int> {
    co_await b->leave();
    co_return 0;
  }());
  const auto took = wait_until({a.get()}, members_are({"node-a"}), 10s);
  EXPECT_LT(took, ttl) << "a revoked lease ends the key at once";
  auto c = join("node-c");
  wait_until({a.get(), c.get()}, members_are({"node-a", "node-c"}), 10s);
}

TEST_F(Membership, ASecondNodeWithTheSameNameWaitsAndSaysWhy) {
  auto first = join("node-a");
  wait_until({first.get()}, members_are({"node-a"}), 10s);
  auto twin = join("node-a");
  std::this_thread::sleep_for(1s);
  const auto v = view_of(*twin);
  EXPECT_FALSE(v.active);
  EXPECT_NE(v.problem.find("node name node-a is held by a live node"), std::string::npos)
      << v.problem;
  EXPECT_TRUE(view_of(*first).active);
}

TEST_F(Membership, WithoutQuorumNodesStopAndComeBackByThemselves) {
  auto a = join("node-a");
  auto b = join("node-b");
  wait_until({a.get(), b.get()}, members_are({"node-a", "node-b"}), 10s);
  cluster_.stop_member(1);  // one of three down: nothing stops
  std::this_thread::sleep_for(ttl);
  EXPECT_TRUE(view_of(*a).active);
  EXPECT_TRUE(view_of(*b).active);
  cluster_.stop_member(2);  // quorum lost
  wait_until(
      {a.get(), b.get()},
      [](const membership_view& v) {
        return !v.active && v.problem.find("etcd cannot be reached") != std::string::npos;
      },
      4 * ttl);
  cluster_.start_member(1);
  cluster_.start_member(2);
  wait_until({a.get(), b.get()}, members_are({"node-a", "node-b"}), 20s);
}

}  // namespace
}  // namespace certfleet::cluster
