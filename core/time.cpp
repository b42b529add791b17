#include "core/time.hpp"

#include <cstdio>
#include <ctime>

namespace certfleet {
namespace {

std::tm utc_fields(timestamp t) {
  const std::time_t secs =
      std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count() -
      (t.time_since_epoch().count() < 0 && t.time_since_epoch().count() % 1000000 != 0 ? 1 : 0);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return tm;
}

}  // namespace

std::string format_rfc3339(timestamp t) {
  const std::tm tm = utc_fields(t);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string format_rfc3339_us(timestamp t) {
  const std::tm tm = utc_fields(t);
  long long us = t.time_since_epoch().count() % 1000000;
  if (us < 0) us += 1000000;
  char date[24];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s.%06lldZ", date, us);
  return buf;
}

std::string format_duration(std::chrono::seconds d) {
  long long s = d.count();
  if (s <= 0) return "0s";
  std::string out;
  for (const auto& [unit, size] :
       {std::pair{'d', 86400LL}, {'h', 3600LL}, {'m', 60LL}, {'s', 1LL}}) {
    if (s >= size) {
      out += std::to_string(s / size);
      out += unit;
      s %= size;
    }
  }
  return out;
}

}  // namespace certfleet
