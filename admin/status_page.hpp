#pragma once
// The status page on admin_listen: the fleet at a glance (counts, an expiry histogram), then
// the domains a query asks for (failing and warning first) with their errors, and the JSON
// API behind it. Server-rendered HTML with inline CSS and SVG and no script: it works offline,
// and nothing on it runs in the reader's browser. Pure functions of their inputs.

#include <cstdint>
#include <map>
#include <string>

#include "admin/domain_query.hpp"
#include "admin/fleet_summary.hpp"
#include "admin/metrics_text.hpp"

namespace certfleet::admin {

struct status_view {
  const fleet_summary& fleet;
  const order_gauges& orders;
  const domain_query& query;
  const domain_page& page;
  timestamp now;
  std::string node;  ///< this host, in the title
  /// The queued rows' places in the order queue (admin_sources::queue_places).
  std::map<std::string, std::int64_t> places = {};
};

/// The page: every text from a record (names, CA errors) is HTML-escaped.
std::string render_status_html(const status_view& view);

/// GET /api/summary: the fleet's numbers, the histogram with its bins, the order queue.
std::string render_summary_json(const fleet_summary& fleet, const order_gauges& orders,
                                timestamp now);

/// GET /api/domains: {"matching", "page", "pages", "per_page", "domains": [{"domain",
/// "phase", "has_cert", "cert_expiration_time", "failing", "warning", "error",
/// "last_failure_time", "next_retry_time", "queue_place"}]}; queue_place is null unless the
/// domain waits in the order queue (0: held by a CA limit).
std::string render_domains_json(const domain_query& query, const domain_page& page, timestamp now,
                                const std::map<std::string, std::int64_t>& places);

}  // namespace certfleet::admin
