// How fast is certfleet's state? One line per figure:
//   100k changes through group_writer, 100k in one batch, listing 100k with decoding,
//   100k point reads, decoding alone, and the size of the environment.
// Usage: storage_bench [DIR]   (default: a fresh directory under $TMPDIR, removed after)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "storage/group_writer.hpp"
#include "storage/record_codec.hpp"
#include "tests/storage/sample_records.hpp"

using namespace certfleet::storage;
using steady = std::chrono::steady_clock;

namespace {

constexpr int n = 100'000;

double ms_since(steady::time_point t0) {
  return std::chrono::duration<double, std::milli>(steady::now() - t0).count();
}

void line(const char* what, double ms, int count = n) {
  std::printf("%-48s %9.1f ms  (%.2f us each)\n", what, ms, ms * 1000.0 / count);
}

store open_or_die(const std::filesystem::path& dir, open_options opts = {}) {
  auto s = store::open(dir, open_mode::read_write, opts);
  if (!s) {
    std::fprintf(stderr, "open %s: %s\n", dir.c_str(), s.err().detail.c_str());
    std::exit(1);
  }
  return std::move(s).value();
}

void check(const certfleet::result<void>& r, const char* what) {
  if (!r) {
    std::fprintf(stderr, "%s: %s\n", what, r.err().detail.c_str());
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::filesystem::path base;
  bool remove = false;
  if (argc > 1) {
    base = argv[1];
  } else {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp ? tmp : "/tmp") + "/storage-bench-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) return 1;
    base = pattern;
    remove = true;
  }

  {  // 100k changes, one domain each, through the group writer
    auto s = open_or_die(base / "grouped");
    auto t0 = steady::now();
    group_writer_stats st;
    {
      group_writer w(s);
      for (int i = 0; i < n; ++i) {
        write_batch b;
        b.put_domains.push_back(testing::sample_domain(i, 1));
        w.submit(std::move(b), [](certfleet::result<void> r) { check(r, "group commit"); });
      }
      w.flush();
      st = w.stats();
    }
    line("write 100k changes via group_writer", ms_since(t0));
    std::printf("%-48s %9llu      (%.0f changes each)\n", "  transactions",
                static_cast<unsigned long long>(st.groups),
                static_cast<double>(st.changes) / static_cast<double>(st.groups));
  }

  auto s = open_or_die(base / "batch", open_options{.initial_map_size = std::size_t{1} << 20});
  {  // 100k domains in one transaction, from a 1 MiB map
    write_batch b;
    for (int i = 0; i < n; ++i) b.put_domains.push_back(testing::sample_domain(i, 1));
    auto t0 = steady::now();
    check(s.commit(b), "commit");
    line("write 100k domains in one batch (map from 1 MiB)", ms_since(t0));
  }
  for (int run = 0; run < 3; ++run) {
    auto t0 = steady::now();
    auto all = s.list_domains();
    double ms = ms_since(t0);
    if (!all || all->size() != static_cast<std::size_t>(n)) return 1;
    line(run == 0 ? "list 100k domains with decoding (first)" : "list 100k domains with decoding",
         ms);
  }
  {
    std::size_t count = 0;
    auto t0 = steady::now();
    check(s.for_each_domain([&](const domain_record&) { ++count; }), "scan");
    line("for_each_domain over 100k (decode, no copy)", ms_since(t0));
  }
  {
    std::vector<std::string> names;
    for (int i = 0; i < n; ++i) names.push_back(testing::sample_domain((i * 7919) % n).name);
    std::size_t found = 0;
    auto t0 = steady::now();
    for (const auto& name : names) {
      auto d = s.get_domain(name);
      found += d.ok() && d->has_value();
    }
    line("100k point reads (random order, one txn each)", ms_since(t0));
    if (found != static_cast<std::size_t>(n)) return 1;
  }
  {
    std::vector<std::string> encoded;
    for (int i = 0; i < n; ++i) encoded.push_back(encode(testing::sample_domain(i, 1)));
    domain_record d;
    std::size_t ok = 0;
    auto t0 = steady::now();
    for (const auto& e : encoded) ok += decode(e, d).ok();
    line("decode 100k domain records (codec only)", ms_since(t0));
    if (ok != static_cast<std::size_t>(n)) return 1;
  }
  auto st = s.stats();
  if (st)
    std::printf("%-48s %9.1f MiB on disk, map %.0f MiB, %zu domains\n", "env size (100k domains)",
                static_cast<double>(st->file_size) / (1 << 20),
                static_cast<double>(st->map_size) / (1 << 20), st->domains);
  if (remove) std::filesystem::remove_all(base);
  return 0;
}
