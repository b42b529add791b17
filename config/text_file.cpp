#include "config/text_file.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>

namespace certfleet::config {

result<std::optional<std::string>> read_text_file(const std::filesystem::path& path,
                                                  std::size_t max_bytes) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (status.type() == std::filesystem::file_type::not_found) {
    return std::optional<std::string>{};
  }
  if (ec) return error{error_kind::config, "cannot read " + path.string() + ": " + ec.message()};
  if (status.type() != std::filesystem::file_type::regular) {
    return error{error_kind::config, path.string() + " is not a regular file"};
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return error{error_kind::config, "cannot open " + path.string() + ": " + std::strerror(errno) +
                                         "; check its permissions"};
  }
  // Read in chunks, so memory follows the file's size rather than the cap, and stop one
  // chunk past the cap so an oversized file is recognised without reading all of it.
  std::string text;
  char chunk[64 * 1024];
  while (text.size() <= max_bytes && in.read(chunk, sizeof chunk).gcount() > 0)
    text.append(chunk, static_cast<std::size_t>(in.gcount()));
  if (in.bad()) return error{error_kind::config, "error while reading " + path.string()};
  if (text.size() > max_bytes) {
    return error{error_kind::config, path.string() + " is larger than " +
                                         std::to_string(max_bytes) +
                                         " bytes, the limit for this file; is it the right file?"};
  }
  return std::optional<std::string>{std::move(text)};
}

std::vector<std::string_view> split_lines(std::string_view text) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return lines;
}

std::string_view trim_blanks(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace certfleet::config
