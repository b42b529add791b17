#pragma once
// The fleet simulator's engine: the daemon's real decision code — the domain state machine
// (actors/domain_fsm), the order queue with the CA's scoped limits (actors/order_queue,
// actors/ca_limits) and the ACME service's reading of an order's end (order_end_of) — driven
// by a discrete-event loop in virtual time against sim_ca. What the actors add around that
// code (mailboxes, the wake timer, LMDB) is replaced by its effect: a record is "on disk"
// when the step says persist, and a restart starts every domain from what is on disk.
// One simulated hour of 100k domains costs milliseconds, so a year runs in minutes.

#include <chrono>
#include <cstdint>
#include <queue>
#include <random>
#include <string>
#include <vector>

#include "actors/domain_fsm.hpp"
#include "actors/order_queue.hpp"
#include "bench/fleet_sim/sim_ca.hpp"

namespace certfleet::sim {

/// A CA outage: every order is refused with a 503 for `length` from `start_day`.
struct outage {
  int start_day = 0;
  std::chrono::hours length{24};
};

struct fleet_settings {
  std::size_t domains = 2000;
  int days = 365;
  std::chrono::hours lifetime{24 * 90};
  /// true: every domain is new at day 0; false: each has a certificate, issued at a
  /// uniformly random moment of the last (lifetime - renewal threshold), as in a fleet
  /// that has run for a while.
  bool start_new = true;
  double broken_dns = 0;    ///< share whose self-check fails (never ordered)
  double broken_at_ca = 0;  ///< share that passes the self-check but fails the CA's validation
  /// Names grouped under shared registered domains (the rest have one of their own):
  /// share of names, and names per group.
  double grouped = 0.2;
  std::size_t group_size = 60;
  std::vector<outage> outages;
  int restarts = 0;  ///< daemon restarts at random moments
  order_budget budget{300, std::chrono::hours(3)};
  std::uint32_t orders_in_flight = 16;
  bool lets_encrypt_limits = true;
  /// The CA offers renewal windows (RFC 9773); with revocation_day >= 0, it revokes
  /// revoked_share of the healthy domains' certificates that day (their windows begin).
  bool ari = false;
  int revocation_day = -1;
  double revoked_share = 0.1;
  std::uint64_t seed = 1;
};

/// What happened, for the report and the pass/fail checks.
struct fleet_result {
  std::uint64_t expiries_healthy = 0;  ///< a healthy domain's certificate expired unreplaced
  std::uint64_t false_failures = 0;    ///< a healthy domain failed while the CA was up
  std::uint64_t warnings_healthy_end = 0;
  std::uint64_t warnings_broken_end = 0, broken = 0;
  std::uint64_t valid_healthy_end = 0, healthy = 0;
  std::uint64_t max_in_flight = 0;
  std::uint64_t max_orders_3h = 0;         ///< most CA orders created in any 3 consecutive hours
  double hours_to_issue_all_healthy = -1;  ///< first certificate of every healthy domain
  double mean_orders_per_hour = 0;
  std::uint64_t max_orders_per_hour = 0;
  std::uint64_t transitions = 0;
  ca_counts ca;
  std::vector<std::uint32_t> orders_per_hour;
  std::vector<std::uint32_t> ari_requests_per_hour;
  std::uint64_t revoked = 0;                    ///< certificates the CA revoked
  double hours_to_replace_revoked = -1;         ///< until every revoked certificate was replaced
  std::vector<std::uint32_t> backlog_per_hour;  ///< orders waiting in the queue
  /// Days to expiry among healthy domains with a certificate, sampled daily: min, 1st
  /// percentile, median.
  std::vector<double> expiry_min_days, expiry_p1_days, expiry_p50_days;
};

/// The most orders in any `hours` consecutive hours of `per_hour` (a sliding window).
std::uint64_t busiest_window(const std::vector<std::uint32_t>& per_hour, std::size_t hours);

/// Runs one fleet for settings.days (deterministic for a seed).
fleet_result run_fleet(const fleet_settings& settings);

}  // namespace certfleet::sim
