#include "tests/support/pebble_harness.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "tests/support/goroutine_dump.hpp"

namespace certfleet::testing {

namespace {
const std::string support_dir = CERTFLEET_SOURCE_DIR "/tests/support";
}

std::string run_command(const std::string& command) {
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("cannot run: " + command);
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  const int status = ::pclose(pipe);
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error("command failed: " + command + "\n" + out);
  return out;
}

pebble_harness::pebble_harness(pebble_options options) {
  std::string cmd;
  for (const auto& [k, v] : options.env) cmd += k + "=" + v + " ";
  cmd += support_dir + "/start-pebble " + dir_.path().string() + " --owner " +
         std::to_string(::getpid());
  if (options.validity_seconds > 0)
    cmd += " --validity " + std::to_string(options.validity_seconds);
  if (!options.blocklist.empty()) cmd += " --blocklist " + options.blocklist;
  if (!options.eab.empty()) cmd += " --eab " + options.eab;
  if (options.http01_port > 0) cmd += " --http01-port " + std::to_string(options.http01_port);
  cmd += " 2>&1";
  std::istringstream lines(run_command(cmd));
  for (std::string line; std::getline(lines, line);) {
    if (auto eq = line.find('='); eq != std::string::npos)
      vars_[line.substr(0, eq)] = line.substr(eq + 1);
  }
  if (!vars_.count("DIRECTORY_URL"))
    throw std::runtime_error("start-pebble printed no DIRECTORY_URL");
}

pebble_harness::~pebble_harness() {
  // A test that failed may have met pebble 2.4's deadlock: its goroutine dump says so.
  if (::testing::Test::HasFailure()) report_goroutines_on_locks();
  try {
    run_command(support_dir + "/stop-pebble " + dir_.path().string());
  } catch (...) {
  }
}

void pebble_harness::report_goroutines_on_locks() const {
  const auto pid_var = vars_.find("PEBBLE_PID");
  if (pid_var == vars_.end()) return;
  const pid_t pid = std::stoi(pid_var->second);
  if (::kill(pid, SIGQUIT) != 0) return;
  // The Go runtime writes every goroutine's stack to pebble's log, then exits.
  const auto log_path = dir_.path() / "pebble.log";
  const auto read_log = [&] {
    std::ifstream log(log_path);
    return std::string(std::istreambuf_iterator<char>(log), {});
  };
  const auto has_dump = [](const std::string& text) {
    return text.find("\ngoroutine ") != std::string::npos;
  };
  for (int i = 0; i < 50 && ::kill(pid, 0) == 0 && !has_dump(read_log()); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the rest of the dump
  const std::string dump = read_log();
  const std::string blocked = blocked_goroutines(dump);
  if (!has_dump(dump)) {
    std::cerr << "pebble: wrote no goroutine dump (see " << log_path.string() << ")\n";
  } else if (blocked.empty()) {
    std::cerr << "pebble: no goroutine was waiting on a lock when the test failed\n";
  } else {
    std::cerr << "pebble: goroutines waiting on locks when the test failed (pebble 2.4 deadlocks "
                 "under concurrent load; bench/analysis.md has the mechanism):\n"
              << blocked;
  }
}

void pebble_harness::set_servfail(const std::string& name) const {
  run_command("curl -sf -X POST -d '{\"host\":\"" + name + "\"}' " + challtest_url() +
              "/set-servfail");
}

void pebble_harness::clear_servfail(const std::string& name) const {
  run_command("curl -sf -X POST -d '{\"host\":\"" + name + "\"}' " + challtest_url() +
              "/clear-servfail");
}

void pebble_harness::point_to(const std::string& name, const std::string& address) const {
  // add-a adds to the name's addresses: clear them first, so the name has only this one.
  run_command("curl -sf -X POST -d '{\"host\":\"" + name + "\"}' " + challtest_url() + "/clear-a");
  run_command("curl -sf -X POST -d '{\"host\":\"" + name + "\",\"addresses\":[\"" + address +
              "\"]}' " + challtest_url() + "/add-a");
}

std::string pebble_harness::cert_status(const std::string& serial_hex) const {
  return run_command("curl -sf --cacert " + ca_bundle() + " " + management_url() +
                     "/cert-status-by-serial/" + serial_hex);
}

std::string pebble_harness::root_pem() const {
  return run_command("curl -sf --cacert " + ca_bundle() + " " + management_url() + "/roots/0");
}

int free_loopback_port() { return std::stoi(run_command(support_dir + "/free-port")); }

}  // namespace certfleet::testing
