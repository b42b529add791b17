#pragma once
// The alerts of warning_hook: which domains need an operator (the seed's renewal warning, or
// a certificate within expiry_alert_days of expiry whatever its state), what changed since the
// hook was last told, and the JSON document it reads on stdin. Pure functions of the stored
// records and the time.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/time.hpp"
#include "storage/records.hpp"

namespace certfleet::admin {

enum class alert_state : std::uint8_t {
  ok,        ///< nothing to tell
  warning,   ///< the seed's renewal warning (actors::needs_warning)
  expiring,  ///< the certificate expires within expiry_alert_days (and no warning)
  removed,   ///< no longer configured, or no longer stored
};
std::string_view to_string(alert_state s);
std::optional<alert_state> parse_alert_state(std::string_view text);

/// A domain's alert state now; expiry_alert of 0 days turns the expiry alert off.
alert_state alert_state_of(const storage::domain_record& r, timestamp now,
                           std::chrono::days expiry_alert);

/// The domains in warning or expiring, by name.
using alert_set = std::map<std::string, alert_state>;

struct alert_change {
  std::string domain;
  alert_state from = alert_state::ok;
  alert_state to = alert_state::ok;
};

/// What changed from `told` (what the hook last heard) to `now` (the current set), sorted by
/// name. A domain that left the set is ok, or removed when `records` no longer configures it.
std::vector<alert_change> alert_changes(
    const alert_set& told, const alert_set& now,
    const std::map<std::string, storage::domain_record>& records);

/// The document on the hook's stdin:
/// {"node", "time", "alerting" (domains in warning or expiring after the change),
///  "changes": [{"domain", "state", "previous_state", "error", "last_failure_time",
///  "next_retry_time", "cert_expiration_time"}]}; times RFC 3339 UTC or null.
std::string alert_document(const std::vector<alert_change>& changes,
                           const std::map<std::string, storage::domain_record>& records,
                           std::size_t alerting, const std::string& node, timestamp now);

/// The set the hook was last told, as kept in the state directory between runs.
std::string encode_alert_set(const alert_set& set);
/// Refuses a damaged file with what to do.
result<alert_set> decode_alert_set(std::string_view text);

}  // namespace certfleet::admin
