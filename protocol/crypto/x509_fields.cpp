#include "protocol/crypto/x509_fields.hpp"

#include <openssl/asn1t.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <ctime>

#include "protocol/crypto/key.hpp"

namespace certfleet::protocol::detail {

// RFC 5280 §4.1, with subjectPublicKeyInfo as ANY: OpenSSL then keeps its whole
// encoding instead of decoding the key.
struct x509_tbs {
  ASN1_INTEGER* version;
  ASN1_INTEGER* serial;
  X509_ALGOR* signature;
  X509_NAME* issuer;
  X509_VAL* validity;
  X509_NAME* subject;
  ASN1_TYPE* public_key;
  ASN1_BIT_STRING* issuer_uid;
  ASN1_BIT_STRING* subject_uid;
  STACK_OF(X509_EXTENSION) * extensions;
};

struct x509_fields {
  x509_tbs* tbs;
  X509_ALGOR* signature_algorithm;
  ASN1_BIT_STRING* signature;
};

}  // namespace certfleet::protocol::detail

namespace {
using certfleet::protocol::detail::x509_fields;
using certfleet::protocol::detail::x509_tbs;

// OpenSSL's template macros name the item after the struct.
ASN1_SEQUENCE(x509_tbs) =
    {
        ASN1_EXP_OPT(x509_tbs, version, ASN1_INTEGER, 0),
        ASN1_SIMPLE(x509_tbs, serial, ASN1_INTEGER),
        ASN1_SIMPLE(x509_tbs, signature, X509_ALGOR),
        ASN1_SIMPLE(x509_tbs, issuer, X509_NAME),
        ASN1_SIMPLE(x509_tbs, validity, X509_VAL),
        ASN1_SIMPLE(x509_tbs, subject, X509_NAME),
        ASN1_SIMPLE(x509_tbs, public_key, ASN1_ANY),
        ASN1_IMP_OPT(x509_tbs, issuer_uid, ASN1_BIT_STRING, 1),
        ASN1_IMP_OPT(x509_tbs, subject_uid, ASN1_BIT_STRING, 2),
        ASN1_EXP_SEQUENCE_OF_OPT(x509_tbs, extensions, X509_EXTENSION, 3),
} ASN1_SEQUENCE_END(x509_tbs)

        ASN1_SEQUENCE(x509_fields) = {
            ASN1_SIMPLE(x509_fields, tbs, x509_tbs),
            ASN1_SIMPLE(x509_fields, signature_algorithm, X509_ALGOR),
            ASN1_SIMPLE(x509_fields, signature, ASN1_BIT_STRING),
} ASN1_SEQUENCE_END(x509_fields)

}  // namespace

namespace certfleet::protocol::detail {

namespace {

using general_names_ptr = std::unique_ptr<GENERAL_NAMES, ossl::deleter<GENERAL_NAMES_free>>;
using authority_key_id_ptr = std::unique_ptr<AUTHORITY_KEYID, ossl::deleter<AUTHORITY_KEYID_free>>;

timestamp to_timestamp(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return no_time;
  return timestamp{std::chrono::seconds{timegm(&tm)}};
}

std::string hex(const unsigned char* data, std::size_t len) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (std::size_t i = 0; i < len; ++i) {
    out += digits[data[i] >> 4];
    out += digits[data[i] & 15];
  }
  return out;
}

// A negative serial (RFC 5280 forbids them, some CAs issued them) is shown as its DER
// content octets, two's complement, so the text stays hex digits only (fuzz_pem found
// BN_bn2hex's "-" sign).
std::string negative_serial_hex(const ASN1_INTEGER* serial) {
  unsigned char* der = nullptr;
  const int len = i2d_ASN1_INTEGER(serial, &der);
  if (len <= 2) {
    OPENSSL_free(der);
    return {};
  }
  // Skip the tag and the length (short or long form).
  const int header = (der[1] & 0x80) ? 2 + (der[1] & 0x7f) : 2;
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (int i = header; i < len; ++i) {
    out += digits[der[i] >> 4];
    out += digits[der[i] & 0x0f];
  }
  OPENSSL_free(der);
  return out;
}

std::string serial_hex(const ASN1_INTEGER* serial) {
  if (ASN1_STRING_type(serial) == V_ASN1_NEG_INTEGER) return negative_serial_hex(serial);
  ossl::bn_ptr bn{ASN1_INTEGER_to_BN(serial, nullptr)};
  if (!bn) return {};
  char* text = BN_bn2hex(bn.get());
  if (text == nullptr) return {};
  std::string out(text);
  OPENSSL_free(text);
  for (char& c : out)
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string common_name(const X509_NAME* name) {
  const int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (idx < 0) return {};
  const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
  unsigned char* utf8 = nullptr;
  const int len = ASN1_STRING_to_UTF8(&utf8, data);
  if (len < 0) return {};
  std::string out(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(len));
  OPENSSL_free(utf8);
  return out;
}

std::string rfc2253(const X509_NAME* name) {
  ossl::bio_ptr bio{BIO_new(BIO_s_mem())};
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) return {};
  return ossl::bio_contents(bio.get());
}

// The decoded extension `nid` (a GENERAL_NAMES*, AUTHORITY_KEYID*, ...), or null.
void* extension(const STACK_OF(X509_EXTENSION) * exts, int nid) {
  const int at = X509v3_get_ext_by_NID(exts, nid, -1);
  return at < 0 ? nullptr : X509V3_EXT_d2i(X509v3_get_ext(exts, at));
}

std::vector<std::string> dns_sans(const STACK_OF(X509_EXTENSION) * exts) {
  std::vector<std::string> out;
  general_names_ptr names{static_cast<GENERAL_NAMES*>(extension(exts, NID_subject_alt_name))};
  if (!names) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), i);
    if (gn->type != GEN_DNS) continue;
    out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(gn->d.dNSName)),
                     static_cast<std::size_t>(ASN1_STRING_length(gn->d.dNSName)));
  }
  return out;
}

std::string authority_key_id_hex(const STACK_OF(X509_EXTENSION) * exts) {
  authority_key_id_ptr akid{
      static_cast<AUTHORITY_KEYID*>(extension(exts, NID_authority_key_identifier))};
  if (!akid || akid->keyid == nullptr) return {};
  return hex(ASN1_STRING_get0_data(akid->keyid),
             static_cast<std::size_t>(ASN1_STRING_length(akid->keyid)));
}

}  // namespace

void x509_fields_deleter::operator()(x509_fields* fields) const {
  ASN1_item_free(reinterpret_cast<ASN1_VALUE*>(fields), ASN1_ITEM_rptr(x509_fields));
}

x509_fields_ptr decode_x509_fields(std::string_view der) {
  const auto* in = reinterpret_cast<const unsigned char*>(der.data());
  auto* value =
      ASN1_item_d2i(nullptr, &in, static_cast<long>(der.size()), ASN1_ITEM_rptr(x509_fields));
  x509_fields_ptr fields{reinterpret_cast<x509_fields*>(value)};
  // A failed decode leaves its reasons in this thread's OpenSSL error queue, where they would
  // change the outcome of later calls (a key read next lost its public point: fuzz_pem).
  if (!fields) ERR_clear_error();
  // A subjectPublicKeyInfo is a SEQUENCE; ANY would take anything.
  if (fields && fields->tbs->public_key->type != V_ASN1_SEQUENCE) fields.reset();
  return fields;
}

cert_info info_of(const x509_fields& fields) {
  const x509_tbs& tbs = *fields.tbs;
  cert_info info;
  info.not_before = to_timestamp(tbs.validity->notBefore);
  info.not_after = to_timestamp(tbs.validity->notAfter);
  info.serial_hex = serial_hex(tbs.serial);
  info.subject_cn = common_name(tbs.subject);
  info.issuer = rfc2253(tbs.issuer);
  info.sans = dns_sans(tbs.extensions);
  info.authority_key_id_hex = authority_key_id_hex(tbs.extensions);
  return info;
}

std::string_view public_key_der(const x509_fields& fields) {
  const ASN1_STRING* encoded = fields.tbs->public_key->value.sequence;
  return {reinterpret_cast<const char*>(ASN1_STRING_get0_data(encoded)),
          static_cast<std::size_t>(ASN1_STRING_length(encoded))};
}

}  // namespace certfleet::protocol::detail
