// How long does one domain state machine transition take? The domain actors run one per
// domain (up to 100k), so this is the CPU cost per event of the whole fleet.

#include <benchmark/benchmark.h>

#include "actors/domain_fsm.hpp"

namespace {

using namespace certfleet;
using namespace certfleet::actors;
using namespace std::chrono_literals;

const timestamp t0 = from_unix_us(1'704'067'200'000'000);  // 2024-01-01T00:00:00Z

storage::domain_record valid_record() {
  storage::domain_record r;
  r.name = "www.example.com";
  r.phase = storage::domain_phase::valid;
  r.cert_not_before = t0;
  r.cert_not_after = t0 + std::chrono::days{90};
  r.last_success = t0;
  r.next_attempt = renewal_point(r.cert_not_before, r.cert_not_after, r.name);
  return r;
}

void run(benchmark::State& st, const storage::domain_record& r, const event& ev, timestamp now) {
  const context ctx{now, &default_policy(), true};
  for (auto _ : st) {
    step s = transition(r, ev, ctx);
    benchmark::DoNotOptimize(s);
  }
  st.SetItemsProcessed(st.iterations());
}

// The common case: a renewal timer firing starts an attempt.
void bm_wake_starts_renewal(benchmark::State& st) {
  const auto r = valid_record();
  run(st, r, wake{}, r.next_attempt);
}

// Startup of 100k domains: each valid one schedules its renewal.
void bm_started_valid(benchmark::State& st) { run(st, valid_record(), started{}, t0 + 24h); }

// A certificate arrives: reset the record, compute the renewal point, log.
void bm_issued(benchmark::State& st) {
  auto r = valid_record();
  r.phase = storage::domain_phase::finalizing;
  r.order_url = "https://ca.example/acme/order/123456";
  run(st, r, issued{t0 + 60 * 24h, t0 + 150 * 24h}, t0 + 60 * 24h);
}

// A failure: retry schedule and a warning log line.
void bm_order_failed(benchmark::State& st) {
  auto r = valid_record();
  r.phase = storage::domain_phase::ordering;
  run(st, r,
      order_failed{error{error_kind::rate_limited, "Too many certificates issued.", true, 1h}},
      t0 + 60 * 24h);
}

// The operator's retry on a domain outside its window: answered without work.
void bm_retry_outside_window(benchmark::State& st) {
  run(st, valid_record(), retry_requested{}, t0 + 24h);
}

// A stale event (late issued for a retired domain): ignored.
void bm_stale_event(benchmark::State& st) {
  auto r = valid_record();
  r.phase = storage::domain_phase::retired;
  r.configured = false;
  run(st, r, issued{t0, t0 + 90 * 24h}, t0 + 24h);
}

void bm_renewal_point(benchmark::State& st) {
  for (auto _ : st) {
    benchmark::DoNotOptimize(renewal_point(t0, t0 + 90 * 24h, "www.example.com"));
  }
}

BENCHMARK(bm_wake_starts_renewal);
BENCHMARK(bm_started_valid);
BENCHMARK(bm_issued);
BENCHMARK(bm_order_failed);
BENCHMARK(bm_retry_outside_window);
BENCHMARK(bm_stale_event);
BENCHMARK(bm_renewal_point);

}  // namespace

BENCHMARK_MAIN();
