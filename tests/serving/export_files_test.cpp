// Export files and the deploy hook, on a real file system and real processes.
#include "serving/export_files.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "tests/support/temp_dir.hpp"

namespace certfleet::serving {
namespace {

using namespace std::chrono_literals;

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

unsigned mode_of(const std::filesystem::path& p) {
  struct stat st {};
  ::stat(p.c_str(), &st);
  return st.st_mode & 0777;
}

TEST(export_files, domain_files_have_the_right_contents_and_modes) {
  testing::temp_dir dir;
  const pem_pair pair{"CHAIN\n", "KEY\n"};
  ASSERT_TRUE(export_domain(dir.path(), "a.example.com", pair));
  EXPECT_EQ(slurp(dir.path() / "a.example.com.crt"), "CHAIN\n");
  EXPECT_EQ(slurp(dir.path() / "a.example.com.key"), "KEY\n");
  EXPECT_EQ(slurp(dir.path() / "a.example.com.pem"), "CHAIN\nKEY\n");
  EXPECT_EQ(mode_of(dir.path() / "a.example.com.key"), 0600u);
  EXPECT_EQ(mode_of(dir.path() / "a.example.com.pem"), 0600u);
  EXPECT_EQ(mode_of(dir.path() / "a.example.com.crt"), 0644u);

  // Replaced atomically: no temp file left, new contents, key mode kept even if loosened.
  ::chmod((dir.path() / "a.example.com.key").c_str(), 0644);
  ASSERT_TRUE(export_domain(dir.path(), "a.example.com", {"CHAIN2\n", "KEY2\n"}));
  EXPECT_EQ(slurp(dir.path() / "a.example.com.pem"), "CHAIN2\nKEY2\n");
  EXPECT_EQ(mode_of(dir.path() / "a.example.com.key"), 0600u);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "a.example.com.pem.tmp"));
}

TEST(export_files, service_file) {
  testing::temp_dir dir;
  ASSERT_TRUE(export_service(dir.path(), service::smtp, {"C\n", "K\n"}));
  EXPECT_EQ(slurp(dir.path() / "services" / "smtp.pem"), "C\nK\n");
  EXPECT_EQ(mode_of(dir.path() / "services" / "smtp.pem"), 0600u);
}

TEST(export_files, unwritable_directory_is_a_clear_error) {
  auto r = export_domain("/proc/certfleet-no-such-dir", "a.example.com", {"C", "K"});
  ASSERT_FALSE(r);
  EXPECT_NE(r.err().detail.find("export_dir"), std::string::npos) << r.err().detail;
  
}

TEST(deploy_hook, gets_the_changed_names_as_arguments) {
  testing::temp_dir dir;
  const auto out = dir.path() / "args";
  auto r = run_deploy_hook("printf '%s\\n' > " + out.string(), {"a.example.com", "b.example.com"}, 10s);
  ASSERT_TRUE(r) << r.err().detail;
  EXPECT_EQ(slurp(out), "a.example.com\nb.example.com\n");
}

TEST(deploy_hook, failure_is_reported) {
  auto r = run_deploy_hook("exit 3", {"a.example.com"}, 10s);
  ASSERT_FALSE(r);
  EXPECT_NE(r.err().detail.find("exit status 3"), std::string::npos) << r.err().detail;
}

TEST(deploy_hook, killed_at_its_timeout) {
  const auto start = std::chrono::steady_clock::now();
  auto r = run_deploy_hook("sleep 30", {}, 1s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().kind, error_kind::timeout);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s) << "the hook was not killed";
}

}  // namespace
}  // namespace certfleet::serving
