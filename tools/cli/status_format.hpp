#pragma once
// The output of `certfleet status` (GreenArrow's `lets_encrypt_status`): a table for people
// and a JSON document for scripts, in exactly the layout of the GreenArrow documentation, and
// the renewal warnings shown to administrators.

#include <string>
#include <vector>

#include "core/time.hpp"
#include "storage/records.hpp"

namespace certfleet::cli {

/// The status table. Retired domains (configured == false) are never listed. With
/// only_errors, only domains never attempted (phase pending), waiting for Let's Encrypt to be
/// enabled (phase disabled: one line says so) or failing (failure_count > 0).
/// Failure times are shown in the local time zone (TZ), e.g. "2020-03-06 06:48:04 -0600".
/// Every line ends with "\n".
std::string format_status_table(const std::vector<storage::domain_record>& domains,
                                bool only_errors);

/// The status as JSON: {"domains":[{"domain", "has_cert", "cert_expiration_time",
/// "last_failure_error_message", "last_failure_time", "next_retry_time"}, ...]}, indented by
/// four spaces, times in UTC RFC 3339, null where absent. Same filtering as the table. Ends
/// with "\n".
std::string format_status_json(const std::vector<storage::domain_record>& domains,
                               bool only_errors);

/// `status --exit-code`: some configured domain is failing (its last attempt failed).
bool any_failing(const std::vector<storage::domain_record>& domains);

/// One sentence per domain that needs attention: still configured, and either it has a
/// certificate but renewal has been failing for at least an hour, or it has no certificate and
/// registration has failed at least once.
std::vector<std::string> renewal_warnings(const std::vector<storage::domain_record>& domains,
                                          timestamp now);

}  // namespace certfleet::cli
