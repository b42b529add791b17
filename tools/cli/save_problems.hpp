#pragma once
// Changes the running daemon could not store (a full disk): the state files cannot say
// so while it lasts, so `status` and `warnings` ask certfleetd and show them.

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "control/messages.hpp"
#include "storage/records.hpp"

namespace certfleet::cli {

/// The daemon's save problems; none when it is not running or does not answer in `timeout`
/// (the state files are then all there is to show).
std::vector<control::save_problem> ask_save_problems(
    const std::filesystem::path& socket, std::chrono::seconds timeout = std::chrono::seconds(5));

/// Shows each problem as its domain's error: the record (added when the domain has none
/// stored yet) counts as failing with the problem's message.
void mark_unsaved(std::vector<storage::domain_record>& domains,
                  const std::vector<control::save_problem>& problems);

/// One warning per problem: "a.example: could not save state: ...".
std::vector<std::string> save_warnings(const std::vector<control::save_problem>& problems);

}  // namespace certfleet::cli
