// Three certfleetd nodes sharing one fleet through a real 3-member etcd, against pebble:
// each domain is ordered by one node only, the CA's HTTP-01 request (and the self-check)
// reaches a node that did not order it and is answered all the same, and a node's domains
// move when it dies and come back when it returns. (Records and certificates are not
// shared yet: docs/cluster.md.)
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <map>

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

  // Whether `node` (index) holds a certificate for each domain it owns, and no other.
  bool holds_exactly_its_own(std::size_t node, const std::vector<std::string>& members) {
    for (const auto& r : nodes_[node]->records()) {
      const bool mine = owner(r.name, members) == node_names[node];
      if (r.has_cert() != mine) return false;
    }
    return true;
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

TEST_F(Cluster, EachDomainIsOrderedByItsOwnerOnlyAndMovesWhenANodeDies) {
  // The operator brings the nodes up, then enables Let's Encrypt: until records and
  // certificates are shared (docs/cluster.md), a domain ordered by the first node up and
  // then owned by a later one would be ordered twice.
  for (auto& n : nodes_) agree_to_terms(*n, false);
  for (auto& n : nodes_) n->start();
  for (auto& n : nodes_)
    ASSERT_TRUE(n->wait_until(
        [&] { return n->log().find("members: node-1, node-2, node-3") != std::string::npos; }, 30s))
        << n->log();
  for (auto& n : nodes_) {
    agree_to_terms(*n, true);
    n->sighup();
  }
  std::map<std::string, int> owned;
  for (const auto& d : names_) ++owned[owner(d, node_names)];
  ASSERT_EQ(owned.size(), 3u) << "45 names spread over all three nodes";

  // Every node runs exactly the domains it owns, and gets their certificates.
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    auto& n = *nodes_[i];
    ASSERT_TRUE(n.wait_until([&] { return n.running_domains() == owned[node_names[i]]; }, 60s))
        << n.log();
  }
  const auto issued_everywhere = [&] {
    std::size_t with_cert = 0;
    for (auto& n : nodes_)
      for (const auto& r : n->records()) with_cert += r.has_cert() ? 1 : 0;
    return with_cert == names_.size();
  };
  ASSERT_TRUE(nodes_[0]->wait_until(issued_everywhere, 240s)) << nodes_[0]->log();
  for (std::size_t i = 0; i < nodes_.size(); ++i)
    EXPECT_TRUE(holds_exactly_its_own(i, node_names)) << node_names[i];
  EXPECT_EQ(certificates_issued_by(pebble_), static_cast<int>(names_.size()))
      << "one certificate per domain: no node ordered another's";

  // node-3 dies without a word: within two lease TTLs (5 s each, the default) the others
  // run its domains.
  nodes_[2]->kill9();
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

  // It comes back and takes its share back; the others hand it over.
  nodes_[2]->start();
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    auto& n = *nodes_[i];
    ASSERT_TRUE(n.wait_until([&] { return n.running_domains() == owned[node_names[i]]; }, 30s))
        << n.log();
  }
  EXPECT_NE(nodes_[0]->log().find("handed"), std::string::npos);
  EXPECT_NE(nodes_[0]->log().find("took over"), std::string::npos);
}

}  // namespace
}  // namespace certfleet::testing
