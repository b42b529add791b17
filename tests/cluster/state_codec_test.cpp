#include "cluster/state_codec.hpp"

#include <gtest/gtest.h>

namespace certfleet::cluster {
namespace {

using namespace std::chrono_literals;

const protocol::sealing_key key = protocol::sealing_key::from_hex(std::string(64, '7')).value();
const protocol::sealing_key other_key =
    protocol::sealing_key::from_hex(std::string(64, '8')).value();

storage::cert_record cert(const std::string& domain, timestamp not_after,
                          const std::string& pem_key) {
  storage::cert_record c;
  c.domain = domain;
  c.chain_pem = "-----BEGIN CERTIFICATE-----\nchain\n-----END CERTIFICATE-----\n";
  c.key_pem = pem_key;
  c.not_before = not_after - std::chrono::hours(24 * 90);
  c.not_after = not_after;
  c.serial = "0a1b";
  c.ca_url = "https://ca.example/dir";
  return c;
}

TEST(StateCodec, KeysLiveUnderTheClusterPrefix) {
  const cluster_keys keys("mail");
  EXPECT_EQ(keys.prefix(), "/certfleet/mail/");
  EXPECT_EQ(keys.domain("a.example"), "/certfleet/mail/domains/a.example");
  EXPECT_EQ(keys.cert("a.example"), "/certfleet/mail/certs/a.example");
  EXPECT_EQ(keys.order("a.example"), "/certfleet/mail/orders/a.example");
  const std::string account = keys.account("https://acme-v02.api.letsencrypt.org/directory");
  EXPECT_EQ(account.rfind("/certfleet/mail/accounts/", 0), 0u);
  EXPECT_EQ(account.size(), std::string("/certfleet/mail/accounts/").size() + 64);
  EXPECT_NE(account, keys.account("https://acme-staging-v02.api.letsencrypt.org/directory"));
}

TEST(StateCodec, CertificatesTravelWithSealedKeysAndOpenBackWhole) {
  const cluster_keys keys("mail");
  const std::string name = keys.cert("a.example");
  storage::cert_pair pair{cert("a.example", timestamp(1'800'000'000s), "PRIVATE KEY ONE"),
                          cert("a.example", timestamp(1'700'000'000s), "PRIVATE KEY TWO")};
  auto value = seal_certs(key, name, pair);
  ASSERT_TRUE(value) << value.err().detail;
  EXPECT_EQ(value->find("PRIVATE KEY"), std::string::npos) << "no plaintext key in etcd";
  EXPECT_EQ(value->substr(0, 21), "00001800000000000000|");
  auto back = open_certs(key, name, *value);
  ASSERT_TRUE(back) << back.err().detail;
  EXPECT_EQ(*back, pair);

  auto wrong_key = open_certs(other_key, name, *value);
  ASSERT_FALSE(wrong_key);
  EXPECT_NE(wrong_key.err().detail.find("cluster_key_file"), std::string::npos);
  EXPECT_FALSE(open_certs(key, keys.cert("b.example"), *value)) << "moved to another domain";
  EXPECT_FALSE(open_certs(key, name, "garbage"));
  EXPECT_FALSE(open_certs(key, name, value->substr(0, value->size() - 1)));
}

TEST(StateCodec, ALaterExpirySortsAfterAnEarlierOne) {
  EXPECT_LT(expiry_prefix(timestamp(999'999s)), expiry_prefix(timestamp(1'000'000s)));
  EXPECT_LT(expiry_prefix(timestamp(1'700'000'000s)), expiry_prefix(timestamp(1'800'000'000s)));
  EXPECT_EQ(expiry_prefix(no_time), "00000000000000000000|");
}

TEST(StateCodec, OrdersAndAccountsSealTheirKeys) {
  const cluster_keys keys("mail");
  storage::pending_order_record order{"a.example", "https://ca.example/order/1", "ORDER KEY"};
  auto sealed_order = seal_order(key, keys.order("a.example"), order);
  ASSERT_TRUE(sealed_order);
  EXPECT_EQ(sealed_order->find("ORDER KEY"), std::string::npos);
  EXPECT_EQ(*open_order(key, keys.order("a.example"), *sealed_order), order);
  EXPECT_FALSE(open_order(other_key, keys.order("a.example"), *sealed_order));

  storage::account_record account{"https://ca.example/dir", "https://ca.example/acct/9",
                                  "ACCOUNT KEY", "ops@example.com", ""};
  const std::string name = keys.account(account.directory_url);
  auto sealed_account = seal_account(key, name, account);
  ASSERT_TRUE(sealed_account);
  EXPECT_EQ(sealed_account->find("ACCOUNT KEY"), std::string::npos);
  EXPECT_EQ(*open_account(key, name, *sealed_account), account);
  account.next_key_pem = "NEXT KEY";
  auto rolling = seal_account(key, name, account);
  ASSERT_TRUE(rolling);
  EXPECT_EQ(rolling->find("NEXT KEY"), std::string::npos);
  EXPECT_EQ(*open_account(key, name, *rolling), account);
}

TEST(StateCodec, DomainRecordsAndBudgetsAreTheRecordCodecsBytes) {
  storage::domain_record d;
  d.name = "a.example";
  d.order_url = "https://ca.example/order/1";
  EXPECT_FALSE(encode_domain(d).empty());
  storage::budget_record b{"https://ca.example/dir", timestamp(1'800'000'000s)};
  EXPECT_FALSE(encode_budget(b).empty());
}

}  // namespace
}  // namespace certfleet::cluster
