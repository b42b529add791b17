#pragma once
// Starts a real pebble + pebble-challtestsrv (through tests/support/start-pebble)
// for one test or suite, and always stops them (by PID) when it goes away.

#include <map>
#include <string>

#include "tests/support/temp_dir.hpp"

namespace certfleet::testing {

struct pebble_options {
  std::map<std::string, std::string> env{{"PEBBLE_VA_NOSLEEP", "1"}};  ///< pebble's knobs
  int validity_seconds = 0;  ///< certificateValidityPeriod; 0 = pebble's default
  std::string blocklist;     ///< comma-separated domainBlocklist
  /// "KID:HMACKEY": new accounts need External Account Binding with this key (base64url).
  std::string eab;
  /// Where pebble validates HTTP-01; 0: a free port of its own. Set to another pebble's
  /// port, both CAs validate at the same daemon.
  int http01_port = 0;
};

class pebble_harness {
 public:
  /// Throws std::runtime_error with pebble's complaint if it does not come up.
  explicit pebble_harness(pebble_options options = {});
  ~pebble_harness();
  pebble_harness(const pebble_harness&) = delete;
  pebble_harness& operator=(const pebble_harness&) = delete;

  std::string directory_url() const { return vars_.at("DIRECTORY_URL"); }
  std::string ca_bundle() const { return vars_.at("CA_BUNDLE"); }
  std::string dns_server() const { return vars_.at("DNS_SERVER"); }
  unsigned short http01_port() const {
    return static_cast<unsigned short>(std::stoi(vars_.at("HTTP01_PORT")));
  }
  /// Where pebble validates TLS-ALPN-01 (RFC 8737): a daemon's https_listen goes there.
  unsigned short tls_alpn01_port() const {
    return static_cast<unsigned short>(std::stoi(vars_.at("TLSALPN01_PORT")));
  }
  std::string management_url() const { return vars_.at("MANAGEMENT_URL"); }
  std::string challtest_url() const { return vars_.at("CHALLTEST_URL"); }
  const std::filesystem::path& workdir() const { return dir_.path(); }

  /// Makes challtestsrv answer SERVFAIL for name (POST /set-servfail).
  void set_servfail(const std::string& name) const;
  /// Undoes set_servfail (POST /clear-servfail).
  void clear_servfail(const std::string& name) const;
  /// challtestsrv answers A queries for `name` with `address` alone (instead of 127.0.0.1).
  void point_to(const std::string& name, const std::string& address) const;
  /// Pebble's word on the certificate with this serial (lower-case hex): the JSON of its
  /// management port's /cert-status-by-serial ("Status", "Reason", ...).
  std::string cert_status(const std::string& serial_hex) const;
  /// The PEM of pebble's issuing root (management port /roots/0).
  std::string root_pem() const;

 private:
  /// Asks pebble for its goroutine dump (SIGQUIT, which ends it) and prints the
  /// goroutines that wait on a lock to stderr.
  void report_goroutines_on_locks() const;

  temp_dir dir_;
  std::map<std::string, std::string> vars_;
};

/// Runs a shell command and returns its stdout; throws if it exits non-zero.
std::string run_command(const std::string& command);

/// A loopback port nobody uses now, below the ephemeral range (tests/support/free-port),
/// so no outgoing connection takes it before the test's listener binds it.
int free_loopback_port();

}  // namespace certfleet::testing
