#pragma once
// What the admin listener (admin_listen) answers: /metrics for Prometheus, a bearer token when
// one is configured. A pure function of the request and its sources, so tests drive it
// without a socket.

#include <functional>
#include <string>

#include "admin/fleet_summary.hpp"
#include "admin/metrics_text.hpp"
#include "protocol/net/http_server.hpp"

namespace certfleet::admin {

/// Where the pages get their numbers; each is called once per request that needs it.
struct admin_sources {
  std::string token;  ///< the bearer token requests must carry; empty: none is needed
  std::function<fleet_summary()> fleet;
  std::function<order_gauges()> orders;
  std::function<timestamp()> now;
};

/// The Prometheus text exposition format's content type.
inline constexpr const char* metrics_content_type = "text/plain; version=0.0.4; charset=utf-8";

/// 401 without the token (when one is set), the metrics at /metrics, an index at /, else 404.
protocol::plain_response answer_admin(const protocol::plain_request& request,
                                      const admin_sources& sources);

}  // namespace certfleet::admin
