#pragma once
// Wall-clock time as certfleet stores and compares it. Certificate lifetimes are
// wall-clock facts, so nothing here uses a steady clock.

#include <chrono>
#include <cstdint>
#include <string>

namespace certfleet {

/// Microseconds since the Unix epoch, UTC. The epoch itself (0) means "never/none".
using timestamp = std::chrono::sys_time<std::chrono::microseconds>;

inline constexpr timestamp no_time{};

inline timestamp from_unix_us(std::int64_t us) { return timestamp{std::chrono::microseconds{us}}; }
inline std::int64_t to_unix_us(timestamp t) { return t.time_since_epoch().count(); }

/// A source of "now", injected wherever time matters so tests can move it.
struct clock {
  virtual ~clock() = default;
  virtual timestamp now() const = 0;
};

/// The real wall clock.
struct wall_clock final : clock {
  timestamp now() const override {
    return std::chrono::time_point_cast<std::chrono::microseconds>(
        std::chrono::system_clock::now());
  }
};

/// RFC 3339 in UTC with microseconds, e.g. "2020-03-06T12:48:04.740131Z".
std::string format_rfc3339_us(timestamp t);
/// RFC 3339 in UTC with whole seconds, e.g. "2020-05-28T20:23:35Z".
std::string format_rfc3339(timestamp t);

/// The shortest way to write `d` in certfleet.conf's duration syntax ("3h", "1h30m", "45s";
/// "0s" for zero or less).
std::string format_duration(std::chrono::seconds d);

}  // namespace certfleet
