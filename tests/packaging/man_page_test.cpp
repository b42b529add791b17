// certfleetd(8) documents certfleet.conf: every directive the parser knows is in it, so a new
// directive cannot ship undocumented in the package.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "config/config_file.hpp"

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

TEST(man_pages, certfleetd_names_every_directive_of_certfleet_conf) {
  const std::string page = read_file(CERTFLEET_SOURCE_DIR "/packaging/certfleetd.8.in");
  ASSERT_FALSE(page.empty()) << "cannot read packaging/certfleetd.8.in";
  for (const auto name : certfleet::config::directive_names()) {
    EXPECT_NE(page.find(std::string(name)), std::string::npos)
        << name << " is not in packaging/certfleetd.8.in (CONFIGURATION)";
  }
}

TEST(man_pages, the_sample_configuration_parses) {
  const std::string path = CERTFLEET_SOURCE_DIR "/packaging/certfleet.conf";
  const auto parsed = certfleet::config::load_config_file(path);
  ASSERT_TRUE(parsed.value.has_value()) << "packaging/certfleet.conf has errors";
  EXPECT_TRUE(parsed.errors.empty());
  EXPECT_TRUE(parsed.warnings.empty());
  // It leaves Let's Encrypt off: a fresh install orders nothing until the two lines are set.
  EXPECT_FALSE(parsed.value->lets_encrypt_agree_to_terms_of_service);
  EXPECT_TRUE(parsed.value->lets_encrypt_registration_email.empty());
  // Every line of it, uncommented, is a valid configuration too.
  std::string uncommented;
  std::istringstream lines(read_file(path));
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind('#', 0) == 0 && line.size() > 1 && line[1] != ' ') line.erase(0, 1);
    uncommented += line + "\n";
  }
  const auto all = certfleet::config::parse_config_text(uncommented, "certfleet.conf");
  EXPECT_TRUE(all.errors.empty()) << certfleet::config::format_diagnostics(all.errors);
  ASSERT_TRUE(all.value.has_value());
  EXPECT_TRUE(all.value->lets_encrypt_agree_to_terms_of_service);
}
