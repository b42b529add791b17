#include "protocol/acme/problem.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <nlohmann/json.hpp>
#include <string>

namespace certfleet::protocol {
namespace {

using namespace std::string_view_literals;
using ek = error_kind;

// RFC 8555 §6.7, in the RFC's order, then RFC 9773 §7.4's. What certfleet does about each kind
// (retry it, replace the order) is decided in one place, the policy table in core/error.cpp.
constexpr std::array<acme_problem_type, 25> problem_table{{
    {"accountDoesNotExist"sv, ek::account_does_not_exist},
    {"alreadyRevoked"sv, ek::already_revoked},
    {"badCSR"sv, ek::bad_csr},
    {"badNonce"sv, ek::bad_nonce},
    {"badPublicKey"sv, ek::bad_public_key},
    {"badRevocationReason"sv, ek::bad_revocation_reason},
    {"badSignatureAlgorithm"sv, ek::bad_signature_algorithm},
    {"caa"sv, ek::caa},
    {"compound"sv, ek::compound},
    {"connection"sv, ek::connection},
    {"dns"sv, ek::dns},
    {"externalAccountRequired"sv, ek::external_account_required},
    {"incorrectResponse"sv, ek::incorrect_response},
    {"invalidContact"sv, ek::invalid_contact},
    {"malformed"sv, ek::malformed},
    {"orderNotReady"sv, ek::order_not_ready},
    {"rateLimited"sv, ek::rate_limited},
    {"rejectedIdentifier"sv, ek::rejected_identifier},
    {"serverInternal"sv, ek::server_internal},
    {"tls"sv, ek::tls},
    {"unauthorized"sv, ek::unauthorized},
    {"unsupportedContact"sv, ek::unsupported_contact},
    {"unsupportedIdentifier"sv, ek::unsupported_identifier},
    {"userActionRequired"sv, ek::user_action_required},
    {"alreadyReplaced"sv, ek::already_replaced},
}};

constexpr std::string_view acme_urn = "urn:ietf:params:acme:error:";
constexpr std::size_t max_quote = 200;      // bytes of CA text quoted in a detail
constexpr std::size_t max_sub_quote = 100;  // bytes of each subproblem's detail
constexpr std::size_t max_subproblems = 5;  // subproblems listed by name

const acme_problem_type* find_type(std::string_view urn) {
  if (!urn.starts_with(acme_urn)) return nullptr;
  const std::string_view name = urn.substr(acme_urn.size());
  for (const auto& row : problem_table)
    if (row.name == name) return &row;
  return nullptr;
}

// CA text for a detail: control characters and runs of white space become one space,
// and it is cut at `max` bytes (on a UTF-8 boundary) with "..." appended.
std::string quote(std::string_view text, std::size_t max, bool ascii_only) {
  std::string out;
  bool cut = false;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == ' ') {
      if (!out.empty() && out.back() != ' ') out += ' ';
      continue;
    }
    if (out.size() >= max) {
      cut = true;
      break;
    }
    out += (ascii_only && u >= 0x80) ? '?' : c;
  }
  if (cut) {
    // Do not leave half a UTF-8 sequence behind.
    std::size_t lead = out.size();
    while (lead > 0 && (static_cast<unsigned char>(out[lead - 1]) & 0xC0) == 0x80) --lead;
    if (lead > 0) {
      const auto first = static_cast<unsigned char>(out[lead - 1]);
      const std::size_t need = first >= 0xF0 ? 4 : first >= 0xE0 ? 3 : first >= 0xC0 ? 2 : 1;
      if (out.size() - (lead - 1) < need) out.resize(lead - 1);
    }
    out += "...";
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::string string_member(const nlohmann::json& obj, const char* name) {
  const auto it = obj.find(name);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

bool is_problem_content_type(std::string_view content_type) {
  const std::string_view media = content_type.substr(0, content_type.find(';'));
  std::string lower;
  for (char c : media)
    if (c != ' ' && c != '\t')
      lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  // Some servers label problems plain JSON; the body is checked either way.
  return lower == "application/problem+json" || lower == "application/json";
}

// "; subproblems: dns example.com: <detail>; ..." and whether all are retryable.
std::pair<std::string, bool> summarize_subproblems(const nlohmann::json& subs) {
  std::string out;
  bool all_retryable = !subs.empty();
  std::size_t listed = 0;
  for (const auto& sub : subs) {
    if (!sub.is_object()) {
      all_retryable = false;
      continue;
    }
    const acme_problem_type* type = find_type(string_member(sub, "type"));
    all_retryable = all_retryable && type != nullptr && policy_of(type->kind).retryable;
    if (listed == max_subproblems) continue;
    ++listed;
    out += listed == 1 ? "; subproblems: " : "; ";
    // "dns a.example (rejectedIdentifier): <detail>"
    if (const auto id = sub.find("identifier"); id != sub.end() && id->is_object())
      out += quote(string_member(*id, "type") + " " + string_member(*id, "value"), 80, false);
    if (type != nullptr) out += " (" + std::string(type->name) + ")";
    out += ": " + quote(string_member(sub, "detail"), max_sub_quote, false);
  }
  if (subs.size() > listed)
    out += "; and " + std::to_string(subs.size() - listed) + " more subproblems";
  return {out, all_retryable};
}

// For answers that are not (usable) ACME problems: the kind follows the HTTP status.
error from_status(int status, std::string what) {
  if (status >= 500) return error{ek::server_error, std::move(what)};
  if (status == 429) return error{ek::rate_limited, std::move(what)};
  return error{ek::bad_response, std::move(what)};
}

error classify(int status, std::string_view content_type, std::string_view body) {
  const std::string http = "HTTP " + std::to_string(status);
  const std::string snippet =
      body.empty() ? "(empty body)" : "body: " + quote(body, max_quote, true);
  if (!is_problem_content_type(content_type))
    return from_status(status, "the CA answered " + http + " with content type \"" +
                                   quote(content_type, 60, true) +
                                   "\" instead of a problem document; " + snippet);
  const auto doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object())
    return from_status(status, "the CA answered " + http +
                                   " with a problem document that is not a JSON object; " +
                                   snippet);

  const std::string urn = string_member(doc, "type");
  std::string ca_detail = quote(string_member(doc, "detail"), max_quote, false);
  if (ca_detail.empty()) ca_detail = "(no detail given)";
  const acme_problem_type* type = find_type(urn);
  if (type == nullptr) {
    const std::string which =
        urn.empty() ? "without a \"type\"" : "of unknown type \"" + quote(urn, 80, true) + "\"";
    return from_status(
        status, "the CA answered " + http + " with a problem document " + which + ": " + ca_detail);
  }

  error e{type->kind, "the CA answered " + http + " " + std::string(type->name) + ": " + ca_detail};
  if (const auto subs = doc.find("subproblems"); subs != doc.end() && subs->is_array()) {
    auto [summary, all_retryable] = summarize_subproblems(*subs);
    e.detail += summary;
    if (type->kind == ek::compound) e.retryable = all_retryable;
  }
  return e;
}

int two_digits(std::string_view s) {
  if (s.size() != 2 || s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9') return -1;
  return (s[0] - '0') * 10 + (s[1] - '0');
}

// RFC 9110 §5.6.7 IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT".
std::optional<timestamp> parse_imf_fixdate(std::string_view s) {
  static constexpr std::array<std::string_view, 7> days{"Mon", "Tue", "Wed", "Thu",
                                                        "Fri", "Sat", "Sun"};
  static constexpr std::array<std::string_view, 12> months{
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (s.size() != 29 || s.substr(3, 2) != ", " || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
      s[19] != ':' || s[22] != ':' || s.substr(25) != " GMT")
    return std::nullopt;
  if (std::find(days.begin(), days.end(), s.substr(0, 3)) == days.end()) return std::nullopt;
  const auto month = std::find(months.begin(), months.end(), s.substr(8, 3));
  if (month == months.end()) return std::nullopt;
  const int year_hi = two_digits(s.substr(12, 2));
  const int year_lo = two_digits(s.substr(14, 2));
  const int day = two_digits(s.substr(5, 2));
  const int hour = two_digits(s.substr(17, 2));
  const int minute = two_digits(s.substr(20, 2));
  const int second = two_digits(s.substr(23, 2));
  if (year_hi < 0 || year_lo < 0 || day < 0 || hour < 0 || hour > 23 || minute < 0 || minute > 59 ||
      second < 0 || second > 60)
    return std::nullopt;
  const std::chrono::year_month_day ymd{
      std::chrono::year{year_hi * 100 + year_lo},
      std::chrono::month{static_cast<unsigned>(month - months.begin() + 1)},
      std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) return std::nullopt;
  return timestamp{std::chrono::sys_days{ymd}} + std::chrono::hours{hour} +
         std::chrono::minutes{minute} + std::chrono::seconds{second};
}

}  // namespace

std::span<const acme_problem_type> acme_problem_types() { return problem_table; }

error parse_problem(int http_status, std::string_view content_type, std::string_view body,
                    std::string_view retry_after_header, timestamp now) {
  error e = classify(http_status, content_type, body);
  if (!retry_after_header.empty()) e.retry_after = parse_retry_after(retry_after_header, now);
  return e;
}

std::optional<std::chrono::seconds> parse_retry_after(std::string_view header, timestamp now) {
  const auto first = header.find_first_not_of(" \t");
  if (first == std::string_view::npos) return std::nullopt;
  header = header.substr(first, header.find_last_not_of(" \t") - first + 1);
  if (header.find_first_not_of("0123456789") == std::string_view::npos) {
    std::int64_t secs = 0;
    const auto [end, ec] = std::from_chars(header.data(), header.data() + header.size(), secs);
    if (ec != std::errc{} || end != header.data() + header.size()) return std::nullopt;
    return std::min(std::chrono::seconds{secs}, max_retry_after);
  }
  const auto when = parse_imf_fixdate(header);
  if (!when) return std::nullopt;
  if (*when <= now) return std::chrono::seconds{0};
  return std::min(std::chrono::ceil<std::chrono::seconds>(*when - now), max_retry_after);
}

}  // namespace certfleet::protocol
