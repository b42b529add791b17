// The store lookup shared by the HTTPS listener, the exports and `cert-for`: a
// retired domain's certificate stays stored but is not served.
#include "serving/stored_certificate.hpp"

#include <gtest/gtest.h>

#include "tests/support/temp_dir.hpp"

namespace certfleet::serving {
namespace {

storage::write_batch domain_with_cert(const std::string& name, bool configured) {
  storage::write_batch batch;
  storage::domain_record record;
  record.name = name;
  record.configured = configured;
  record.phase = configured ? storage::domain_phase::valid : storage::domain_phase::retired;
  batch.put_domains.push_back(record);
  storage::cert_pair certs;
  certs.current.domain = name;
  certs.current.chain_pem = "CHAIN of " + name;
  certs.current.key_pem = "KEY of " + name;
  batch.put_certs.push_back(certs);
  return batch;
}

TEST(stored_certificate, a_configured_domain_gets_its_current_certificate) {
  testing::temp_dir dir;
  auto store = storage::store::open(dir.path(), storage::open_mode::read_write);
  ASSERT_TRUE(store.ok()) << store.err().detail;
  ASSERT_TRUE(store->commit(domain_with_cert("a.example.com", true)).ok());

  const auto pair = stored_certificate(*store, "a.example.com");
  ASSERT_TRUE(pair.has_value());
  EXPECT_EQ(pair->chain_pem, "CHAIN of a.example.com");
  EXPECT_EQ(pair->key_pem, "KEY of a.example.com");
  EXPECT_TRUE(stored_certificates(*store)("a.example.com").has_value());
}

TEST(stored_certificate, a_retired_domain_is_not_served_although_its_certificate_is_kept) {
  testing::temp_dir dir;
  auto store = storage::store::open(dir.path(), storage::open_mode::read_write);
  ASSERT_TRUE(store.ok()) << store.err().detail;
  ASSERT_TRUE(store->commit(domain_with_cert("gone.example.com", false)).ok());

  auto kept = store->get_certs("gone.example.com");
  ASSERT_TRUE(kept.ok() && kept->has_value());
  EXPECT_FALSE(stored_certificate(*store, "gone.example.com").has_value());
  EXPECT_FALSE(stored_certificates(*store)("gone.example.com").has_value());
}

TEST(stored_certificate, an_unknown_domain_has_none) {
  testing::temp_dir dir;
  auto store = storage::store::open(dir.path(), storage::open_mode::read_write);
  ASSERT_TRUE(store.ok()) << store.err().detail;
  EXPECT_FALSE(stored_certificate(*store, "never.example.com").has_value());
}

}  // namespace
}  // namespace certfleet::serving
