#include "protocol/acme/eab.hpp"

#include <gtest/gtest.h>

#include "protocol/acme/jwk.hpp"
#include "protocol/crypto/base64url.hpp"
#include "protocol/crypto/hmac.hpp"
#include "protocol/crypto/key.hpp"

namespace certfleet::protocol {
namespace {

using nlohmann::json;

const account_binding binding{"kid-1",
                              "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W"};

json decoded(const json& member) {
  auto text = base64url::decode(member.get<std::string>());
  EXPECT_TRUE(text);
  return json::parse(text ? *text : "null");
}

// RFC 8555 §7.3.4: HS256 over the account's JWK, with the CA's kid and the newAccount URL.
TEST(external_account_binding, macs_the_account_key_under_the_cas_kid) {
  auto key = private_key::generate(key_type::ec_p256);
  ASSERT_TRUE(key);
  const json jwk = jwk_json(*key);
  auto eab = external_account_binding(binding, jwk, "https://ca.test/new-acct");
  ASSERT_TRUE(eab) << eab.err().detail;
  const json header = decoded(eab->at("protected"));
  EXPECT_EQ(header,
            (json{{"alg", "HS256"}, {"kid", "kid-1"}, {"url", "https://ca.test/new-acct"}}));
  EXPECT_EQ(decoded(eab->at("payload")), jwk);
  auto mac = hmac_sha256(
      *base64url::decode(binding.hmac_key),
      eab->at("protected").get<std::string>() + "." + eab->at("payload").get<std::string>());
  ASSERT_TRUE(mac);
  EXPECT_EQ(eab->at("signature"), base64url::encode(*mac));
}

TEST(external_account_binding, a_key_that_is_not_base64url_is_refused_without_showing_it) {
  auto key = private_key::generate(key_type::ec_p256);
  ASSERT_TRUE(key);
  auto eab = external_account_binding({"kid-1", "c2VjcmV0=="}, jwk_json(*key), "https://ca/a");
  ASSERT_FALSE(eab);
  EXPECT_EQ(eab.err().kind, error_kind::config);
  EXPECT_EQ(eab.err().detail.find("c2VjcmV0"), std::string::npos);
}

}  // namespace
}  // namespace certfleet::protocol
