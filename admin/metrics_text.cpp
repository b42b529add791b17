#include "admin/metrics_text.hpp"

#include <cstdio>

#include "actors/domain_fsm.hpp"

namespace certfleet::admin {
namespace {

// A Prometheus float: integers exactly (up to 10^15), others to 15 significant digits.
std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  return buf;
}

class writer {
 public:
  void family(const char* name, const char* type, const char* help) {
    out_ += std::string("# HELP certfleet_") + name + " " + help + "\n# TYPE certfleet_" + name +
            " " + type + "\n";
  }
  void sample(const std::string& name, const std::string& labels, double v) {
    out_ +=
        "certfleet_" + name + (labels.empty() ? "" : "{" + labels + "}") + " " + number(v) + "\n";
  }
  void one(const char* name, const char* type, const char* help, double v) {
    family(name, type, help);
    sample(name, "", v);
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

double load(const std::atomic<std::uint64_t>& a) {
  return static_cast<double>(a.load(std::memory_order_relaxed));
}

void fleet(writer& w, const fleet_summary& f, timestamp now) {
  w.family("domains", "gauge", "Configured domains by phase of their state machine.");
  for (std::size_t p = 0; p < f.by_phase.size(); ++p)
    w.sample(
        "domains",
        "phase=\"" + std::string(actors::phase_name(static_cast<storage::domain_phase>(p))) + "\"",
        static_cast<double>(f.by_phase[p]));
  w.one("domains_failing", "gauge", "Configured domains whose last attempt failed.",
        static_cast<double>(f.failing));
  w.one("domains_warning", "gauge",
        "Configured domains with a renewal warning (certfleet warnings).",
        static_cast<double>(f.warning));
  w.one("certificates", "gauge", "Configured domains with a certificate.",
        static_cast<double>(f.with_certificate));
  w.one("certificates_expired", "gauge", "Certificates of configured domains past their expiry.",
        static_cast<double>(f.expired));
  w.family("certificates_expiring", "gauge",
           "Certificates not yet expired that expire within the given number of days.");
  for (std::size_t i = 0; i < expiry_windows_days.size(); ++i)
    w.sample("certificates_expiring",
             "within_days=\"" + std::to_string(expiry_windows_days[i]) + "\"",
             static_cast<double>(f.expiring_within[i]));
  w.family("certificate_soonest_expiry_seconds", "gauge",
           "Seconds until the soonest certificate expiry (negative: expired); no sample "
           "without certificates.");
  if (f.soonest_expiry != no_time)
    w.sample("certificate_soonest_expiry_seconds", "",
             std::chrono::duration<double>(f.soonest_expiry - now).count());
}

void orders(writer& w, const order_gauges& o) {
  w.one("acme_service_up", "gauge", "1 when the ACME service answered this scrape in time.",
        o.answered ? 1 : 0);
  w.one("orders_in_flight", "gauge", "ACME orders running now.", static_cast<double>(o.in_flight));
  w.one("orders_in_flight_max", "gauge", "orders_in_flight: the most that may run at once.",
        static_cast<double>(o.max_in_flight));
  w.one("orders_queued", "gauge", "Domains waiting for the order budget or a free order slot.",
        static_cast<double>(o.queued));
  w.one("order_budget_available", "gauge", "New orders the order budget lets start now.",
        static_cast<double>(o.budget_available));
  w.one("ca_pause_seconds", "gauge", "Left of a pause after the CA answered rateLimited.",
        static_cast<double>(o.paused_seconds));
}

void ca_requests(writer& w, const metrics::registry& m) {
  w.family("ca_requests_total", "counter", "Requests to the ACME CA by endpoint and result.");
  for (std::size_t e = 0; e < metrics::ca_endpoint_count; ++e)
    for (std::size_t r = 0; r < metrics::ca_result_count; ++r)
      w.sample("ca_requests_total",
               "endpoint=\"" + std::string(metrics::name_of(static_cast<metrics::ca_endpoint>(e))) +
                   "\",result=\"" +
                   std::string(metrics::name_of(static_cast<metrics::ca_result>(r))) + "\"",
               load(m.ca_requests[e][r]));
  w.family("ca_request_duration_seconds", "histogram",
           "How long requests to the ACME CA took, by endpoint.");
  for (std::size_t e = 0; e < metrics::ca_endpoint_count; ++e) {
    const std::string endpoint =
        "endpoint=\"" + std::string(metrics::name_of(static_cast<metrics::ca_endpoint>(e))) + "\"";
    const auto& h = m.ca_latency[e];
    double cumulative = 0;
    for (std::size_t b = 0; b < metrics::latency_bounds.size(); ++b) {
      cumulative += load(h.buckets[b]);
      w.sample("ca_request_duration_seconds_bucket",
               endpoint + ",le=\"" + number(metrics::latency_bounds[b]) + "\"", cumulative);
    }
    cumulative += load(h.buckets.back());
    w.sample("ca_request_duration_seconds_bucket", endpoint + ",le=\"+Inf\"", cumulative);
    w.sample("ca_request_duration_seconds_sum", endpoint, load(h.sum_us) / 1e6);
    w.sample("ca_request_duration_seconds_count", endpoint, cumulative);
  }
}

void outcomes(writer& w, const metrics::registry& m) {
  w.family("self_check_failures_total", "counter", "Failed self-checks by reason.");
  for (std::size_t f = 0; f < metrics::self_check_failure_count; ++f)
    w.sample("self_check_failures_total",
             "reason=\"" +
                 std::string(metrics::name_of(static_cast<metrics::self_check_failure>(f))) + "\"",
             load(m.self_check_failures[f]));
  w.one("certificates_issued_total", "counter", "First certificates of a domain issued.",
        load(m.certificates_issued));
  w.one("renewals_total", "counter", "Certificates issued to replace one.", load(m.renewals));
  w.one("attempt_failures_total", "counter", "Registration or renewal attempts that failed.",
        load(m.attempt_failures));
  w.one("state_save_failures_total", "counter", "Commits of the state that failed.",
        load(m.save_failures));
  w.one("state_last_save_timestamp_seconds", "gauge",
        "Unix time of the last durable commit of the state; 0 before the first.",
        static_cast<double>(m.last_save_unix.load(std::memory_order_relaxed)));
  w.family("warning_hook_runs_total", "counter", "Runs of warning_hook by how they ended.");
  for (std::size_t r = 0; r < metrics::hook_result_count; ++r)
    w.sample(
        "warning_hook_runs_total",
        "result=\"" + std::string(metrics::name_of(static_cast<metrics::hook_result>(r))) + "\"",
        load(m.warning_hook_runs[r]));
  w.one("alerting_domains", "gauge",
        "Domains in warning or within expiry_alert_days at warning_hook's last scan.",
        load(m.alerting_domains));
  if (const auto active = m.cluster_active.load(std::memory_order_relaxed); active >= 0) {
    w.one("cluster_node_active", "gauge",
          "1 while this node takes part in its cluster (orders its domains), 0 while not.",
          static_cast<double>(active));
    w.one("cluster_members", "gauge", "Nodes in the cluster's agreed member list.",
          load(m.cluster_members));
    w.one("cluster_etcd_up", "gauge", "1 while etcd answers this node, 0 while not.",
          load(m.cluster_etcd_up));
  }
}

}  // namespace

std::string render_metrics(const fleet_summary& fleet_numbers, const order_gauges& order_numbers,
                           const metrics::registry& counters, timestamp now) {
  writer w;
  fleet(w, fleet_numbers, now);
  orders(w, order_numbers);
  ca_requests(w, counters);
  outcomes(w, counters);
  return w.take();
}

}  // namespace certfleet::admin
