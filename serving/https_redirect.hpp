#pragma once
// url_domains_always_use_tls: which plain HTTP requests the port-80 responder answers with a
// redirect to https:// (a URL domain that has a valid certificate). The HTTP-01 responder asks
// on its thread for every plain request; a reload swaps the rules from the control thread.

#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/time.hpp"
#include "storage/store.hpp"

namespace certfleet::serving {

class https_redirect {
 public:
  /// The rules of a configuration: on or off, and its URL domains.
  void use(bool always_use_tls, const std::vector<std::string>& url_domains);
  /// A request for `host` goes to https:// now.
  bool wants(const std::string& host, const storage::store& store, timestamp now) const;

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const std::unordered_set<std::string>> domains_;  ///< null: off
};

}  // namespace certfleet::serving
