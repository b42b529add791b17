#pragma once
// admin_token_file: the bearer token the admin listener requires, from a file only its owner
// may read.

#include <filesystem>
#include <string>

#include "core/error.hpp"

namespace certfleet::admin {

/// The token in `path` (surrounding whitespace dropped). Errors (config) say what to fix: the
/// file is missing or unreadable, readable by group or others, or empty.
result<std::string> read_token_file(const std::filesystem::path& path);

}  // namespace certfleet::admin
