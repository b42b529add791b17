#pragma once
// `certfleet csr`: the non-interactive equivalent of the seed's
//   openssl req -new -newkey rsa:2048 -nodes -keyout server.key -out server.csr

#include <filesystem>
#include <string>

#include "core/error.hpp"

namespace certfleet::cli {

/// Writes DIR/server.key (mode 0600) and DIR/server.csr for domain, with a key of
/// key_type ("ecdsa-p256", ..., "rsa2048", ...). Refuses to overwrite existing files.
/// Returns a human summary of what was written.
result<std::string> write_csr_files(const std::string& domain, const std::string& key_type,
                                    const std::filesystem::path& dir);

}  // namespace certfleet::cli
