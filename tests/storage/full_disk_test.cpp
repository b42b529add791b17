// The store on a file system that runs full for real (a small tmpfs): a failed commit
// says what failed, where, and what to do, and the same store commits again once space
// is back, without being reopened.
#include <gtest/gtest.h>

#include <string>

#include "storage/store.hpp"
#include "tests/storage/sample_records.hpp"
#include "tests/storage/store_test_support.hpp"
#include "tests/support/small_filesystem.hpp"
#include "tests/support/temp_dir.hpp"

namespace certfleet::storage {
namespace {

using certfleet::testing::small_filesystem;
using certfleet::testing::temp_dir;
using testing::open_rw;
using testing::sample_cert;
using testing::sample_domain;

// Enough distinct pages that the commit must write new ones to the file.
write_batch many_records(std::uint32_t tag) {
  write_batch b;
  for (std::uint64_t i = 0; i < 200; ++i) {
    b.put_domains.push_back(sample_domain(i, tag));
    b.put_certs.push_back({sample_cert(sample_domain(i).name, i + tag), std::nullopt});
  }
  return b;
}

TEST(full_disk, a_failed_commit_names_the_cause_and_the_directory_and_recovers) {
  temp_dir tmp;
  small_filesystem disk(tmp.path() / "disk", 4 << 20);
  if (!disk.available()) GTEST_SKIP() << disk.why_unavailable();
  const auto dir = disk.path() / "state";
  auto s = open_rw(dir);
  ASSERT_TRUE(s.commit(many_records(1)).ok());

  disk.fill();
  auto failed = s.commit(many_records(2));
  ASSERT_FALSE(failed.ok()) << "the file system is full";
  EXPECT_EQ(failed.err().detail.rfind("could not save state: no space left on device in " +
                                          dir.string() + "; free space on that file system",
                                      0),
            0u)
      << failed.err().detail;
  EXPECT_TRUE(failed.err().retryable);
  EXPECT_EQ(failed.err().detail.find("PRIVATE KEY"), std::string::npos);

  // What was stored before is intact.
  auto before = s.get_domain(sample_domain(7).name);
  ASSERT_TRUE(before.ok() && before->has_value());
  EXPECT_EQ((*before)->failure_count, 1u);

  disk.free_space();
  ASSERT_TRUE(s.commit(many_records(3)).ok()) << "space is back: the same store commits again";
  auto after = s.get_domain(sample_domain(7).name);
  ASSERT_TRUE(after.ok() && after->has_value());
  EXPECT_EQ((*after)->failure_count, 3u);
}

}  // namespace
}  // namespace certfleet::storage
