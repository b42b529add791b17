#pragma once
// What the admin listener (admin_listen) answers: the status page at /, its JSON API
// (/api/summary, /api/domains) and /metrics for Prometheus; the token when one is configured.
// A pure function of the request and its sources, so tests drive it without a socket.

#include <functional>
#include <string>

#include "admin/fleet_summary.hpp"
#include "admin/metrics_text.hpp"
#include "protocol/net/http_server.hpp"

namespace certfleet::admin {

/// Where the pages get their numbers; each is called once per request that needs it.
struct admin_sources {
  std::string token;  ///< the bearer token requests must carry; empty: none is needed
  /// Every stored record in name order, from one snapshot: one pass per request.
  std::function<void(const std::function<void(const storage::domain_record&)>&)> for_each_domain;
  std::function<order_gauges()> orders;
  std::function<timestamp()> now;
  /// Each queued domain's place in the order queue (1: next; 0: held by a CA limit; -1: not
  /// waiting), asked for the rows of one page only. Unset: places are not shown.
  std::function<std::vector<std::int64_t>(const std::vector<std::string>&)> queue_places;
  std::string node;  ///< this host, in the page's title
};

/// The fleet's numbers from one pass over the records.
fleet_summary summarize(const admin_sources& sources, timestamp now);

/// The Prometheus text exposition format's content type.
inline constexpr const char* metrics_content_type = "text/plain; version=0.0.4; charset=utf-8";

/// 401 without the token (when one is set; with a Basic challenge so a browser asks for it),
/// else the page or document asked for, else 404.
protocol::plain_response answer_admin(const protocol::plain_request& request,
                                      const admin_sources& sources);

}  // namespace certfleet::admin
