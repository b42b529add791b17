#include "protocol/crypto/certificate.hpp"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <ctime>
#include <optional>

#include "protocol/crypto/x509_fields.hpp"

namespace certfleet::protocol {
namespace {

using general_names_ptr = std::unique_ptr<GENERAL_NAMES, ossl::deleter<GENERAL_NAMES_free>>;

struct ext_stack_deleter {
  void operator()(STACK_OF(X509_EXTENSION) * s) const {
    sk_X509_EXTENSION_pop_free(s, X509_EXTENSION_free);
  }
};
using ext_stack_ptr = std::unique_ptr<STACK_OF(X509_EXTENSION), ext_stack_deleter>;

// X.509 limits the CN to 64 characters (RFC 5280 ub-common-name).
constexpr std::size_t max_cn_length = 64;

result<void> check_dns_name(std::string_view name) {
  if (name.empty()) return error{error_kind::invalid_input, "empty domain name"};
  if (name.size() > 253)
    return error{error_kind::invalid_input, "domain name longer than 253 characters: " +
                                                std::string(name.substr(0, 64)) + "..."};
  std::string_view rest = name.starts_with("*.") ? name.substr(2) : name;
  for (char c : rest) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_';
    if (!ok)
      return error{error_kind::invalid_input,
                   "domain name \"" + std::string(name) +
                       "\" has a character that is not allowed (letters, digits, '-', '.', '_')"};
  }
  if (rest.empty() || rest.front() == '.' || rest.back() == '.')
    return error{error_kind::invalid_input,
                 "domain name \"" + std::string(name) + "\" is not a valid host name"};
  return {};
}

result<ossl::x509_ext_ptr> make_san_extension(const std::vector<std::string>& domains) {
  general_names_ptr names{sk_GENERAL_NAME_new_null()};
  if (!names) return ossl::make_error(error_kind::internal, "allocating SANs failed");
  for (const auto& domain : domains) {
    GENERAL_NAME* gn = GENERAL_NAME_new();
    ASN1_IA5STRING* ia5 = ASN1_IA5STRING_new();
    if (gn == nullptr || ia5 == nullptr ||
        ASN1_STRING_set(ia5, domain.data(), static_cast<int>(domain.size())) != 1) {
      GENERAL_NAME_free(gn);
      ASN1_IA5STRING_free(ia5);
      return ossl::make_error(error_kind::internal, "building a SAN failed");
    }
    GENERAL_NAME_set0_value(gn, GEN_DNS, ia5);
    if (sk_GENERAL_NAME_push(names.get(), gn) == 0) {
      GENERAL_NAME_free(gn);
      return ossl::make_error(error_kind::internal, "building the SAN list failed");
    }
  }
  ossl::x509_ext_ptr ext{X509V3_EXT_i2d(NID_subject_alt_name, 0, names.get())};
  if (!ext) return ossl::make_error(error_kind::internal, "encoding the SAN extension failed");
  return ext;
}

bool add_cn(X509_NAME* name, std::string_view cn) {
  return X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
                                    reinterpret_cast<const unsigned char*>(cn.data()),
                                    static_cast<int>(cn.size()), -1, 0) == 1;
}

// The curve of an EC key type; NID_undef for RSA.
int ec_curve(key_type type) {
  if (type == key_type::ec_p256) return NID_X9_62_prime256v1;
  if (type == key_type::ec_p384) return NID_secp384r1;
  return NID_undef;
}

// An EC SubjectPublicKeyInfo is two OIDs and the encoded point (RFC 5480 §2): set
// those directly. OpenSSL 3.0's own way (X509_PUBKEY_set, X509_REQ_set_pubkey) encodes
// the key and decodes it again through the provider encoder/decoder machinery (~180 us).
bool set_ec_public_key(X509_PUBKEY* pub, const private_key& key) {
  const std::string& point = key.ec_public_point();
  if (point.empty()) return false;
  auto* copy = static_cast<unsigned char*>(OPENSSL_memdup(point.data(), point.size()));
  if (copy == nullptr || X509_PUBKEY_set0_param(pub, OBJ_nid2obj(NID_X9_62_id_ecPublicKey),
                                                V_ASN1_OBJECT, OBJ_nid2obj(ec_curve(key.type())),
                                                copy, static_cast<int>(point.size())) != 1) {
    OPENSSL_free(copy);
    return false;
  }
  return true;  // the copy now belongs to `pub`
}

// RSA keys, rare and slow anyway, take OpenSSL's path.
bool set_csr_public_key(X509_REQ* req, const private_key& key) {
  if (ec_curve(key.type()) == NID_undef) return X509_REQ_set_pubkey(req, key.native()) == 1;
  return set_ec_public_key(X509_REQ_get_X509_PUBKEY(req), key);
}

// The DER SubjectPublicKeyInfo of an EC key; empty for RSA keys or on failure.
std::string ec_public_key_der(const private_key& key) {
  if (ec_curve(key.type()) == NID_undef) return {};
  std::unique_ptr<X509_PUBKEY, ossl::deleter<X509_PUBKEY_free>> pub{X509_PUBKEY_new()};
  if (!pub || !set_ec_public_key(pub.get(), key)) return {};
  unsigned char* der = nullptr;
  const int len = i2d_X509_PUBKEY(pub.get(), &der);
  if (len <= 0) return {};
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  return out;
}

// The DER of the first certificate in PEM text ("CERTIFICATE", or the older
// "X509 CERTIFICATE"); other blocks before it are skipped, as PEM_read_bio_X509 does.
std::optional<std::string> first_certificate_der(std::string_view pem) {
  auto bio = ossl::read_bio(pem);
  if (!bio) return std::nullopt;
  while (true) {
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* data = nullptr;
    long len = 0;
    if (PEM_read_bio(bio.get(), &name, &header, &data, &len) != 1) {
      ERR_clear_error();
      return std::nullopt;
    }
    const std::string_view label(name);
    std::optional<std::string> der;
    if (label == "CERTIFICATE" || label == "X509 CERTIFICATE")
      der.emplace(reinterpret_cast<const char*>(data), static_cast<std::size_t>(len));
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);
    if (der) return der;
  }
}

ossl::x509_ptr read_x509(std::string_view pem) {
  auto bio = ossl::read_bio(pem);
  if (!bio) return nullptr;
  ossl::x509_ptr x{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)};
  ERR_clear_error();
  return x;
}

// Issuer certificates this thread has parsed and found valid, newest first. A CA
// sends the same one or two with every certificate; a few slots cover rollovers.
constexpr std::size_t valid_issuer_slots = 4;
thread_local std::vector<std::string> valid_issuers;

bool seen_valid_issuer(const std::string& block) {
  return std::find(valid_issuers.begin(), valid_issuers.end(), block) != valid_issuers.end();
}

void remember_valid_issuer(const std::string& block) {
  if (seen_valid_issuer(block)) return;
  valid_issuers.insert(valid_issuers.begin(), block);
  if (valid_issuers.size() > valid_issuer_slots) valid_issuers.pop_back();
}

// A PEM label quoted in an error: printable and short, since it came from the network.
std::string printable(std::string_view text, std::size_t max) {
  std::string out;
  for (char c : text.substr(0, max)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (text.size() > max) out += "...";
  return out;
}

}  // namespace

result<std::string> make_csr_der(const private_key& key, const std::vector<std::string>& domains,
                                 const std::vector<subject_entry>& subject) {
  if (domains.empty())
    return error{error_kind::invalid_input, "a CSR needs at least one domain name"};
  for (const auto& domain : domains)
    if (auto ok = check_dns_name(domain); !ok) return std::move(ok).err();

  ossl::x509_req_ptr req{X509_REQ_new()};
  if (!req) return ossl::make_error(error_kind::internal, "allocating a CSR failed");
  X509_NAME* name = X509_REQ_get_subject_name(req.get());
  bool has_cn = false;
  for (const auto& entry : subject) {
    has_cn = has_cn || entry.field == "CN";
    if (X509_NAME_add_entry_by_txt(name, entry.field.c_str(), MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(entry.value.data()),
                                   static_cast<int>(entry.value.size()), -1, 0) != 1) {
      ERR_clear_error();
      return error{error_kind::invalid_input,
                   "the subject field " + entry.field + "=" + entry.value +
                       " was refused; use C (2 letters), ST, L, O, OU, CN or emailAddress"};
    }
  }
  if (X509_REQ_set_version(req.get(), 0) != 1 ||  // PKCS#10 v1 is encoded as 0
      (!has_cn && domains.front().size() <= max_cn_length && !add_cn(name, domains.front())) ||
      !set_csr_public_key(req.get(), key))
    return ossl::make_error(error_kind::internal, "building the CSR failed");

  auto san = make_san_extension(domains);
  if (!san) return std::move(san).err();
  ext_stack_ptr exts{sk_X509_EXTENSION_new_null()};
  if (!exts || sk_X509_EXTENSION_push(exts.get(), san->get()) == 0)
    return ossl::make_error(error_kind::internal, "building the CSR extensions failed");
  san->release();  // now owned by the stack
  if (X509_REQ_add_extensions(req.get(), exts.get()) != 1)
    return ossl::make_error(error_kind::internal, "adding the SANs to the CSR failed");

  if (X509_REQ_sign(req.get(), key.native(), EVP_sha256()) <= 0)
    return ossl::make_error(error_kind::internal, "signing the CSR failed");
  unsigned char* der = nullptr;
  const int len = i2d_X509_REQ(req.get(), &der);
  if (len <= 0) return ossl::make_error(error_kind::internal, "encoding the CSR failed");
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  return out;
}

result<certificate> certificate::from_pem(std::string_view pem) {
  auto der = first_certificate_der(pem);
  if (!der) return error{error_kind::invalid_input, "no PEM certificate found"};
  auto fields = detail::decode_x509_fields(*der);
  if (!fields) return error{error_kind::invalid_input, "no PEM certificate found"};
  return certificate{std::move(*der), std::move(fields)};
}

cert_info certificate::info() const { return detail::info_of(*fields_); }

bool certificate::holds_key(const private_key& key) const {
  // An EC key compares as bytes: DER has one encoding for a named-curve key.
  const std::string expected = ec_public_key_der(key);
  if (!expected.empty() && expected == detail::public_key_der(*fields_)) return true;
  // Otherwise OpenSSL compares the decoded keys (RSA, or an unusual encoding).
  const auto* in = reinterpret_cast<const unsigned char*>(der_.data());
  ossl::x509_ptr x{d2i_X509(nullptr, &in, static_cast<long>(der_.size()))};
  ERR_clear_error();
  const EVP_PKEY* pub = x ? X509_get0_pubkey(x.get()) : nullptr;
  return pub != nullptr && EVP_PKEY_eq(pub, key.native()) == 1;
}

result<cert_info> parse_certificate_pem(std::string_view pem) {
  auto cert = certificate::from_pem(pem);
  if (!cert) return std::move(cert).err();
  return cert->info();
}

std::string pem_chain::joined() const {
  std::string out;
  for (const auto& block : blocks) out += block;
  return out;
}

result<pem_chain> split_pem_chain(std::string_view text) {
  static constexpr std::string_view begin = "-----BEGIN ";
  static constexpr std::string_view end_cert = "-----END CERTIFICATE-----";
  static constexpr std::string_view space = " \t\r\n";
  std::vector<std::string> certs;
  std::optional<certificate> leaf;
  std::size_t pos = 0;
  while (true) {
    pos = text.find_first_not_of(space, pos);
    if (pos == std::string_view::npos) break;
    if (!text.substr(pos).starts_with(begin))
      return error{error_kind::bad_response, "the certificate chain has unexpected text at byte " +
                                                 std::to_string(pos) +
                                                 "; expected only PEM "
                                                 "CERTIFICATE blocks"};
    const std::size_t label_at = pos + begin.size();
    const std::size_t label_end = text.find("-----", label_at);
    const std::string_view label = text.substr(label_at, label_end - label_at);
    if (label_end == std::string_view::npos || label != "CERTIFICATE")
      return error{error_kind::bad_response, "the certificate chain holds a PEM block of type \"" +
                                                 printable(label, 40) +
                                                 "\"; expected only CERTIFICATE blocks"};
    const std::size_t end_at = text.find(end_cert, label_end);
    if (end_at == std::string_view::npos)
      return error{error_kind::bad_response,
                   "certificate " + std::to_string(certs.size() + 1) +
                       " of the chain is cut off (no -----END CERTIFICATE-----)"};
    std::string block(text.substr(pos, end_at + end_cert.size() - pos));
    block += '\n';
    const bool issuer = !certs.empty();
    bool valid = false;
    if (issuer) {  // the same few arrive with every certificate
      valid = seen_valid_issuer(block) || read_x509(block) != nullptr;
    } else {  // the leaf: parsed once, kept for the caller
      if (auto parsed = certificate::from_pem(block)) leaf.emplace(std::move(*parsed));
      valid = leaf.has_value();
    }
    if (!valid)
      return error{error_kind::bad_response, "certificate " + std::to_string(certs.size() + 1) +
                                                 " of the chain is not a valid X.509 certificate"};
    if (issuer) remember_valid_issuer(block);
    certs.push_back(std::move(block));
    pos = end_at + end_cert.size();
  }
  if (!leaf) return error{error_kind::bad_response, "the certificate chain holds no certificate"};
  return pem_chain{std::move(certs), std::move(*leaf)};
}

namespace {

// RFC 8737 §3: id-pe-acmeIdentifier.
constexpr const char* acme_identifier_oid = "1.3.6.1.5.5.7.1.31";
using asn1_object_ptr = std::unique_ptr<ASN1_OBJECT, ossl::deleter<ASN1_OBJECT_free>>;
using octet_string_ptr = std::unique_ptr<ASN1_OCTET_STRING, ossl::deleter<ASN1_OCTET_STRING_free>>;

// The critical extension whose value is the DER OCTET STRING of `digest`.
ossl::x509_ext_ptr acme_identifier_extension(const std::string& digest) {
  asn1_object_ptr oid{OBJ_txt2obj(acme_identifier_oid, 1)};
  std::string der = {'\x04', static_cast<char>(digest.size())};
  der += digest;
  octet_string_ptr value{ASN1_OCTET_STRING_new()};
  if (!oid || !value ||
      ASN1_OCTET_STRING_set(value.get(), reinterpret_cast<const unsigned char*>(der.data()),
                            static_cast<int>(der.size())) != 1)
    return nullptr;
  return ossl::x509_ext_ptr{X509_EXTENSION_create_by_OBJ(nullptr, oid.get(), 1, value.get())};
}

}  // namespace

std::string tls_alpn_digest(const std::string& key_authorization) {
  return sha256(key_authorization);
}

std::optional<std::string> acme_identifier_of(std::string_view cert_pem) {
  ossl::bio_ptr bio{BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()))};
  ossl::x509_ptr x{bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr};
  ERR_clear_error();
  asn1_object_ptr oid{OBJ_txt2obj(acme_identifier_oid, 1)};
  if (!x || !oid) return std::nullopt;
  const int at = X509_get_ext_by_OBJ(x.get(), oid.get(), -1);
  X509_EXTENSION* ext = at < 0 ? nullptr : X509_get_ext(x.get(), at);
  if (ext == nullptr || X509_EXTENSION_get_critical(ext) != 1) return std::nullopt;
  const ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(ext);
  const std::string der(reinterpret_cast<const char*>(ASN1_STRING_get0_data(data)),
                        static_cast<std::size_t>(ASN1_STRING_length(data)));
  if (der.size() != 34 || der[0] != '\x04' || der[1] != 32) return std::nullopt;
  return der.substr(2);
}

result<std::string> make_self_signed_pem(const private_key& key, const std::string& name,
                                         std::chrono::seconds validity, timestamp now,
                                         const std::string& acme_identifier) {
  if (auto ok = check_dns_name(name); !ok) return std::move(ok).err();
  if (validity <= std::chrono::seconds::zero())
    return error{error_kind::invalid_input, "certificate validity must be positive"};

  ossl::x509_ptr x{X509_new()};
  if (!x) return ossl::make_error(error_kind::internal, "allocating a certificate failed");
  // A random positive 127-bit serial, as CAs use (RFC 5280 §4.1.2.2 allows 20 octets).
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1)
    return ossl::make_error(error_kind::internal, "generating a serial number failed");
  serial[0] &= 0x7f;
  ossl::bn_ptr serial_bn{BN_bin2bn(serial, sizeof serial, nullptr)};
  const auto from = std::chrono::floor<std::chrono::seconds>(now).time_since_epoch().count();
  const auto until = from + validity.count();
  X509_NAME* subject = X509_get_subject_name(x.get());
  if (!serial_bn || X509_set_version(x.get(), 2) != 1 ||  // v3 is encoded as 2
      BN_to_ASN1_INTEGER(serial_bn.get(), X509_get_serialNumber(x.get())) == nullptr ||
      ASN1_TIME_set(X509_getm_notBefore(x.get()), static_cast<time_t>(from)) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(x.get()), static_cast<time_t>(until)) == nullptr ||
      X509_set_pubkey(x.get(), key.native()) != 1 ||
      (name.size() <= max_cn_length && !add_cn(subject, name)) ||
      X509_set_issuer_name(x.get(), subject) != 1)
    return ossl::make_error(error_kind::internal, "building the certificate failed");

  auto san = make_san_extension({name});
  if (!san) return std::move(san).err();
  if (X509_add_ext(x.get(), san->get(), -1) != 1)
    return ossl::make_error(error_kind::internal, "adding the SAN failed");
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x.get(), x.get(), nullptr, nullptr, 0);
  // The subject key id must be in place before the authority key id refers to it.
  for (auto [nid, value] : {std::pair{NID_subject_key_identifier, "hash"},
                            std::pair{NID_authority_key_identifier, "keyid:always"}}) {
    ossl::x509_ext_ptr ext{X509V3_EXT_conf_nid(nullptr, &ctx, nid, value)};
    if (!ext || X509_add_ext(x.get(), ext.get(), -1) != 1)
      return ossl::make_error(error_kind::internal, "adding a key identifier failed");
  }
  if (!acme_identifier.empty()) {
    auto ext = acme_identifier_extension(acme_identifier);
    if (!ext || X509_add_ext(x.get(), ext.get(), -1) != 1)
      return ossl::make_error(error_kind::internal, "adding the acmeIdentifier failed");
  }
  if (X509_sign(x.get(), key.native(), EVP_sha256()) <= 0)
    return ossl::make_error(error_kind::internal, "signing the certificate failed");

  ossl::bio_ptr bio{BIO_new(BIO_s_mem())};
  if (!bio || PEM_write_bio_X509(bio.get(), x.get()) != 1)
    return ossl::make_error(error_kind::internal, "encoding the certificate failed");
  return ossl::bio_contents(bio.get());
}

bool certificate_matches_key(std::string_view cert_pem, const private_key& key) {
  auto cert = certificate::from_pem(cert_pem);
  return cert && cert->holds_key(key);
}

}  // namespace certfleet::protocol
