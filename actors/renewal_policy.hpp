#pragma once
// When to renew and when to retry, as data and pure functions (no clock reads),
// so tests can read the tables and the domain state machine stays pure.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "core/time.hpp"

namespace certfleet::actors {

using days = std::chrono::days;

// The renewal rule. A certificate is renewed when its remaining lifetime drops to
// min(renew_before_max, lifetime / renewal_divisor); certificates shorter than
// short_lived_below renew at half their lifetime.
inline constexpr std::chrono::hours renew_before_max = days{30};
// Integer divisors rather than double ratios so a 90-day lifetime gives exactly 30 days.
inline constexpr int renewal_divisor = 3;  // CertMagic's DefaultRenewalWindowRatio 1/3
inline constexpr std::chrono::hours short_lived_below = days{10};
// Per-domain jitter spreads renewals of certificates issued together: up to
// min(lifetime / jitter_divisor, jitter_max), always earlier than the rule.
inline constexpr int jitter_divisor = 100;  // 1% of the lifetime
inline constexpr std::chrono::hours jitter_max{6};

/// Retry and warning schedule of the domain state machine.
struct policy {
  /// Delay after the Nth consecutive failure is retry_delays[N-1]; the last entry repeats.
  /// Must not be empty. Entries above max_retry_delay are capped.
  std::vector<std::chrono::seconds> retry_delays;
  /// No retry waits longer than this (the seed: "a maximum of 12 hours between retries").
  std::chrono::seconds max_retry_delay{std::chrono::hours{12}};
  /// A CA's Retry-After longer than the table wins, but is capped at the seed's 12 hours
  /// between retries: a CA's nonsense (or a week-long limit) never silences a domain longer.
  std::chrono::seconds max_retry_after{std::chrono::hours{12}};
  /// A domain with a certificate warns after failing to renew for this long.
  std::chrono::hours warning_after{1};
  /// An attempt that has not finished after this long counts as failed (a lost reply must
  /// not leave a domain in flight forever).
  std::chrono::seconds attempt_timeout{std::chrono::minutes{30}};
  /// A domain waiting in the order queue asks again this often. The queue keeps one entry
  /// per domain, so asking again spends nothing; it only recovers an order lost between
  /// actors (none is lost in one process today). The seed's longest retry delay, 12 hours:
  /// 30k renewals waiting for the budget (45-day certificates at 100k) made 30k wake-ups an
  /// hour at 1 hour, all of the fleet simulator's time.
  std::chrono::seconds queued_recheck{std::chrono::hours{12}};
  /// RFC 9773: a certificate's renewal window is asked for again after the CA's Retry-After,
  /// kept within [ari_poll_min, ari_poll_max]; after a failed request, ari_poll_min. At most
  /// four requests per certificate a day (Let's Encrypt answers Retry-After: 6 hours).
  std::chrono::seconds ari_poll_min{std::chrono::hours{6}};
  std::chrono::seconds ari_poll_max{std::chrono::hours{24}};
};

/// 1m, 2m, 5m, 10m, 30m, 1h, 2h, 4h, 8h, 12h (repeating); warning after 1h.
/// A reference to one shared, immutable instance.
const policy& default_policy();

/// FNV-1a (64 bit) of `s`: stable across builds and platforms, unlike std::hash.
std::uint64_t fnv1a64(std::string_view s);

/// The per-domain jitter that renewal_point subtracts for a certificate of this lifetime:
/// in [0, min(lifetime / jitter_divisor, jitter_max)], a pure function of the domain name.
std::chrono::microseconds renewal_jitter(std::chrono::microseconds lifetime,
                                         std::string_view domain);

/// When to renew a certificate valid over [not_before, not_after] for `domain`:
/// not_after - threshold - jitter, where threshold = min(30 days, lifetime / 3) for
/// lifetimes of 10 days or more, lifetime / 2 below. Never later than the rule.
/// A nonsensical validity (not_after <= not_before) renews at not_after.
timestamp renewal_point(timestamp not_before, timestamp not_after, std::string_view domain);

/// RFC 9773 §4.2: renew at a uniformly random moment of the CA's suggested window [start,
/// end), a pure function of the domain and the window (a restart keeps it; 100k certificates
/// with one window spread over all of it), but never later than `fallback` (renewal_point):
/// an expired certificate is worse than an ignored window. A window already over renews at
/// once (`now`). The caller has checked end > start (protocol::parse_renewal_info does).
timestamp ari_renewal_point(timestamp start, timestamp end, std::string_view domain,
                            timestamp fallback, timestamp now);

/// How often a certificate's renewal window is asked for: pol.ari_poll_min and ari_poll_max,
/// but for certificates shorter than 5 days a twentieth and a quarter of the lifetime (a
/// 1-hour certificate cannot wait 6 hours to hear that its window has begun).
struct ari_poll_bounds {
  std::chrono::seconds min, max;
};
ari_poll_bounds ari_poll_bounds_for(std::chrono::microseconds lifetime, const policy& pol);

/// The first renewal-window request for a certificate, when none is scheduled (a new
/// certificate, a daemon start after a pause): `now` plus a fraction of `spread` that is a
/// pure function of the domain, so 100k certificates loaded at once ask over all of it.
timestamp ari_first_check(std::string_view domain, timestamp now, std::chrono::seconds spread);

/// When to ask again after an answer that said `retry_after` (nullopt: the CA said nothing):
/// now + retry_after within [pol.ari_poll_min, pol.ari_poll_max].
timestamp ari_next_check(std::optional<std::chrono::seconds> retry_after, timestamp now,
                         std::chrono::seconds poll_min, std::chrono::seconds poll_max);

/// When to retry after a failure at `failed_at`. failure_count counts consecutive failures
/// including this one (0 is treated as 1). The table's delay applies unless the CA's
/// Retry-After is longer; Retry-After is capped at pol.max_retry_after.
timestamp retry_at(std::uint32_t failure_count, timestamp failed_at,
                   std::optional<std::chrono::seconds> retry_after, const policy& pol);

}  // namespace certfleet::actors
