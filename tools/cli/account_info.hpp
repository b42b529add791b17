#pragma once
// `certfleet account`: the ACME account certfleetd uses at its CA (URL, contact, CA), read
// from the state directory like `status`.

#include <filesystem>
#include <string>

#include "core/error.hpp"

namespace certfleet::cli {

/// The account of the CA that certfleet.conf names, as stored; a sentence saying none is
/// registered yet when there is none. Errors: certfleet.conf or the state cannot be read.
result<std::string> describe_account(const std::filesystem::path& config_dir,
                                     const std::filesystem::path& state_dir);

}  // namespace certfleet::cli
