// Storage across processes: a writer killed at random moments, a read-only reader in
// another process, and reader slots left by killed readers. The child processes run
// storage_test_helper (see storage_helper.cpp).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <map>
#include <random>

#include "storage/group_writer.hpp"
#include "tests/storage/sample_records.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/time_scale.hpp"

extern char** environ;

namespace certfleet::storage {
namespace {

using certfleet::testing::temp_dir;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

// A running storage_test_helper with its stdout on a pipe.
class child {
 public:
  explicit child(std::vector<std::string> args) {
    args.insert(args.begin(), CERTFLEET_STORAGE_HELPER);
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
    posix_spawn_file_actions_t actions;
    ::posix_spawn_file_actions_init(&actions);
    ::posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int rc = ::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    ::posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    out_ = fds[0];
    if (rc != 0) throw std::runtime_error("posix_spawn: " + std::string(std::strerror(rc)));
  }
  ~child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      wait();
    }
    ::close(out_);
  }

  // Appends what the child wrote until `until` (or EOF, or with first_only the first
  // chunk); returns false at EOF.
  bool read_until(steady::time_point until, std::string& into, bool first_only = false) {
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - steady::now());
      if (left.count() < 0) return true;
      pollfd p{out_, POLLIN, 0};
      int n = ::poll(&p, 1, static_cast<int>(left.count()));
      if (n == 0) return true;
      if (n < 0) continue;
      char buf[65536];
      ssize_t got = ::read(out_, buf, sizeof buf);
      if (got <= 0) return false;
      into.append(buf, static_cast<std::size_t>(got));
      if (first_only) return true;
    }
  }
  void kill9() { ::kill(pid_, SIGKILL); }
  // Waits for the child to exit; returns its exit code, or 128+signal.
  int wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  bool exited() {
    int status = 0;
    return ::waitpid(pid_, &status, WNOHANG) == pid_ ? (pid_ = -1, true) : false;
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
};

std::string read_all(child& c, std::chrono::milliseconds limit) {
  std::string out;
  auto until = steady::now() + limit;
  while (c.read_until(until, out) && steady::now() < until) {
  }
  return out;
}

TEST(storage_process, writer_killed_at_random_moments_loses_no_acknowledged_change) {
  temp_dir tmp;
  auto dir = tmp.path() / "s";
  std::mt19937 rng(4242);
  std::map<std::uint32_t, std::uint64_t> acked_max;  // key index -> highest acknowledged id
  std::uint64_t total_acked = 0;
  int rounds_with_acks = 0;
  const auto started = steady::now();
  for (int round = 0; round < 50; ++round) {
    const std::uint64_t base = static_cast<std::uint64_t>(round + 1) * 10'000'000;
    std::string acks;
    {
      child writer({"writer", dir.string(), std::to_string(base)});
      // Even rounds kill at a random moment from the start (open and recovery included);
      // odd ones from the first acknowledged commit, so the check below that enough
      // rounds committed holds however slow the start is on a loaded machine. Sanitized
      // writers start several times slower: the waits stretch by CERTFLEET_TEST_TIME_SCALE.
      if (round % 2 == 1) {
        const auto limit = steady::now() + certfleet::testing::scaled(5s);
        while (acks.size() < 8 && writer.read_until(limit, acks, true) && steady::now() < limit) {
        }
      }
      auto delay = certfleet::testing::scaled(std::chrono::milliseconds(2 + rng() % 99));
      writer.read_until(steady::now() + delay, acks);
      writer.kill9();
      while (writer.read_until(steady::now() + 5s, acks)) {
      }
      EXPECT_EQ(writer.wait(), 128 + SIGKILL) << "round " << round << ": " << acks.substr(0, 200);
    }
    ASSERT_EQ(acks.size() % 8, 0u);
    for (std::size_t off = 0; off < acks.size(); off += 8) {
      std::uint64_t id;
      std::memcpy(&id, acks.data() + off, 8);
      ASSERT_GE(id, base);
      auto& m = acked_max[static_cast<std::uint32_t>(id % 2000)];
      m = std::max(m, id);
    }
    total_acked += acks.size() / 8;
    rounds_with_acks += !acks.empty();

    // The state opens cleanly, holds every acknowledged change, and every record decodes.
    auto s = store::open(dir, open_mode::read_write);
    ASSERT_TRUE(s.ok()) << "round " << round << ": " << s.err().detail;
    std::size_t domains = 0;
    auto r = s->for_each_domain([&](const domain_record& d) {
      ++domains;
      ASSERT_EQ(d.last_error, "id " + std::to_string(d.failure_count));
      std::uint64_t key = std::stoull(d.name.substr(1));
      ASSERT_EQ(key, d.failure_count % 2000);
    });
    ASSERT_TRUE(r.ok()) << "round " << round << ": " << r.err().detail;
    for (const auto& [key, id] : acked_max) {
      auto d = s->get_domain(testing::sample_domain(key).name);
      ASSERT_TRUE(d.ok()) << d.err().detail;
      ASSERT_TRUE(d->has_value()) << "acknowledged id " << id << " lost (round " << round << ")";
      // A later write to the same key may have landed unacknowledged; never an earlier one.
      ASSERT_GE((*d)->failure_count, id) << "round " << round;
      auto c = s->get_certs((*d)->name);
      ASSERT_TRUE(c.ok()) << c.err().detail;
    }
    EXPECT_GE(domains, acked_max.size());
    ASSERT_LT(steady::now() - started, certfleet::testing::scaled(60s)) << "crash test too slow";
  }
  EXPECT_GT(rounds_with_acks, 10) << "too few rounds got as far as a commit";
  EXPECT_GT(total_acked, 1000u);
  std::printf(
      "crash test: %d rounds, %d with acknowledgements, %llu acknowledged changes, %lld ms\n", 50,
      rounds_with_acks, static_cast<unsigned long long>(total_acked),
      static_cast<long long>(
          std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - started).count()));
}

write_batch generation(std::uint32_t gen, std::size_t filler_bytes) {
  write_batch b;
  for (int i = 0; i < 100; ++i) {
    domain_record d;
    d.name = "g" + std::to_string(1000 + i);
    d.failure_count = gen;
    b.put_domains.push_back(std::move(d));
  }
  // Filler grows the file so the map is resized under the reader's feet.
  for (int i = 0; i < 4 && filler_bytes > 0; ++i) {
    domain_record f;
    f.name = "f" + std::to_string(gen) + "-" + std::to_string(i);
    f.last_error.assign(filler_bytes, 'f');
    b.put_domains.push_back(std::move(f));
  }
  return b;
}

TEST(storage_process, read_only_process_sees_consistent_snapshots_while_map_grows) {
  temp_dir tmp;
  auto dir = tmp.path() / "s";
  open_options opts;
  opts.initial_map_size = std::size_t{1} << 20;
  auto s = store::open(dir, open_mode::read_write, opts);
  ASSERT_TRUE(s.ok()) << s.err().detail;
  ASSERT_TRUE(s->commit(generation(0, 0)).ok());

  child reader({"snapshot-reader", dir.string(), "1500"});
  std::string out;
  std::uint32_t gen = 1;
  group_writer w(*s);
  // Bounded: the reader stops after 1.5 s; the cap guards against a reader that hangs.
  for (; gen < 20'000 && !reader.exited(); ++gen) {
    w.submit(generation(gen, 3000), {});
    if (gen % 16 == 0) w.flush();
  }
  w.flush();
  while (reader.read_until(steady::now() + 5s, out)) {
  }
  int code = reader.exited() ? 0 : reader.wait();
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("snapshots="), std::string::npos) << out;
  long snapshots = 0, generations = 0, resizes = 0;
  std::sscanf(out.c_str(), "snapshots=%ld generations=%ld resizes=%ld", &snapshots, &generations,
              &resizes);
  EXPECT_GT(generations, 3) << out;
  EXPECT_GT(resizes, 0) << "the reader adopted a map grown by the writer: " << out;
  // Past its initial size; how far depends on how fast the writer ran while the reader read
  // (under coverage instrumentation it reached 4 MiB and no further).
  EXPECT_GT(s->env().map_size(), opts.initial_map_size) << "the map was resized during the run";
  std::printf("reader: %s", out.c_str());
}

TEST(storage_process, killed_reader_leaves_a_stale_slot_that_reader_check_clears) {
  temp_dir tmp;
  auto dir = tmp.path() / "s";
  auto s = store::open(dir, open_mode::read_write);
  ASSERT_TRUE(s.ok()) << s.err().detail;
  for (int round = 0; round < 2; ++round) {
    child reader({"hold-reader", dir.string()});
    std::string out;
    auto until = steady::now() + 10s;
    while (out.empty() && reader.read_until(until, out, true) && steady::now() < until) {
    }
    ASSERT_EQ(out, "R") << "reader did not start";
    auto live = s->reader_check();
    ASSERT_TRUE(live.ok());
    EXPECT_EQ(*live, 0u) << "a live reader must not be cleared";
    reader.kill9();
    EXPECT_EQ(reader.wait(), 128 + SIGKILL);
    if (round == 0) {
      auto cleared = s->reader_check();
      ASSERT_TRUE(cleared.ok());
      EXPECT_EQ(*cleared, 1u);
      EXPECT_EQ(*s->reader_check(), 0u);
    } else {
      // The group writer's on-demand check runs before the change submitted after it.
      group_writer w(*s);
      w.request_reader_check();
      w.submit(write_batch{}, {});
      w.flush();
      EXPECT_EQ(w.stats().stale_readers_cleared, 1u);
    }
  }
}

TEST(storage_process, read_only_without_lock_file_access_says_run_as_daemon_user) {
  temp_dir tmp;
  auto dir = tmp.path() / "s";
  { ASSERT_TRUE(store::open(dir, open_mode::read_write).ok()); }
  std::string out;
  if (::geteuid() == 0) {
    // Let another user reach the directory but not write lock.mdb.
    ASSERT_EQ(::chmod(tmp.path().c_str(), 0755), 0);
    ASSERT_EQ(::chmod(dir.c_str(), 0755), 0);
    ASSERT_EQ(::chmod((dir / "data.mdb").c_str(), 0644), 0);
    ASSERT_EQ(::chmod((dir / "lock.mdb").c_str(), 0644), 0);
    child c({"open-ro", dir.string(), "65534"});
    out = read_all(c, 10s);
    EXPECT_EQ(c.wait(), 2) << out;
  } else {
    ASSERT_EQ(::chmod((dir / "lock.mdb").c_str(), 0400), 0);
    child c({"open-ro", dir.string()});
    out = read_all(c, 10s);
    EXPECT_EQ(c.wait(), 2) << out;
  }
  EXPECT_NE(out.find("lock.mdb"), std::string::npos) << out;
  EXPECT_NE(out.find("as the daemon's user"), std::string::npos) << out;
}

TEST(storage_process, read_only_opens_beside_the_daemon) {
  temp_dir tmp;
  auto dir = tmp.path() / "s";
  auto s = store::open(dir, open_mode::read_write);
  ASSERT_TRUE(s.ok());
  child c({"open-ro", dir.string()});
  auto out = read_all(c, 10s);
  EXPECT_EQ(c.wait(), 0) << out;
  EXPECT_EQ(out, "ok\n");
}

}  // namespace
}  // namespace certfleet::storage
