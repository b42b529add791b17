#pragma once
// The whole fleet in a few numbers, for the metrics and the status page: domains by phase,
// failing and warning, certificates by how soon they expire. One pass over the stored records,
// no per-domain output, so a scrape at 100k domains stays cheap.

#include <array>
#include <cstdint>

#include "core/time.hpp"
#include "storage/records.hpp"

namespace certfleet::admin {

/// Days before expiry the metrics count certificates within (7, 14 and 30 days).
inline constexpr std::array<int, 3> expiry_windows_days = {7, 14, 30};
inline constexpr std::size_t phase_count = 10;  ///< storage::domain_phase values
/// The status page's expiry histogram: bin i holds certificates expiring in less than
/// expiry_histogram_days[i] days (and not in an earlier bin); one more bin holds the rest.
inline constexpr std::array<int, 8> expiry_histogram_days = {7, 14, 21, 30, 45, 60, 75, 90};

struct fleet_summary {
  std::uint64_t domains = 0;  ///< configured domains (retired ones are not counted anywhere)
  std::array<std::uint64_t, phase_count> by_phase{};
  std::uint64_t with_certificate = 0;
  std::uint64_t failing = 0;  ///< the last attempt failed
  std::uint64_t warning = 0;  ///< the seed's renewal warning is due
  std::uint64_t expired = 0;  ///< a certificate past its expiry
  /// Certificates not yet expired that expire within expiry_windows_days[i].
  std::array<std::uint64_t, expiry_windows_days.size()> expiring_within{};
  timestamp soonest_expiry = no_time;  ///< of the configured domains' certificates
  /// Certificates not yet expired, by expiry_histogram_days.
  std::array<std::uint64_t, expiry_histogram_days.size() + 1> expiry_histogram{};

  /// Adds one stored record.
  void add(const storage::domain_record& r, timestamp now);
};

}  // namespace certfleet::admin
