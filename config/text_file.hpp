#pragma once
// Reading the small text files of the configuration directory: bounded in size, so a file
// replaced by something huge by mistake cannot exhaust memory, and split into lines the same
// way everywhere (LF or CRLF).

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace certfleet::config {

/// The whole content of `path`, or nullopt when the file does not exist.
/// Errors (error_kind::config): not a regular file, unreadable, or larger than max_bytes.
result<std::optional<std::string>> read_text_file(const std::filesystem::path& path,
                                                  std::size_t max_bytes);

/// The lines of `text` without their "\n" or "\r\n" endings; a final line without a newline
/// counts, an empty text has no lines. A UTF-8 byte order mark at the start is dropped.
std::vector<std::string_view> split_lines(std::string_view text);

/// `text` without surrounding spaces and tabs.
std::string_view trim_blanks(std::string_view text);

}  // namespace certfleet::config
