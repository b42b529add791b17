#pragma once
// The registered domain of a name (the part bought from a registrar: "example.co.uk" for
// "www.shop.example.co.uk"), as the Public Suffix List says. Let's Encrypt counts its
// per-registered-domain certificate limit by it, so the order queue does too.

#include <string>
#include <string_view>

namespace certfleet::config {

/// The registered domain of `name` (normalised: lower case, A-labels). A name that is a
/// public suffix itself ("co.uk", "localhost") is its own registered domain, as it is at
/// the CA. Reads Debian's /usr/share/publicsuffix list when present, else libpsl's
/// built-in copy; names under an unlisted suffix ("x.example.test") keep two labels.
std::string registered_domain(std::string_view name);

}  // namespace certfleet::config
