#pragma once
// Certificate signing requests (RFC 2986, as RFC 8555 §7.4 finalize wants them) and
// X.509 certificates: parsing what the CA returns, and self-signed fallbacks.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/time.hpp"
#include "protocol/crypto/cert_info.hpp"
#include "protocol/crypto/key.hpp"

namespace certfleet::protocol {

/// One attribute of a certificate subject, as openssl's -subj names it: "C", "ST", "L", "O",
/// "OU", "CN" or "emailAddress", and its value.
struct subject_entry {
  std::string field;
  std::string value;
};

/// A DER-encoded PKCS#10 CSR for `domains`, signed with `key` (SHA-256). The subject is
/// `subject` in order, with CN = the first domain unless `subject` has a CN (the CN is left
/// out when longer than the 64 characters X.509 allows); every domain is a dNSName SAN.
/// Errors (invalid_input): no domains, a name that is empty, longer than 253 characters or
/// has characters other than letters, digits, '-', '.', '_' and a leading "*." wildcard, or a
/// subject field OpenSSL does not know or whose value it refuses (a C of other than 2 letters).
result<std::string> make_csr_der(const private_key& key, const std::vector<std::string>& domains,
                                 const std::vector<subject_entry>& subject = {});

namespace detail {
struct x509_fields;
struct x509_fields_deleter {
  void operator()(x509_fields* fields) const;
};
}  // namespace detail

/// A parsed X.509 certificate: parse once, ask many times. The public key is kept
/// encoded (see x509_fields.hpp: decoding it is most of a parse under OpenSSL 3.0).
class certificate {
 public:
  /// The first certificate in PEM text. Errors (invalid_input): no certificate.
  static result<certificate> from_pem(std::string_view pem);

  cert_info info() const;
  /// The certificate as DER, as the CA signed it.
  const std::string& der() const { return der_; }
  /// Whether the certificate holds the public half of `key`.
  bool holds_key(const private_key& key) const;

 private:
  certificate(std::string der, std::unique_ptr<detail::x509_fields, detail::x509_fields_deleter> f)
      : der_(std::move(der)), fields_(std::move(f)) {}
  std::string der_;
  std::unique_ptr<detail::x509_fields, detail::x509_fields_deleter> fields_;
};

/// Parses the first certificate in PEM text. Errors (invalid_input): no certificate.
result<cert_info> parse_certificate_pem(std::string_view pem);

/// A certificate chain as the CA sent it, leaf first.
struct pem_chain {
  std::vector<std::string> blocks;  ///< "-----BEGIN CERTIFICATE-----" blocks, each ending in '\n'
  certificate leaf;                 ///< blocks[0], parsed
  std::string joined() const;       ///< the blocks, concatenated
};

/// Splits an application/pem-certificate-chain (RFC 8555 §9.1) into its certificates.
/// Errors (bad_response): a PEM block of another type (e.g. PRIVATE KEY), text outside
/// the blocks, an unterminated block, a block that is not a valid certificate, or no
/// certificate at all. Issuer certificates already seen valid by this thread are not
/// parsed again (every certificate from a CA carries the same few).
result<pem_chain> split_pem_chain(std::string_view text);

/// A self-signed certificate (PEM) for `name` (subject CN and dNSName SAN) valid from
/// `now` for `validity`, signed with `key` (SHA-256). For serving TLS before the CA has
/// issued, and for test CAs. Errors: invalid_input for an unusable name; internal.
/// With `acme_identifier` (a SHA-256 digest, 32 bytes), it carries RFC 8737's critical
/// acmeIdentifier extension: the certificate that answers a TLS-ALPN-01 challenge.
result<std::string> make_self_signed_pem(const private_key& key, const std::string& name,
                                         std::chrono::seconds validity, timestamp now,
                                         const std::string& acme_identifier = {});

/// RFC 8737 §3: the digest a TLS-ALPN-01 certificate proves, SHA-256 of the key
/// authorization.
std::string tls_alpn_digest(const std::string& key_authorization);

/// The acmeIdentifier digest of the first certificate in `cert_pem`; none when it has no
/// such extension, or it is not critical, or not a 32-byte OCTET STRING.
std::optional<std::string> acme_identifier_of(std::string_view cert_pem);

/// Whether the first certificate in `cert_pem` holds the public half of `key`. False
/// when the PEM does not parse.
bool certificate_matches_key(std::string_view cert_pem, const private_key& key);

}  // namespace certfleet::protocol
