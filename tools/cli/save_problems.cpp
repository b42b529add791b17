#include "tools/cli/save_problems.hpp"

#include <algorithm>

#include "control/client.hpp"

namespace certfleet::cli {

std::vector<control::save_problem> ask_save_problems(const std::filesystem::path& socket,
                                                     std::chrono::seconds timeout) {
  auto answer = control::ask(socket, control::save_problems_request{}, timeout);
  if (!answer) return {};
  if (auto* found = std::get_if<control::save_problems_response>(&*answer))
    return std::move(found->problems);
  return {};
}

void mark_unsaved(std::vector<storage::domain_record>& domains,
                  const std::vector<control::save_problem>& problems) {
  // The store lists domains by name; binary search keeps 100k problems cheap.
  const auto by_name = [](const storage::domain_record& d, const std::string& name) {
    return d.name < name;
  };
  for (const auto& problem : problems) {
    auto it = std::lower_bound(domains.begin(), domains.end(), problem.domain, by_name);
    if (it == domains.end() || it->name != problem.domain) {
      storage::domain_record fresh;
      fresh.name = problem.domain;
      it = domains.insert(it, std::move(fresh));
    }
    it->failure_count = std::max<std::uint32_t>(it->failure_count, 1);
    it->last_error = problem.message;
    // The stored next attempt belongs to a step that did not happen; the daemon tries
    // the write again on its own (the message says so).
    it->next_attempt = no_time;
  }
}

std::vector<std::string> save_warnings(const std::vector<control::save_problem>& problems) {
  std::vector<std::string> out;
  out.reserve(problems.size());
  for (const auto& problem : problems) out.push_back(problem.domain + ": " + problem.message);
  return out;
}

}  // namespace certfleet::cli
