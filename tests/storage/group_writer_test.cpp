#include "storage/group_writer.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <thread>

#include "tests/storage/sample_records.hpp"
#include "tests/support/temp_dir.hpp"

namespace certfleet::storage {
namespace {

using certfleet::testing::temp_dir;
using testing::sample_domain;

write_batch put(std::uint64_t i, std::uint32_t tag) {
  write_batch b;
  b.put_domains = {sample_domain(i, tag)};
  return b;
}

struct fixture : ::testing::Test {
  temp_dir tmp;
  std::optional<store> s;
  void SetUp() override { open({}); }
  void open(open_options opts) {
    s.reset();
    auto r = store::open(tmp.path() / "s", open_mode::read_write, opts);
    ASSERT_TRUE(r.ok()) << r.err().detail;
    s.emplace(std::move(r).value());
  }
};

using group_writer_test = fixture;

TEST_F(group_writer_test, every_change_is_durable_when_acknowledged_in_order) {
  group_writer w(*s);
  std::vector<std::uint64_t> acked;  // only touched on the writer thread
  std::atomic<int> failures{0};
  for (std::uint64_t i = 0; i < 5000; ++i)
    w.submit(put(i, 1), [&, i](result<void> r) {
      if (!r) ++failures;
      acked.push_back(i);
    });
  w.flush();
  EXPECT_EQ(failures, 0);
  ASSERT_EQ(acked.size(), 5000u);
  EXPECT_TRUE(std::is_sorted(acked.begin(), acked.end()));
  EXPECT_EQ(s->stats()->domains, 5000u);
  auto st = w.stats();
  EXPECT_EQ(st.changes, 5000u);
  EXPECT_LT(st.groups, 5000u) << "changes were grouped";
}

TEST_F(group_writer_test, later_change_to_the_same_domain_wins_within_a_group) {
  group_writer_options opts;
  opts.max_group = 4;
  opts.gather_window = std::chrono::seconds(60);  // the group closes when 4 have arrived
  group_writer w(*s, opts);
  write_batch erase;
  erase.erase_domains = {sample_domain(2).name};
  w.submit(put(1, 1), {});
  w.submit(put(2, 1), {});
  w.submit(put(1, 2), {});
  w.submit(std::move(erase), {});
  w.flush();
  EXPECT_EQ(w.stats().groups, 1u);
  EXPECT_EQ(s->get_domain(sample_domain(1).name)->value().failure_count, 2u);
  EXPECT_FALSE(s->get_domain(sample_domain(2).name)->has_value());
}

TEST_F(group_writer_test, failed_commit_fails_every_change_of_the_group_and_writer_goes_on) {
  open_options o;
  o.initial_map_size = std::size_t{1} << 20;
  o.max_map_size = std::size_t{1} << 20;  // growth impossible: like a full disk
  open(o);
  group_writer_options opts;
  opts.max_group = 3;
  opts.gather_window = std::chrono::seconds(60);
  group_writer w(*s, opts);
  std::vector<result<void>> outcomes;
  for (int i = 0; i < 3; ++i) {
    auto b = put(i, 0);
    b.put_domains[0].last_error.assign(400'000, 'x');
    w.submit(std::move(b), [&](result<void> r) { outcomes.push_back(std::move(r)); });
  }
  w.flush();
  ASSERT_EQ(outcomes.size(), 3u);
  for (const auto& r : outcomes) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.err().kind, error_kind::storage);
    EXPECT_TRUE(r.err().retryable);
  }
  outcomes.clear();
  for (int i = 0; i < 3; ++i)
    w.submit(put(10 + i, 0), [&](result<void> r) { outcomes.push_back(std::move(r)); });
  w.flush();
  ASSERT_EQ(outcomes.size(), 3u);
  for (const auto& r : outcomes) EXPECT_TRUE(r.ok());
  EXPECT_EQ(w.stats().failed_groups, 1u);
  EXPECT_EQ(s->stats()->domains, 3u);
}

TEST_F(group_writer_test, invalid_change_is_answered_at_once_and_others_proceed) {
  group_writer w(*s);
  std::optional<result<void>> bad;
  write_batch b;
  b.put_domains = {domain_record{}};  // empty name
  w.submit(std::move(b), [&](result<void> r) { bad = std::move(r); });
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->err().kind, error_kind::invalid_input);
  bool ok = false;
  w.submit(put(1, 0), [&](result<void> r) { ok = r.ok(); });
  w.flush();
  EXPECT_TRUE(ok);
}

TEST_F(group_writer_test, destructor_drains_and_callbacks_may_submit) {
  std::atomic<int> done{0};
  {
    group_writer_options opts;
    opts.max_queued = 8;  // backpressure: submitters block, callbacks must not
    group_writer w(*s, opts);
    std::thread producer([&] {
      for (int i = 0; i < 200; ++i)
        w.submit(put(i, 0), [&, i](result<void> r) {
          if (r) ++done;
          if (i % 50 == 0)
            w.submit(put(1000 + i, 0), [&](result<void> r2) {
              if (r2) ++done;
            });
        });
    });
    producer.join();
  }
  EXPECT_EQ(done, 204);
  EXPECT_EQ(s->stats()->domains, 204u);
}

TEST_F(group_writer_test, concurrent_submitters_and_readers) {
  group_writer w(*s);
  std::atomic<bool> stop{false};
  std::atomic<int> acked{0};
  std::thread reader([&] {
    for (int k = 0; k < 1000 && !stop; ++k) {
      auto all = s->list_domains();
      ASSERT_TRUE(all.ok());
    }
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t)
    writers.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i)
        w.submit(put(t * 1000 + i, t), [&](result<void> r) {
          if (r) ++acked;
        });
    });
  for (auto& t : writers) t.join();
  w.flush();
  stop = true;
  reader.join();
  EXPECT_EQ(acked, 2000);
  EXPECT_EQ(s->stats()->domains, 2000u);
}

}  // namespace
}  // namespace certfleet::storage
