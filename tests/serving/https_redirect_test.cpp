// url_domains_always_use_tls: only URL domains with a valid certificate are redirected, and a
// reload's rules apply to the next request.
#include "serving/https_redirect.hpp"

#include <gtest/gtest.h>

#include "tests/support/temp_dir.hpp"

namespace certfleet::serving {
namespace {

using namespace std::chrono_literals;

const timestamp now = from_unix_us(1'800'000'000'000'000);

storage::domain_record with_cert_until(const std::string& name, timestamp not_after) {
  storage::domain_record r;
  r.name = name;
  r.phase = storage::domain_phase::valid;
  r.cert_not_before = now - 24h;
  r.cert_not_after = not_after;
  return r;
}

TEST(https_redirect, only_url_domains_with_a_valid_certificate_and_rules_swap_at_a_reload) {
  testing::temp_dir dir;
  auto store = storage::store::open(dir.path(), storage::open_mode::read_write);
  ASSERT_TRUE(store.ok()) << store.err().detail;
  storage::write_batch batch;
  batch.put_domains = {with_cert_until("valid.example", now + 24h),
                       with_cert_until("expired.example", now - 1h)};
  storage::domain_record none;
  none.name = "none.example";
  batch.put_domains.push_back(none);
  ASSERT_TRUE(store->commit(batch).ok());

  https_redirect redirect;
  EXPECT_FALSE(redirect.wants("valid.example", *store, now)) << "off until rules are given";
  redirect.use(true, {"valid.example", "expired.example", "none.example"});
  EXPECT_TRUE(redirect.wants("valid.example", *store, now));
  EXPECT_FALSE(redirect.wants("expired.example", *store, now)) << "TLS would fail there";
  EXPECT_FALSE(redirect.wants("none.example", *store, now));
  EXPECT_FALSE(redirect.wants("other.example", *store, now)) << "not a URL domain";

  redirect.use(true, {"expired.example"});
  EXPECT_FALSE(redirect.wants("valid.example", *store, now)) << "no longer a URL domain";
  redirect.use(false, {"valid.example"});
  EXPECT_FALSE(redirect.wants("valid.example", *store, now)) << "turned off";
}

}  // namespace
}  // namespace certfleet::serving
