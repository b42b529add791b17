#pragma once
// Starts a real etcd cluster (Debian's etcd-server, through tests/support/start-etcd)
// for one test or suite, and always stops it when it goes away. Members can be
// stopped, paused and started again to test what a cluster of nodes does then.

#include <map>
#include <string>
#include <vector>

#include "tests/support/temp_dir.hpp"

namespace certfleet::testing {

class etcd_harness {
 public:
  /// Throws std::runtime_error with start-etcd's complaint if the members do not come up.
  explicit etcd_harness(int members = 3);
  ~etcd_harness();
  etcd_harness(const etcd_harness&) = delete;
  etcd_harness& operator=(const etcd_harness&) = delete;

  int members() const { return members_; }
  /// Every member's client URL.
  std::vector<std::string> endpoints() const;
  /// Member i's (1-based) client URL.
  std::string endpoint(int i) const { return vars_.at("ENDPOINT_" + std::to_string(i)); }

  /// kill -9 of member i (its data stays for start_member).
  void stop_member(int i);
  /// Starts member i again with its data and waits until it answers /health.
  void start_member(int i);

 private:
  temp_dir dir_;
  int members_;
  std::map<std::string, std::string> vars_;
};

}  // namespace certfleet::testing
