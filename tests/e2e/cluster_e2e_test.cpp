// Three certfleetd nodes sharing one fleet through a real 3-member etcd, against pebble:
// each domain is ordered by one node only; the CA's HTTP-01 request (and the self-check)
// reaches a node that did not order it and is answered all the same; a node killed midway
// leaves its domains to the others, which carry on from what it published (its orders in
// flight are ordered again: the account is not shared yet); it comes back
// and takes its share back without ordering again; every node's status shows the fleet.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <map>
#include <thread>

#include "actors/domain_fsm.hpp"
#include "cluster/ownership.hpp"
#include "config/registered_domain.hpp"
#include "tests/support/certfleetd_process.hpp"
#include "tests/support/etcd_harness.hpp"
#include "tests/support/pebble_harness.hpp"

namespace certfleet::testing {
namespace {

using namespace std::chrono_literals;

const std::vector<std::string> node_names{"node-1", "node-2", "node-3"};
const std::map<std::string, std::string> address_of{
    {"node-1", "127.0.0.2"}, {"node-2", "127.0.0.3"}, {"node-3", "127.0.0.4"}};

std::vector<std::string> domains(int n) {
  std::vector<std::string> out;
  // Each its own registered domain: ownership goes by registered domain.
  for (int i = 0; i < n; ++i) out.push_back("www.c" + std::to_string(i) + ".test");
  return out;
}

std::string owner(const std::string& domain, const std::vector<std::string>& members) {
  return std::string(cluster::owner_of(config::registered_domain(domain), members));
}

int certificates_issued_by(const pebble_harness& pebble) {
  std::ifstream in(pebble.workdir() / "pebble.log");
  const std::string log(std::istreambuf_iterator<char>(in), {});
  int n = 0;
  for (std::size_t at = 0; (at = log.find("Issued certificate serial", at)) != std::string::npos;
       ++at)
    ++n;
  return n;
}

class Cluster : public ::testing::Test {
 protected:
  Cluster() {
    const auto key = key_dir_.path() / "cluster.key";
    std::ofstream(key) << std::string(64, 'c') << "\n";
    ::chmod(key.c_str(), 0600);
    std::string endpoints;
    for (const auto& e : etcd_.endpoints()) endpoints += " " + e;
    // Two orders in flight per node: pebble 2.4 wedges under more concurrent orders
    // (certfleetd_e2e_test says where it was seen), and three nodes order at once.
    for (const auto& node : node_names)
      nodes_.push_back(std::make_unique<certfleetd_process>(
          pebble_, names_,
          "cluster_etcd_endpoints" + endpoints + "\ncluster_name e2e\nnode_name " + node +
              "\ncluster_key_file " + key.string() + "\norders_in_flight 2\n",
          "", address_of.at(node)));
    // Each domain points at the node after its owner: never at the node that orders it.
    for (const auto& d : names_) {
      const auto at = std::find(node_names.begin(), node_names.end(), owner(d, node_names));
      const auto next = std::next(at) == node_names.end() ? node_names.begin() : std::next(at);
      pebble_.point_to(d, address_of.at(*next));
    }
  }

  etcd_harness etcd_;
  pebble_harness pebble_;
  temp_dir key_dir_;
  std::vector<std::string> names_ = domains(45);
  std::vector<std::unique_ptr<certfleetd_process>> nodes_;
};

// Sets lets_encrypt_agree_to_terms_of_service in a node's certfleet.conf.
void agree_to_terms(const certfleetd_process& node, bool yes) {
  const auto file = node.conf_dir() / "certfleet.conf";
  std::ifstream in(file);
  std::string text(std::istreambuf_iterator<char>(in), {});
  const std::string on = "lets_encrypt_agree_to_terms_of_service yes";
  const std::string off = "lets_encrypt_agree_to_terms_of_service no";
  const auto at = text.find(yes ? off : on);
  if (at != std::string::npos) text.replace(at, (yes ? off : on).size(), yes ? on : off);
  std::ofstream(file) << text;
}

// The domains a node holds no certificate for, with their phase and last error.
std::string missing(const certfleetd_process& node) {
  std::string out;
  for (const auto& r : node.records())
    if (!r.has_cert())
      out += r.name + " " + std::string(actors::phase_name(r.phase)) + " " + r.last_error + "\n";
  return out;
}

std::size_t with_certificate(const certfleetd_process& node) {
  std::size_t n = 0;
  for (const auto& r : node.records()) n += r.has_cert() ? 1 : 0;
  return n;
}

// The nodes come up first, then Let's Encrypt is enabled on all of them: one ordering
// start for the whole fleet, as an operator would do it. Returns how many domains each
// node owns.
std::map<std::string, int> start_cluster(std::vector<std::unique_ptr<certfleetd_process>>& nodes,
                                         const std::vector<std::string>& names) {
  for (auto& n : nodes) agree_to_terms(*n, false);
  for (auto& n : nodes) n->start();
  for (auto& n : nodes)
    EXPECT_TRUE(n->wait_until(
        [&] { return n->log().find("members: node-1, node-2, node-3") != std::string::npos; }, 30s))
        << n->log();
  std::map<std::string, int> owned;
  for (const auto& d : names) ++owned[owner(d, node_names)];
  EXPECT_EQ(owned.size(), 3u) << "the names spread over all three nodes";
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    auto& n = *nodes[i];
    EXPECT_TRUE(n.wait_until([&] { return n.running_domains() == owned[node_names[i]]; }, 30s))
        << n.log();
  }
  for (auto& n : nodes) {
    agree_to_terms(*n, true);
    n->sighup();
  }
  return owned;
}

TEST_F(Cluster, EachDomainIsIssuedOnceAndANodeThatDiesMidwayLeavesNothingUndone) {
  auto owned = start_cluster(nodes_, names_);
  ASSERT_FALSE(HasFailure());

  // Midway, node-3 dies without a word. The load balancer had just taken it out (the
  // domains that pointed at it point at node-1): a domain whose check met a dead node
  // would wait a minute for the seed's first retry, which is not what this test is about.
  ASSERT_TRUE(nodes_[0]->wait_until([&] { return certificates_issued_by(pebble_) >= 12; }, 120s));
  for (const auto& d : names_) {
    const auto at = std::find(node_names.begin(), node_names.end(), owner(d, node_names));
    if (*at == "node-2") pebble_.point_to(d, address_of.at("node-1"));
  }
  nodes_[2]->kill9();

  // Within two lease TTLs (5 s, the default) the survivors run its domains, carrying on
  // from what it published: every domain gets its certificate.
  const std::vector<std::string> survivors{"node-1", "node-2"};
  std::map<std::string, int> after;
  for (const auto& d : names_) ++after[owner(d, survivors)];
  for (std::size_t i = 0; i < 2; ++i) {
    auto& n = *nodes_[i];
    const auto start = std::chrono::steady_clock::now();
    ASSERT_TRUE(n.wait_until([&] { return n.running_domains() == after[node_names[i]]; }, 30s))
        << n.log();
    EXPECT_LE(std::chrono::steady_clock::now() - start, 2 * 5s + 2s) << node_names[i];
  }
  for (std::size_t i = 0; i < 2; ++i)
    ASSERT_TRUE(nodes_[i]->wait_until([&] { return with_certificate(*nodes_[i]) == 45; }, 180s))
        << node_names[i] << " lacks:\n"
        << missing(*nodes_[i]) << "node-1 lacks:\n"
        << missing(*nodes_[0]) << "node-2 lacks:\n"
        << missing(*nodes_[1]) << nodes_[i]->log();
  // Each node still has an ACME account of its own (docs/cluster.md), so an order node-3
  // had in flight cannot be resumed by another account: at most its orders_in_flight (2)
  // are ordered again. Everything else is issued once.
  const int after_kill = certificates_issued_by(pebble_);
  EXPECT_GE(after_kill, 45);
  EXPECT_LE(after_kill, 45 + 2) << "no more than node-3's orders in flight are ordered again";

  // node-3 returns: it catches up from etcd and takes its share back without ordering.
  nodes_[2]->start();
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    auto& n = *nodes_[i];
    ASSERT_TRUE(n.wait_until([&] { return n.running_domains() == owned[node_names[i]]; }, 30s))
        << n.log();
  }
  ASSERT_TRUE(nodes_[2]->wait_until([&] { return with_certificate(*nodes_[2]) == 45; }, 30s))
      << nodes_[2]->log();
  std::this_thread::sleep_for(2s);  // time enough for a wrong re-order to show
  EXPECT_EQ(certificates_issued_by(pebble_), after_kill) << "taken back without ordering again";
  EXPECT_NE(nodes_[0]->log().find("handed"), std::string::npos);

  // Every node's status shows the whole fleet the same way.
  for (auto& n : nodes_) {
    const auto table = n->cli("status");
    EXPECT_EQ(table.exit_code, 0) << table.out;
    std::size_t rows_with_yes = 0;
    for (std::size_t at = 0; (at = table.out.find(" yes ", at)) != std::string::npos; ++at)
      ++rows_with_yes;
    EXPECT_EQ(rows_with_yes, 45u) << table.out;
  }
}

// A node frozen longer than its lease (SIGSTOP: a long pause, a frozen VM) loses its
// domains to the others; when it wakes it must not act on what it believed before: its
// fenced writes are refused, it rejoins with a new lease, and nothing is ordered again.
TEST_F(Cluster, ANodeFrozenPastItsLeaseRejoinsWithoutActingOnStaleState) {
  auto owned = start_cluster(nodes_, names_);
  ASSERT_FALSE(HasFailure());
  ASSERT_TRUE(nodes_[0]->wait_until(
      [&] {
        std::size_t n = 0;
        for (auto& node : nodes_) n += with_certificate(*node) == names_.size() ? 1 : 0;
        return n == nodes_.size();
      },
      180s))
      << nodes_[0]->log();
  const int issued = certificates_issued_by(pebble_);
  ASSERT_EQ(issued, static_cast<int>(names_.size()));

  nodes_[0]->freeze(true);
  const std::vector<std::string> others{"node-2", "node-3"};
  std::map<std::string, int> without;
  for (const auto& d : names_) ++without[owner(d, others)];
  for (std::size_t i = 1; i < 3; ++i) {
    auto& n = *nodes_[i];
    ASSERT_TRUE(n.wait_until([&] { return n.running_domains() == without[node_names[i]]; }, 30s))
        << n.log();
  }
  nodes_[0]->freeze(false);
  // On waking it learns it was left out (the member list, or its ended lease) and stops.
  ASSERT_TRUE(nodes_[0]->wait_until(
      [&] { return nodes_[0]->log().find("node node-1 is not active") != std::string::npos; }, 30s))
      << nodes_[0]->log();
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    auto& n = *nodes_[i];
    ASSERT_TRUE(n.wait_until([&] { return n.running_domains() == owned[node_names[i]]; }, 30s))
        << n.log();
  }
  std::this_thread::sleep_for(2s);  // time enough for a wrong re-order to show
  EXPECT_EQ(certificates_issued_by(pebble_), issued) << "nothing ordered again";
  for (auto& n : nodes_) EXPECT_EQ(with_certificate(*n), names_.size());
}

}  // namespace
}  // namespace certfleet::testing
