#pragma once
// Levelled log lines to stderr, one line per event, journald-friendly (the level
// as a syslog "<N>" prefix that journald understands, then the text). Never pass
// key material here.

#include <string_view>

namespace certfleet {

enum class log_severity { debug = 7, info = 6, warning = 4, error = 3 };

/// Lines below this severity are dropped (default: info).
void set_log_threshold(log_severity threshold);
/// Parses "debug", "info", "warning", "error"; false if unknown.
bool parse_log_severity(std::string_view name, log_severity& out);

void log_line(log_severity severity, std::string_view text);

inline void log_debug(std::string_view t) { log_line(log_severity::debug, t); }
inline void log_info(std::string_view t) { log_line(log_severity::info, t); }
inline void log_warning(std::string_view t) { log_line(log_severity::warning, t); }
inline void log_error(std::string_view t) { log_line(log_severity::error, t); }

}  // namespace certfleet
