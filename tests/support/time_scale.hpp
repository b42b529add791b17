#pragma once
// How much longer than usual a test may wait for something that takes real time.
// Sanitized builds run several times slower (TSan 5-15x, its processes start slowly): tools/test
// --sanitize sets CERTFLEET_TEST_TIME_SCALE, so the waits stretch there and the defaults stay
// tight.

#include <chrono>
#include <cstdlib>

namespace certfleet::testing {

/// CERTFLEET_TEST_TIME_SCALE as a factor >= 1 (1 when unset or not a number).
inline double time_scale() {
  static const double scale = [] {
    const char* v = std::getenv("CERTFLEET_TEST_TIME_SCALE");
    const double s = v != nullptr ? std::atof(v) : 1.0;
    return s >= 1.0 ? s : 1.0;
  }();
  return scale;
}

/// `d` stretched by time_scale().
template <class Rep, class Period>
std::chrono::duration<Rep, Period> scaled(std::chrono::duration<Rep, Period> d) {
  return std::chrono::duration<Rep, Period>(static_cast<Rep>(d.count() * time_scale()));
}

}  // namespace certfleet::testing
