#include "admin/status_page.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>

#include "actors/domain_fsm.hpp"

namespace certfleet::admin {

namespace {

using nlohmann::json;

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

json time_or_null(timestamp t) {
  if (t == no_time) return nullptr;
  return format_rfc3339(t);
}

std::string day_of(timestamp t) { return format_rfc3339(t).substr(0, 10); }

// "in 12 days", "in 5 hours", "3 days ago".
std::string relative(timestamp t, timestamp now) {
  const auto d = t - now;
  const bool past = d.count() < 0;
  const auto abs = past ? -d : d;
  const auto days = std::chrono::duration_cast<std::chrono::days>(abs).count();
  const auto hours = std::chrono::duration_cast<std::chrono::hours>(abs).count();
  const std::string amount = days >= 2    ? std::to_string(days) + " days"
                             : hours >= 2 ? std::to_string(hours) + " hours"
                                          : "less than 2 hours";
  return past ? amount + " ago" : "in " + amount;
}

std::string histogram_label(std::size_t bin) {
  if (bin == 0) return "<" + std::to_string(expiry_histogram_days[0]) + "d";
  if (bin == expiry_histogram_days.size())
    return std::to_string(expiry_histogram_days.back()) + "d+";
  return std::to_string(expiry_histogram_days[bin - 1]) + "-" +
         std::to_string(expiry_histogram_days[bin]) + "d";
}

// Bars of certificates by days left, red under a week, amber under the renewal point.
std::string histogram_svg(const fleet_summary& f) {
  constexpr int width = 720, height = 180, top = 20, bottom = 30;
  const std::size_t bins = f.expiry_histogram.size();
  const std::uint64_t most = std::max<std::uint64_t>(
      1, *std::max_element(f.expiry_histogram.begin(), f.expiry_histogram.end()));
  const int slot = width / static_cast<int>(bins);
  std::string out = "<svg id=\"expiry-histogram\" role=\"img\" viewBox=\"0 0 " +
                    std::to_string(width) + " " + std::to_string(height) + "\" width=\"" +
                    std::to_string(width) + "\" height=\"" + std::to_string(height) +
                    "\"><title>Certificates by days until expiry</title>";
  for (std::size_t i = 0; i < bins; ++i) {
    const std::uint64_t n = f.expiry_histogram[i];
    const int h = static_cast<int>((height - top - bottom) * n / most);
    const int x = static_cast<int>(i) * slot + 6;
    const int y = height - bottom - h;
    const char* colour = i == 0 ? "#c62828" : (i < 4 ? "#ef8f00" : "#2e7d32");
    out += "<rect class=\"bar\" data-bin=\"" + histogram_label(i) + "\" data-count=\"" +
           std::to_string(n) + "\" x=\"" + std::to_string(x) + "\" y=\"" + std::to_string(y) +
           "\" width=\"" + std::to_string(slot - 12) + "\" height=\"" + std::to_string(h) +
           "\" fill=\"" + colour + "\"><title>" + std::to_string(n) + " expiring " +
           histogram_label(i) + "</title></rect>";
    out += "<text x=\"" + std::to_string(x + (slot - 12) / 2) + "\" y=\"" + std::to_string(y - 4) +
           "\" text-anchor=\"middle\" font-size=\"12\">" + std::to_string(n) + "</text>";
    out += "<text x=\"" + std::to_string(x + (slot - 12) / 2) + "\" y=\"" +
           std::to_string(height - bottom + 16) +
           "\" text-anchor=\"middle\" font-size=\"12\" fill=\"#555\">" + histogram_label(i) +
           "</text>";
  }
  return out + "</svg>";
}

std::string card(const std::string& id, const std::string& label, const std::string& value,
                 const char* tone) {
  return "<div class=\"card " + std::string(tone) + "\"><div class=\"value\" id=\"" + id + "\">" +
         value + "</div><div class=\"label\">" + label + "</div></div>";
}

bool in_progress(storage::domain_phase p) {
  using storage::domain_phase;
  return p == domain_phase::self_checking || p == domain_phase::ordering ||
         p == domain_phase::validating || p == domain_phase::finalizing;
}

// What the domain is doing (an attempt in progress, queued for the order budget, waiting to
// retry), then the warning or expiry that makes it a problem.
std::string queued_text(std::int64_t place, std::uint64_t queued) {
  if (place == 0) return "queued: held by a CA rate limit";
  if (place > 0)
    return "queued for the order budget: " + std::to_string(place) + " of " +
           std::to_string(std::max<std::uint64_t>(queued, static_cast<std::uint64_t>(place)));
  return "queued for the order budget";
}

std::optional<std::int64_t> place_in(const std::map<std::string, std::int64_t>& places,
                                     const std::string& name) {
  const auto it = places.find(name);
  if (it == places.end() || it->second < 0) return std::nullopt;
  return it->second;
}

std::string state_cell(const storage::domain_record& r, timestamp now,
                       const std::map<std::string, std::int64_t>& places, std::uint64_t queued) {
  std::string doing;
  if (in_progress(r.phase))
    doing = std::string(r.failure_count > 0 ? "retrying: " : "in progress: ") +
            std::string(actors::phase_name(r.phase));
  else if (r.phase == storage::domain_phase::queued)
    doing = queued_text(place_in(places, r.name).value_or(-1), queued);
  else if (r.phase == storage::domain_phase::failing)
    doing = "waiting to retry";
  else
    doing = std::string(actors::phase_name(r.phase));
  std::string out = "<span class=\"tag\">" + escape(doing) + "</span>";
  if (actors::needs_warning(r, now, actors::default_policy()))
    out += " <span class=\"tag bad\">warning</span>";
  if (r.has_cert() && r.cert_not_after <= now) out += " <span class=\"tag bad\">expired</span>";
  return out;
}

std::string domain_rows(const status_view& v) {
  const auto& page = v.page;
  const timestamp now = v.now;
  std::string out;
  for (const auto& r : page.rows) {
    out += "<tr><td class=\"name\">" + escape(r.name) + "</td><td>";
    out += r.has_cert() ? day_of(r.cert_not_after) + " <small>(" + relative(r.cert_not_after, now) +
                              ")</small>"
                        : "<small>none</small>";
    out +=
        "</td><td>" + state_cell(r, now, v.places, v.orders.queued) + "</td><td class=\"error\">";
    if (r.phase == storage::domain_phase::disabled) {
      out += escape(actors::not_enabled_error().detail);
    } else if (r.failure_count > 0) {
      out += escape(actors::failure_message(r));
      // While an attempt runs its retry time has passed: it is not shown.
      const bool retry_ahead = r.next_attempt != no_time && r.next_attempt > now &&
                               !in_progress(r.phase) && r.phase != storage::domain_phase::queued;
      out += "<br><small>failed " + relative(r.last_failure, now) +
             (retry_ahead ? "; next retry " + relative(r.next_attempt, now) : "") + "</small>";
    }
    out += "</td></tr>";
  }
  return out;
}

constexpr const char* style = R"(
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;background:#fafafa}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px}
.sub{color:#666;margin-bottom:16px}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:10px 14px;min-width:110px}
.card .value{font-size:22px;font-weight:600}.card .label{color:#666;font-size:12px}
.card.bad .value{color:#c62828}.card.warn .value{color:#ef8f00}.card.good .value{color:#2e7d32}
svg{background:#fff;border:1px solid #ddd;border-radius:6px}
form{margin:8px 0}input,select,button{font:inherit;padding:4px 6px}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #ddd}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #eee;vertical-align:top}
th{background:#f0f0f0}td.name{font-family:monospace}td.error{max-width:560px}
.tag{padding:1px 6px;border-radius:4px;background:#e8f5e9}.tag.bad{background:#ffcdd2}
.tag.warn{background:#ffe0b2}.paging{margin:8px 0}.paging a{margin:0 8px}
)";

}  // namespace

std::string render_status_html(const status_view& v) {
  const auto& f = v.fleet;
  const auto& q = v.query;
  const std::size_t pages = v.page.pages(q.per_page);
  std::string out =
      "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width\"><title>certfleet on " +
      escape(v.node) + "</title><style>" + style + "</style></head><body>";
  out += "<h1>certfleet on " + escape(v.node) + "</h1><div class=\"sub\">" + format_rfc3339(v.now) +
         " &middot; <a href=\"/api/summary\">JSON</a> &middot; <a href=\"/metrics\">metrics</a>"
         "</div>";

  out += "<div class=\"cards\" id=\"summary\">";
  out += card("summary-domains", "domains", std::to_string(f.domains), "");
  out += card("summary-valid", "with a certificate", std::to_string(f.with_certificate), "good");
  out += card("summary-failing", "failing", std::to_string(f.failing), f.failing ? "warn" : "");
  out +=
      card("summary-warning", "renewal warning", std::to_string(f.warning), f.warning ? "bad" : "");
  out += card("summary-expiring", "expiring within 7 days", std::to_string(f.expiring_within[0]),
              f.expiring_within[0] ? "bad" : "");
  out += card("summary-expired", "expired", std::to_string(f.expired), f.expired ? "bad" : "");
  out += card("summary-soonest", "soonest expiry",
              f.soonest_expiry == no_time ? "none" : relative(f.soonest_expiry, v.now), "");
  out += card("summary-orders", "orders in flight / queued",
              v.orders.answered
                  ? std::to_string(v.orders.in_flight) + " / " + std::to_string(v.orders.queued)
                  : "no answer",
              v.orders.answered ? "" : "warn");
  out += "</div>";

  out += "<h2>Certificates by days until expiry</h2>" + histogram_svg(f);

  out +=
      "<h2>Domains</h2><form method=\"get\" action=\"/\" id=\"search\">"
      "<input type=\"search\" name=\"q\" placeholder=\"part of a name\" value=\"" +
      escape(q.search) + "\"> <select name=\"show\">";
  for (auto filter : {domain_filter::problems, domain_filter::failing, domain_filter::warning,
                      domain_filter::expiring, domain_filter::all}) {
    const std::string name(to_string(filter));
    out += "<option value=\"" + name + "\"" + (filter == q.filter ? " selected" : "") + ">" + name +
           "</option>";
  }
  out += "</select> <button type=\"submit\">Show</button></form>";
  out += "<div class=\"paging\" id=\"matching\" data-matching=\"" +
         std::to_string(v.page.matching) + "\">" + std::to_string(v.page.matching) + " matching (" +
         std::string(to_string(q.filter)) + ")";
  if (q.page > 1) out += "<a href=\"/" + query_string(q, q.page - 1) + "\">&laquo; previous</a>";
  out += " page " + std::to_string(q.page) + " of " + std::to_string(pages);
  if (q.page < pages) out += "<a href=\"/" + query_string(q, q.page + 1) + "\">next &raquo;</a>";
  out += "</div>";
  out +=
      "<table id=\"domains\"><thead><tr><th>Domain</th><th>Certificate expires</th>"
      "<th>State</th><th>Error</th></tr></thead><tbody>" +
      domain_rows(v) + "</tbody></table></body></html>\n";
  return out;
}

std::string render_summary_json(const fleet_summary& f, const order_gauges& orders, timestamp now) {
  json bins = json::array();
  for (std::size_t i = 0; i < f.expiry_histogram.size(); ++i)
    bins.push_back({{"bin", histogram_label(i)},
                    {"below_days", i < expiry_histogram_days.size() ? json(expiry_histogram_days[i])
                                                                    : json(nullptr)},
                    {"certificates", f.expiry_histogram[i]}});
  json phases = json::object();
  for (std::size_t p = 0; p < f.by_phase.size(); ++p)
    phases[std::string(actors::phase_name(static_cast<storage::domain_phase>(p)))] = f.by_phase[p];
  json within = json::object();
  for (std::size_t i = 0; i < expiry_windows_days.size(); ++i)
    within[std::to_string(expiry_windows_days[i])] = f.expiring_within[i];
  const json doc = {{"time", format_rfc3339(now)},
                    {"domains", f.domains},
                    {"by_phase", std::move(phases)},
                    {"with_certificate", f.with_certificate},
                    {"failing", f.failing},
                    {"warning", f.warning},
                    {"expired", f.expired},
                    {"expiring_within_days", std::move(within)},
                    {"soonest_expiry", time_or_null(f.soonest_expiry)},
                    {"expiry_histogram", std::move(bins)},
                    {"orders", orders.answered ? json{{"in_flight", orders.in_flight},
                                                      {"max_in_flight", orders.max_in_flight},
                                                      {"queued", orders.queued},
                                                      {"budget_available", orders.budget_available},
                                                      {"paused_seconds", orders.paused_seconds}}
                                               : json(nullptr)}};
  return doc.dump(2) + "\n";
}

std::string render_domains_json(const domain_query& q, const domain_page& page, timestamp now,
                                const std::map<std::string, std::int64_t>& places) {
  json list = json::array();
  for (const auto& r : page.rows) {
    const bool failing = r.failure_count > 0;
    json error = nullptr;
    if (r.phase == storage::domain_phase::disabled)
      error = actors::not_enabled_error().detail;
    else if (failing)
      error = actors::failure_message(r);
    list.push_back({{"domain", r.name},
                    {"phase", actors::phase_name(r.phase)},
                    {"has_cert", r.has_cert()},
                    {"cert_expiration_time", time_or_null(r.cert_not_after)},
                    {"failing", failing},
                    {"warning", actors::needs_warning(r, now, actors::default_policy())},
                    {"error", std::move(error)},
                    {"last_failure_time", time_or_null(failing ? r.last_failure : no_time)},
                    {"next_retry_time", time_or_null(failing ? r.next_attempt : no_time)},
                    {"queue_place", r.phase == storage::domain_phase::queued
                                        ? json(place_in(places, r.name).value_or(-1))
                                        : json(nullptr)}});
  }
  const json doc = {{"matching", page.matching},       {"page", q.page},
                    {"pages", page.pages(q.per_page)}, {"per_page", q.per_page},
                    {"show", to_string(q.filter)},     {"q", q.search},
                    {"domains", std::move(list)}};
  return doc.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace certfleet::admin
