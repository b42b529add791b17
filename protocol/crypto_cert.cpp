#include "protocol/crypto_cert.hpp"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <ctime>
#include <optional>

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

// OpenSSL 3.0's X509_REQ_set_pubkey encodes the key and decodes it again through the
// provider encoder/decoder machinery (~180 us, most of a CSR's cost). An EC
// SubjectPublicKeyInfo is two OIDs and the encoded point (RFC 5480 §2): set those
// directly. RSA keys, rare and slow anyway, take OpenSSL's path.
bool set_csr_public_key(X509_REQ* req, const private_key& key) {
  int curve = NID_undef;
  if (key.type() == key_type::ec_p256) curve = NID_X9_62_prime256v1;
  if (key.type() == key_type::ec_p384) curve = NID_secp384r1;
  if (curve == NID_undef) return X509_REQ_set_pubkey(req, key.native()) == 1;

  std::size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(key.native(), OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, nullptr, 0,
                                      &len) != 1)
    return false;
  auto* point = static_cast<unsigned char*>(OPENSSL_malloc(len));
  if (point == nullptr ||
      EVP_PKEY_get_octet_string_param(key.native(), OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point, len,
                                      &len) != 1 ||
      X509_PUBKEY_set0_param(X509_REQ_get_X509_PUBKEY(req), OBJ_nid2obj(NID_X9_62_id_ecPublicKey),
                             V_ASN1_OBJECT, OBJ_nid2obj(curve), point, static_cast<int>(len)) != 1) {
    OPENSSL_free(point);
    return false;
  }
  return true;  // the point now belongs to the request
}

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

std::string serial_hex(const X509* x) {
  ossl::bn_ptr bn{ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), nullptr)};
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

std::vector<std::string> dns_sans(X509* x) {
  std::vector<std::string> out;
  general_names_ptr names{
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x, NID_subject_alt_name, nullptr, nullptr))};
  if (!names) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), i);
    if (gn->type != GEN_DNS) continue;
    out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(gn->d.dNSName)),
                     static_cast<std::size_t>(ASN1_STRING_length(gn->d.dNSName)));
  }
  return out;
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

result<std::string> make_csr_der(const private_key& key, const std::vector<std::string>& domains) {
  if (domains.empty())
    return error{error_kind::invalid_input, "a CSR needs at least one domain name"};
  for (const auto& domain : domains)
    if (auto ok = check_dns_name(domain); !ok) return std::move(ok).err();

  ossl::x509_req_ptr req{X509_REQ_new()};
  if (!req) return ossl::make_error(error_kind::internal, "allocating a CSR failed");
  if (X509_REQ_set_version(req.get(), 0) != 1 ||  // PKCS#10 v1 is encoded as 0
      (domains.front().size() <= max_cn_length &&
       !add_cn(X509_REQ_get_subject_name(req.get()), domains.front())) ||
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
  auto x = read_x509(pem);
  if (!x) return error{error_kind::invalid_input, "no PEM certificate found"};
  return certificate{std::move(x)};
}

cert_info certificate::info() const {
  X509* x = x509_.get();
  cert_info info;
  info.not_before = to_timestamp(X509_get0_notBefore(x));
  info.not_after = to_timestamp(X509_get0_notAfter(x));
  info.serial_hex = serial_hex(x);
  info.subject_cn = common_name(X509_get_subject_name(x));
  info.issuer = rfc2253(X509_get_issuer_name(x));
  info.sans = dns_sans(x);
  if (const ASN1_OCTET_STRING* akid = X509_get0_authority_key_id(x))
    info.authority_key_id_hex =
        hex(ASN1_STRING_get0_data(akid), static_cast<std::size_t>(ASN1_STRING_length(akid)));
  return info;
}

bool certificate::holds_key(const private_key& key) const {
  const EVP_PKEY* pub = X509_get0_pubkey(x509_.get());
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

result<std::string> make_self_signed_pem(const private_key& key, const std::string& name,
                                         std::chrono::seconds validity, timestamp now) {
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
