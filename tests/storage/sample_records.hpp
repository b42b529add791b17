#pragma once
// Deterministic records for the storage tests, benchmark and helper process.

#include <cstdint>
#include <string>

#include "storage/records.hpp"

namespace certfleet::storage::testing {

/// A domain record whose every field depends on i (and on tag, to tell versions apart).
inline domain_record sample_domain(std::uint64_t i, std::uint32_t tag = 0) {
  domain_record d;
  d.name = "d" + std::to_string(i) + ".example.com";
  d.phase = static_cast<domain_phase>(i % 8);
  d.configured = i % 3 != 0;
  d.cert_not_before = from_unix_us(1'700'000'000'000'000 + static_cast<std::int64_t>(i));
  d.cert_not_after = from_unix_us(1'707'776'000'000'000 + static_cast<std::int64_t>(i));
  d.last_success = from_unix_us(1'700'000'100'000'000);
  d.first_failure = i % 5 == 0 ? from_unix_us(1'700'000'200'000'000) : no_time;
  d.last_failure = d.first_failure;
  d.failure_count = tag;
  d.next_attempt = from_unix_us(1'705'000'000'000'000 + static_cast<std::int64_t>(i) * 1000);
  if (i % 5 == 0)
    d.last_error =
        "connection refused by d" + std::to_string(i) + " (tag " + std::to_string(tag) + ")";
  if (i % 7 == 0) d.order_url = "https://ca.example/acme/order/" + std::to_string(i);
  if (i % 3 == 0) {
    d.ari_window_start = d.next_attempt + std::chrono::hours(24);
    d.ari_window_end = d.ari_window_start + std::chrono::hours(48);
    d.ari_check_at = d.next_attempt - std::chrono::hours(6);
  }
  d.ca_failures = static_cast<std::uint32_t>(i % 4);
  return d;
}

inline cert_record sample_cert(const std::string& domain, std::uint64_t i) {
  cert_record c;
  c.domain = domain;
  c.chain_pem =
      "-----BEGIN CERTIFICATE-----\nMIIB" + std::to_string(i) + "\n-----END CERTIFICATE-----\n";
  c.key_pem = "-----BEGIN PRIVATE KEY-----\nSECRETKEYBYTES" + std::to_string(i) +
              "\n-----END PRIVATE KEY-----\n";
  c.not_before = from_unix_us(1'700'000'000'000'000);
  c.not_after = from_unix_us(1'707'776'000'000'000);
  c.serial = "0a1b2c" + std::to_string(i);
  c.ca_url = "https://ca" + std::to_string(i % 2) + ".example/directory";
  return c;
}

inline account_record sample_account(const std::string& directory) {
  return {directory, directory + "/acct/42",
          "-----BEGIN PRIVATE KEY-----\nACCOUNTSECRET\n-----END PRIVATE KEY-----\n",
          "ops@example.com",
          "-----BEGIN PRIVATE KEY-----\nNEXTSECRET\n-----END PRIVATE KEY-----\n"};
}

}  // namespace certfleet::storage::testing
