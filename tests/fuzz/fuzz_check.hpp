#pragma once
// What every fuzz target shares: the input as a string_view, and FUZZ_CHECK, a property that
// stops the run like a crash (libFuzzer then saves the input), whatever NDEBUG says.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace certfleet::fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

[[noreturn]] inline void check_failed(const char* what, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: fuzz property failed: %s\n", file, line, what);
  std::abort();
}

}  // namespace certfleet::fuzz

#define FUZZ_CHECK(cond) \
  ((cond) ? void(0) : ::certfleet::fuzz::check_failed(#cond, __FILE__, __LINE__))
