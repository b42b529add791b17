#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/param_build.h>

#include "protocol/acme/jwk.hpp"
#include "protocol/acme/jws.hpp"
#include "protocol/crypto/base64url.hpp"

namespace certfleet::protocol {
namespace {

using nlohmann::json;

std::string b64d(std::string_view text) {
  auto decoded = base64url::decode(text);
  EXPECT_TRUE(decoded.ok()) << text;
  return decoded.ok() ? *decoded : std::string{};
}

// The public EC key a JWK describes, rebuilt with OpenSSL from its x and y.
ossl::pkey_ptr ec_key_from_jwk(const json& jwk) {
  const std::string point =
      "\x04" + b64d(jwk["x"].get<std::string>()) + b64d(jwk["y"].get<std::string>());
  const std::string group = jwk["crv"] == "P-256" ? "P-256" : "P-384";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, const_cast<char*>(group.c_str()),
                                       0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, const_cast<char*>(point.data()),
                                        point.size()),
      OSSL_PARAM_construct_end()};
  ossl::pkey_ctx_ptr ctx{EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr)};
  EVP_PKEY* pkey = nullptr;
  EXPECT_EQ(EVP_PKEY_fromdata_init(ctx.get()), 1);
  EXPECT_EQ(EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY, params), 1);
  return ossl::pkey_ptr{pkey};
}

// ---- JWK ------------------------------------------------------------------------------

TEST(Jwk, Rfc7638Example) {
  // RFC 7638 §3.1.
  const std::string n =
      "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_"
      "BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_"
      "RN5w6Cf0h4QyQ5v-65YGjQR0_"
      "FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbI"
      "SD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-"
      "kEgU8awapJzKnqDKgw";
  const json jwk = rsa_jwk_json(n, "AQAB");
  EXPECT_EQ(jwk_thumbprint(jwk), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
  // The RFC's full JWK also has "alg" and "kid", which the thumbprint leaves out.
  json full = jwk;
  full["alg"] = "RS256";
  full["kid"] = "2011-04-29";
  EXPECT_EQ(jwk_thumbprint(full), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
}

TEST(Jwk, EcThumbprintVector) {
  // The P-256 example of the "jose" library's calculateJwkThumbprint documentation.
  const json jwk = {{"kty", "EC"},
                    {"crv", "P-256"},
                    {"x", "jJ6Flys3zK9jUhnOHf6G49Dyp5hah6CNP84-gY-n9eo"},
                    {"y", "nhI6iD5eFXgBTLt_1p3aip-5VbZeMhxeFSpjfEAf7Ww"}};
  EXPECT_EQ(jwk_thumbprint(jwk), "w9eYdC6_s_tLQ8lH6PUpc0mddazaqtPgeC2IgWDiqY8");
}

TEST(Jwk, EcKeysHaveOnlyPublicMembersAndRebuild) {
  for (auto [type, crv, width] :
       {std::tuple{key_type::ec_p256, "P-256", 32u}, std::tuple{key_type::ec_p384, "P-384", 48u}}) {
    auto key = private_key::generate(type);
    ASSERT_TRUE(key.ok());
    const json jwk = jwk_json(*key);
    EXPECT_EQ(jwk.size(), 4u) << jwk.dump();
    EXPECT_EQ(jwk["kty"], "EC");
    EXPECT_EQ(jwk["crv"], crv);
    EXPECT_FALSE(jwk.contains("d")) << "private member leaked";
    EXPECT_EQ(b64d(jwk["x"].get<std::string>()).size(), width);
    EXPECT_EQ(b64d(jwk["y"].get<std::string>()).size(), width);
    auto rebuilt = ec_key_from_jwk(jwk);
    ASSERT_TRUE(rebuilt);
    EXPECT_EQ(EVP_PKEY_eq(rebuilt.get(), key->native()), 1);
    EXPECT_EQ(jwk_thumbprint(*key), jwk_thumbprint(jwk));
    EXPECT_EQ(jwk_thumbprint(*key).size(), 43u);
  }
}

TEST(Jwk, EcCoordinatesAreLeftPadded) {
  // About one P-256 key in 128 has a coordinate below 2^248; find one and check that
  // its JWK still carries the full 32 bytes.
  for (int i = 0; i < 5000; ++i) {
    auto key = private_key::generate(key_type::ec_p256);
    ASSERT_TRUE(key.ok());
    BIGNUM* x = nullptr;
    BIGNUM* y = nullptr;
    ASSERT_EQ(EVP_PKEY_get_bn_param(key->native(), OSSL_PKEY_PARAM_EC_PUB_X, &x), 1);
    ASSERT_EQ(EVP_PKEY_get_bn_param(key->native(), OSSL_PKEY_PARAM_EC_PUB_Y, &y), 1);
    const bool short_coordinate = BN_num_bytes(x) < 32 || BN_num_bytes(y) < 32;
    BN_free(x);
    BN_free(y);
    if (!short_coordinate) continue;
    const json jwk = jwk_json(*key);
    EXPECT_EQ(b64d(jwk["x"].get<std::string>()).size(), 32u);
    EXPECT_EQ(b64d(jwk["y"].get<std::string>()).size(), 32u);
    EXPECT_EQ(EVP_PKEY_eq(ec_key_from_jwk(jwk).get(), key->native()), 1);
    return;
  }
  FAIL() << "no P-256 key with a short coordinate in 5000 tries";
}

TEST(Jwk, RsaKeyHasModulusAndExponent) {
  auto key = private_key::generate(key_type::rsa2048);
  ASSERT_TRUE(key.ok());
  const json jwk = jwk_json(*key);
  EXPECT_EQ(jwk.size(), 3u) << jwk.dump();
  EXPECT_EQ(jwk["kty"], "RSA");
  EXPECT_EQ(jwk["e"], "AQAB");
  const std::string n = b64d(jwk["n"].get<std::string>());
  EXPECT_EQ(n.size(), 256u);
  BIGNUM* expected = nullptr;
  ASSERT_EQ(EVP_PKEY_get_bn_param(key->native(), OSSL_PKEY_PARAM_RSA_N, &expected), 1);
  ossl::bn_ptr got{BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()),
                             static_cast<int>(n.size()), nullptr)};
  EXPECT_EQ(BN_cmp(got.get(), expected), 0);
  BN_free(expected);
}

TEST(Jwk, KeyAuthorization) { EXPECT_EQ(key_authorization("tok", "thumb"), "tok.thumb"); }

// ---- JWS ------------------------------------------------------------------------------

struct decoded_jws {
  json header;
  std::string payload;
  std::string signature;
  std::string signing_input;
};

decoded_jws decode_jws(const std::string& body) {
  const json outer = json::parse(body);
  EXPECT_EQ(outer.size(), 3u) << body;
  decoded_jws out;
  const std::string prot = outer.at("protected").get<std::string>();
  const std::string payload = outer.at("payload").get<std::string>();
  out.header = json::parse(b64d(prot));
  out.payload = b64d(payload);
  out.signature = b64d(outer.at("signature").get<std::string>());
  out.signing_input = prot + "." + payload;
  return out;
}

// Verifies a JWS signature (raw R||S for ES*, PKCS#1 v1.5 for RS256) with OpenSSL.
bool verify(const decoded_jws& jws, EVP_PKEY* pub) {
  const std::string alg = jws.header.at("alg");
  const EVP_MD* md = alg == "ES384" ? EVP_sha384() : EVP_sha256();
  std::string sig = jws.signature;
  if (alg.starts_with("ES")) {
    const std::size_t width = alg == "ES256" ? 32 : 48;
    if (sig.size() != 2 * width) return false;
    const auto* raw = reinterpret_cast<const unsigned char*>(sig.data());
    ECDSA_SIG* ecdsa = ECDSA_SIG_new();
    ECDSA_SIG_set0(ecdsa, BN_bin2bn(raw, static_cast<int>(width), nullptr),
                   BN_bin2bn(raw + width, static_cast<int>(width), nullptr));
    unsigned char* der = nullptr;
    const int len = i2d_ECDSA_SIG(ecdsa, &der);
    sig.assign(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
    OPENSSL_free(der);
    ECDSA_SIG_free(ecdsa);
  }
  ossl::md_ctx_ptr ctx{EVP_MD_CTX_new()};
  return EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, pub) == 1 &&
         EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                          reinterpret_cast<const unsigned char*>(jws.signing_input.data()),
                          jws.signing_input.size()) == 1;
}

struct jws_case {
  key_type type;
  const char* alg;
  std::size_t sig_size;
};

class Jws : public ::testing::TestWithParam<jws_case> {
 protected:
  void SetUp() override {
    auto generated = private_key::generate(GetParam().type);
    ASSERT_TRUE(generated.ok());
    key_.emplace(std::move(*generated));
  }
  std::optional<private_key> key_;
};

TEST_P(Jws, NewAccountStyleCarriesJwk) {
  const json payload = {{"termsOfServiceAgreed", true}};
  auto body = sign_jws(*key_, "https://ca.example/acme/new-acct", "nonce-1", std::nullopt, payload);
  ASSERT_TRUE(body.ok()) << body.err().detail;
  const decoded_jws jws = decode_jws(*body);
  EXPECT_EQ(jws.header["alg"], GetParam().alg);
  EXPECT_EQ(jws.header["nonce"], "nonce-1");
  EXPECT_EQ(jws.header["url"], "https://ca.example/acme/new-acct");
  EXPECT_EQ(jws.header["jwk"], jwk_json(*key_));
  EXPECT_FALSE(jws.header.contains("kid"));
  EXPECT_EQ(jws.header.size(), 4u);
  EXPECT_EQ(json::parse(jws.payload), payload);
  EXPECT_EQ(jws.signature.size(), GetParam().sig_size);
  EXPECT_TRUE(verify(jws, key_->native()));
}

TEST_P(Jws, AccountRequestCarriesKid) {
  const std::optional<std::string> kid = "https://ca.example/acme/acct/17";
  auto body = sign_jws(*key_, "https://ca.example/acme/new-order", "n2", kid,
                       json{{"identifiers", json::array()}});
  ASSERT_TRUE(body.ok()) << body.err().detail;
  const decoded_jws jws = decode_jws(*body);
  EXPECT_EQ(jws.header["kid"], *kid);
  EXPECT_FALSE(jws.header.contains("jwk"));
  EXPECT_EQ(jws.header["alg"], GetParam().alg);
  EXPECT_TRUE(verify(jws, key_->native()));
}

TEST_P(Jws, PostAsGetHasEmptyPayload) {
  jws_signer signer(*key_);
  auto body = signer.sign("https://ca.example/acme/order/1", "n3",
                          std::string("https://ca.example/acme/acct/1"), std::nullopt);
  ASSERT_TRUE(body.ok()) << body.err().detail;
  EXPECT_EQ(json::parse(*body)["payload"], "");
  const decoded_jws jws = decode_jws(*body);
  EXPECT_TRUE(jws.payload.empty());
  EXPECT_TRUE(verify(jws, key_->native()));
  // An empty object is a different request (e.g. responding to a challenge).
  auto empty_object = signer.sign("https://ca.example/chall/1", "n4", std::nullopt, json::object());
  EXPECT_EQ(json::parse(*empty_object)["payload"], "e30");
}

// RFC 8555 §7.3.5: the inner JWS names the new key and the URL, and carries no nonce.
TEST_P(Jws, KeyChangeInnerJwsHasJwkAndUrlButNoNonce) {
  const json payload = {{"account", "https://ca.example/acme/acct/3"}, {"oldKey", {{"kty", "EC"}}}};
  auto body = jws_signer(*key_).sign_key_change("https://ca.example/acme/key-change", payload);
  ASSERT_TRUE(body.ok()) << body.err().detail;
  const decoded_jws jws = decode_jws(*body);
  EXPECT_EQ(jws.header["alg"], GetParam().alg);
  EXPECT_EQ(jws.header["jwk"], jwk_json(*key_));
  EXPECT_EQ(jws.header["url"], "https://ca.example/acme/key-change");
  EXPECT_FALSE(jws.header.contains("nonce"));
  EXPECT_FALSE(jws.header.contains("kid"));
  EXPECT_EQ(json::parse(jws.payload), payload);
  EXPECT_TRUE(verify(jws, key_->native()));
  EXPECT_FALSE(jws_signer(*key_).sign_key_change("", payload).ok());
}

TEST_P(Jws, TamperedPayloadFailsVerification) {
  auto body = sign_jws(*key_, "https://ca.example/x", "n5", std::nullopt, json{{"a", 1}});
  ASSERT_TRUE(body.ok());
  decoded_jws jws = decode_jws(*body);
  ASSERT_TRUE(verify(jws, key_->native()));
  jws.signing_input += "A";
  EXPECT_FALSE(verify(jws, key_->native()));
}

TEST_P(Jws, SignerCachesJwkAndOutlivesKey) {
  const std::string pem = key_->to_pem();
  jws_signer signer(*key_);
  EXPECT_EQ(signer.alg(), GetParam().alg);
  EXPECT_EQ(signer.jwk(), jwk_json(*key_));
  EXPECT_EQ(signer.thumbprint(), jwk_thumbprint(*key_));
  key_.reset();
  auto body = signer.sign("https://ca.example/y", "n6", std::nullopt, json{{"b", 2}});
  ASSERT_TRUE(body.ok());
  auto reloaded = private_key::from_pem(pem);
  ASSERT_TRUE(reloaded.ok());
  EXPECT_TRUE(verify(decode_jws(*body), reloaded->native()));
}

INSTANTIATE_TEST_SUITE_P(Algorithms, Jws,
                         ::testing::Values(jws_case{key_type::ec_p256, "ES256", 64},
                                           jws_case{key_type::ec_p384, "ES384", 96},
                                           jws_case{key_type::rsa2048, "RS256", 256}),
                         [](const auto& info) { return std::string(info.param.alg); });

TEST(JwsInput, EscapesHeaderStrings) {
  auto key = private_key::generate(key_type::ec_p256);
  ASSERT_TRUE(key.ok());
  const std::string url = "https://ca.example/a\"b\\c";
  auto body = sign_jws(*key, url, "n\"7", std::string("kid\"x"), std::nullopt);
  ASSERT_TRUE(body.ok());
  const decoded_jws jws = decode_jws(*body);
  EXPECT_EQ(jws.header["url"], url);
  EXPECT_EQ(jws.header["nonce"], "n\"7");
  EXPECT_EQ(jws.header["kid"], "kid\"x");
  EXPECT_TRUE(verify(jws, key->native()));
}

TEST(JwsInput, EscapesControlCharactersAndKeepsUtf8) {
  auto key = private_key::generate(key_type::ec_p256);
  ASSERT_TRUE(key.ok());
  const std::string url = "https://ca.example/\xc3\xa9t\xc3\xa9";  // UTF-8 passes through
  auto body = sign_jws(*key, url, "a\nb\x01c\\", std::nullopt, std::nullopt);
  ASSERT_TRUE(body.ok());
  const decoded_jws jws = decode_jws(*body);
  EXPECT_EQ(jws.header["url"], url);
  EXPECT_EQ(jws.header["nonce"], "a\nb\x01c\\");
  EXPECT_TRUE(verify(jws, key->native()));
}

TEST(JwsInput, EmptyKidMeansJwk) {
  auto key = private_key::generate(key_type::ec_p256);
  ASSERT_TRUE(key.ok());
  auto body = sign_jws(*key, "https://ca.example/z", "n8", std::string{}, std::nullopt);
  ASSERT_TRUE(body.ok());
  EXPECT_TRUE(decode_jws(*body).header.contains("jwk"));
}

TEST(JwsInput, RejectsEmptyUrlOrNonce) {
  auto key = private_key::generate(key_type::ec_p256);
  ASSERT_TRUE(key.ok());
  auto no_url = sign_jws(*key, "", "n", std::nullopt, std::nullopt);
  ASSERT_FALSE(no_url.ok());
  EXPECT_EQ(no_url.err().kind, error_kind::invalid_input);
  auto no_nonce = sign_jws(*key, "https://ca.example/", "", std::nullopt, std::nullopt);
  ASSERT_FALSE(no_nonce.ok());
  EXPECT_EQ(no_nonce.err().kind, error_kind::invalid_input);
}

}  // namespace
}  // namespace certfleet::protocol
