// What a node publishes and what the others store, against a real 3-member etcd: fenced
// writes refused once the writer is no longer the owner, certificates kept when newer,
// and the sink's copy into LMDB with keys opened again.
#include <gtest/gtest.h>

#include <thread>

#include "cluster/membership.hpp"
#include "cluster/replica.hpp"
#include "cluster/state_publisher.hpp"
#include "cluster/store_sink.hpp"
#include "protocol/etcd/client.hpp"
#include "storage/record_codec.hpp"
#include "tests/support/etcd_harness.hpp"
#include "tests/support/net_test_support.hpp"
#include "tests/support/temp_dir.hpp"

namespace certfleet::cluster {
namespace {

using certfleet::testing::etcd_harness;
using certfleet::testing::temp_dir;
using certfleet::testing::net::io_thread;
using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace etcd = protocol::etcd;

const protocol::sealing_key cluster_key =
    protocol::sealing_key::from_hex(std::string(64, '5')).value();

storage::cert_pair certificate(const std::string& domain, int days, const std::string& key_pem) {
  storage::cert_record c;
  c.domain = domain;
  c.chain_pem =
      "-----BEGIN CERTIFICATE-----\n" + std::to_string(days) + "\n-----END CERTIFICATE-----\n";
  c.key_pem = key_pem;
  c.not_after = timestamp(std::chrono::hours(24 * days));
  return {c, std::nullopt};
}

class StateSharing : public ::testing::Test {
 protected:
  template <class F>
  bool eventually(F done) {
    for (int i = 0; i < 200; ++i) {
      if (done()) return true;
      std::this_thread::sleep_for(25ms);
    }
    return false;
  }
  std::optional<std::string> etcd_value(const std::string& key) {
    auto r = io_.run(client_->range({key, "", 0, 0, false}));
    if (!r || r->kvs.empty()) return std::nullopt;
    return r->kvs.front().value;
  }

  etcd_harness cluster_;
  io_thread io_;
  std::shared_ptr<etcd::client> client_ =
      std::make_shared<etcd::client>(io_.executor(), etcd::client_options{cluster_.endpoints()});
  const cluster_keys keys_{"t"};
};

TEST_F(StateSharing, FencedWritesStopWhenOwnershipMovesAndCertificatesKeepTheNewest) {
  bool owned = true;
  std::vector<etcd::compare> fence;  // a fence that holds: the key exists on no lease yet
  fence.push_back(
      {"/certfleet/t/fence", etcd::compare::target::version, etcd::compare::op::equal, 0, {}});
  state_publisher publisher(
      io_.executor(), client_, keys_, cluster_key,
      publisher_hooks{[&] { return fence; }, [&](const std::string&) { return owned; }});
  storage::write_batch first;
  storage::domain_record record;
  record.name = "a.example";
  record.order_url = "https://ca.example/order/1";
  first.put_domains.push_back(record);
  first.put_certs.push_back(certificate("a.example", 90, "PRIVATE KEY A90"));
  asio::post(io_.io(), [&] { publisher.publish(first); });
  ASSERT_TRUE(eventually([&] { return etcd_value(keys_.cert("a.example")).has_value(); }));
  ASSERT_TRUE(eventually([&] { return etcd_value(keys_.domain("a.example")).has_value(); }));
  EXPECT_EQ(etcd_value(keys_.cert("a.example"))->find("PRIVATE KEY"), std::string::npos);

  // An older certificate never replaces a newer one.
  storage::write_batch older;
  older.put_certs.push_back(certificate("a.example", 30, "PRIVATE KEY A30"));
  asio::post(io_.io(), [&] { publisher.publish(older); });
  std::this_thread::sleep_for(300ms);
  auto kept =
      open_certs(cluster_key, keys_.cert("a.example"), *etcd_value(keys_.cert("a.example")));
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->current.key_pem, "PRIVATE KEY A90");

  // Another node takes over (the fence no longer holds): this node's writes are refused
  // and, as it no longer owns the domain, left to the new owner.
  ASSERT_TRUE(io_.run(client_->put({"/certfleet/t/fence", "moved", 0})));
  owned = false;
  record.order_url = "https://ca.example/order/stale";
  storage::write_batch stale;
  stale.put_domains.push_back(record);
  asio::post(io_.io(), [&] { publisher.publish(stale); });
  ASSERT_TRUE(eventually([&] {
    std::promise<std::size_t> p;
    asio::post(io_.io(), [&] { p.set_value(publisher.pending()); });
    return p.get_future().get() == 0;
  }));
  auto stored = storage::decode_domain(*etcd_value(keys_.domain("a.example")));
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->order_url, "https://ca.example/order/1") << "the stale write was refused";
}

TEST_F(StateSharing, TheSinkStoresOtherNodesStateWithKeysOpenedAndKeepsANewerLocalCertificate) {
  temp_dir dir;
  auto opened = storage::store::open(dir.path(), storage::open_mode::read_write);
  ASSERT_TRUE(opened) << opened.err().detail;
  storage::store store = std::move(opened.value());
  storage::group_writer writer(store);
  // Locally, b.example has a certificate newer than the one in etcd.
  storage::write_batch local;
  local.put_certs.push_back(certificate("b.example", 90, "LOCAL B90"));
  std::promise<void> written;
  writer.submit(local, [&](result<void>) { written.set_value(); });
  written.get_future().wait();

  for (const auto& [name, days] : {std::pair{"a.example", 60}, std::pair{"b.example", 30}}) {
    const auto pair = certificate(name, days, std::string("ETCD ") + name);
    ASSERT_TRUE(io_.run(
        client_->put({keys_.cert(name), *seal_certs(cluster_key, keys_.cert(name), pair), 0})));
    storage::domain_record r;
    r.name = name;
    ASSERT_TRUE(io_.run(client_->put({keys_.domain(name), encode_domain(r), 0})));
  }
  std::atomic<bool> copied = false;
  auto sink = std::make_shared<store_sink>(
      store, writer, keys_, cluster_key, [](const std::string&) { return false; },
      [&] { copied = true; });
  replica copy(io_.executor(), client_, replica_options{keys_.prefix()}, sink);
  copy.start();
  ASSERT_TRUE(eventually([&] { return copied.load(); }));
  auto a = store.get_certs("a.example");
  ASSERT_TRUE(a && *a);
  EXPECT_EQ((*a)->current.key_pem, "ETCD a.example") << "opened with the cluster key";
  auto b = store.get_certs("b.example");
  ASSERT_TRUE(b && *b);
  EXPECT_EQ((*b)->current.key_pem, "LOCAL B90") << "a newer local certificate is kept";
  auto record = store.get_domain("a.example");
  ASSERT_TRUE(record && *record);
}

}  // namespace
}  // namespace certfleet::cluster
