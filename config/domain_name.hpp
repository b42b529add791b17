#pragma once
// The one place where certfleet decides whether a string is a domain name it can get an
// HTTP-01 certificate for, and what its canonical spelling is. Every domain that enters
// certfleet (configuration files, the CLI, the control socket) goes through normalize_domain.

#include <string>
#include <string_view>

#include "core/error.hpp"

namespace certfleet::config {

/// Longest name in presentation form without the trailing dot (RFC 1035 §2.3.4).
inline constexpr std::size_t max_domain_length = 253;
/// Longest label (RFC 1035 §2.3.4).
inline constexpr std::size_t max_label_length = 63;

/// Validates `raw` and returns its canonical form: surrounding whitespace trimmed, lower-case,
/// one trailing dot dropped. The result has at least two labels of 1-63 characters from
/// [a-z0-9-] that neither start nor end with '-', and is at most 253 characters long.
/// Internationalised names are converted to their A-label ("xn--...") form when certfleet was
/// built with libidn2 (see idna_supported()), and refused with advice otherwise.
/// Errors: error_kind::invalid_input, with a detail naming the value and the reason; wildcards
/// and IP address literals are refused because HTTP-01 cannot validate them.
result<std::string> normalize_domain(std::string_view raw);

/// True when normalize_domain converts non-ASCII names to A-labels (built with libidn2).
bool idna_supported();

}  // namespace certfleet::config
