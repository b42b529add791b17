// The store's schema version: a fresh state gets the current one, a newer one is
// refused, schema 0 is migrated by the daemon only, and corrupt records are reported.
#include <gtest/gtest.h>

#include "storage/lmdb_env.hpp"
#include "storage/record_codec.hpp"
#include "storage/store.hpp"
#include "tests/storage/sample_records.hpp"
#include "tests/storage/store_test_support.hpp"
#include "tests/support/temp_dir.hpp"

namespace certfleet::storage {
namespace {

using certfleet::testing::temp_dir;
using testing::open_rw;
using testing::sample_domain;

// ---- schema -------------------------------------------------------------------------

// Writes meta/schema_version (and, given, domain values) with raw LMDB.
void write_raw(const std::filesystem::path& dir, std::uint32_t version,
               const std::vector<std::pair<std::string, std::string>>& domains = {}) {
  auto env = lmdb_env::open(dir, open_mode::read_write);
  ASSERT_TRUE(env.ok()) << env.err().detail;
  auto& e = **env;
  auto meta = e.open_dbi("meta", true);
  auto dom = e.open_dbi("domains", true);
  ASSERT_TRUE(e.open_dbi("certs", true).ok());
  ASSERT_TRUE(e.open_dbi("account", true).ok());
  ASSERT_TRUE(meta.ok() && dom.ok());
  auto r = e.write([&](write_txn& txn) -> result<void> {
    for (const auto& [k, v] : domains)
      if (auto p = txn.put(*dom, k, v); !p) return p;
    return txn.put(*meta, "schema_version", encode_schema_version(version));
  });
  ASSERT_TRUE(r.ok()) << r.err().detail;
}

TEST(store_schema, fresh_state_gets_current_schema) {
  temp_dir tmp;
  { auto s = open_rw(tmp.path() / "s"); }
  auto env = lmdb_env::open(tmp.path() / "s", open_mode::read_only);
  ASSERT_TRUE(env.ok());
  auto meta = (*env)->open_dbi("meta", false);
  ASSERT_TRUE(meta.ok());
  auto txn = (*env)->begin_read();
  ASSERT_TRUE(txn.ok());
  auto v = txn->find(*meta, "schema_version");
  ASSERT_TRUE(v.ok() && v->has_value());
  EXPECT_EQ(std::string(**v), encode_schema_version(store::current_schema));
}

TEST(store_schema, newer_schema_is_refused_with_clear_message) {
  temp_dir tmp;
  auto dir = tmp.path() / "s";
  { auto s = open_rw(dir); }
  write_raw(dir, store::current_schema + 1);
  const std::string expected = "state directory " + dir.string() +
                               " was written by a newer certfleet (schema 2); this version "
                               "reads schema 1";
  for (auto mode : {open_mode::read_write, open_mode::read_only}) {
    auto s = store::open(dir, mode);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.err().kind, error_kind::storage);
    EXPECT_NE(s.err().detail.find(expected), std::string::npos) << s.err().detail;
  }
}

std::vector<std::pair<std::string, std::string>> v0_domains(int n) {
  std::vector<std::pair<std::string, std::string>> out;
  for (int i = 0; i < n; ++i) {
    std::string v;
    encode_domain_v0(sample_domain(i, 5), v);
    out.emplace_back(sample_domain(i).name, std::move(v));
  }
  return out;
}

TEST(store_schema, schema_0_is_migrated_by_the_daemon_only) {
  temp_dir tmp;
  auto dir = tmp.path() / "s";
  write_raw(dir, 0, v0_domains(100));

  auto ro = store::open(dir, open_mode::read_only);
  ASSERT_FALSE(ro.ok());
  EXPECT_NE(ro.err().detail.find("older certfleet"), std::string::npos) << ro.err().detail;

  {
    auto s = open_rw(dir);
    auto all = s.list_domains();
    ASSERT_TRUE(all.ok()) << all.err().detail;
    ASSERT_EQ(all->size(), 100u);
    for (const auto& d : *all) {
      auto expected = sample_domain(std::stoi(d.name.substr(1)), 5);
      expected.order_url.clear();  // schema 0 had no order URL and no ARI window
      expected.ari_window_start = expected.ari_window_end = expected.ari_check_at = no_time;
      expected.ca_failures = 0;
      EXPECT_EQ(d, expected);
    }
    // Migrated records take the current fields.
    write_batch b;
    b.put_domains = {sample_domain(7, 6)};
    ASSERT_TRUE(s.commit(b).ok());
  }
  auto again = store::open(dir, open_mode::read_only);
  ASSERT_TRUE(again.ok()) << again.err().detail;
  EXPECT_EQ(again->get_domain(sample_domain(7).name)->value().order_url,
            sample_domain(7).order_url);
}

TEST(store_schema, failed_migration_changes_nothing) {
  temp_dir tmp;
  auto dir = tmp.path() / "s";
  auto domains = v0_domains(10);
  domains[4].second.pop_back();  // one truncated record
  write_raw(dir, 0, domains);
  auto s = store::open(dir, open_mode::read_write);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.err().detail.find("migrating schema 0 to 1"), std::string::npos) << s.err().detail;
  auto ro = store::open(dir, open_mode::read_only);
  ASSERT_FALSE(ro.ok());
  EXPECT_NE(ro.err().detail.find("schema 0"), std::string::npos) << ro.err().detail;
}

TEST(store_schema, corrupt_record_is_reported_not_crashed_on) {
  temp_dir tmp;
  auto dir = tmp.path() / "s";
  { auto s = open_rw(dir); }
  std::string bad = encode(sample_domain(1));
  bad.resize(bad.size() - 3);
  write_raw(dir, 1, {{sample_domain(1).name, bad}});
  auto s = open_rw(dir);
  auto d = s.get_domain(sample_domain(1).name);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.err().detail.find("corrupt"), std::string::npos);
  // Listing skips it (damaged_state_test checks what is logged).
  ::testing::internal::CaptureStderr();
  auto all = s.list_domains();
  const std::string logged = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(all.ok()) << all.err().detail;
  EXPECT_TRUE(all->empty());
  EXPECT_NE(logged.find(sample_domain(1).name), std::string::npos) << logged;
}

}  // namespace
}  // namespace certfleet::storage
