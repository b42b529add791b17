// What one Prometheus scrape of /metrics costs at 100k domains: the pass over the stored
// records (admin/fleet_summary) and the page (admin/metrics_text), best of 5 after a first.
// Usage: admin_bench [DOMAINS]   (default 100000; a fresh store under $TMPDIR, removed after)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "admin/metrics_text.hpp"
#include "storage/store.hpp"
#include "tests/storage/sample_records.hpp"

using namespace certfleet;
using steady = std::chrono::steady_clock;

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 100'000;
  const char* tmp = std::getenv("TMPDIR");
  std::string dir = std::string(tmp ? tmp : "/tmp") + "/admin-bench-XXXXXX";
  if (::mkdtemp(dir.data()) == nullptr) return 1;
  auto s = storage::store::open(dir, storage::open_mode::read_write);
  if (!s) return 1;
  storage::write_batch b;
  for (int i = 0; i < n; ++i) b.put_domains.push_back(storage::testing::sample_domain(i, 1));
  if (!s->commit(b)) return 1;

  const auto now = wall_clock{}.now();
  double best_ms = 1e9;
  std::size_t bytes = 0;
  for (int run = 0; run < 6; ++run) {
    const auto t0 = steady::now();
    admin::fleet_summary fleet;
    if (!s->for_each_domain([&](const storage::domain_record& r) { fleet.add(r, now); })) return 1;
    const std::string page =
        admin::render_metrics(fleet, admin::order_gauges{}, metrics::global(), now);
    const double ms = std::chrono::duration<double, std::milli>(steady::now() - t0).count();
    bytes = page.size();
    if (run > 0 && ms < best_ms) best_ms = ms;
  }
  std::printf("metrics page at %d domains: %.1f ms (best of 5), %zu bytes\n", n, best_ms, bytes);
  std::filesystem::remove_all(dir);
  return 0;
}
