#include "cluster/ownership.hpp"

#include <gtest/gtest.h>

#include <map>

namespace certfleet::cluster {
namespace {

std::vector<std::string> domains(int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back("d" + std::to_string(i) + ".mail.example");
  return out;
}

TEST(Ownership, WeightsAreFixedAcrossBuildsAndNodes) {
  // Every node must compute the same owner: the weight is a fixed function, pinned here.
  EXPECT_EQ(rendezvous_weight("node-a", "example.com"), rendezvous_weight("node-a", "example.com"));
  EXPECT_NE(rendezvous_weight("ab", "c"), rendezvous_weight("a", "bc"));
  EXPECT_EQ(rendezvous_weight("node-a", "example.com"), 8340949491282700979ull);
  const std::vector<std::string> members{"a", "b", "c"};
  EXPECT_EQ(owner_of("x.example", members), owner_of("x.example", {"c", "a", "b"}));
  EXPECT_EQ(owner_of("x.example", {}), "");
}

TEST(Ownership, DomainsSpreadEvenlyOverMembers) {
  const std::vector<std::string> members{"node-1", "node-2", "node-3"};
  std::map<std::string, int> owned;
  for (const auto& d : domains(30000)) ++owned[std::string(owner_of(d, members))];
  ASSERT_EQ(owned.size(), 3u);
  for (const auto& [member, count] : owned) {
    EXPECT_GT(count, 9400) << member;  // 10000 expected; 6 sigma is about 490
    EXPECT_LT(count, 10600) << member;
  }
}

TEST(Ownership, OnlyTheLeavingMembersDomainsMove) {
  const std::vector<std::string> three{"node-1", "node-2", "node-3"};
  const std::vector<std::string> two{"node-1", "node-3"};
  int moved = 0;
  std::map<std::string, int> taken_by;
  for (const auto& d : domains(30000)) {
    const std::string before(owner_of(d, three));
    const std::string after(owner_of(d, two));
    if (before != "node-2") {
      EXPECT_EQ(before, after) << d;
    } else {
      ++moved;
      ++taken_by[after];
    }
  }
  EXPECT_GT(moved, 9400);
  EXPECT_LT(moved, 10600);
  // The leaver's share goes to both survivors alike.
  EXPECT_GT(taken_by["node-1"], moved / 2 - 400);
  EXPECT_GT(taken_by["node-3"], moved / 2 - 400);
}

TEST(Ownership, AJoiningMemberTakesItsShareFromEveryone) {
  const std::vector<std::string> three{"node-1", "node-2", "node-3"};
  const std::vector<std::string> four{"node-1", "node-2", "node-3", "node-4"};
  int taken = 0;
  for (const auto& d : domains(40000)) {
    const std::string before(owner_of(d, three));
    const std::string after(owner_of(d, four));
    if (after == "node-4") {
      ++taken;
    } else {
      EXPECT_EQ(before, after) << d;  // nothing moves between the old members
    }
  }
  EXPECT_GT(taken, 9400);
  EXPECT_LT(taken, 10600);
}

TEST(Ownership, MemberListsRoundTripSortedAndRefuseDamage) {
  const std::string text = encode_members({"node-b", "node-a"});
  EXPECT_EQ(text, "node-a\nnode-b\n");
  auto back = decode_members(text);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, (std::vector<std::string>{"node-a", "node-b"}));
  EXPECT_TRUE(decode_members("")->empty());
  EXPECT_FALSE(decode_members("node-a\nnode-a\n"));
  EXPECT_FALSE(decode_members("node-a\n\n"));
  EXPECT_FALSE(decode_members("Bad Name\n"));
}

}  // namespace
}  // namespace certfleet::cluster
