#pragma once
// Levelled log lines to stderr, one line per event, journald-friendly (the level
// as a syslog "<N>" prefix that journald understands, then the text). Never pass
// key material here.

#include <cstdint>
#include <string_view>

namespace certfleet {

/// The one log level of certfleet (the daemon's threshold and the state machine's log
/// effects). The values are syslog severities: the "<N>" prefix journald reads.
enum class log_level : std::uint8_t { debug = 7, info = 6, warning = 4, error = 3 };

/// Lines below this level are dropped (default: info).
void set_log_threshold(log_level threshold);
/// Parses "debug", "info", "warning", "error"; false if unknown.
bool parse_log_level(std::string_view name, log_level& out);

void log_line(log_level level, std::string_view text);

inline void log_debug(std::string_view t) { log_line(log_level::debug, t); }
inline void log_info(std::string_view t) { log_line(log_level::info, t); }
inline void log_warning(std::string_view t) { log_line(log_level::warning, t); }
inline void log_error(std::string_view t) { log_line(log_level::error, t); }

}  // namespace certfleet
