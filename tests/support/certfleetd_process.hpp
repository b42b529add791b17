#pragma once
// The real certfleetd binary as a child process, configured against a
// pebble_harness, plus the real certfleet CLI: what end-to-end tests drive.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "storage/records.hpp"
#include "tests/support/pebble_harness.hpp"

namespace certfleet::testing {

struct cli_result {
  int exit_code = -1;
  std::string out;  ///< stdout and stderr together
};

class certfleetd_process {
 public:
  /// Writes a configuration for `domains` (the first is also `me`) against pebble, or
  /// against `directory_url` (a front of pebble's, trusted by pebble's CA bundle) when set.
  /// `listen_host`: the loopback address its HTTP-01 responder binds (pebble's HTTP-01
  /// port), so that several daemons (a cluster's nodes) can run side by side.
  certfleetd_process(const pebble_harness& pebble, const std::vector<std::string>& domains,
                     const std::string& extra_conf = "", const std::string& directory_url = "",
                     const std::string& listen_host = "127.0.0.1");
  /// Stops the daemon; fails the running test if its log ever held key material.
  ~certfleetd_process();

  /// Starts the daemon and waits (bounded) until its control socket answers.
  void start(const std::vector<std::string>& extra_args = {});
  /// Starts the daemon where it must refuse to start: waits (bounded) for it to exit and
  /// returns its exit status and what it wrote to stderr.
  cli_result start_expecting_refusal(const std::vector<std::string>& extra_args = {});
  void kill9();
  /// SIGHUP: the daemon re-reads its configuration, as `certfleet reload` asks it to.
  void sighup() const;
  /// SIGSTOP (true) or SIGCONT (false): a paused process, as a long GC pause or a frozen VM.
  void freeze(bool frozen) const;
  /// SIGTERM and wait (10 s times time_scale()) for a clean exit; returns the exit status.
  int stop();
  bool running() const;

  /// Runs `certfleet --config-dir CONF ARGS...`.
  cli_result cli(const std::string& args) const;
  /// The domain records in the store (read-only, as the CLI reads them).
  std::vector<storage::domain_record> records() const;
  /// Polls pred every 100 ms until it holds or `limit` (times time_scale()) passes.
  bool wait_until(const std::function<bool()>& pred, std::chrono::seconds limit) const;
  /// The serial (hex) of the certificate stored for `domain`, "(none stored)" without one: a
  /// renewal changes it, even within the second that keeps the expiry the same.
  std::string stored_serial(const std::string& domain) const;
  /// True once every configured domain has a certificate.
  bool all_issued() const;
  /// How many domains the daemon runs now (its answer to a ping; -1 without an answer).
  long running_domains() const;

  const std::filesystem::path& conf_dir() const { return conf_; }
  const std::filesystem::path& state_dir() const { return state_; }
  std::string log() const;
  /// The daemon's descriptors above stderr that a child it starts would inherit (not
  /// close-on-exec), each as "fd -> target".
  std::vector<std::string> inheritable_descriptors() const;

 private:
  temp_dir dir_;
  std::filesystem::path conf_, state_;
  std::size_t domain_count_ = 0;
  pid_t pid_ = -1;

  void spawn(const std::vector<std::string>& extra_args);
};

}  // namespace certfleet::testing
