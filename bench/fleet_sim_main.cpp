// fleet_sim: runs the fleet simulator's scenarios (bench/fleet_sim/scenarios.hpp) and prints
// one JSON line per scenario; exits 1 when a scenario misses one of its criteria.
// Usage: fleet_sim [--domains N] [--days D] [--only NAME] [--svg-dir DIR]

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

#include "bench/fleet_sim/scenarios.hpp"

int main(int argc, char** argv) {
  std::size_t domains = 100000;
  int days = 365;
  std::string only, svg_dir;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--domains")
      domains = std::stoul(value);
    else if (flag == "--days")
      days = std::stoi(value);
    else if (flag == "--only")
      only = value;
    else if (flag == "--svg-dir")
      svg_dir = value;
    else {
      std::cerr << "fleet_sim: unknown option " << flag
                << "; usage: fleet_sim [--domains N] [--days D] [--only NAME] [--svg-dir DIR]\n";
      return 2;
    }
  }
  bool all_passed = true;
  for (const auto& sc : certfleet::sim::all_scenarios(domains, days, {})) {
    if (!only.empty() && sc.name != only) continue;
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = certfleet::sim::run_fleet(sc.settings);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const auto failed = sc.check(sc.settings, r);
    all_passed = all_passed && failed.empty();
    std::cout << certfleet::sim::summary_json(sc, r, failed, seconds) << std::endl;
    if (!svg_dir.empty())
      std::ofstream(svg_dir + "/fleet_sim_" + sc.name + ".svg")
          << certfleet::sim::picture_svg(sc, r);
  }
  return all_passed ? 0 : 1;
}
