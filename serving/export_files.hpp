#pragma once
// Certificates as files for other servers (nginx via $ssl_server_name, haproxy,
// postfix, pure-ftpd): export_dir/<domain>.pem (chain + key), <domain>.crt,
// <domain>.key and services/<service>.pem. Every file is replaced atomically
// (temp file + rename); files holding a key are 0600. Then the deploy hook runs.

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "serving/certificate_choice.hpp"

namespace certfleet::serving {

/// Writes the three files of one domain.
result<void> export_domain(const std::filesystem::path& dir, const std::string& domain,
                           const pem_pair& pair);
/// Writes services/<service>.pem (chain + key).
/// True when the file changed (it was missing or held another certificate).
result<bool> export_service(const std::filesystem::path& dir, service svc, const pem_pair& pair);

/// Runs `command` (through /bin/sh) with the changed names as arguments; kills it
/// (SIGKILL) when it runs longer than `timeout`. Errors say what happened.
result<void> run_deploy_hook(const std::string& command, const std::vector<std::string>& names,
                             std::chrono::seconds timeout);

}  // namespace certfleet::serving
