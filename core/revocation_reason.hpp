#pragma once
// RFC 8555 §7.6: the reasons an ACME client may give for revoking a certificate, by the
// names operators type (RFC 5280 §5.3.1 CRLReason) and the codes the CA receives. Shared
// by the CLI, which checks what was typed, and the daemon, which sends the code.

#include <optional>
#include <string>
#include <string_view>

namespace certfleet {

/// The CRLReason code of `name` ("keyCompromise" -> 1), for the reasons Let's Encrypt
/// accepts from a subscriber: unspecified, keyCompromise, affiliationChanged, superseded,
/// cessationOfOperation. nullopt for any other name.
std::optional<int> revocation_reason_code(std::string_view name);

/// Those names, comma-separated, for an error that says what may be given.
std::string revocation_reason_names();

}  // namespace certfleet
