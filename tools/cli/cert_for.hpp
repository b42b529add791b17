#pragma once
// `certfleet cert-for NAME [--service S]`: which certificate a service would serve
// for a name, and why (the rule that won and every one skipped before it).

#include <filesystem>
#include <string>

#include "core/error.hpp"
#include "serving/certificate_choice.hpp"

namespace certfleet::cli {

/// The report, or an error when the configuration cannot be loaded.
result<std::string> describe_certificate_for(const std::filesystem::path& config_dir,
                                             const std::filesystem::path& state_dir,
                                             const std::string& name, serving::service svc);

}  // namespace certfleet::cli
