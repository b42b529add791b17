#include "actors/ca_limits.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace certfleet::actors {

namespace {

using namespace std::chrono_literals;

constexpr std::chrono::seconds week = std::chrono::days{7};

// https://letsencrypt.org/docs/rate-limits/ (2025): the per-account order limit is the
// order_budget directive; these are the rest that an HTTP-01 client can meet.
constexpr std::array<ca_limit, 3> lets_encrypt = {{
    // "New Certificates per Registered Domain": 50 per 7 days, refills 1 per 202 minutes.
    // Counted at issuance, up to an attempt (30 minutes) after the order starts.
    {limit_scope::registered_domain, 50, week, /*renewals_count=*/false, 30min},
    // "New Certificates per Exact Set of Identifiers": 5 per 7 days, 1 per 34 hours.
    {limit_scope::name_set, 5, week, /*renewals_count=*/true, 30min},
    // "Authorization Failures per Identifier per Account": 5 per hour, 1 per 12 minutes.
    // The CA counts a failure before the client hears of it: never later than the client.
    {limit_scope::hostname_failures, 5, 1h, /*renewals_count=*/true, 0s},
}};

bool contains(std::string_view text, std::string_view lower_needle) {
  auto it =
      std::search(text.begin(), text.end(), lower_needle.begin(), lower_needle.end(),
                  [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
  return it != text.end();
}

std::string slot(limit_scope scope, const std::string& key) {
  std::string out;
  out.reserve(key.size() + 1);
  out.push_back(static_cast<char>('0' + static_cast<int>(scope)));
  out += key;
  return out;
}

}  // namespace

std::string_view scope_name(limit_scope s) {
  switch (s) {
    case limit_scope::account:
      return "account";
    case limit_scope::registered_domain:
      return "registered_domain";
    case limit_scope::name_set:
      return "name_set";
    case limit_scope::hostname_failures:
      return "hostname_failures";
  }
  return "account";
}

std::span<const ca_limit> lets_encrypt_limits() { return lets_encrypt; }

limit_scope scope_of_rate_limit(std::string_view d) {
  // Let's Encrypt's problem details name the limit and link its section of the page.
  if (contains(d, "failed authorizations") || contains(d, "authorization-failures") ||
      contains(d, "authorization failures"))
    return limit_scope::hostname_failures;
  if (contains(d, "exact set") || contains(d, "duplicate certificate"))
    return limit_scope::name_set;
  if (contains(d, "registered-domain") || contains(d, "registered domain") ||
      contains(d, "certificates already issued for \"") ||
      contains(d, "certificates (50) already issued"))
    return limit_scope::registered_domain;
  return limit_scope::account;
}

bool counts_as_failed_authorization(const error& e) {
  switch (e.kind) {
    case error_kind::caa:
    case error_kind::connection:
    case error_kind::dns:
    case error_kind::incorrect_response:
    case error_kind::tls:
    case error_kind::unauthorized:
      return true;
    default:
      return false;
  }
}

limit_ledger::duration limit_ledger::interval(const ca_limit& limit) {
  return std::chrono::duration_cast<duration>(limit.period) /
         std::max<std::uint32_t>(1, limit.burst);
}

limit_ledger::duration limit_ledger::tolerance(const ca_limit& limit) {
  return std::chrono::duration_cast<duration>(limit.period);
}

limit_ledger::time_point limit_ledger::available_at(const ca_limit& limit, const std::string& key,
                                                    time_point now) const {
  auto found = full_at_.find(slot(limit.scope, key));
  if (found == full_at_.end()) return now;
  const auto later = std::chrono::duration_cast<duration>(limit.ca_counts_later);
  return std::max(now, found->second + later - (tolerance(limit) - interval(limit)));
}

void limit_ledger::spend(const ca_limit& limit, const std::string& key, time_point now) {
  auto [it, fresh] = full_at_.try_emplace(slot(limit.scope, key), now);
  it->second = std::max(it->second, now) + interval(limit);
}

void limit_ledger::refund(const ca_limit& limit, const std::string& key, time_point now) {
  auto found = full_at_.find(slot(limit.scope, key));
  if (found == full_at_.end()) return;
  found->second -= interval(limit);
  if (found->second <= now) full_at_.erase(found);
}

void limit_ledger::block_until(const ca_limit& limit, const std::string& key, time_point until) {
  auto [it, fresh] = full_at_.try_emplace(slot(limit.scope, key), until);
  // available_at adds the CA's lag; the CA's own Retry-After already includes it.
  it->second =
      std::max(it->second, until + tolerance(limit) - interval(limit) -
                               std::chrono::duration_cast<duration>(limit.ca_counts_later));
}

void limit_ledger::forget_full(time_point now) {
  std::erase_if(full_at_, [now](const auto& kv) { return kv.second <= now; });
}

}  // namespace certfleet::actors
