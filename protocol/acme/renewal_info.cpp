#include "protocol/acme/renewal_info.hpp"

#include <cctype>
#include <chrono>
#include <nlohmann/json.hpp>

#include "protocol/crypto/base64url.hpp"
#include "protocol/crypto/certificate.hpp"

namespace certfleet::protocol {

namespace {

using nlohmann::json;

result<std::string> hex_bytes(std::string_view hex, std::string_view what) {
  std::string digits(hex);
  if (digits.size() % 2) digits.insert(digits.begin(), '0');
  std::string out;
  out.reserve(digits.size() / 2);
  const auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < digits.size(); i += 2) {
    const int hi = nibble(digits[i]), lo = nibble(digits[i + 1]);
    if (hi < 0 || lo < 0)
      return error{error_kind::invalid_input, "the " + std::string(what) + " is not hex"};
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

// Reads `n` digits at `pos` (advancing it); -1 when they are not all digits.
int digits(std::string_view s, std::size_t& pos, std::size_t n) {
  if (pos + n > s.size()) return -1;
  int v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const char c = s[pos + i];
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  pos += n;
  return v;
}

bool expect_char(std::string_view s, std::size_t& pos, std::string_view allowed) {
  if (pos >= s.size() || allowed.find(s[pos]) == std::string_view::npos) return false;
  ++pos;
  return true;
}

}  // namespace

result<std::string> ari_certificate_id(std::string_view authority_key_id_hex,
                                       std::string_view serial_hex) {
  if (authority_key_id_hex.empty())
    return error{error_kind::invalid_input,
                 "the certificate has no Authority Key Identifier, which ARI needs"};
  auto key_id = hex_bytes(authority_key_id_hex, "Authority Key Identifier");
  if (!key_id) return key_id;
  auto serial = hex_bytes(serial_hex.empty() ? "0" : serial_hex, "serial number");
  if (!serial) return serial;
  // DER INTEGER content: two's complement, so a positive value with its top bit set gets a
  // leading zero octet (RFC 9773 §4.1's example: serial 0x87654321 -> AIdlQyE).
  if (!serial->empty() && (static_cast<unsigned char>(serial->front()) & 0x80))
    serial->insert(serial->begin(), '\0');
  return base64url::encode(*key_id) + "." + base64url::encode(*serial);
}

result<timestamp> parse_rfc3339(std::string_view s) {
  const error bad{error_kind::bad_response,
                  "\"" + std::string(s.substr(0, 64)) + "\" is not an RFC 3339 date-time"};
  std::size_t pos = 0;
  const int year = digits(s, pos, 4);
  if (year < 0 || !expect_char(s, pos, "-")) return bad;
  const int month = digits(s, pos, 2);
  if (month < 1 || month > 12 || !expect_char(s, pos, "-")) return bad;
  const int day = digits(s, pos, 2);
  if (day < 1 || !expect_char(s, pos, "Tt")) return bad;
  const int hour = digits(s, pos, 2);
  if (hour < 0 || hour > 23 || !expect_char(s, pos, ":")) return bad;
  const int minute = digits(s, pos, 2);
  if (minute < 0 || minute > 59 || !expect_char(s, pos, ":")) return bad;
  const int second = digits(s, pos, 2);
  if (second < 0 || second > 60) return bad;  // 60: a leap second, read as the next one
  std::chrono::microseconds fraction{0};
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    std::int64_t scale = 100000, us = 0;
    const std::size_t first = pos;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
      us += scale * (s[pos] - '0');
      scale /= 10;
      ++pos;
    }
    if (pos == first) return bad;
    fraction = std::chrono::microseconds(us);
  }
  std::chrono::minutes offset{0};
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    const int sign = s[pos++] == '-' ? -1 : 1;
    const int oh = digits(s, pos, 2);
    if (oh < 0 || oh > 23 || !expect_char(s, pos, ":")) return bad;
    const int om = digits(s, pos, 2);
    if (om < 0 || om > 59) return bad;
    offset = std::chrono::minutes(sign * (oh * 60 + om));
  } else {
    return bad;
  }
  if (pos != s.size()) return bad;
  const std::chrono::year_month_day ymd{std::chrono::year(year),
                                        std::chrono::month(static_cast<unsigned>(month)),
                                        std::chrono::day(static_cast<unsigned>(day))};
  if (!ymd.ok()) return bad;
  const auto local = std::chrono::sys_days(ymd) + std::chrono::hours(hour) +
                     std::chrono::minutes(minute) + std::chrono::seconds(second);
  return timestamp(std::chrono::duration_cast<std::chrono::microseconds>(local.time_since_epoch()) +
                   fraction - offset);
}

result<std::string> ari_certificate_id_of(std::string_view chain_pem) {
  auto info = parse_certificate_pem(chain_pem);
  if (!info) return std::move(info).err();
  return ari_certificate_id(info->authority_key_id_hex, info->serial_hex);
}

result<renewal_window> parse_renewal_info(std::string_view body) {
  const json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  // Not retryable: the window is dropped and the fallback rule holds (RFC 9773 §4.2); the
  // CA is asked again much later, not at the next poll.
  const auto bad = [](std::string why) {
    return error{error_kind::bad_response, "the CA's renewal information is unusable: " + why,
                 false};
  };
  if (!doc.is_object()) return bad("not a JSON object");
  const auto window = doc.find("suggestedWindow");
  if (window == doc.end() || !window->is_object()) return bad("no suggestedWindow");
  const auto start = window->find("start"), end = window->find("end");
  if (start == window->end() || end == window->end() || !start->is_string() || !end->is_string())
    return bad("suggestedWindow needs a start and an end");
  auto from = parse_rfc3339(start->get_ref<const std::string&>());
  if (!from) return bad(from.err().detail);
  auto to = parse_rfc3339(end->get_ref<const std::string&>());
  if (!to) return bad(to.err().detail);
  if (*to <= *from) return bad("its end is not after its start");
  renewal_window out{*from, *to, {}};
  if (auto why = doc.find("explanationURL"); why != doc.end() && why->is_string())
    out.explanation_url = why->get<std::string>();
  return out;
}

}  // namespace certfleet::protocol
