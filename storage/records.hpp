#pragma once
// What certfleet persists. These structs are plain values; storage/record_codec
// turns them into the versioned binary encoding kept in LMDB.

#include <cstdint>
#include <optional>
#include <string>

#include "core/time.hpp"

namespace certfleet::storage {

/// Where a domain is in its registration/renewal life. Stored as one byte:
/// never renumber, only append.
enum class domain_phase : std::uint8_t {
  pending = 0,        ///< configured, never attempted
  self_checking = 1,  ///< checking that the domain reaches this host
  ordering = 2,       ///< creating the ACME order / fetching authorizations
  validating = 3,     ///< challenge answered, waiting for the CA to validate
  finalizing = 4,     ///< CSR sent, waiting for and downloading the certificate
  valid = 5,          ///< has a certificate, waiting for its renewal point
  failing = 6,        ///< the last attempt failed, waiting to retry
  retired = 7,        ///< no longer configured; no work is done for it
  queued = 8,         ///< self-check passed; waiting for the order budget or a free order slot
  /// Let's Encrypt is not enabled (terms not agreed or no e-mail): nothing is attempted until a
  /// reload enables it.
  disabled = 9,
};

/// Registration/renewal state of one domain (the domain state machine's state).
/// Times are no_time (the epoch) when they never happened.
struct domain_record {
  std::string name;  ///< normalised domain name; the key
  domain_phase phase = domain_phase::pending;
  bool configured = true;           ///< still in the configuration (false: retired)
  timestamp cert_not_before{};      ///< of the current certificate; no_time if none
  timestamp cert_not_after{};       ///< of the current certificate; no_time if none
  timestamp last_success{};         ///< last time a certificate was issued
  timestamp first_failure{};        ///< start of the current run of failures; no_time if none
  timestamp last_failure{};         ///< last failed attempt (kept after a success, for history)
  std::uint32_t failure_count = 0;  ///< consecutive failures; 0 after a success
  timestamp next_attempt{};         ///< when work is next due (renewal point or retry)
  std::string last_error;           ///< message of the last failure; empty after a success
  std::string order_url;            ///< in-flight ACME order, to resume after a restart
  /// RFC 9773: the CA's suggested renewal window for the current certificate; both no_time
  /// when the CA gave none (or its answer was unusable).
  timestamp ari_window_start{};
  timestamp ari_window_end{};
  /// When to ask the CA for the window next; no_time when nothing is scheduled.
  timestamp ari_check_at{};
  /// Attempts in a row that failed by the CA's fault (core/error.hpp ca_fault); 0 after a
  /// success or a failure of the domain's own. At acme_fallback_after, orders go to the
  /// fallback CA.
  std::uint32_t ca_failures = 0;

  bool has_cert() const { return cert_not_after != no_time; }
  bool operator==(const domain_record&) const = default;
};

/// A certificate chain and its private key. Key material: never logged.
struct cert_record {
  std::string domain;
  std::string chain_pem;  ///< leaf first, then intermediates
  std::string key_pem;    ///< PKCS#8 PEM private key
  timestamp not_before{};
  timestamp not_after{};
  std::string serial;  ///< hex
  /// The directory URL of the CA that issued it; empty when not known (stored before
  /// certfleet kept it, or not issued over ACME).
  std::string ca_url;
  bool operator==(const cert_record&) const = default;
};

/// The current certificate of a domain and the one it replaced (kept until the
/// new one is in use).
struct cert_pair {
  cert_record current;
  std::optional<cert_record> previous;
  bool operator==(const cert_pair&) const = default;
};

/// An order in flight and the certificate key made for it, saved before the CA can
/// issue, so a restart continues the same order with the same key.
struct pending_order_record {
  std::string domain;
  std::string order_url;
  std::string key_pem;  ///< PKCS#8 PEM private key
  bool operator==(const pending_order_record&) const = default;
};

/// The ACME account, one per directory URL.
struct account_record {
  std::string directory_url;
  std::string account_url;  ///< the "kid"
  std::string key_pem;      ///< account private key, PKCS#8 PEM
  /// The email the CA has as the account's contact, as last registered or updated; empty
  /// when none (or not known: accounts stored before certfleet kept it).
  std::string contact;
  /// The new key of a rollover (RFC 8555 §7.3.5) stored before the CA was asked, until its
  /// answer is stored; empty when none. At start, the CA is asked which key it knows.
  std::string next_key_pem;
  bool operator==(const account_record&) const = default;
};

/// How much of a CA's new-order budget is spent, as the moment the token bucket is full
/// again: kept across restarts, so a daemon that restarts does not get a fresh budget.
struct budget_record {
  std::string directory_url;
  timestamp full_at{};
  bool operator==(const budget_record&) const = default;
};

}  // namespace certfleet::storage
