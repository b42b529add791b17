#pragma once
// The status page's domain list: which domains a request asks for (search text, a filter, a
// page), matched while the stored records stream past, so 100k domains are one pass and only
// one page of them is kept.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.hpp"
#include "storage/records.hpp"

namespace certfleet::admin {

enum class domain_filter : std::uint8_t {
  problems,  ///< failing, in the renewal warning, expired, or waiting for Let's Encrypt
  all,
  failing,   ///< the last attempt failed
  warning,   ///< the seed's renewal warning is due
  expiring,  ///< the certificate expires within 30 days (or has expired)
};
std::string_view to_string(domain_filter f);

struct domain_query {
  std::string search;  ///< part of the name, lower case; empty: any
  domain_filter filter = domain_filter::problems;
  std::size_t page = 1;  ///< from 1
  std::size_t per_page = 50;
};

/// Reads ?q=&show=&page=&per_page= from a request target. Unknown or bad values fall back to
/// the defaults (a page is a view, not a command); per_page is at most 500.
domain_query parse_domain_query(std::string_view target);

/// The same query as a target's query string ("?q=...&show=...&page=N"), for paging links.
std::string query_string(const domain_query& q, std::size_t page);

bool matches(const domain_query& q, const storage::domain_record& r, timestamp now);

/// Collects one page of matching configured domains from records given in name order.
struct domain_page {
  std::size_t matching = 0;  ///< how many domains match, on every page
  std::vector<storage::domain_record> rows;
  std::size_t pages(std::size_t per_page) const {
    return matching == 0 ? 1 : (matching + per_page - 1) / per_page;
  }
  void add(const domain_query& q, const storage::domain_record& r, timestamp now);
};

}  // namespace certfleet::admin
