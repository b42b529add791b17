#pragma once
// `certfleet csr`: the non-interactive equivalent of the seed's
//   openssl req -new -newkey rsa:2048 -nodes -keyout server.key -out server.csr

#include <filesystem>
#include <string>

#include "core/error.hpp"
#include "protocol/crypto/certificate.hpp"

namespace certfleet::cli {

/// The key type `certfleet csr` uses unless told: the seed's `-newkey rsa:2048`, which every
/// CA selling certificates accepts.
inline constexpr const char* default_csr_key_type = "rsa2048";

/// A subject in openssl's -subj form, "/C=US/O=Example Inc/CN=mail.example.com", as entries
/// ("" gives none). Errors name the part that is not FIELD=VALUE.
result<std::vector<protocol::subject_entry>> parse_subject(const std::string& text);

/// Writes DIR/server.key (mode 0600) and DIR/server.csr for domain, with a key of
/// key_type ("ecdsa-p256", ..., "rsa2048", ...) and `subject` (openssl's -subj form; the CN
/// is the domain unless it names one). Refuses to overwrite existing files.
/// Returns a human summary of what was written.
result<std::string> write_csr_files(const std::string& domain, const std::string& key_type,
                                    const std::filesystem::path& dir,
                                    const std::string& subject = "");

}  // namespace certfleet::cli
