#pragma once
// Diagnostics about configuration files: where (file:line) and what, in words a person can act
// on; and diagnosed<T>, a value or the diagnostics that explain why there is none.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace certfleet::config {

/// One problem found in a configuration file.
struct diagnostic {
  std::string file;  ///< path as the user knows it (e.g. "/etc/certfleet/certfleet.conf")
  int line = 0;      ///< 1-based; 0 when the problem concerns the whole file
  std::string message;

  /// "file:line: message", or "file: message" when line is 0.
  std::string to_string() const;
  bool operator==(const diagnostic&) const = default;
};

/// Either a T (when errors is empty) or every error that prevented it; warnings either way.
/// Loading never stops at the first error, so a user fixes all of them in one go.
template <class T>
struct diagnosed {
  std::optional<T> value;  ///< set exactly when errors is empty
  std::vector<diagnostic> errors;
  std::vector<diagnostic> warnings;  ///< problems that did not prevent loading

  bool ok() const { return value.has_value(); }
};

/// One diagnostic per line, each "file:line: message\n".
std::string format_diagnostics(const std::vector<diagnostic>& diagnostics);

/// `text` in double quotes for a message, with control characters, quotes and backslashes
/// escaped so a diagnostic always stays on one line.
std::string quoted(std::string_view text);

}  // namespace certfleet::config
