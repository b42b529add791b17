// The typed store on real LMDB files: records, batches, the map size, errors and
// the permissions of the state directory. The schema version is in store_schema_test.
#include "storage/store.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "storage/record_codec.hpp"
#include "tests/storage/sample_records.hpp"
#include "tests/storage/store_test_support.hpp"
#include "tests/support/temp_dir.hpp"

namespace certfleet::storage {
namespace {

using certfleet::testing::temp_dir;
using testing::file_mode;
using testing::open_rw;
using testing::sample_account;
using testing::sample_cert;
using testing::sample_domain;

TEST(store, round_trip_every_record_type) {
  temp_dir tmp;
  auto dir = tmp.path() / "state";
  const std::string url = "https://acme.example/directory";
  {
    auto s = open_rw(dir);
    write_batch b;
    for (int i = 0; i < 10; ++i) b.put_domains.push_back(sample_domain(i, 3));
    b.put_certs.push_back({sample_cert("d1.example.com", 1), sample_cert("d1.example.com", 0)});
    b.put_certs.push_back({sample_cert("d2.example.com", 2), std::nullopt});
    b.put_account = sample_account(url);
    ASSERT_TRUE(s.commit(b).ok());
  }
  // Reopen: everything came from disk.
  auto s = open_rw(dir);
  for (int i = 0; i < 10; ++i) {
    auto d = s.get_domain(sample_domain(i).name);
    ASSERT_TRUE(d.ok());
    ASSERT_TRUE(d->has_value());
    EXPECT_EQ(**d, sample_domain(i, 3));
  }
  auto missing = s.get_domain("nope.example");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());

  auto c1 = s.get_certs("d1.example.com");
  ASSERT_TRUE(c1.ok() && c1->has_value());
  EXPECT_EQ((*c1)->current, sample_cert("d1.example.com", 1));
  EXPECT_EQ((*c1)->previous, sample_cert("d1.example.com", 0));
  auto c2 = s.get_certs("d2.example.com");
  ASSERT_TRUE(c2.ok() && c2->has_value());
  EXPECT_FALSE((*c2)->previous.has_value());

  auto acct = s.get_account(url);
  ASSERT_TRUE(acct.ok() && acct->has_value());
  EXPECT_EQ(**acct, sample_account(url));

  auto all = s.list_domains();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 10u);
  EXPECT_TRUE(
      std::is_sorted(all->begin(), all->end(), [](auto& a, auto& b) { return a.name < b.name; }));
  std::size_t visited = 0;
  ASSERT_TRUE(s.for_each_domain([&](const domain_record&) { ++visited; }).ok());
  EXPECT_EQ(visited, 10u);
}

TEST(store, erase_removes_domain_and_certs_and_wins_within_batch) {
  temp_dir tmp;
  auto s = open_rw(tmp.path() / "s");
  write_batch b;
  b.put_domains = {sample_domain(1), sample_domain(2)};
  b.put_certs = {{sample_cert(sample_domain(1).name, 1), std::nullopt}};
  ASSERT_TRUE(s.commit(b).ok());
  write_batch e;
  e.put_domains = {sample_domain(2, 9)};
  e.erase_domains = {sample_domain(1).name, sample_domain(2).name, "never-existed.example"};
  ASSERT_TRUE(s.commit(e).ok());
  EXPECT_FALSE(s.get_domain(sample_domain(1).name)->has_value());
  EXPECT_FALSE(s.get_certs(sample_domain(1).name)->has_value());
  EXPECT_FALSE(s.get_domain(sample_domain(2).name)->has_value());
}

TEST(store, pending_order_round_trip_and_erase) {
  temp_dir tmp;
  auto dir = tmp.path() / "s";
  const pending_order_record p{"a.example", "https://ca.example/order/1", "KEYPEM"};
  {
    auto s = open_rw(dir);
    write_batch b;
    b.put_domains = {sample_domain(1), sample_domain(2)};
    b.put_pending_orders = {p,
                            {sample_domain(1).name, "https://ca.example/order/2", "K"},
                            {sample_domain(2).name, "https://ca.example/order/3", "K"}};
    ASSERT_TRUE(s.commit(b).ok());
  }
  auto s = open_rw(dir);
  auto got = s.get_pending_order("a.example");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ(**got, p);
  write_batch e;
  e.erase_pending_orders = {"a.example"};
  e.erase_domains = {sample_domain(1).name};
  ASSERT_TRUE(s.commit(e).ok());
  EXPECT_FALSE(s.get_pending_order("a.example")->has_value());
  EXPECT_FALSE(s.get_pending_order(sample_domain(1).name)->has_value());
  EXPECT_TRUE(s.get_pending_order(sample_domain(2).name)->has_value());
}

TEST(store, budget_per_directory_survives_a_reopen) {
  temp_dir tmp;
  auto dir = tmp.path() / "s";
  const budget_record le{"https://le.example/directory", from_unix_us(5'000'000)};
  {
    auto s = open_rw(dir);
    EXPECT_FALSE(s.get_budget(le.directory_url)->has_value());
    write_batch b;
    b.put_budget = le;
    ASSERT_TRUE(s.commit(b).ok());
  }
  auto s = open_rw(dir);
  auto got = s.get_budget(le.directory_url);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ(**got, le);
  EXPECT_FALSE(s.get_budget("https://other.example/directory")->has_value());
}

TEST(store, later_batch_wins_in_one_commit) {
  temp_dir tmp;
  auto s = open_rw(tmp.path() / "s");
  std::vector<write_batch> batches(3);
  batches[0].put_domains = {sample_domain(1, 1)};
  batches[1].erase_domains = {sample_domain(1).name};
  batches[2].put_domains = {sample_domain(1, 3)};
  ASSERT_TRUE(s.commit(batches).ok());
  EXPECT_EQ(s.get_domain(sample_domain(1).name)->value().failure_count, 3u);
}

TEST(store, invalid_keys_are_rejected_without_partial_commit) {
  temp_dir tmp;
  auto s = open_rw(tmp.path() / "s");
  write_batch b;
  b.put_domains = {sample_domain(1), domain_record{}};
  auto r = s.commit(b);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().kind, error_kind::invalid_input);
  EXPECT_FALSE(s.get_domain(sample_domain(1).name)->has_value());
  b.put_domains = {sample_domain(1)};
  b.put_domains[0].name = std::string(600, 'x');
  EXPECT_FALSE(s.commit(b).ok());
}

TEST(store, map_starting_at_1_mib_grows_to_hold_100k_domains) {
  temp_dir tmp;
  open_options opts;
  opts.initial_map_size = std::size_t{1} << 20;
  auto s = open_rw(tmp.path() / "s", opts);
  EXPECT_EQ(s.env().map_size(), std::size_t{1} << 20);
  constexpr int n = 100'000;
  // Half in one big transaction (several doublings inside one commit), half in 50 commits.
  write_batch big;
  for (int i = 0; i < n / 2; ++i) big.put_domains.push_back(sample_domain(i, 1));
  ASSERT_TRUE(s.commit(big).ok());
  for (int k = 0; k < 50; ++k) {
    write_batch b;
    for (int i = n / 2 + k * 1000; i < n / 2 + (k + 1) * 1000; ++i)
      b.put_domains.push_back(sample_domain(i, 1));
    ASSERT_TRUE(s.commit(b).ok());
  }
  EXPECT_GT(s.env().map_size(), std::size_t{8} << 20);
  auto stats = s.stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->domains, static_cast<std::size_t>(n));
  std::vector<bool> seen(n);
  std::size_t count = 0;
  auto r = s.for_each_domain([&](const domain_record& d) {
    int i = std::stoi(d.name.substr(1));
    ASSERT_EQ(d, sample_domain(i, 1));
    seen[i] = true;
    ++count;
  });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(count, static_cast<std::size_t>(n));
  EXPECT_EQ(std::count(seen.begin(), seen.end(), true), n);
}

TEST(store, map_full_at_size_limit_is_a_retryable_error_and_nothing_changes) {
  temp_dir tmp;
  open_options opts;
  opts.initial_map_size = std::size_t{1} << 20;
  opts.max_map_size = std::size_t{2} << 20;
  auto s = open_rw(tmp.path() / "s", opts);
  write_batch b;
  for (int i = 0; i < 5; ++i) {
    auto d = sample_domain(i);
    d.last_error.assign(700'000, 'x');
    b.put_domains.push_back(d);
  }
  auto r = s.commit(b);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().kind, error_kind::storage);
  EXPECT_TRUE(r.err().retryable);
  EXPECT_NE(r.err().detail.find("size limit"), std::string::npos) << r.err().detail;
  EXPECT_EQ(s.stats()->domains, 0u);
  write_batch small;
  small.put_domains = {sample_domain(1)};
  EXPECT_TRUE(s.commit(small).ok());
}

TEST(store, io_errors_are_retryable_storage_errors) {
  for (int rc : {EIO, ENOSPC}) {
    auto e = lmdb_error(rc, "commit");
    EXPECT_EQ(e.kind, error_kind::storage);
    EXPECT_TRUE(e.retryable);
    EXPECT_NE(e.detail.find("commit"), std::string::npos);
  }
  EXPECT_NE(lmdb_error(ENOSPC, "commit").detail.find("free space"), std::string::npos);
  EXPECT_FALSE(lmdb_error(MDB_CORRUPTED, "read").retryable);
}

TEST(store, one_environment_per_directory_and_process) {
  temp_dir tmp;
  auto s = open_rw(tmp.path() / "s");
  auto again = store::open(tmp.path() / "s", open_mode::read_only);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.err().detail.find("already open in this process"), std::string::npos);
}

// ---- permissions --------------------------------------------------------------------

TEST(store_permissions, creates_private_directory_and_files) {
  temp_dir tmp;
  auto dir = tmp.path() / "a" / "state";
  ::umask(022);
  { auto s = open_rw(dir); }
  EXPECT_EQ(file_mode(dir), 0700u);
  EXPECT_EQ(file_mode(dir / "data.mdb"), 0600u);
  EXPECT_EQ(file_mode(dir / "lock.mdb"), 0600u);
}

TEST(store_permissions, group_or_world_accessible_directory_is_refused) {
  temp_dir tmp;
  auto dir = tmp.path() / "state";
  ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(dir.c_str(), 0755), 0);
  auto s = store::open(dir, open_mode::read_write);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.err().kind, error_kind::storage);
  EXPECT_NE(s.err().detail.find("has mode 0755"), std::string::npos) << s.err().detail;
  EXPECT_NE(s.err().detail.find("chmod 700 " + dir.string()), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir / "data.mdb"));
}

TEST(store_permissions, world_readable_data_file_is_refused) {
  temp_dir tmp;
  auto dir = tmp.path() / "state";
  { auto s = open_rw(dir); }
  ASSERT_EQ(::chmod((dir / "data.mdb").c_str(), 0644), 0);
  auto s = store::open(dir, open_mode::read_write);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.err().detail.find("chmod 600"), std::string::npos) << s.err().detail;
}

TEST(store_permissions, directory_of_another_user_is_refused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to chown";
  temp_dir tmp;
  auto dir = tmp.path() / "state";
  ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0);
  ASSERT_EQ(::chown(dir.c_str(), 65534, 65534), 0);
  auto s = store::open(dir, open_mode::read_write);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.err().detail.find("owned by uid 65534"), std::string::npos) << s.err().detail;
}

TEST(store_permissions, read_only_on_missing_state_says_what_to_do) {
  temp_dir tmp;
  auto s = store::open(tmp.path() / "nothing", open_mode::read_only);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.err().detail.find("does not exist"), std::string::npos) << s.err().detail;
  ASSERT_EQ(::mkdir((tmp.path() / "empty").c_str(), 0700), 0);
  auto e = store::open(tmp.path() / "empty", open_mode::read_only);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.err().detail.find("has certfleetd run"), std::string::npos) << e.err().detail;
}

TEST(store_permissions, read_only_refuses_writes) {
  temp_dir tmp;
  { auto s = open_rw(tmp.path() / "s"); }
  auto ro = store::open(tmp.path() / "s", open_mode::read_only);
  ASSERT_TRUE(ro.ok()) << ro.err().detail;
  write_batch b;
  b.put_domains = {sample_domain(1)};
  auto r = ro->commit(b);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.err().detail.find("read-only"), std::string::npos);
}

}  // namespace
}  // namespace certfleet::storage
