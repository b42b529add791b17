#include "serving/stored_certificate.hpp"

namespace certfleet::serving {

std::optional<pem_pair> stored_certificate(const storage::store& store, const std::string& domain) {
  auto record = store.get_domain(domain);
  if (!record || !*record || !(*record)->configured) return std::nullopt;
  auto certs = store.get_certs(domain);
  if (!certs || !*certs) return std::nullopt;
  return pem_pair{(*certs)->current.chain_pem, (*certs)->current.key_pem};
}

le_lookup stored_certificates(const storage::store& store) {
  return [&store](const std::string& domain) { return stored_certificate(store, domain); };
}

}  // namespace certfleet::serving
