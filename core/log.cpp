#include "core/log.hpp"

#include <atomic>
#include <cstdio>
#include <string>

namespace certfleet {
namespace {
std::atomic<int> threshold{static_cast<int>(log_level::info)};
}

void set_log_threshold(log_level t) { threshold = static_cast<int>(t); }

bool parse_log_level(std::string_view name, log_level& out) {
  if (name == "debug")
    out = log_level::debug;
  else if (name == "info")
    out = log_level::info;
  else if (name == "warning")
    out = log_level::warning;
  else if (name == "error")
    out = log_level::error;
  else
    return false;
  return true;
}

void log_line(log_level level, std::string_view text) {
  // Larger syslog numbers are less severe.
  if (static_cast<int>(level) > threshold.load(std::memory_order_relaxed)) return;
  std::string line = "<" + std::to_string(static_cast<int>(level)) + ">";
  for (char c : text) line += (c == '\n' || c == '\r') ? ' ' : c;  // one line per event
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace certfleet
