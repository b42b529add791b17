#include "core/metrics.hpp"

#include <algorithm>

namespace certfleet::metrics {

std::string_view name_of(ca_endpoint e) {
  static constexpr std::array<std::string_view, ca_endpoint_count> names = {
      "directory", "newNonce", "newAccount",  "account",     "newOrder",   "authz",    "challenge",
      "order",     "finalize", "certificate", "renewalInfo", "revokeCert", "keyChange"};
  return names.at(static_cast<std::size_t>(e));
}

std::string_view name_of(hook_result r) {
  static constexpr std::array<std::string_view, hook_result_count> names = {"ok", "failed",
                                                                            "timeout"};
  return names.at(static_cast<std::size_t>(r));
}

std::string_view name_of(ca_result r) {
  static constexpr std::array<std::string_view, ca_result_count> names = {
      "ok", "client_error", "server_error", "no_answer"};
  return names.at(static_cast<std::size_t>(r));
}

std::string_view name_of(self_check_failure f) {
  static constexpr std::array<std::string_view, self_check_failure_count> names = {
      "dns", "not_this_host", "unreachable", "wrong_answer"};
  return names.at(static_cast<std::size_t>(f));
}

void histogram::observe(std::chrono::microseconds took) {
  const double seconds = std::chrono::duration<double>(took).count();
  const auto bucket = static_cast<std::size_t>(
      std::lower_bound(latency_bounds.begin(), latency_bounds.end(), seconds) -
      latency_bounds.begin());
  buckets[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_us.fetch_add(static_cast<std::uint64_t>(std::max<std::int64_t>(took.count(), 0)),
                   std::memory_order_relaxed);
}

registry& global() {
  static registry instance;
  return instance;
}

void count_ca_request(ca_endpoint e, int http_status, std::chrono::microseconds took) {
  const ca_result r = http_status == 0    ? ca_result::no_answer
                      : http_status < 400 ? ca_result::ok
                      : http_status < 500 ? ca_result::client_error
                                          : ca_result::server_error;
  auto& g = global();
  const auto i = static_cast<std::size_t>(e);
  g.ca_requests[i][static_cast<std::size_t>(r)].fetch_add(1, std::memory_order_relaxed);
  g.ca_latency[i].observe(took);
}

void count_self_check_failure(self_check_failure why) {
  global().self_check_failures[static_cast<std::size_t>(why)].fetch_add(1,
                                                                        std::memory_order_relaxed);
}

}  // namespace certfleet::metrics
