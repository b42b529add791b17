#include "tests/support/etcd_harness.hpp"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "tests/support/pebble_harness.hpp"

namespace certfleet::testing {

namespace {
const std::string support_dir = CERTFLEET_SOURCE_DIR "/tests/support";
}

etcd_harness::etcd_harness(int members) : members_(members) {
  std::istringstream lines(run_command(support_dir + "/start-etcd " + dir_.path().string() +
                                       " --members " + std::to_string(members) + " --owner " +
                                       std::to_string(::getpid()) + " 2>&1"));
  for (std::string line; std::getline(lines, line);) {
    if (auto eq = line.find('='); eq != std::string::npos)
      vars_[line.substr(0, eq)] = line.substr(eq + 1);
  }
  if (!vars_.count("ENDPOINTS")) throw std::runtime_error("start-etcd printed no ENDPOINTS");
}

etcd_harness::~etcd_harness() {
  try {
    run_command(support_dir + "/stop-etcd " + dir_.path().string());
  } catch (...) {
  }
}

std::vector<std::string> etcd_harness::endpoints() const {
  std::vector<std::string> out;
  for (int i = 1; i <= members_; ++i) out.push_back(endpoint(i));
  return out;
}

void etcd_harness::stop_member(int i) {
  const std::string data_dir = dir_.path().string() + "/m" + std::to_string(i);
  run_command("pkill -9 -f -- '--data-dir " + data_dir + "( |$)' || true");
  for (int tries = 0; tries < 50; ++tries) {
    try {
      run_command("pgrep -f -- '--data-dir " + data_dir + "( |$)' >/dev/null");
    } catch (const std::runtime_error&) {
      return;  // gone
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  throw std::runtime_error("etcd member " + std::to_string(i) + " did not stop");
}

void etcd_harness::start_member(int i) {
  const std::string script = dir_.path().string() + "/member-" + std::to_string(i) + ".sh";
  run_command("setsid bash " + script + " </dev/null >/dev/null 2>&1 &");
  for (int tries = 0; tries < 100; ++tries) {
    try {
      run_command("curl -s --max-time 1 " + endpoint(i) +
                  "/health | grep -q '\"health\":\"true\"'");
      return;
    } catch (const std::runtime_error&) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  throw std::runtime_error("etcd member " + std::to_string(i) + " did not come back");
}

}  // namespace certfleet::testing
