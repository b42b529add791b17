// A damaged state file is refused or worked around with a clear message, never a crash:
// a truncated data.mdb (SIGBUS before), garbage in its place, one undecodable record (its
// key named, its bytes never shown), and a lost data.mdb in a directory used before.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "storage/lmdb_env.hpp"
#include "storage/record_codec.hpp"
#include "storage/store.hpp"
#include "tests/storage/sample_records.hpp"
#include "tests/storage/store_test_support.hpp"
#include "tests/support/temp_dir.hpp"

namespace certfleet::storage {
namespace {

namespace fs = std::filesystem;
using certfleet::testing::temp_dir;
using testing::open_rw;
using testing::sample_cert;
using testing::sample_domain;

// A state with enough records to span many pages.
void write_fleet(const fs::path& dir) {
  auto s = open_rw(dir);
  write_batch b;
  for (std::uint64_t i = 0; i < 2000; ++i) {
    b.put_domains.push_back(sample_domain(i));
    b.put_certs.push_back({sample_cert(sample_domain(i).name, i), std::nullopt});
  }
  ASSERT_TRUE(s.commit(b).ok());
}

// Both the daemon's read-write open and the CLI's read-only one refuse the state, naming
// the file, what to do and `why`.
void expect_refused_as_damaged(const fs::path& dir, const fs::path& file, const std::string& why) {
  for (auto mode : {open_mode::read_only, open_mode::read_write}) {
    auto s = store::open(dir, mode);
    ASSERT_FALSE(s.ok()) << "mode " << static_cast<int>(mode);
    const auto& detail = s.err().detail;
    EXPECT_NE(detail.find(why), std::string::npos) << detail;
    EXPECT_NE(detail.find(file.string()), std::string::npos) << detail;
    EXPECT_NE(detail.find("restore it from a backup, or move it aside"), std::string::npos)
        << detail;
  }
}

// A state directory that held a fleet: `dir`, and its data file `file`.
class used_state : public ::testing::Test {
 protected:
  void SetUp() override { write_fleet(dir); }
  temp_dir tmp;
  const fs::path dir = tmp.path() / "state";
  const fs::path file = dir / "data.mdb";
};

TEST_F(used_state, a_truncated_file_is_refused_by_daemon_and_cli_not_crashed_on) {
  fs::resize_file(file, fs::file_size(file) / 2);
  expect_refused_as_damaged(dir, file, "truncated");
}

TEST_F(used_state, garbage_in_place_of_the_file_is_refused) {
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << std::string(3 * 4096, '\x5a');
  }
  expect_refused_as_damaged(dir, file, "is damaged");
}

TEST_F(used_state, an_empty_or_missing_file_in_a_used_directory_needs_new_state) {
  fs::resize_file(file, 0);
  auto refused = store::open(dir, open_mode::read_write);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.err().detail.find("is empty"), std::string::npos) << refused.err().detail;
  EXPECT_NE(refused.err().detail.find("--new-state"), std::string::npos) << refused.err().detail;

  fs::remove(file);
  refused = store::open(dir, open_mode::read_write);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.err().detail.find("is missing"), std::string::npos) << refused.err().detail;

  open_options fresh;
  fresh.allow_new_state = true;
  auto s = store::open(dir, open_mode::read_write, fresh);
  ASSERT_TRUE(s.ok()) << s.err().detail;
  EXPECT_TRUE(s->list_domains()->empty());
}

TEST(damaged_state, a_first_start_needs_nothing) {
  temp_dir tmp;
  auto s = store::open(tmp.path() / "state", open_mode::read_write);
  EXPECT_TRUE(s.ok()) << s.err().detail;
}

TEST(damaged_state, no_state_next_to_exported_certificates_needs_new_state) {
  temp_dir tmp;
  open_options opts;
  opts.exported_dir = tmp.path() / "export";
  fs::create_directories(opts.exported_dir);
  // An empty export_dir is a first start too.
  EXPECT_TRUE(store::open(tmp.path() / "first", open_mode::read_write, opts).ok());

  std::ofstream(opts.exported_dir / "a.example.com.pem") << "exported";
  auto refused = store::open(tmp.path() / "lost", open_mode::read_write, opts);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.err().detail.find("(export_dir) holds certificates"), std::string::npos)
      << refused.err().detail;
  EXPECT_NE(refused.err().detail.find("--new-state"), std::string::npos);
  opts.allow_new_state = true;
  EXPECT_TRUE(store::open(tmp.path() / "lost", open_mode::read_write, opts).ok());
}

TEST(damaged_state, an_undecodable_record_is_skipped_by_key_and_its_bytes_never_shown) {
  temp_dir tmp;
  const auto dir = tmp.path() / "state";
  { auto s = open_rw(dir); }
  // One damaged record under a plausible name, one under a key made of a key's bytes.
  const std::string secret = "-----BEGIN PRIVATE KEY-----\nSECRET\n-----END PRIVATE KEY-----\n";
  std::string bad = encode(sample_domain(1)) + secret;
  {
    auto env = lmdb_env::open(dir, open_mode::read_write);
    ASSERT_TRUE(env.ok()) << env.err().detail;
    auto dom = (*env)->open_dbi("domains", true);
    ASSERT_TRUE(dom.ok());
    ASSERT_TRUE((*env)
                    ->write([&](write_txn& txn) -> result<void> {
                      if (auto r = txn.put(*dom, sample_domain(1).name, bad); !r) return r;
                      if (auto r = txn.put(*dom, secret, bad); !r) return r;
                      return txn.put(*dom, sample_domain(2).name, encode(sample_domain(2)));
                    })
                    .ok());
  }
  auto s = open_rw(dir);
  ::testing::internal::CaptureStderr();
  auto all = s.list_domains();
  const std::string logged = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(all.ok()) << all.err().detail;
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].name, sample_domain(2).name);
  EXPECT_NE(logged.find("domain " + sample_domain(1).name + " is damaged"), std::string::npos)
      << logged;
  EXPECT_NE(logged.find("(a damaged key of"), std::string::npos) << logged;
  EXPECT_EQ(logged.find("PRIVATE KEY"), std::string::npos) << logged;
  EXPECT_EQ(logged.find("SECRET"), std::string::npos) << logged;
}

}  // namespace
}  // namespace certfleet::storage
