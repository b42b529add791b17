#pragma once
// The fleet simulator's scenarios (issue #18), each with the checks that decide whether it
// passed, and the report people read (a JSON summary and an SVG picture).

#include <functional>
#include <string>
#include <vector>

#include "bench/fleet_sim/fleet.hpp"

namespace certfleet::sim {

struct scenario {
  std::string name;
  std::string question;  ///< what the scenario shows, in one line
  fleet_settings settings;
  /// The criteria that failed (empty: passed). Report-only scenarios list none.
  std::function<std::vector<std::string>(const fleet_settings&, const fleet_result&)> check;
};

/// Every scenario for a fleet of `domains` over `days`. `budget` is the order budget
/// (the default 300 per 3h at 100k; tests scale it with the fleet, see the test).
std::vector<scenario> all_scenarios(std::size_t domains, int days, order_budget budget);

/// One scenario's outcome as a JSON object (settings, figures, failed criteria, seconds).
std::string summary_json(const scenario& sc, const fleet_result& r,
                         const std::vector<std::string>& failed, double seconds);

/// An SVG of the run: orders per hour, orders waiting, and days to expiry over the year.
std::string picture_svg(const scenario& sc, const fleet_result& r);

}  // namespace certfleet::sim
