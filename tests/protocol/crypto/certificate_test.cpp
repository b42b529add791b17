#include "protocol/crypto/certificate.hpp"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

namespace certfleet::protocol {
namespace {

using namespace std::chrono_literals;
using std::chrono::sys_days;

const timestamp test_now =
    timestamp{sys_days{std::chrono::year{2025} / 1 / 2}} + 3h + 4min + 5s + 678901us;

const private_key& ec_key() {
  static const private_key key = private_key::generate(key_type::ec_p256).value();
  return key;
}

const private_key& rsa_key() {
  static const private_key key = private_key::generate(key_type::rsa2048).value();
  return key;
}

ossl::x509_req_ptr parse_csr(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  ossl::x509_req_ptr req{d2i_X509_REQ(nullptr, &p, static_cast<long>(der.size()))};
  EXPECT_EQ(p, reinterpret_cast<const unsigned char*>(der.data()) + der.size());
  return req;
}

std::string csr_cn(X509_REQ* req) {
  X509_NAME* name = X509_REQ_get_subject_name(req);
  const int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (idx < 0) return {};
  const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
  return {reinterpret_cast<const char*>(ASN1_STRING_get0_data(data)),
          static_cast<std::size_t>(ASN1_STRING_length(data))};
}

std::vector<std::string> csr_sans(X509_REQ* req) {
  std::vector<std::string> out;
  STACK_OF(X509_EXTENSION)* exts = X509_REQ_get_extensions(req);
  for (int i = 0; i < sk_X509_EXTENSION_num(exts); ++i) {
    X509_EXTENSION* ext = sk_X509_EXTENSION_value(exts, i);
    if (OBJ_obj2nid(X509_EXTENSION_get_object(ext)) != NID_subject_alt_name) continue;
    auto* names = static_cast<GENERAL_NAMES*>(X509V3_EXT_d2i(ext));
    for (int j = 0; j < sk_GENERAL_NAME_num(names); ++j) {
      const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, j);
      EXPECT_EQ(gn->type, GEN_DNS);
      out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(gn->d.dNSName)),
                       static_cast<std::size_t>(ASN1_STRING_length(gn->d.dNSName)));
    }
    GENERAL_NAMES_free(names);
  }
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  return out;
}

void expect_valid_csr(const private_key& key, const std::vector<std::string>& domains,
                      const std::string& expected_cn) {
  auto der = make_csr_der(key, domains);
  ASSERT_TRUE(der.ok()) << der.err().detail;
  auto req = parse_csr(*der);
  ASSERT_TRUE(req);
  EXPECT_EQ(X509_REQ_verify(req.get(), key.native()), 1) << "CSR signature must verify";
  EVP_PKEY* embedded = X509_REQ_get0_pubkey(req.get());
  ASSERT_NE(embedded, nullptr) << "the CSR must carry a public key OpenSSL can read";
  EXPECT_EQ(X509_REQ_verify(req.get(), embedded), 1) << "the CSR must verify with its own key";
  EXPECT_EQ(X509_REQ_get_signature_nid(req.get()),
            key.is_ec() ? NID_ecdsa_with_SHA256 : NID_sha256WithRSAEncryption);
  EXPECT_EQ(EVP_PKEY_eq(X509_REQ_get0_pubkey(req.get()), key.native()), 1);
  EXPECT_EQ(csr_cn(req.get()), expected_cn);
  EXPECT_EQ(csr_sans(req.get()), domains);
}

TEST(Csr, EcKeyCarriesCnAndAllSans) {
  expect_valid_csr(ec_key(), {"example.com", "www.example.com", "*.example.org"}, "example.com");
}

TEST(Csr, P384Key) {
  auto key = private_key::generate(key_type::ec_p384);
  ASSERT_TRUE(key);
  expect_valid_csr(*key, {"p384.example.net"}, "p384.example.net");
}

TEST(Csr, RsaKey) { expect_valid_csr(rsa_key(), {"rsa.example.net"}, "rsa.example.net"); }

TEST(Csr, LongFirstNameIsLeftOutOfCn) {
  const std::string longname = std::string(70, 'a') + ".example.com";
  expect_valid_csr(ec_key(), {longname, "short.example.com"}, "");
}

// `certfleet csr --subject`: the subject's attributes in order, the CN from the domain unless
// the subject names one.
TEST(Csr, CarriesTheSubjectGivenInOrder) {
  auto der = make_csr_der(ec_key(), {"mail.example.com"}, {{"C", "US"}, {"O", "Example Inc"}});
  ASSERT_TRUE(der.ok()) << der.err().detail;
  auto req = parse_csr(*der);
  ASSERT_TRUE(req);
  char line[256];
  X509_NAME_oneline(X509_REQ_get_subject_name(req.get()), line, sizeof line);
  EXPECT_STREQ(line, "/C=US/O=Example Inc/CN=mail.example.com");

  auto own = make_csr_der(ec_key(), {"mail.example.com"}, {{"CN", "Mail"}});
  ASSERT_TRUE(own.ok());
  auto own_req = parse_csr(*own);
  EXPECT_EQ(csr_cn(own_req.get()), "Mail");
  EXPECT_EQ(csr_sans(own_req.get()), std::vector<std::string>{"mail.example.com"});

  for (const subject_entry& bad : {subject_entry{"C", "USA"}, subject_entry{"Colour", "blue"}}) {
    auto refused = make_csr_der(ec_key(), {"mail.example.com"}, {bad});
    ASSERT_FALSE(refused.ok()) << bad.field;
    EXPECT_EQ(refused.err().kind, error_kind::invalid_input);
    EXPECT_NE(refused.err().detail.find(bad.field + "=" + bad.value + " was refused"),
              std::string::npos);
  }
}

TEST(Csr, RejectsBadInput) {
  for (const std::vector<std::string>& domains :
       std::vector<std::vector<std::string>>{{},
                                             {""},
                                             {"exa mple.com"},
                                             {"a.example,DNS:evil.com"},
                                             {"ok.example", "bad/name"},
                                             {std::string(254, 'a')},
                                             {"trailing.dot."}}) {
    auto der = make_csr_der(ec_key(), domains);
    ASSERT_FALSE(der.ok()) << (domains.empty() ? "(none)" : domains.back());
    EXPECT_EQ(der.err().kind, error_kind::invalid_input);
  }
}

TEST(Certificate, SelfSignedParsesBack) {
  auto pem = make_self_signed_pem(ec_key(), "self.example", 90 * 24h, test_now);
  ASSERT_TRUE(pem.ok()) << pem.err().detail;
  EXPECT_TRUE(pem->starts_with("-----BEGIN CERTIFICATE-----\n"));
  auto info = parse_certificate_pem(*pem);
  ASSERT_TRUE(info.ok()) << info.err().detail;
  const timestamp whole = std::chrono::floor<std::chrono::seconds>(test_now);
  EXPECT_EQ(info->not_before, whole);
  EXPECT_EQ(info->not_after, whole + 90 * 24h);
  EXPECT_EQ(info->subject_cn, "self.example");
  EXPECT_EQ(info->issuer, "CN=self.example");
  EXPECT_EQ(info->sans, std::vector<std::string>{"self.example"});
  EXPECT_FALSE(info->serial_hex.empty());
  EXPECT_EQ(info->serial_hex.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(info->authority_key_id_hex.size(), 40u) << "SHA-1 key identifier";
  EXPECT_EQ(info->authority_key_id_hex.find_first_not_of("0123456789abcdef"), std::string::npos);
}

// fuzz_pem: BN_bn2hex wrote a negative serial as "-05"; certfleet's serials are hex digits.
TEST(Certificate, ANegativeSerialIsShownAsItsTwosComplementOctets) {
  ossl::x509_ptr cert{X509_new()};
  ASSERT_TRUE(cert);
  ASSERT_EQ(ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), -5), 1);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("neg.example"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
  X509_set_pubkey(cert.get(), ec_key().native());
  ASSERT_GT(X509_sign(cert.get(), ec_key().native(), EVP_sha256()), 0);
  ossl::bio_ptr bio{BIO_new(BIO_s_mem())};
  ASSERT_EQ(PEM_write_bio_X509(bio.get(), cert.get()), 1);
  auto info = parse_certificate_pem(ossl::bio_contents(bio.get()));
  ASSERT_TRUE(info.ok()) << info.err().detail;
  EXPECT_EQ(info->serial_hex, "fb");
}

TEST(Certificate, SerialsDiffer) {
  auto a = parse_certificate_pem(*make_self_signed_pem(ec_key(), "a.example", 1h, test_now));
  auto b = parse_certificate_pem(*make_self_signed_pem(ec_key(), "a.example", 1h, test_now));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->serial_hex, b->serial_hex);
}

TEST(Certificate, DatesAfter2049UseGeneralizedTime) {
  auto pem = make_self_signed_pem(rsa_key(), "far.example", 40 * 365 * 24h, test_now);
  ASSERT_TRUE(pem.ok());
  auto info = parse_certificate_pem(*pem);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->not_after, std::chrono::floor<std::chrono::seconds>(test_now) + 40 * 365 * 24h);
}

TEST(Certificate, SelfSignedRejectsBadInput) {
  EXPECT_FALSE(make_self_signed_pem(ec_key(), "bad name", 1h, test_now).ok());
  EXPECT_FALSE(make_self_signed_pem(ec_key(), "ok.example", 0s, test_now).ok());
}

TEST(Certificate, ParseRejectsNonCertificates) {
  for (std::string_view text : {"", "garbage",
                                "-----BEGIN CERTIFICATE-----\nAAAA\n-----END "
                                "CERTIFICATE-----\n"}) {
    auto info = parse_certificate_pem(text);
    ASSERT_FALSE(info.ok());
    EXPECT_EQ(info.err().kind, error_kind::invalid_input);
  }
  EXPECT_FALSE(parse_certificate_pem(ec_key().to_pem()).ok());
}

TEST(Certificate, MatchesKey) {
  auto other = private_key::generate(key_type::ec_p256);
  ASSERT_TRUE(other.ok());
  const std::string pem = *make_self_signed_pem(ec_key(), "match.example", 1h, test_now);
  EXPECT_TRUE(certificate_matches_key(pem, ec_key()));
  EXPECT_FALSE(certificate_matches_key(pem, *other));
  EXPECT_FALSE(certificate_matches_key(pem, rsa_key()));
  EXPECT_FALSE(certificate_matches_key("not a certificate", ec_key()));
}

TEST(Certificate, ParsedOnceAnsweredMany) {
  auto other = private_key::generate(key_type::ec_p256);
  ASSERT_TRUE(other.ok());
  auto cert = certificate::from_pem(*make_self_signed_pem(ec_key(), "once.example", 1h, test_now));
  ASSERT_TRUE(cert.ok()) << cert.err().detail;
  EXPECT_TRUE(cert->holds_key(ec_key()));
  EXPECT_FALSE(cert->holds_key(*other));
  EXPECT_EQ(cert->info().subject_cn, "once.example");
  EXPECT_EQ(cert->info().sans, std::vector<std::string>{"once.example"});
  auto none =
      certificate::from_pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.err().kind, error_kind::invalid_input);
}

// certificate reads its fields with its own ASN.1 templates (x509_fields.cpp): they
// must agree with OpenSSL's full X509 parse.
TEST(Certificate, FieldsAgreeWithOpenSslsParse) {
  const private_key p384 = private_key::generate(key_type::ec_p384).value();
  for (const private_key* key : {&ec_key(), &p384, &rsa_key()}) {
    const std::string pem = *make_self_signed_pem(*key, "fields.example", 48h, test_now);
    auto cert = certificate::from_pem(pem);
    ASSERT_TRUE(cert.ok()) << cert.err().detail;
    EXPECT_TRUE(cert->holds_key(*key)) << to_string(key->type());

    ossl::bio_ptr bio = ossl::read_bio(pem);
    ossl::x509_ptr x{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)};
    ASSERT_TRUE(x);
    ossl::bn_ptr serial{ASN1_INTEGER_to_BN(X509_get0_serialNumber(x.get()), nullptr)};
    char* serial_text = BN_bn2hex(serial.get());
    std::string expected_serial(serial_text);
    OPENSSL_free(serial_text);
    for (char& c : expected_serial) c = static_cast<char>(std::tolower(c));
    const cert_info info = cert->info();
    EXPECT_EQ(info.serial_hex, expected_serial);
    const ASN1_OCTET_STRING* akid = X509_get0_authority_key_id(x.get());
    ASSERT_NE(akid, nullptr);
    EXPECT_EQ(info.authority_key_id_hex.size(),
              2u * static_cast<std::size_t>(ASN1_STRING_length(akid)));
    EXPECT_EQ(info.issuer, "CN=fields.example");
    EXPECT_EQ(info.sans, std::vector<std::string>{"fields.example"});
    EXPECT_EQ(info.not_after - info.not_before, 48h);
  }
}

TEST(Certificate, HoldsKeyComparesWholeKeys) {
  const private_key p384 = private_key::generate(key_type::ec_p384).value();
  const std::string pem = *make_self_signed_pem(p384, "p384.example", 1h, test_now);
  auto cert = certificate::from_pem(pem);
  ASSERT_TRUE(cert.ok());
  EXPECT_TRUE(cert->holds_key(p384));
  EXPECT_FALSE(cert->holds_key(ec_key()));   // same algorithm, other curve
  EXPECT_FALSE(cert->holds_key(rsa_key()));  // other algorithm: OpenSSL's comparison
  auto rsa_cert =
      certificate::from_pem(*make_self_signed_pem(rsa_key(), "rsa.example", 1h, test_now));
  ASSERT_TRUE(rsa_cert.ok());
  EXPECT_TRUE(rsa_cert->holds_key(rsa_key()));
  EXPECT_FALSE(rsa_cert->holds_key(p384));
}

TEST(Certificate, FirstCertificateAfterOtherBlocks) {
  // A key and then the certificate, as some deployment tools write one file.
  const std::string pem =
      ec_key().to_pem() + *make_self_signed_pem(ec_key(), "second.example", 1h, test_now);
  auto info = parse_certificate_pem(pem);
  ASSERT_TRUE(info.ok()) << info.err().detail;
  EXPECT_EQ(info->subject_cn, "second.example");
}

TEST(Certificate, TruncatedDerIsNotACertificate) {
  const std::string pem = *make_self_signed_pem(ec_key(), "cut.example", 1h, test_now);
  ossl::bio_ptr bio = ossl::read_bio(pem);
  ossl::x509_ptr x{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)};
  unsigned char* der = nullptr;
  const int len = i2d_X509(x.get(), &der);
  ASSERT_GT(len, 100);
  for (int cut : {len - 1, len / 2, 10}) {
    ossl::bio_ptr out{BIO_new(BIO_s_mem())};
    PEM_write_bio(out.get(), "CERTIFICATE", "", der, cut);
    auto cert = certificate::from_pem(ossl::bio_contents(out.get()));
    EXPECT_FALSE(cert.ok()) << "cut at " << cut;
  }
  OPENSSL_free(der);
}

class PemChain : public ::testing::Test {
 protected:
  std::string leaf = *make_self_signed_pem(ec_key(), "leaf.example", 1h, test_now);
  std::string issuer = *make_self_signed_pem(rsa_key(), "issuer.example", 1h, test_now);
};

TEST_F(PemChain, SplitsTwoCertificates) {
  auto certs = split_pem_chain(leaf + "\n" + issuer);
  ASSERT_TRUE(certs.ok()) << certs.err().detail;
  ASSERT_EQ(certs->blocks.size(), 2u);
  EXPECT_EQ(certs->blocks[0], leaf);
  EXPECT_EQ(certs->blocks[1], issuer);
  EXPECT_EQ(parse_certificate_pem(certs->blocks[1])->subject_cn, "issuer.example");
}

TEST_F(PemChain, AKnownIssuerDoesNotVouchForADifferentOne) {
  ASSERT_TRUE(split_pem_chain(leaf + issuer).ok());  // the issuer is now known valid
  ASSERT_TRUE(split_pem_chain(leaf + issuer).ok());
  std::string corrupt = issuer;
  corrupt[40] = corrupt[40] == 'A' ? 'B' : 'A';
  corrupt[41] = '*';
  auto certs = split_pem_chain(leaf + corrupt);
  ASSERT_FALSE(certs.ok());
  EXPECT_NE(certs.err().detail.find("certificate 2"), std::string::npos) << certs.err().detail;
}

TEST_F(PemChain, AcceptsCrlfAndNoTrailingNewline) {
  std::string crlf;
  for (char c : leaf + issuer) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  crlf.pop_back();
  crlf.pop_back();
  auto certs = split_pem_chain(crlf);
  ASSERT_TRUE(certs.ok()) << certs.err().detail;
  EXPECT_EQ(certs->blocks.size(), 2u);
  EXPECT_EQ(parse_certificate_pem(certs->blocks[0])->subject_cn, "leaf.example");
}

TEST_F(PemChain, RejectsPrivateKeyBlock) {
  const std::string key_pem = ec_key().to_pem();
  auto certs = split_pem_chain(leaf + key_pem + issuer);
  ASSERT_FALSE(certs.ok());
  EXPECT_EQ(certs.err().kind, error_kind::bad_response);
  EXPECT_NE(certs.err().detail.find("PRIVATE KEY"), std::string::npos);
  // The detail names the block type, never its contents.
  const std::string key_body = key_pem.substr(key_pem.find('\n') + 1, 20);
  EXPECT_EQ(certs.err().detail.find(key_body), std::string::npos);
}

TEST_F(PemChain, RejectsGarbageEmptyAndBrokenBlocks) {
  const std::string cut = leaf.substr(0, leaf.size() / 2);
  std::string corrupt = leaf;
  corrupt[40] = corrupt[40] == 'A' ? 'B' : 'A';
  corrupt[41] = '*';
  for (const std::string& text :
       {std::string{}, std::string{"  \n\r\n"}, std::string{"<html>Bad Gateway</html>"},
        leaf + "trailing garbage\n", "leading text\n" + leaf, cut, leaf + cut, corrupt,
        std::string{"-----BEGIN CERTIFICATE"}}) {
    auto certs = split_pem_chain(text);
    ASSERT_FALSE(certs.ok()) << text;
    EXPECT_EQ(certs.err().kind, error_kind::bad_response);
    EXPECT_FALSE(certs.err().detail.empty());
    EXPECT_LT(certs.err().detail.size(), 200u);
  }
}

}  // namespace
}  // namespace certfleet::protocol

namespace certfleet::protocol {
namespace {

// RFC 8737 §3: the TLS-ALPN-01 certificate names the domain and carries the SHA-256 of the
// key authorization in a critical acmeIdentifier extension; the openssl tool reads it the
// same way (DER: OCTET STRING of 32 bytes).
TEST(tls_alpn_certificate, carries_the_key_authorizations_digest_as_a_critical_extension) {
  auto key = private_key::generate(key_type::ec_p256);
  ASSERT_TRUE(key);
  const std::string digest = tls_alpn_digest("token.thumbprint");
  ASSERT_EQ(digest.size(), 32u);
  auto pem =
      make_self_signed_pem(*key, "alpn.example", std::chrono::hours(1), wall_clock{}.now(), digest);
  ASSERT_TRUE(pem) << pem.err().detail;
  EXPECT_EQ(acme_identifier_of(*pem), digest);
  auto info = parse_certificate_pem(*pem);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->sans, std::vector<std::string>{"alpn.example"});

  auto plain =
      make_self_signed_pem(*key, "alpn.example", std::chrono::hours(1), wall_clock{}.now());
  ASSERT_TRUE(plain);
  EXPECT_FALSE(acme_identifier_of(*plain)) << "an ordinary certificate proves nothing";
  EXPECT_FALSE(acme_identifier_of("not a certificate"));
  EXPECT_NE(tls_alpn_digest("token.other"), digest);
}

}  // namespace
}  // namespace certfleet::protocol
