#include "serving/https_redirect.hpp"

namespace certfleet::serving {

void https_redirect::use(bool always_use_tls, const std::vector<std::string>& url_domains) {
  auto domains = always_use_tls ? std::make_shared<const std::unordered_set<std::string>>(
                                      url_domains.begin(), url_domains.end())
                                : nullptr;
  std::lock_guard lock(mutex_);
  domains_ = std::move(domains);
}

bool https_redirect::wants(const std::string& host, const storage::store& store,
                           timestamp now) const {
  std::shared_ptr<const std::unordered_set<std::string>> domains;
  {
    std::lock_guard lock(mutex_);
    domains = domains_;
  }
  if (!domains || !domains->count(host)) return false;
  // Only a domain with a valid certificate: a redirect to a name that cannot answer TLS would
  // break the link.
  auto rec = store.get_domain(host);
  return rec && *rec && (*rec)->has_cert() && (*rec)->cert_not_after > now;
}

}  // namespace certfleet::serving
