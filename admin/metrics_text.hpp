#pragma once
// The Prometheus text exposition format (version 0.0.4) of certfleetd's metrics, served at
// /metrics on admin_listen. Every name starts with certfleet_; no label names a domain.

#include <cstdint>
#include <string>

#include "admin/fleet_summary.hpp"
#include "core/metrics.hpp"

namespace certfleet::admin {

/// The ACME service's order queue as the metrics show it.
struct order_gauges {
  std::uint64_t in_flight = 0;
  std::uint64_t max_in_flight = 0;
  std::uint64_t queued = 0;            ///< waiting for the order budget or a free slot
  std::uint64_t budget_available = 0;  ///< new orders that may start now
  std::uint64_t paused_seconds = 0;    ///< left of a pause after a rateLimited answer
  bool answered = false;               ///< false: the ACME service did not answer in time
};

/// The page for a scrape at `now`.
std::string render_metrics(const fleet_summary& fleet, const order_gauges& orders,
                           const metrics::registry& counters, timestamp now);

}  // namespace certfleet::admin
