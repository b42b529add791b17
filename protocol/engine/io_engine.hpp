#pragma once
// The narrow interface the actors call for everything that touches the network: the
// self-check, the ACME account and the issuance of one certificate. Plain types and
// callbacks only (no Asio, no Beast), so the actors compile without them and a test
// can put a fake behind it. The real one is asio_io_engine.
//
// Callbacks run on the implementation's thread and must only hand their result on
// (e.g. caf::anon_send); they never block.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "core/error.hpp"
#include "protocol/acme/issuance_types.hpp"
#include "protocol/acme/renewal_info.hpp"

namespace certfleet::protocol {

/// The ACME account as stored: URL and PEM key.
struct account_credentials {
  std::string url;
  std::string key_pem;  ///< key material: never log
  /// The key of a rollover whose outcome was not stored; empty when none. Key material.
  std::string next_key_pem;
};

/// Which of the two CAs a request goes to: the one acme_directory_url names, or the one
/// acme_fallback_directory_url names (none until use_ca sets it). Each has its own account.
enum class ca_role : std::uint8_t { primary = 0, fallback = 1 };

class io_engine {
 public:
  virtual ~io_engine() = default;

  /// Acknowledges a stage; issuance continues (or stops, on error) when it is called.
  /// May be called from any thread.
  using ack = std::function<void(result<void>)>;
  using stage_handler = std::function<void(issuance_stage, const std::string& order_url,
                                           const std::string& key_pem, ack)>;

  /// Whether `domain` reaches this host as the CA's validation `how` would (the seed's
  /// self-check over HTTP, or a TLS-ALPN-01 handshake with the HTTPS listener).
  virtual void self_check(std::string domain, challenge_kind how,
                          std::function<void(result<void>)> done) = 0;
  /// Uses the stored account when given (no CA request, unless a rollover's outcome is not
  /// known: then the CA is asked which key it knows), else creates one with a new key,
  /// bound to the operator's account at the CA when `binding` is given (RFC 8555 §7.3.4).
  virtual void account(ca_role role, std::optional<account_credentials> stored, std::string email,
                       bool agree_to_terms, std::optional<account_binding> binding,
                       std::function<void(result<account_credentials>)> done) = 0;
  /// RFC 8555 §7.3.5: the primary CA's account in use (after account()) gets a new key. The new key
  /// (PEM) goes to `before_change` first, and the CA is asked only once that acknowledges
  /// (the key is stored: a change the daemon forgot would lose the account). `done` gets the
  /// account with its new key.
  virtual void roll_over_key(std::function<void(const std::string& key_pem, ack)> before_change,
                             std::function<void(result<account_credentials>)> done) = 0;
  /// RFC 8555 §7.3.2: the account in use (after account()) gets `email` as its contact.
  virtual void update_contact(ca_role role, std::string email,
                              std::function<void(result<void>)> done) = 0;
  /// RFC 8555 §7.6: revokes the leaf of `chain_pem` with the account in use (after
  /// account()), giving the CRLReason code `reason`.
  virtual void revoke(ca_role role, std::string chain_pem, int reason,
                      std::function<void(result<void>)> done) = 0;
  /// Everything asked of `role` after this call goes to the CA at `directory_url` (empty,
  /// for the fallback: none), trusted with
  /// `ca_bundle` (empty: the system's trust store), without an account until account() is
  /// called again; what is under way finishes at the CA it began with. A CA that cannot be
  /// set up (an unreadable bundle) is logged, and every later request fails saying so.
  virtual void use_ca(ca_role role, std::string directory_url, std::string ca_bundle) = 0;
  /// Obtains one certificate, reporting each stage and waiting for its acknowledgement;
  /// the certificate names the CA that issued it (ca_url).
  virtual void issue(ca_role role, issuance_request request, stage_handler on_stage,
                     std::function<void(result<issued_certificate>)> done) = 0;
  /// RFC 9773: the CA's suggested renewal window of the certificate whose chain (PEM,
  /// leaf first) is `chain_pem`; `offered` false when the CA has no ARI.
  virtual void renewal_info(ca_role role, std::string chain_pem,
                            std::function<void(result<renewal_info_answer>)> done) = 0;
  /// Whether the CA at `directory_url`, trusted with `ca_bundle`, offers the certificate
  /// profile `profile` (its directory's meta.profiles): the CA in use, or one a reload is
  /// about to name. Errors: kind config when it does not (the message lists what it
  /// offers); other kinds when the directory could not be had.
  virtual void check_profile(std::string profile, std::string directory_url, std::string ca_bundle,
                             std::function<void(result<void>)> done) = 0;
};

}  // namespace certfleet::protocol
