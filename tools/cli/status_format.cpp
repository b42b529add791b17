#include "tools/cli/status_format.hpp"

#include <algorithm>
#include <ctime>
#include <nlohmann/json.hpp>

#include "actors/domain_fsm.hpp"

namespace certfleet::cli {
namespace {

using storage::domain_record;

// Column widths of the documented table. The data rows start their columns one further right
// than the header does; the documentation shows it so, and scripts may depend on it.
constexpr std::size_t header_domain_width = 51;
constexpr std::size_t row_domain_width = 52;
constexpr std::size_t exists_width = 16;
constexpr std::size_t rule_width = 82;

// The rules for --only-errors and for warnings live with the state machine.
bool listed(const domain_record& d, bool only_errors) {
  return d.configured && (!only_errors || actors::is_error(d));
}

// `text` followed by spaces up to `width`, and always at least one space.
std::string pad(const std::string& text, std::size_t width) {
  return text + std::string(text.size() < width ? width - text.size() : 1, ' ');
}

std::time_t to_time_t(timestamp t) {
  return std::chrono::system_clock::to_time_t(
      std::chrono::time_point_cast<std::chrono::system_clock::duration>(
          std::chrono::floor<std::chrono::seconds>(t)));
}

// `t` through strftime's `pattern`, in UTC or in the local time zone.
std::string format_time(timestamp t, const char* pattern, bool utc) {
  const std::time_t secs = to_time_t(t);
  std::tm tm{};
  if (utc) {
    gmtime_r(&secs, &tm);
  } else {
    localtime_r(&secs, &tm);
  }
  char buf[40];
  std::strftime(buf, sizeof buf, pattern, &tm);
  return buf;
}

std::string format_utc_date(timestamp t) { return format_time(t, "%Y-%m-%d", true); }

// "2020-03-06 06:48:04 -0600" in the local time zone.
std::string format_local(timestamp t) { return format_time(t, "%Y-%m-%d %H:%M:%S %z", false); }

// A JSON string literal; invalid UTF-8 (an error message from a peer may hold some) is
// replaced rather than thrown on.
std::string json_string(const std::string& text) {
  return nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string time_or_null(timestamp t, bool with_microseconds) {
  if (t == no_time) return "null";
  return '"' + (with_microseconds ? format_rfc3339_us(t) : format_rfc3339(t)) + '"';
}

}  // namespace

std::string format_status_table(const std::vector<domain_record>& domains, bool only_errors) {
  std::string out = pad("Domain", header_domain_width) + pad("Cert Exists", exists_width) +
                    "Cert Expiration\n" + std::string(rule_width, '-') + "\n";
  for (const domain_record& d : domains) {
    if (!listed(d, only_errors)) continue;
    out += pad(d.name, row_domain_width);
    if (d.has_cert()) {
      out += pad("yes", exists_width) + format_utc_date(d.cert_not_after);
    } else {
      out += "no";
    }
    out += "\n";
    if (d.phase == storage::domain_phase::disabled) {
      // Not a failure: one line says why nothing happens, and what to do.
      out += "  Error message:     " + actors::not_enabled_error().detail + "\n";
      continue;
    }
    if (d.failure_count == 0) continue;
    out += "  Error message:     " + actors::failure_message(d) + "\n";
    if (d.last_failure != no_time) {
      out += "  Last failure time: " + format_local(d.last_failure) + "\n";
    }
    if (d.next_attempt != no_time) {
      out += "  Next retry time:   " + format_local(d.next_attempt) + "\n";
    }
  }
  return out;
}

std::string format_status_json(const std::vector<domain_record>& domains, bool only_errors) {
  // Written field by field in the layout of a 4-space-indented dump (the seed's): building a
  // JSON document of 100k entries first took most of `status --json`'s time.
  std::string out = "{\n    \"domains\": [";
  bool first = true;
  for (const domain_record& d : domains) {
    if (!listed(d, only_errors)) continue;
    const bool failing = d.failure_count > 0;
    out += first ? "\n" : ",\n";
    first = false;
    out += "        {\n            \"domain\": " + json_string(d.name);
    out += ",\n            \"has_cert\": ";
    out += d.has_cert() ? "true" : "false";
    out += ",\n            \"cert_expiration_time\": " + time_or_null(d.cert_not_after, false);
    out += ",\n            \"last_failure_error_message\": ";
    if (d.phase == storage::domain_phase::disabled)
      out += json_string(actors::not_enabled_error().detail);
    else
      out += failing ? json_string(actors::failure_message(d)) : "null";
    out += ",\n            \"last_failure_time\": " +
           time_or_null(failing ? d.last_failure : no_time, true);
    out += ",\n            \"next_retry_time\": " +
           time_or_null(failing ? d.next_attempt : no_time, true);
    out += "\n        }";
  }
  out += first ? "]\n}\n" : "\n    ]\n}\n";
  return out;
}

bool any_failing(const std::vector<domain_record>& domains) {
  return std::any_of(domains.begin(), domains.end(),
                     [](const domain_record& d) { return d.configured && d.failure_count > 0; });
}

std::vector<std::string> renewal_warnings(const std::vector<domain_record>& domains,
                                          timestamp now) {
  std::vector<std::string> warnings;
  for (const domain_record& d : domains) {
    if (!actors::needs_warning(d, now, actors::default_policy())) continue;
    const timestamp since = d.first_failure != no_time ? d.first_failure : d.last_failure;
    std::string sentence =
        d.has_cert()
            ? "The certificate of " + d.name + " (expires " + format_rfc3339(d.cert_not_after) +
                  ") has failed to renew since " + format_rfc3339(since)
            : d.name + " has no certificate: registration has failed " +
                  std::to_string(d.failure_count) + (d.failure_count == 1 ? " time" : " times") +
                  (since != no_time ? " since " + format_rfc3339(since) : std::string{});
    sentence += ". Last error: " + (d.last_error.empty() ? "none recorded" : d.last_error);
    if (!sentence.empty() && sentence.back() != '.') sentence += '.';
    if (d.next_attempt != no_time) {
      sentence += " Next retry at " + format_rfc3339(d.next_attempt) + ".";
    }
    sentence += " Fix the cause, then run: certfleet retry " + d.name;
    warnings.push_back(std::move(sentence));
  }
  return warnings;
}

}  // namespace certfleet::cli
