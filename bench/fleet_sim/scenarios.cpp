#include "bench/fleet_sim/scenarios.hpp"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>

namespace certfleet::sim {

namespace {

using namespace std::chrono_literals;
using criteria = std::vector<std::string>;

void expect(criteria& out, bool ok, const std::string& what) {
  if (!ok) out.push_back(what);
}

// What every scenario must hold: no certificate of a healthy domain expires, the CA never
// has to refuse an order (no limit breached), no duplicate order, no failure that is not
// the CA's or the domain's, and the in-flight cap holds.
criteria common(const fleet_settings& s, const fleet_result& r) {
  criteria out;
  expect(out, r.expiries_healthy == 0,
         std::to_string(r.expiries_healthy) + " certificates of healthy domains expired");
  expect(out, r.ca.rate_limited == 0,
         std::to_string(r.ca.rate_limited) + " orders refused by the CA's limits");
  expect(out, r.ca.duplicates == 0, std::to_string(r.ca.duplicates) + " duplicate orders");
  expect(out, r.false_failures == 0, std::to_string(r.false_failures) + " false failures");
  expect(out, r.max_in_flight <= s.orders_in_flight, "more orders in flight than orders_in_flight");
  // A token bucket lets `orders` go at once and `orders` more over the period.
  expect(out, r.max_orders_3h <= 2ull * s.budget.orders * 10800 / s.budget.per.count(),
         "orders in 3 hours above what the budget allows");
  return out;
}

double min_days(const fleet_result& r) {
  return r.expiry_min_days.empty()
             ? 0.0
             : *std::min_element(r.expiry_min_days.begin(), r.expiry_min_days.end());
}

// The first certificate of every healthy domain, as the budget allows: the burst at once,
// then one order per period / orders.
double expected_hours(const fleet_settings& s, std::uint64_t orders) {
  const double per_order = static_cast<double>(s.budget.per.count()) / s.budget.orders;
  return std::max(0.0, static_cast<double>(orders) - s.budget.orders) * per_order / 3600;
}

}  // namespace

std::vector<scenario> all_scenarios(std::size_t domains, int days, order_budget budget) {
  fleet_settings base;
  base.domains = domains;
  base.days = days;
  base.budget = budget;
  std::vector<scenario> out;

  {
    scenario sc{"onboarding", "every domain new at once: issued at the budget's pace, in order",
                base};
    sc.settings.start_new = true;
    sc.check = [](const fleet_settings& s, const fleet_result& r) {
      criteria c = common(s, r);
      const double want = expected_hours(s, r.healthy);
      expect(c, r.hours_to_issue_all_healthy > 0, "not every domain was issued");
      expect(c, std::abs(r.hours_to_issue_all_healthy - want) <= 0.05 * want + 1,
             "all issued after " + std::to_string(r.hours_to_issue_all_healthy) + " h, not " +
                 std::to_string(want) + " h +-5%");
      return c;
    };
    out.push_back(sc);
  }
  for (int lifetime : {90, 64, 45}) {
    scenario sc{"year_" + std::to_string(lifetime) + "d",
                "a year of renewals of " + std::to_string(lifetime) + "-day certificates", base};
    sc.settings.start_new = false;
    sc.settings.lifetime = std::chrono::hours(24 * lifetime);
    if (lifetime == 90) {
      sc.check = [](const fleet_settings& s, const fleet_result& r) {
        criteria c = common(s, r);
        // Hours at 100k (~70 orders each); at small fleets an hour holds a handful and its
        // count is noise, so windows long enough to expect 20 orders.
        const double mean = std::max(r.mean_orders_per_hour, 1e-9);
        const auto window = static_cast<std::size_t>(std::ceil(20 / mean));
        const std::uint64_t busiest =
            busiest_window(r.orders_per_hour, std::max<std::size_t>(1, window));
        expect(c,
               static_cast<double>(busiest) <=
                   2 * mean * static_cast<double>(std::max<std::size_t>(1, window)),
               "a " + std::to_string(window) + "-hour window with " + std::to_string(busiest) +
                   " orders, more than twice the mean");
        expect(c, min_days(r) >= 20,
               "a certificate came within " + std::to_string(min_days(r)) +
                   " days of expiry (renewal starts at 30)");
        return c;
      };
    } else {
      // Report only: shows whether the budget keeps up without ARI (the ari_ scenarios).
      sc.check = [](const fleet_settings&, const fleet_result&) { return criteria{}; };
    }
    out.push_back(sc);
  }
  // RFC 9773 at a CA that offers it (Let's Encrypt): renewals inside the window spend no
  // budget, and a mass revocation of 10% is replaced within a day. Two lifetimes are every
  // renewal twice: the polling load (4 requests per certificate a day) makes a longer run
  // cost minutes at 100k and show nothing more.
  for (int lifetime : {90, 45}) {
    const int ari_days = std::min(days, 2 * lifetime);
    scenario sc{"ari_" + std::to_string(lifetime) + "d",
                "renewal windows (ARI) with " + std::to_string(lifetime) +
                    "-day certificates, and 10% revoked at once on day " +
                    std::to_string(ari_days / 2),
                base};
    sc.settings.days = ari_days;
    sc.settings.start_new = false;
    sc.settings.lifetime = std::chrono::hours(24 * lifetime);
    sc.settings.ari = true;
    sc.settings.revocation_day = ari_days / 2;
    sc.check = [](const fleet_settings& s, const fleet_result& r) {
      criteria c = common(s, r);
      expect(c, r.revoked > 0, "nothing was revoked");
      // The CA's revocation window is 24 h, and a domain hears of it at its next request
      // (within 6 h): all replaced by the window's end after that.
      expect(c, r.hours_to_replace_revoked >= 0 && r.hours_to_replace_revoked <= 30,
             "revoked certificates replaced after " + std::to_string(r.hours_to_replace_revoked) +
                 " h, not within 24 + 6 h");
      // RFC 9773 asks for polling no faster than the CA's Retry-After (6 h here).
      const double per_cert_day = static_cast<double>(r.ca.ari_requests) /
                                  static_cast<double>(s.domains) / std::max(1, s.days);
      expect(c, per_cert_day <= 4.05,
             std::to_string(per_cert_day) + " renewalInfo requests per certificate a day");
      expect(c, r.ca.ari_exempt > 0, "no renewal went as an ARI replacement");
      return c;
    };
    out.push_back(sc);
  }
  {
    scenario sc{"broken_5pct",
                "5% broken (4% fail the self-check, 1% fail at the CA): they cost the healthy "
                "nothing, trip no limit, and warn",
                base};
    sc.settings.start_new = true;
    sc.settings.broken_dns = 0.04;
    sc.settings.broken_at_ca = 0.01;
    sc.check = [](const fleet_settings& s, const fleet_result& r) {
      criteria c = common(s, r);
      // Each domain broken at the CA spends one order before it counts as failing.
      const double want = expected_hours(
          s, r.healthy + static_cast<std::uint64_t>(s.broken_at_ca * s.domains * 1.2));
      expect(c, r.hours_to_issue_all_healthy > 0 && r.hours_to_issue_all_healthy <= want * 1.05 + 1,
             "healthy domains issued after " + std::to_string(r.hours_to_issue_all_healthy) +
                 " h, more than " + std::to_string(want) + " h +5%");
      expect(c, r.ca.breach_failures == 0, "a failed-validation limit was breached");
      expect(c, r.warnings_broken_end == r.broken, "a broken domain does not warn");
      expect(c, r.warnings_healthy_end == 0, "a healthy domain warns");
      return c;
    };
    out.push_back(sc);
  }
  for (int hours : {24, 72}) {
    scenario sc{"outage_" + std::to_string(hours) + "h",
                "the CA down for " + std::to_string(hours) + " h: nothing expires, no herd after",
                base};
    sc.settings.start_new = false;
    sc.settings.outages = {outage{days / 3, std::chrono::hours(hours)}};
    sc.check = common;
    out.push_back(sc);
  }
  {
    scenario sc{"restarts", "50 daemon restarts at random moments: nothing lost, nothing twice",
                base};
    sc.settings.start_new = false;
    sc.settings.restarts = 50;
    sc.check = [](const fleet_settings& s, const fleet_result& r) {
      criteria c = common(s, r);
      expect(c, r.valid_healthy_end == r.healthy,
             "a healthy domain ends without a valid certificate");
      return c;
    };
    out.push_back(sc);
  }
  return out;
}

std::string summary_json(const scenario& sc, const fleet_result& r,
                         const std::vector<std::string>& failed, double seconds) {
  const fleet_settings& s = sc.settings;
  nlohmann::json j = {
      {"scenario", sc.name},
      {"question", sc.question},
      {"domains", s.domains},
      {"days", s.days},
      {"lifetime_days", s.lifetime.count() / 24},
      {"budget",
       std::to_string(s.budget.orders) + " per " + std::to_string(s.budget.per.count()) + "s"},
      {"passed", failed.empty()},
      {"failed", failed},
      {"seconds", std::round(seconds * 100) / 100},
      {"expiries", r.expiries_healthy},
      {"breaches", r.ca.rate_limited},
      {"breaches_by_limit",
       {{"account", r.ca.breach_account},
        {"registered_domain", r.ca.breach_registered},
        {"name_set", r.ca.breach_name},
        {"hostname_failures", r.ca.breach_failures}}},
      {"duplicates", r.ca.duplicates},
      {"false_failures", r.false_failures},
      {"orders", r.ca.orders_created},
      {"certificates", r.ca.certificates},
      {"failed_validations", r.ca.failed_authorizations},
      {"outage_refusals", r.ca.outage_refusals},
      {"hours_to_issue_all_healthy", std::round(r.hours_to_issue_all_healthy * 10) / 10},
      {"mean_orders_per_hour", std::round(r.mean_orders_per_hour * 10) / 10},
      {"max_orders_per_hour", r.max_orders_per_hour},
      {"max_orders_3h", r.max_orders_3h},
      {"max_in_flight", r.max_in_flight},
      {"healthy", r.healthy},
      {"broken", r.broken},
      {"warnings_healthy_end", r.warnings_healthy_end},
      {"warnings_broken_end", r.warnings_broken_end},
      {"min_days_to_expiry", std::round(min_days(r) * 10) / 10},
      {"transitions", r.transitions},
      {"ari", s.ari},
      {"ari_requests", r.ca.ari_requests},
      {"ari_requests_per_hour_mean",
       std::round(static_cast<double>(r.ca.ari_requests) /
                  std::max<double>(1, static_cast<double>(r.ari_requests_per_hour.size())) * 10) /
           10},
      {"ari_requests_per_hour_max", busiest_window(r.ari_requests_per_hour, 1)},
      {"ari_exempt_orders", r.ca.ari_exempt},
      {"revoked", r.revoked},
      {"hours_to_replace_revoked", std::round(r.hours_to_replace_revoked * 10) / 10},
  };
  return j.dump();
}

namespace {

// One panel: lines of values over `n` points, scaled to the panel.
void panel(std::ostringstream& svg, double top, const std::string& title,
           const std::vector<std::pair<std::string, std::vector<double>>>& lines) {
  const double width = 900, height = 160, left = 60;
  double max_v = 1;
  std::size_t n = 1;
  for (const auto& [name, v] : lines) {
    for (double x : v) max_v = std::max(max_v, x);
    n = std::max(n, v.size());
  }
  svg << "<text x='" << left << "' y='" << top - 6 << "' font-size='13'>" << title << " (max "
      << std::round(max_v * 10) / 10 << ")</text>\n";
  svg << "<rect x='" << left << "' y='" << top << "' width='" << width << "' height='" << height
      << "' fill='none' stroke='#999'/>\n";
  const char* colours[] = {"#1f77b4", "#d62728", "#2ca02c"};
  // At most one point per pixel column: the largest value of its span (a peak stays visible).
  const std::size_t span =
      (n + static_cast<std::size_t>(width) - 1) / static_cast<std::size_t>(width);
  std::size_t k = 0;
  svg << std::fixed << std::setprecision(1);
  for (const auto& [name, v] : lines) {
    svg << "<polyline fill='none' stroke-width='1' stroke='" << colours[k % 3] << "' points='";
    for (std::size_t i = 0; i < v.size(); i += span) {
      const double peak =
          *std::max_element(v.begin() + static_cast<std::ptrdiff_t>(i),
                            v.begin() + static_cast<std::ptrdiff_t>(std::min(i + span, v.size())));
      svg << left + width * static_cast<double>(i) / static_cast<double>(n) << ','
          << top + height - height * peak / max_v << ' ';
    }
    svg << "'/>\n<text x='" << left + width - 150 << "' y='" << top + 14 + 14 * k
        << "' font-size='11' fill='" << colours[k % 3] << "'>" << name << "</text>\n";
    ++k;
  }
}

std::vector<double> as_doubles(const std::vector<std::uint32_t>& v) {
  return std::vector<double>(v.begin(), v.end());
}

}  // namespace

std::string picture_svg(const scenario& sc, const fleet_result& r) {
  std::ostringstream svg;
  svg << "<svg xmlns='http://www.w3.org/2000/svg' width='980' height='640' "
         "font-family='sans-serif'>\n"
      << "<rect width='100%' height='100%' fill='white'/>\n"
      << "<text x='60' y='22' font-size='15'>fleet_sim " << sc.name << ": " << sc.settings.domains
      << " domains, " << sc.settings.days << " days, " << sc.settings.lifetime.count() / 24
      << "-day certificates</text>\n";
  panel(svg, 60, "orders per hour", {{"orders", as_doubles(r.orders_per_hour)}});
  panel(svg, 260, "orders waiting in the queue (hourly)",
        {{"waiting", as_doubles(r.backlog_per_hour)}});
  panel(svg, 460, "days to expiry of healthy domains (daily)",
        {{"median", r.expiry_p50_days},
         {"1st percentile", r.expiry_p1_days},
         {"minimum", r.expiry_min_days}});
  svg << "</svg>\n";
  return svg.str();
}

}  // namespace certfleet::sim
