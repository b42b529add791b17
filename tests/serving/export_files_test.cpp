// Export files and the deploy hook, on a real file system and real processes.
#include "serving/export_files.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

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
  auto first = export_service(dir.path(), service::smtp, {"C\n", "K\n"});
  ASSERT_TRUE(first) << first.err().detail;
  EXPECT_TRUE(*first) << "a new file is a change";
  EXPECT_EQ(slurp(dir.path() / "services" / "smtp.pem"), "C\nK\n");
  EXPECT_EQ(mode_of(dir.path() / "services" / "smtp.pem"), 0600u);
  // At every start and reload: the same certificate is no change, another one is.
  auto same = export_service(dir.path(), service::smtp, {"C\n", "K\n"});
  ASSERT_TRUE(same);
  EXPECT_FALSE(*same);
  auto other = export_service(dir.path(), service::smtp, {"C2\n", "K2\n"});
  ASSERT_TRUE(other);
  EXPECT_TRUE(*other);
  EXPECT_EQ(slurp(dir.path() / "services" / "smtp.pem"), "C2\nK2\n");
}

TEST(export_files, unwritable_directory_is_a_clear_error) {
  auto r = export_domain("/proc/certfleet-no-such-dir", "a.example.com", {"C", "K"});
  ASSERT_FALSE(r);
  EXPECT_NE(r.err().detail.find("export_dir"), std::string::npos) << r.err().detail;
}

// A user who can write export_dir plants symlinks where the exporter once wrote its
// temporary files and at the final names: no file they point to may change.
TEST(export_files, planted_symlinks_are_neither_followed_nor_chmodded) {
  testing::temp_dir dir;
  const auto victim = dir.path() / "victim";
  std::ofstream(victim) << "precious\n";
  ::chmod(victim.c_str(), 0644);
  const auto out = dir.path() / "export";
  std::filesystem::create_directory(out);
  ::chmod(out.c_str(), 0755);
  for (const char* name : {"a.example.com.key.tmp", "a.example.com.pem.tmp",
                           "a.example.com.crt.tmp", "a.example.com.key", "a.example.com.pem"}) {
    std::filesystem::create_symlink(victim, out / name);
  }
  ASSERT_TRUE(export_domain(out, "a.example.com", {"CHAIN\n", "KEY\n"}));
  EXPECT_EQ(slurp(victim), "precious\n");
  EXPECT_EQ(mode_of(victim), 0644u);
  EXPECT_FALSE(std::filesystem::is_symlink(out / "a.example.com.key"));
  EXPECT_EQ(slurp(out / "a.example.com.key"), "KEY\n");
  EXPECT_EQ(mode_of(out / "a.example.com.key"), 0600u);
}

TEST(export_files, a_directory_others_can_write_is_refused_with_the_fix) {
  testing::temp_dir dir;
  const auto out = dir.path() / "export";
  std::filesystem::create_directory(out);
  for (unsigned mode : {0775u, 0757u, 01777u}) {
    ::chmod(out.c_str(), mode);
    auto r = export_domain(out, "a.example.com", {"C", "K"});
    ASSERT_FALSE(r) << std::oct << mode;
    EXPECT_NE(r.err().detail.find("chmod go-w " + out.string()), std::string::npos)
        << r.err().detail;
    EXPECT_FALSE(std::filesystem::exists(out / "a.example.com.key"));
  }
  ::chmod(out.c_str(), 0755);
  std::filesystem::create_directory(out / "services");
  ::chmod((out / "services").c_str(), 0777);
  auto r = export_service(out, service::smtp, {"C", "K"});
  ASSERT_FALSE(r);
  EXPECT_NE(r.err().detail.find("services"), std::string::npos) << r.err().detail;
}

TEST(export_files, a_directory_of_another_user_is_refused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give the directory to another user";
  testing::temp_dir dir;
  const auto out = dir.path() / "export";
  std::filesystem::create_directory(out);
  ::chmod(out.c_str(), 0755);
  ASSERT_EQ(::chown(out.c_str(), 65534, 65534), 0);
  auto r = export_domain(out, "a.example.com", {"C", "K"});
  ASSERT_FALSE(r);
  EXPECT_NE(r.err().detail.find("owned by uid 65534"), std::string::npos) << r.err().detail;
}

TEST(export_files, export_dir_as_a_symlink_is_refused) {
  testing::temp_dir dir;
  std::filesystem::create_directory(dir.path() / "real");
  std::filesystem::create_directory_symlink(dir.path() / "real", dir.path() / "link");
  auto r = export_domain(dir.path() / "link", "a.example.com", {"C", "K"});
  ASSERT_FALSE(r);
  EXPECT_NE(r.err().detail.find("symbolic link"), std::string::npos) << r.err().detail;
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "real" / "a.example.com.key"));
}

TEST(deploy_hook, gets_the_changed_names_as_arguments) {
  testing::temp_dir dir;
  const auto out = dir.path() / "args";
  auto r =
      run_deploy_hook("printf '%s\\n' > " + out.string(), {"a.example.com", "b.example.com"}, 10s);
  ASSERT_TRUE(r) << r.err().detail;
  EXPECT_EQ(slurp(out), "a.example.com\nb.example.com\n");
}

TEST(deploy_hook, inherits_only_stdin_stdout_and_stderr) {
  testing::temp_dir dir;
  // A descriptor the daemon holds without close-on-exec (as a listening socket or the
  // LMDB file could be): the hook's shell must not have it.
  const int held = ::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(held, 3);
  const auto out = dir.path() / "fds";
  const std::string fd = std::to_string(held);
  // The hook's arguments are appended to the command: `true` takes them.
  auto r =
      run_deploy_hook("if [ -e /proc/$$/fd/" + fd +
                          " ]; then echo leaked; else echo closed; fi > " + out.string() + "; true",
                      {"a.example.com"}, 10s);
  ::close(held);
  ASSERT_TRUE(r) << r.err().detail;
  EXPECT_EQ(slurp(out), "closed\n");
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
