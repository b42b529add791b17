#pragma once
// The CA's rate limits, as data, and a ledger that spends them ahead of time so the CA
// rarely has to say no. Pure (no CAF, no clock reads): the order queue and the fleet
// simulator use the same code.
//
// Let's Encrypt's limits (https://letsencrypt.org/docs/rate-limits/, as of 2025; each is a
// token bucket that holds `burst` and refills one token every period / burst):
//   new orders per account               300 per 3 h  (the order_budget directive)
//   new certificates per registered domain 50 per 7 days (renewals are exempt)
//   new certificates per exact name set    5 per 7 days (renewals count)
//   authorization failures per hostname    5 per 1 h, per account
// The "consecutive authorization failures per hostname" limit (1152, refilling one a day)
// is never reached: a failing domain retries at most every 12 hours here. ARI renewals
// (an order that `replaces` a certificate inside its window) are exempt from all of them.

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/error.hpp"

namespace certfleet::actors {

/// What one limit counts by.
enum class limit_scope : std::uint8_t {
  account,            ///< every order of the ACME account
  registered_domain,  ///< certificates per registered domain (Public Suffix List)
  name_set,           ///< certificates for one exact set of names (here: one domain)
  hostname_failures,  ///< failed authorizations of one hostname
};

/// Stable lower-case name of a scope ("registered_domain") for logs and the CLI.
std::string_view scope_name(limit_scope s);

/// One scoped limit: at most `burst` in any `period` (a token bucket).
struct ca_limit {
  limit_scope scope;
  std::uint32_t burst;
  std::chrono::seconds period;
  bool renewals_count;  ///< false: renewals of an existing certificate are exempt
  /// How much later than the client the CA may count: the CA counts a certificate when it
  /// issues it, up to an attempt after the order started, so an order is held this much
  /// longer than the client's own bucket says (the fleet simulator found the 51st name of a
  /// registered domain refused without it).
  std::chrono::seconds ca_counts_later{0};
};

/// Let's Encrypt's scoped limits (the account limit is the order budget, kept apart
/// because the operator sets it).
std::span<const ca_limit> lets_encrypt_limits();

/// The scope a rateLimited problem names, read from its detail (Let's Encrypt's messages
/// and the anchors of its rate-limit page); account when it cannot be told.
limit_scope scope_of_rate_limit(std::string_view problem_detail);

/// Whether a failed order counts as a failed authorization at the CA: the CA tried to
/// validate the name and could not (as opposed to a network error or a CA outage).
bool counts_as_failed_authorization(const error& e);

/// Token buckets by (scope, key), one timestamp each (GCRA: the time the bucket is full again), so
/// a ledger for 100k names is a few MB. A key absent is a full bucket.
class limit_ledger {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  using duration = std::chrono::steady_clock::duration;

  /// When one token of `key` under `limit` is available, also in the CA's bucket (which may
  /// lag by limit.ca_counts_later): `now` when it already is.
  time_point available_at(const ca_limit& limit, const std::string& key, time_point now) const;
  /// Spends one token (callers check available_at first; overspending delays the next).
  void spend(const ca_limit& limit, const std::string& key, time_point now);
  /// Gives back one token spent for an order that produced no certificate.
  void refund(const ca_limit& limit, const std::string& key, time_point now);
  /// The CA said no for this key: no token before `until`.
  void block_until(const ca_limit& limit, const std::string& key, time_point until);
  /// Drops the keys whose buckets are full again (they hold nothing).
  void forget_full(time_point now);
  std::size_t keys() const { return full_at_.size(); }

 private:
  static duration interval(const ca_limit& limit);
  static duration tolerance(const ca_limit& limit);
  std::unordered_map<std::string, time_point> full_at_;
};

}  // namespace certfleet::actors
