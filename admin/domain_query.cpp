#include "admin/domain_query.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

#include "actors/domain_fsm.hpp"

namespace certfleet::admin {

namespace {

constexpr std::array<std::string_view, 5> filter_names = {"problems", "all", "failing", "warning",
                                                          "expiring"};
constexpr std::size_t max_per_page = 500;
constexpr auto expiring_within = std::chrono::days(30);

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// application/x-www-form-urlencoded: '+' is a space, %XX a byte; a bad escape stays as sent.
std::string form_decode(std::string_view in) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out += ' ';
    } else if (in[i] == '%' && i + 2 < in.size() && hex_digit(in[i + 1]) >= 0 &&
               hex_digit(in[i + 2]) >= 0) {
      out += static_cast<char>(hex_digit(in[i + 1]) * 16 + hex_digit(in[i + 2]));
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

std::string form_encode(std::string_view in) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : in) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '*') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::size_t positive(std::string_view text, std::size_t fallback, std::size_t max) {
  std::size_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n == 0) return fallback;
  return std::min(n, max);
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

}  // namespace

std::string_view to_string(domain_filter f) { return filter_names[static_cast<std::size_t>(f)]; }

domain_query parse_domain_query(std::string_view target) {
  domain_query q;
  const auto mark = target.find('?');
  if (mark == std::string_view::npos) return q;
  std::string_view rest = target.substr(mark + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    const auto eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view key = pair.substr(0, eq);
    const std::string value = form_decode(pair.substr(eq + 1));
    if (key == "q") {
      q.search = lower(value.substr(0, 253));
      // Spaces around a pasted name are not part of it.
      q.search.erase(0, q.search.find_first_not_of(' '));
      q.search.erase(q.search.find_last_not_of(' ') + 1);
    } else if (key == "show") {
      for (std::size_t i = 0; i < filter_names.size(); ++i)
        if (filter_names[i] == value) q.filter = static_cast<domain_filter>(i);
    } else if (key == "page") {
      q.page = positive(value, 1, 1'000'000'000);
    } else if (key == "per_page") {
      q.per_page = positive(value, q.per_page, max_per_page);
    }
  }
  return q;
}

std::string query_string(const domain_query& q, std::size_t page) {
  std::string out = "?";
  if (!q.search.empty()) out += "q=" + form_encode(q.search) + "&";
  out += "show=" + std::string(to_string(q.filter)) + "&page=" + std::to_string(page);
  if (q.per_page != domain_query{}.per_page) out += "&per_page=" + std::to_string(q.per_page);
  return out;
}

bool matches(const domain_query& q, const storage::domain_record& r, timestamp now) {
  if (!r.configured) return false;
  if (!q.search.empty() && r.name.find(q.search) == std::string::npos) return false;
  const bool failing = r.failure_count > 0;
  const bool warning = actors::needs_warning(r, now, actors::default_policy());
  const bool expiring = r.has_cert() && r.cert_not_after - now <= expiring_within;
  switch (q.filter) {
    case domain_filter::all:
      return true;
    case domain_filter::failing:
      return failing;
    case domain_filter::warning:
      return warning;
    case domain_filter::expiring:
      return expiring;
    case domain_filter::problems:
      return failing || warning || (r.has_cert() && r.cert_not_after <= now) ||
             r.phase == storage::domain_phase::disabled;
  }
  return false;
}

void domain_page::add(const domain_query& q, const storage::domain_record& r, timestamp now) {
  if (!matches(q, r, now)) return;
  const std::size_t first = (q.page - 1) * q.per_page;
  if (matching >= first && matching < first + q.per_page) rows.push_back(r);
  ++matching;
}

}  // namespace certfleet::admin
