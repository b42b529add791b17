#pragma once
// The one answer to "which Let's Encrypt certificate does the store hold for this
// domain", used by the HTTPS listener, the exports and `certfleet cert-for`, so the
// three never disagree.

#include <optional>
#include <string>

#include "serving/certificate_choice.hpp"
#include "storage/store.hpp"

namespace certfleet::serving {

/// The current chain and key stored for `domain`, if the domain is still configured.
/// A retired domain's certificate stays in the store (it may come back) but is never
/// served. A read error counts as no certificate: the next rule of the chain applies.
std::optional<pem_pair> stored_certificate(const storage::store& store, const std::string& domain);

/// stored_certificate as the precedence rules' lookup. The store must outlive it.
le_lookup stored_certificates(const storage::store& store);

}  // namespace certfleet::serving
