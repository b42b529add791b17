// A child process for the storage process tests. Modes:
//   writer DIR BASE           commits one change per id from BASE upwards through a
//                             group_writer and writes each acknowledged id (u64, native
//                             order) to stdout; runs until killed.
//   hold-reader DIR           opens DIR read-only, starts a read transaction, writes "R"
//                             and waits to be killed (gives up after 30 s).
//   snapshot-reader DIR MS    for MS milliseconds takes snapshots and checks that the
//                             domains "g*" all carry one generation, never decreasing;
//                             prints "snapshots=N generations=M"; exit 1 if inconsistent.
//   open-ro DIR [UID]         (as UID if given) opens DIR read-only; prints "ok" or the error.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "storage/group_writer.hpp"
#include "tests/storage/sample_records.hpp"

using namespace certfleet::storage;

namespace {

void write_all(const void* data, std::size_t n) {
  auto p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::write(1, p, n);
    if (w <= 0) std::_Exit(3);
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}

int fail(const certfleet::error& e) {
  std::printf("%s\n", e.detail.c_str());
  return 2;
}

// Keys cycle over 2000 domains so the state stays small over many rounds; the id lands in
// failure_count and last_error, and every 10th change also writes certificates.
int run_writer(const char* dir, std::uint64_t base) {
  auto s = store::open(dir, open_mode::read_write);
  if (!s) return fail(s.err());
  group_writer_options opts;
  opts.max_queued = 4000;
  group_writer w(*s, opts);
  for (std::uint64_t id = base; id < base + 50'000'000; ++id) {
    write_batch b;
    auto d = testing::sample_domain(id % 2000, static_cast<std::uint32_t>(id));
    d.last_error = "id " + std::to_string(id);
    if (id % 10 == 0) b.put_certs.push_back({testing::sample_cert(d.name, id), std::nullopt});
    b.put_domains.push_back(std::move(d));
    w.submit(std::move(b), [id](certfleet::result<void> r) {
      if (r) write_all(&id, sizeof id);
    });
  }
  return 0;
}

int run_hold_reader(const char* dir) {
  ::alarm(30);
  auto s = store::open(dir, open_mode::read_only);
  if (!s) return fail(s.err());
  auto txn = s->env().begin_read();
  if (!txn) return fail(txn.err());
  write_all("R", 1);
  for (;;) ::pause();
}

int run_snapshot_reader(const char* dir, int ms) {
  auto s = store::open(dir, open_mode::read_only);
  if (!s) return fail(s.err());
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  long snapshots = 0, generations = 0;
  std::int64_t last_gen = -1;
  while (std::chrono::steady_clock::now() < end) {
    std::int64_t gen = -1;
    std::size_t members = 0;
    auto r = s->for_each_domain([&](const domain_record& d) {
      if (d.name[0] != 'g') return;
      ++members;
      if (gen == -1) gen = d.failure_count;
      if (gen != d.failure_count) {
        std::printf("inconsistent snapshot: %s has generation %u, others %lld\n", d.name.c_str(),
                    d.failure_count, static_cast<long long>(gen));
        std::exit(1);
      }
    });
    if (!r) return fail(r.err());
    if (members != 100) {
      std::printf("snapshot with %zu of 100 generation records\n", members);
      return 1;
    }
    if (gen < last_gen) {
      std::printf("generation went back from %lld to %lld\n", static_cast<long long>(last_gen),
                  static_cast<long long>(gen));
      return 1;
    }
    if (gen != last_gen) ++generations;
    last_gen = gen;
    ++snapshots;
  }
  std::printf("snapshots=%ld generations=%ld resizes=%llu map=%zu\n", snapshots, generations,
              static_cast<unsigned long long>(s->env().map_resizes_adopted()), s->env().map_size());
  return 0;
}

int run_open_ro(const char* dir, const char* uid) {
  if (uid != nullptr) {
    auto id = static_cast<uid_t>(std::atoi(uid));
    if (::setgid(id) != 0 || ::setuid(id) != 0) {
      std::printf("setuid failed: %s\n", std::strerror(errno));
      return 2;
    }
  }
  auto s = store::open(dir, open_mode::read_only);
  if (!s) return fail(s.err());
  std::printf("ok\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IONBF, 0);
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "writer" && argc == 4)
    return run_writer(argv[2], std::strtoull(argv[3], nullptr, 10));
  if (mode == "hold-reader" && argc == 3) return run_hold_reader(argv[2]);
  if (mode == "snapshot-reader" && argc == 4)
    return run_snapshot_reader(argv[2], std::atoi(argv[3]));
  if (mode == "open-ro" && (argc == 3 || argc == 4))
    return run_open_ro(argv[2], argc == 4 ? argv[3] : nullptr);
  std::fprintf(stderr,
               "usage: storage_test_helper writer|hold-reader|snapshot-reader|open-ro ...\n");
  return 64;
}
