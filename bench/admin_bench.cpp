// What the admin listener's pages cost at 100k domains, through admin/routes as a request
// gets them: the status page's first page (/), a search, a deep page, the JSON API and one
// Prometheus scrape of /metrics. Each is one pass over the stored records plus the rendering;
// best of 5 after a first run. Usage: admin_bench [DOMAINS]   (default 100000; a fresh store
// under $TMPDIR, removed after)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "admin/routes.hpp"
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

  admin::admin_sources sources;
  sources.for_each_domain = [&](const std::function<void(const storage::domain_record&)>& fn) {
    if (!s->for_each_domain(fn)) std::abort();
  };
  sources.orders = [] { return admin::order_gauges{}; };
  const auto now = wall_clock{}.now();
  sources.now = [now] { return now; };
  sources.node = "bench.example";

  for (const char* target : {"/", "/?q=1234&show=all", "/?show=all&page=1500", "/api/summary",
                             "/api/domains?show=all&page=1000", "/metrics"}) {
    double best_ms = 1e9;
    std::size_t bytes = 0;
    unsigned status = 0;
    for (int run = 0; run < 6; ++run) {
      const auto t0 = steady::now();
      const auto answer = admin::answer_admin({"GET", target, ""}, sources);
      const double ms = std::chrono::duration<double, std::milli>(steady::now() - t0).count();
      bytes = answer.body.size();
      status = answer.status;
      if (run > 0 && ms < best_ms) best_ms = ms;
    }
    std::printf("%-34s at %d domains: %6.1f ms (best of 5), %zu bytes, status %u\n", target, n,
                best_ms, bytes, status);
  }
  std::filesystem::remove_all(dir);
  return 0;
}
