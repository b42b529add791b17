// What the admin listener answers, and the token file that guards it beyond loopback.
#include "admin/routes.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "admin/token_file.hpp"
#include "tests/support/temp_dir.hpp"

namespace certfleet::admin {
namespace {

admin_sources sources(std::string token = "") {
  admin_sources s;
  s.token = std::move(token);
  s.for_each_domain = [](const std::function<void(const storage::domain_record&)>&) {};
  s.orders = [] { return order_gauges{}; };
  s.now = [] { return from_unix_us(1'800'000'000'000'000); };
  return s;
}

protocol::plain_request get(std::string target, std::string authorization = "") {
  return {"GET", std::move(target), std::move(authorization)};
}

TEST(admin_routes, metrics_index_and_not_found) {
  const auto metrics = answer_admin(get("/metrics"), sources());
  EXPECT_EQ(metrics.status, 200u);
  EXPECT_EQ(metrics.content_type, metrics_content_type);
  EXPECT_NE(metrics.body.find("certfleet_domains{phase=\"valid\"} 0"), std::string::npos);
  EXPECT_EQ(answer_admin(get("/metrics?x=1"), sources()).status, 200u);
  EXPECT_EQ(answer_admin(get("/"), sources()).status, 200u);
  const auto missing = answer_admin(get("/etc/passwd"), sources());
  EXPECT_EQ(missing.status, 404u);
  EXPECT_EQ(missing.body.find("passwd"), std::string::npos) << "the request is not echoed";
}

TEST(admin_routes, a_token_is_required_when_one_is_set) {
  const auto s = sources("s3cret-token");
  EXPECT_EQ(answer_admin(get("/metrics"), s).status, 401u);
  EXPECT_EQ(answer_admin(get("/metrics", "Bearer wrong-token!"), s).status, 401u);
  EXPECT_EQ(answer_admin(get("/metrics", "Bearer s3cret-token "), s).status, 401u);
  EXPECT_EQ(answer_admin(get("/", "s3cret-token"), s).status, 401u);
  EXPECT_EQ(answer_admin(get("/metrics", "Bearer s3cret-token"), s).status, 200u);
  EXPECT_EQ(answer_admin(get("/metrics"), s).body.find("s3cret"), std::string::npos);
}

TEST(admin_token_file, reads_a_private_file_and_refuses_others) {
  testing::temp_dir dir;
  const auto path = dir.path() / "token";
  auto missing = read_token_file(path);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.err().detail.find("missing"), std::string::npos);

  std::ofstream(path) << "  tok-123\n";
  std::filesystem::permissions(
      path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  auto token = read_token_file(path);
  ASSERT_TRUE(token) << token.err().detail;
  EXPECT_EQ(*token, "tok-123");

  std::filesystem::permissions(path, std::filesystem::perms::group_read,
                               std::filesystem::perm_options::add);
  auto shared = read_token_file(path);
  ASSERT_FALSE(shared);
  EXPECT_NE(shared.err().detail.find("chmod 600"), std::string::npos);

  std::ofstream(path, std::ios::trunc) << " \n";
  std::filesystem::permissions(path, std::filesystem::perms::owner_read);
  auto empty = read_token_file(path);
  ASSERT_FALSE(empty);
  EXPECT_NE(empty.err().detail.find("is empty"), std::string::npos);
}

}  // namespace
}  // namespace certfleet::admin
