#pragma once
// The fields of an X.509 certificate that certfleet reads, decoded with OpenSSL's ASN.1
// templates but leaving the subject public key as DER. OpenSSL 3.0 decodes that key
// through its provider decoders on every X509 parse (~250 us, most of a parse), and
// certfleet only ever compares it with a key it holds. Used by crypto_cert.cpp.

#include <memory>
#include <string_view>

#include "protocol/crypto/certificate.hpp"

namespace certfleet::protocol::detail {

// x509_fields (the decoded Certificate) and its deleter are declared in crypto_cert.hpp.
using x509_fields_ptr = std::unique_ptr<x509_fields, x509_fields_deleter>;

/// Decodes a DER Certificate (RFC 5280 §4.1); null when it is not one.
x509_fields_ptr decode_x509_fields(std::string_view der);

cert_info info_of(const x509_fields& fields);

/// The subjectPublicKeyInfo exactly as encoded in the certificate.
std::string_view public_key_der(const x509_fields& fields);

}  // namespace certfleet::protocol::detail
