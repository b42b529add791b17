#pragma once
// Private keys (RAII over OpenSSL 3 EVP_PKEY) and the OpenSSL plumbing shared by
// the crypto, JWK and JWS code. Certificates and CSRs live in crypto_cert.hpp.

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/key_type.hpp"

namespace certfleet::protocol {

/// std::unique_ptr aliases that free OpenSSL objects with their own free function.
namespace ossl {
template <auto Free>
struct deleter {
  template <class T>
  void operator()(T* p) const {
    Free(p);
  }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, deleter<EVP_PKEY_free>>;
using pkey_ctx_ptr = std::unique_ptr<EVP_PKEY_CTX, deleter<EVP_PKEY_CTX_free>>;
using md_ctx_ptr = std::unique_ptr<EVP_MD_CTX, deleter<EVP_MD_CTX_free>>;
using bio_ptr = std::unique_ptr<BIO, deleter<BIO_free_all>>;
using bn_ptr = std::unique_ptr<BIGNUM, deleter<BN_free>>;
using x509_ptr = std::unique_ptr<X509, deleter<X509_free>>;
using x509_req_ptr = std::unique_ptr<X509_REQ, deleter<X509_REQ_free>>;
using x509_name_ptr = std::unique_ptr<X509_NAME, deleter<X509_NAME_free>>;
using x509_ext_ptr = std::unique_ptr<X509_EXTENSION, deleter<X509_EXTENSION_free>>;

/// A memory BIO reading `text` (no copy; `text` must outlive the BIO).
bio_ptr read_bio(std::string_view text);
/// Everything written so far to a memory BIO.
std::string bio_contents(BIO* bio);
/// An error of `kind` saying `what` failed, with OpenSSL's reason for the most recent
/// failure appended; clears this thread's OpenSSL error queue.
error make_error(error_kind kind, std::string what);
}  // namespace ossl

/// The key algorithms certfleet generates and accepts.

/// An asymmetric private key (with its public half). Move-only; a moved-from key is
/// empty and may only be assigned to or destroyed. Errors never contain key material.
/// Signing with one key from several threads at once is safe (OpenSSL 3 keys are
/// read-only once built).
class private_key {
 public:
  /// Generates a fresh key. Errors: internal (OpenSSL failed).
  static result<private_key> generate(key_type type);
  /// Reads an unencrypted PEM private key (PKCS#8 "PRIVATE KEY", or the traditional
  /// "EC PRIVATE KEY" / "RSA PRIVATE KEY"). Errors (invalid_input): not a PEM key, an
  /// encrypted key, or an algorithm/size other than the five key_types.
  static result<private_key> from_pem(std::string_view pem);

  private_key(private_key&&) noexcept = default;
  private_key& operator=(private_key&&) noexcept = default;

  /// PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----"), unencrypted.
  std::string to_pem() const;
  key_type type() const { return type_; }
  bool is_ec() const { return type_ == key_type::ec_p256 || type_ == key_type::ec_p384; }
  bool is_rsa() const { return !is_ec(); }
  /// The OpenSSL key, still owned by this object.
  EVP_PKEY* native() const { return pkey_.get(); }
  /// An EC key's public point, uncompressed (04 || X || Y, SEC 1 §2.3.3); empty for RSA.
  /// Read once: OpenSSL 3.0 derives it again, with a field inversion, on every request,
  /// and a new certificate key needs it three times (CSR, certificate check, PEM).
  const std::string& ec_public_point() const { return ec_point_; }

 private:
  private_key(ossl::pkey_ptr pkey, key_type type);
  ossl::pkey_ptr pkey_;
  key_type type_;
  std::string ec_point_;
};

/// SHA-256 of `bytes` (32 raw bytes).
std::string sha256(std::string_view bytes);

}  // namespace certfleet::protocol
