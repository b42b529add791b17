#include "actors/renewal_policy.hpp"

#include <algorithm>
#include <cassert>
#include <string>

namespace certfleet::actors {

using namespace std::chrono_literals;
using std::chrono::microseconds;

const policy& default_policy() {
  static const policy p{
      .retry_delays = {1min, 2min, 5min, 10min, 30min, 1h, 2h, 4h, 8h, 12h},
  };
  return p;
}

std::uint64_t fnv1a64(std::string_view s) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

microseconds renewal_jitter(microseconds lifetime, std::string_view domain) {
  if (lifetime <= microseconds::zero()) return microseconds::zero();
  const microseconds bound = std::min<microseconds>(lifetime / jitter_divisor, jitter_max);
  const auto span = static_cast<std::uint64_t>(bound.count()) + 1;
  return microseconds{static_cast<microseconds::rep>(fnv1a64(domain) % span)};
}

timestamp renewal_point(timestamp not_before, timestamp not_after, std::string_view domain) {
  const microseconds lifetime = not_after - not_before;
  if (lifetime <= microseconds::zero()) return not_after;
  microseconds threshold;
  if (lifetime >= short_lived_below) {
    threshold = std::min<microseconds>(renew_before_max, lifetime / renewal_divisor);
  } else {
    threshold = lifetime / 2;
  }
  return not_after - threshold - renewal_jitter(lifetime, domain);
}

timestamp ari_renewal_point(timestamp start, timestamp end, std::string_view domain,
                            timestamp fallback, timestamp now) {
  if (end <= start) return fallback;
  if (end <= now) return std::min(now, fallback);
  // The window's start is part of the key, so a moved window (a revocation) gets a new draw.
  std::string key(domain);
  key += '@';
  key += std::to_string(to_unix_us(start));
  const auto span = static_cast<std::uint64_t>((end - start).count());
  const timestamp moment =
      start + microseconds{static_cast<microseconds::rep>(fnv1a64(key) % span)};
  return std::min(std::max(moment, now), fallback);
}

ari_poll_bounds ari_poll_bounds_for(microseconds lifetime, const policy& pol) {
  using std::chrono::seconds;
  const auto of_lifetime = [&](int divisor) {
    return std::max(seconds{1}, std::chrono::duration_cast<seconds>(lifetime / divisor));
  };
  const seconds low = std::min(pol.ari_poll_min, of_lifetime(20));
  return {low, std::max(low, std::min(pol.ari_poll_max, of_lifetime(4)))};
}

timestamp ari_first_check(std::string_view domain, timestamp now, std::chrono::seconds spread) {
  const auto span = static_cast<std::uint64_t>(std::chrono::microseconds{spread}.count()) + 1;
  // Not renewal_jitter's hash input: the two spreads must not line up.
  const std::uint64_t h = fnv1a64(std::string{"ari:"} + std::string{domain});
  return now + microseconds{static_cast<microseconds::rep>(h % span)};
}

timestamp ari_next_check(std::optional<std::chrono::seconds> retry_after, timestamp now,
                         std::chrono::seconds poll_min, std::chrono::seconds poll_max) {
  const std::chrono::seconds wait = std::clamp(retry_after.value_or(poll_min), poll_min, poll_max);
  return now + wait;
}

timestamp retry_at(std::uint32_t failure_count, timestamp failed_at,
                   std::optional<std::chrono::seconds> retry_after, const policy& pol) {
  assert(!pol.retry_delays.empty() && "policy.retry_delays must not be empty");
  std::chrono::seconds delay = pol.max_retry_delay;
  if (!pol.retry_delays.empty()) {
    const std::size_t n = std::max<std::uint32_t>(failure_count, 1);
    delay = pol.retry_delays[std::min(n, pol.retry_delays.size()) - 1];
  }
  delay = std::clamp(delay, std::chrono::seconds::zero(), pol.max_retry_delay);
  if (retry_after) {
    const auto after = std::clamp(*retry_after, std::chrono::seconds::zero(), pol.max_retry_after);
    delay = std::max(delay, after);
  }
  return failed_at + delay;
}

}  // namespace certfleet::actors
