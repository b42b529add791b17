// Save problems the daemon reports are shown as the domains' errors in status and warnings.
#include "tools/cli/save_problems.hpp"

#include <gtest/gtest.h>

#include "tools/cli/status_format.hpp"

namespace certfleet::cli {
namespace {

storage::domain_record stored(const std::string& name) {
  storage::domain_record r;
  r.name = name;
  r.phase = storage::domain_phase::finalizing;
  r.next_attempt = from_unix_us(1'800'000'000'000'000);
  return r;
}

TEST(save_problems, become_the_error_of_their_domain_and_add_missing_ones_in_order) {
  std::vector<storage::domain_record> domains{stored("a.example"), stored("c.example")};
  const std::string why = "could not save state: no space left on device in /var/lib/certfleet";
  mark_unsaved(domains, {{"c.example", why}, {"b.example", why}});
  ASSERT_EQ(domains.size(), 3u);
  EXPECT_EQ(domains[0].name, "a.example");
  EXPECT_EQ(domains[0].failure_count, 0u);
  EXPECT_EQ(domains[1].name, "b.example");
  EXPECT_EQ(domains[2].name, "c.example");
  for (int i : {1, 2}) {
    EXPECT_EQ(domains[i].failure_count, 1u);
    EXPECT_EQ(domains[i].last_error, why);
    EXPECT_EQ(domains[i].next_attempt, no_time) << "the stored deadline is not a retry time";
  }
  const std::string table = format_status_table(domains, true);
  EXPECT_NE(table.find("Registration failed: " + why), std::string::npos) << table;
  EXPECT_EQ(table.find("a.example"), std::string::npos) << "only failing domains";
}

TEST(save_problems, each_is_a_warning) {
  EXPECT_EQ(save_warnings({{"a.example", "could not save state: x"}}),
            std::vector<std::string>{"a.example: could not save state: x"});
  EXPECT_TRUE(save_warnings({}).empty());
}

}  // namespace
}  // namespace certfleet::cli
