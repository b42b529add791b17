// Where the CLI looks for the daemon's state: --state-dir, else certfleet.conf's state_dir
// (even when other lines of the file are broken), else the default.
#include "tools/cli/state_dir.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/support/temp_dir.hpp"

namespace certfleet::cli {
namespace {

class cli_state_dir : public ::testing::Test {
 protected:
  void write_conf(const std::string& text) { std::ofstream(dir.path() / "certfleet.conf") << text; }
  testing::temp_dir dir;
};

TEST_F(cli_state_dir, the_option_wins) {
  write_conf("state_dir /srv/from-conf\n");
  EXPECT_EQ(state_dir_of(dir.path(), "/srv/option"), "/srv/option");
}

TEST_F(cli_state_dir, comes_from_certfleet_conf) {
  write_conf("# the state\nstate_dir \"/srv/certfleet state\"  # quoted\n");
  EXPECT_EQ(state_dir_of(dir.path(), ""), "/srv/certfleet state");
}

TEST_F(cli_state_dir, a_missing_file_or_directory_gives_the_default) {
  EXPECT_EQ(state_dir_of(dir.path(), ""), "/var/lib/certfleet");
  EXPECT_EQ(state_dir_of(dir.path() / "nope", ""), "/var/lib/certfleet");
}

TEST_F(cli_state_dir, is_found_in_a_file_broken_elsewhere) {
  // So `certfleet reload` reaches this daemon, which then reports the errors itself.
  write_conf(
      "lets_encrypt_agre_to_terms_of_service yes\nstate_dir /srv/certfleet\n"
      "orders_in_flight many\n");
  EXPECT_EQ(state_dir_of(dir.path(), ""), "/srv/certfleet");
}

TEST_F(cli_state_dir, a_broken_state_dir_line_gives_the_default) {
  write_conf("state_dir relative/path\n");
  EXPECT_EQ(state_dir_of(dir.path(), ""), "/var/lib/certfleet");
  write_conf("state_directory /srv/other\n");  // another (unknown) directive, not state_dir
  EXPECT_EQ(state_dir_of(dir.path(), ""), "/var/lib/certfleet");
}

TEST_F(cli_state_dir, a_repeated_state_dir_keeps_the_first) {
  write_conf("state_dir /srv/first\nstate_dir /srv/second\n");
  EXPECT_EQ(state_dir_of(dir.path(), ""), "/srv/first");
}

}  // namespace
}  // namespace certfleet::cli
