#include "core/log.hpp"

#include <atomic>
#include <cstdio>
#include <string>

namespace certfleet {
namespace {
std::atomic<int> threshold{static_cast<int>(log_severity::info)};
}

void set_log_threshold(log_severity t) { threshold = static_cast<int>(t); }

bool parse_log_severity(std::string_view name, log_severity& out) {
  if (name == "debug") out = log_severity::debug;
  else if (name == "info") out = log_severity::info;
  else if (name == "warning") out = log_severity::warning;
  else if (name == "error") out = log_severity::error;
  else return false;
  return true;
}

void log_line(log_severity severity, std::string_view text) {
  // Larger syslog numbers are less severe.
  if (static_cast<int>(severity) > threshold.load(std::memory_order_relaxed)) return;
  std::string line = "<" + std::to_string(static_cast<int>(severity)) + ">";
  for (char c : text) line += (c == '\n' || c == '\r') ? ' ' : c;  // one line per event
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace certfleet
