#pragma once
// The daemon's counters for Prometheus (serving/metrics_text.hpp renders them): lock-free
// atomics that any thread may bump, and only bounded label sets. No per-domain label: at 100k
// domains that would be 100k series in the operator's Prometheus.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string_view>

namespace certfleet::metrics {

/// The ACME resource a request went to (RFC 8555 §7.1, RFC 9773).
enum class ca_endpoint : std::uint8_t {
  directory,
  new_nonce,
  new_account,
  account,
  new_order,
  authorization,
  challenge,
  order,
  finalize,
  certificate,
  renewal_info,
  revoke,
  key_change,
};
inline constexpr std::size_t ca_endpoint_count = 13;

/// How a CA request ended: the status class, or no answer at all (network, timeout, TLS).
enum class ca_result : std::uint8_t { ok, client_error, server_error, no_answer };
inline constexpr std::size_t ca_result_count = 4;

/// Why a self-check failed.
enum class self_check_failure : std::uint8_t {
  dns,            ///< the name did not resolve
  not_this_host,  ///< an address elsewhere that does not reach certfleet
  unreachable,    ///< nothing answered on the port (or no TLS-ALPN-01 handshake)
  wrong_answer,   ///< another server answered, without the test token or certificate
};
inline constexpr std::size_t self_check_failure_count = 4;

/// How a warning_hook run ended.
enum class hook_result : std::uint8_t { ok, failed, timeout };
inline constexpr std::size_t hook_result_count = 3;

std::string_view name_of(ca_endpoint e);
std::string_view name_of(hook_result r);
std::string_view name_of(ca_result r);
std::string_view name_of(self_check_failure f);

/// Upper bounds (seconds) of the CA latency histogram's buckets; +Inf is implied.
inline constexpr std::array<double, 10> latency_bounds = {0.05, 0.1, 0.25, 0.5, 1,
                                                          2.5,  5,   10,   30,  60};

/// A Prometheus histogram: counts per bucket (not cumulative; the renderer sums them) and the
/// sum of the observations.
struct histogram {
  std::array<std::atomic<std::uint64_t>, latency_bounds.size() + 1> buckets{};
  std::atomic<std::uint64_t> sum_us{0};
  void observe(std::chrono::microseconds took);
};

/// Every counter of the process.
struct registry {
  std::array<std::array<std::atomic<std::uint64_t>, ca_result_count>, ca_endpoint_count>
      ca_requests{};
  std::array<histogram, ca_endpoint_count> ca_latency{};
  std::array<std::atomic<std::uint64_t>, self_check_failure_count> self_check_failures{};
  std::atomic<std::uint64_t> certificates_issued{0};  ///< first certificates of a domain
  std::atomic<std::uint64_t> renewals{0};             ///< certificates that replaced one
  std::atomic<std::uint64_t> attempt_failures{0};     ///< attempts that ended failing
  std::atomic<std::uint64_t> save_failures{0};        ///< state commits that failed
  std::atomic<std::int64_t> last_save_unix{0};        ///< last durable state commit; 0: none
  std::array<std::atomic<std::uint64_t>, hook_result_count> warning_hook_runs{};
  /// Domains in an alert state at warning_hook's last scan.
  std::atomic<std::uint64_t> alerting_domains{0};
  /// In a cluster (cluster_etcd_endpoints): 1 while this node takes part (holds its lease
  /// and is in the member list), 0 while it does not; -1 when the node is alone.
  std::atomic<std::int64_t> cluster_active{-1};
  std::atomic<std::uint64_t> cluster_members{0};  ///< in the agreed member list
  std::atomic<std::uint64_t> cluster_etcd_up{0};  ///< 1 while etcd answers this node
};

/// The process's registry.
registry& global();

/// One CA request: `http_status` 0 when no answer came.
void count_ca_request(ca_endpoint e, int http_status, std::chrono::microseconds took);
void count_self_check_failure(self_check_failure why);

}  // namespace certfleet::metrics
