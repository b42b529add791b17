#include "admin/fleet_summary.hpp"

#include "actors/domain_fsm.hpp"

namespace certfleet::admin {

void fleet_summary::add(const storage::domain_record& r, timestamp now) {
  if (!r.configured) return;
  ++domains;
  const auto phase = static_cast<std::size_t>(r.phase);
  if (phase < by_phase.size()) ++by_phase[phase];
  if (r.failure_count > 0) ++failing;
  if (actors::needs_warning(r, now, actors::default_policy())) ++warning;
  if (!r.has_cert()) return;
  ++with_certificate;
  if (soonest_expiry == no_time || r.cert_not_after < soonest_expiry)
    soonest_expiry = r.cert_not_after;
  if (r.cert_not_after <= now) {
    ++expired;
    return;
  }
  const auto left = r.cert_not_after - now;
  for (std::size_t i = 0; i < expiry_windows_days.size(); ++i)
    if (left <= std::chrono::days(expiry_windows_days[i])) ++expiring_within[i];
  std::size_t bin = 0;
  while (bin < expiry_histogram_days.size() &&
         left >= std::chrono::days(expiry_histogram_days[bin]))
    ++bin;
  ++expiry_histogram[bin];
}

}  // namespace certfleet::admin
