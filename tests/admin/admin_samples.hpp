#pragma once
// Stored records as the admin pages' tests need them, at one fixed moment.
#include <chrono>
#include <string>

#include "core/time.hpp"
#include "storage/records.hpp"

namespace certfleet::admin::samples {

inline const timestamp now = from_unix_us(1'800'000'000'000'000);

/// A domain whose certificate (issued 60 days ago) has `left` to run.
inline storage::domain_record valid(const std::string& name, std::chrono::hours left) {
  storage::domain_record r;
  r.name = name;
  r.phase = storage::domain_phase::valid;
  r.cert_not_before = now - std::chrono::days{60};
  r.cert_not_after = now + left;
  return r;
}

/// `r` failing for `since`: the last failure a minute ago, the next retry in five.
inline storage::domain_record failing(storage::domain_record r, std::chrono::minutes since,
                                      std::string error) {
  r.phase = storage::domain_phase::failing;
  r.failure_count = 2;
  r.first_failure = now - since;
  r.last_failure = now - std::chrono::minutes(1);
  r.next_attempt = now + std::chrono::minutes(5);
  r.last_error = std::move(error);
  return r;
}

/// Never issued, failed once.
inline storage::domain_record broken(const std::string& name, std::string error) {
  storage::domain_record r;
  r.name = name;
  return failing(r, std::chrono::minutes(1), std::move(error));
}

}  // namespace certfleet::admin::samples
