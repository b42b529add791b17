// Hooks get their document on stdin whatever its size and whether they read it, and their
// failures name the directive.
#include "core/run_hook.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "tests/support/temp_dir.hpp"

namespace certfleet {
namespace {

using namespace std::chrono_literals;

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(run_hook, gives_the_input_on_stdin_and_the_arguments) {
  testing::temp_dir dir;
  const auto out = dir.path() / "in";
  auto r = run_hook({.directive = "warning_hook",
                     .command = "cat > " + out.string() + "; printf '%s' >> " + out.string(),
                     .args = {"x"},
                     .input = "{\"a\":1}\n",
                     .timeout = 10s});
  ASSERT_TRUE(r) << r.err().detail;
  EXPECT_EQ(slurp(out), "{\"a\":1}\nx");
}

TEST(run_hook, a_large_input_never_blocks_a_hook_that_does_not_read_it) {
  const auto start = std::chrono::steady_clock::now();
  auto r = run_hook({.directive = "warning_hook",
                     .command = "true",
                     .input = std::string(8 << 20, 'x'),
                     .timeout = 20s});
  ASSERT_TRUE(r) << r.err().detail;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 15s);
}

TEST(run_hook, failure_and_timeout_name_the_directive) {
  auto failed = run_hook({.directive = "warning_hook", .command = "exit 4", .timeout = 10s});
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.err().detail, "warning_hook \"exit 4\" failed (exit status 4)");

  auto slow = run_hook({.directive = "warning_hook", .command = "sleep 30", .timeout = 1s});
  ASSERT_FALSE(slow);
  EXPECT_EQ(slow.err().kind, error_kind::timeout);
  EXPECT_EQ(slow.err().detail,
            "warning_hook \"sleep 30\" ran longer than 1 s and was killed; make it faster or "
            "raise warning_hook_timeout");
}

}  // namespace
}  // namespace certfleet
