#include "storage/record_codec.hpp"

#include <gtest/gtest.h>

#include <random>

#include "tests/storage/sample_records.hpp"

namespace certfleet::storage {
namespace {

using testing::sample_account;
using testing::sample_cert;
using testing::sample_domain;

cert_pair sample_pair(bool with_previous) {
  cert_pair p{sample_cert("a.example", 1), std::nullopt};
  if (with_previous) p.previous = sample_cert("a.example", 0);
  return p;
}

// Every strict prefix of a valid encoding must be rejected, and the message must not
// leak record content.
template <class Record>
void expect_every_prefix_rejected(const std::string& bytes) {
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    Record r;
    auto res = decode(std::string_view(bytes).substr(0, n), r);
    ASSERT_FALSE(res.ok()) << "prefix of " << n << " of " << bytes.size() << " bytes accepted";
    EXPECT_EQ(res.err().kind, error_kind::storage);
    EXPECT_FALSE(res.err().retryable) << "the same bytes decode no better later";
    EXPECT_EQ(res.err().detail.find("SECRET"), std::string::npos);
  }
}

TEST(record_codec, domain_round_trip) {
  for (std::uint64_t i = 0; i < 50; ++i) {
    auto d = sample_domain(i, static_cast<std::uint32_t>(i * 7));
    auto back = decode_domain(encode(d));
    ASSERT_TRUE(back.ok()) << back.err().detail;
    EXPECT_EQ(*back, d);
  }
}

TEST(record_codec, domain_extremes_round_trip) {
  domain_record d;
  d.name = std::string("\0\xff\xc3\xa9x", 5);
  d.cert_not_before = from_unix_us(INT64_MIN);
  d.cert_not_after = from_unix_us(INT64_MAX);
  d.last_failure = from_unix_us(-1);
  d.failure_count = UINT32_MAX;
  d.phase = domain_phase::retired;
  d.configured = false;
  d.last_error = std::string(70'000, 'e');
  auto back = decode_domain(encode(d));
  ASSERT_TRUE(back.ok()) << back.err().detail;
  EXPECT_EQ(*back, d);
}

TEST(record_codec, encoding_is_little_endian_and_versioned) {
  domain_record d;
  d.name = "a";
  d.failure_count = 0x01020304;
  d.cert_not_before = from_unix_us(0x0102030405060708);
  auto bytes = encode(d);
  EXPECT_EQ(bytes[0], 3);  // format version
  EXPECT_EQ(bytes[1], 0);  // phase pending
  EXPECT_EQ(bytes[2], 1);  // configured
  EXPECT_EQ(bytes[3], 0x08);
  EXPECT_EQ(bytes[10], 0x01);
  // 3 header bytes + 6 timestamps + failure_count + 3 length prefixes + "a" + 3 ARI times
  // + ca_failures
  EXPECT_EQ(bytes.size(), 3u + 48 + 4 + 12 + 1 + 24 + 4);
}

// Daemons before the fallback CA wrote format 2: no CA failures counted yet.
TEST(record_codec, format_2_domain_reads_without_ca_failures) {
  domain_record d = sample_domain(3);
  d.ca_failures = 5;
  std::string v2 = encode(d);
  v2.resize(v2.size() - 4);
  v2[0] = 2;
  auto back = decode_domain(v2);
  ASSERT_TRUE(back.ok()) << back.err().detail;
  d.ca_failures = 0;
  EXPECT_EQ(*back, d);
  expect_every_prefix_rejected<domain_record>(v2);
}

// Daemons before ARI wrote format 1: the same record without the window, which reads as
// "no window, nothing scheduled" (the daemon asks the CA again).
TEST(record_codec, format_1_domain_reads_without_a_window) {
  domain_record d = sample_domain(7);
  d.ari_window_start = from_unix_us(1'800'000'000'000'000);
  d.ari_window_end = from_unix_us(1'800'100'000'000'000);
  d.ari_check_at = from_unix_us(1'790'000'000'000'000);
  d.ca_failures = 2;
  std::string v1 = encode(d);
  v1.resize(v1.size() - 28);
  v1[0] = 1;
  auto back = decode_domain(v1);
  ASSERT_TRUE(back.ok()) << back.err().detail;
  d.ari_window_start = d.ari_window_end = d.ari_check_at = no_time;
  d.ca_failures = 0;
  EXPECT_EQ(*back, d);
  expect_every_prefix_rejected<domain_record>(v1);
}

TEST(record_codec, cert_pair_round_trip) {
  for (bool prev : {false, true}) {
    auto p = sample_pair(prev);
    auto back = decode_cert_pair(encode(p));
    ASSERT_TRUE(back.ok()) << back.err().detail;
    EXPECT_EQ(*back, p);
  }
}

// Daemons before the fallback CA wrote format 1: certificates of an unknown CA.
TEST(record_codec, format_1_cert_pair_reads_without_the_issuing_ca) {
  cert_pair p = sample_pair(false);
  p.current.ca_url.clear();
  std::string v1 = encode(p);
  v1.resize(v1.size() - 4);  // the empty ca_url's length
  v1[0] = 1;
  auto back = decode_cert_pair(v1);
  ASSERT_TRUE(back.ok()) << back.err().detail;
  EXPECT_EQ(*back, p);
  expect_every_prefix_rejected<cert_pair>(v1);
}

TEST(record_codec, decode_into_reused_pair_clears_previous) {
  cert_pair out = sample_pair(true);
  ASSERT_TRUE(decode(encode(sample_pair(false)), out).ok());
  EXPECT_FALSE(out.previous.has_value());
}

TEST(record_codec, account_round_trip) {
  auto a = sample_account("https://acme-v02.api.letsencrypt.org/directory");
  auto back = decode_account(encode(a));
  ASSERT_TRUE(back.ok()) << back.err().detail;
  EXPECT_EQ(*back, a);
}

// Daemons before key rollover wrote format 2: read with no rollover under way.
TEST(record_codec, format_2_account_reads_without_a_next_key) {
  account_record a = sample_account("https://ca.example/dir");
  std::string v2 = encode(a);
  v2.resize(v2.size() - 4 - a.next_key_pem.size());
  v2[0] = 2;
  auto back = decode_account(v2);
  ASSERT_TRUE(back.ok()) << back.err().detail;
  a.next_key_pem.clear();
  EXPECT_EQ(*back, a);
  expect_every_prefix_rejected<account_record>(v2);
}

// Daemons before the contact was kept wrote format 1: read with an unknown (empty) contact.
TEST(record_codec, format_1_account_reads_without_a_contact) {
  account_record a = sample_account("https://ca.example/dir");
  std::string v1 = encode(a);
  v1.resize(v1.size() - 8 - a.contact.size() - a.next_key_pem.size());
  v1[0] = 1;
  auto back = decode_account(v1);
  ASSERT_TRUE(back.ok()) << back.err().detail;
  a.contact.clear();
  a.next_key_pem.clear();
  EXPECT_EQ(*back, a);
  expect_every_prefix_rejected<account_record>(v1);
}

TEST(record_codec, account_format_0_and_newer_than_known_are_refused) {
  for (std::uint8_t version : {std::uint8_t{0}, std::uint8_t{account_format + 1}}) {
    std::string bytes = encode(sample_account("https://ca.example/dir"));
    bytes[0] = static_cast<char>(version);
    EXPECT_FALSE(decode_account(bytes).ok()) << int(version);
  }
}

TEST(record_codec, pending_order_round_trip_and_truncation) {
  pending_order_record p{"a.example", "https://ca.example/order/1",
                         "-----BEGIN PRIVATE KEY-----\nSECRET\n-----END PRIVATE KEY-----\n"};
  auto back = decode_pending_order(encode(p));
  ASSERT_TRUE(back.ok()) << back.err().detail;
  EXPECT_EQ(*back, p);
  expect_every_prefix_rejected<pending_order_record>(encode(p));
}

TEST(record_codec, budget_round_trip_and_truncation) {
  const budget_record b{"https://acme-v02.api.letsencrypt.org/directory",
                        from_unix_us(1'800'000'000'000'000)};
  auto back = decode_budget(encode(b));
  ASSERT_TRUE(back.ok()) << back.err().detail;
  EXPECT_EQ(*back, b);
  expect_every_prefix_rejected<budget_record>(encode(b));
}

TEST(record_codec, v0_domain_round_trip_drops_order_url) {
  auto d = sample_domain(7);  // has an order_url
  std::string bytes;
  encode_domain_v0(d, bytes);
  domain_record back;
  ASSERT_TRUE(decode_domain_v0(bytes, back).ok());
  d.order_url.clear();
  d.ca_failures = 0;  // schema 0 had no count
  EXPECT_EQ(back, d);
  EXPECT_FALSE(decode_domain(bytes).ok()) << "format 0 is not the current format";
}

TEST(record_codec, every_truncation_is_an_error) {
  expect_every_prefix_rejected<domain_record>(encode(sample_domain(35)));
  expect_every_prefix_rejected<cert_pair>(encode(sample_pair(true)));
  expect_every_prefix_rejected<cert_pair>(encode(sample_pair(false)));
  expect_every_prefix_rejected<account_record>(encode(sample_account("https://x/dir")));
  std::string v0;
  encode_domain_v0(sample_domain(35), v0);
  for (std::size_t n = 0; n < v0.size(); ++n) {
    domain_record r;
    EXPECT_FALSE(decode_domain_v0(std::string_view(v0).substr(0, n), r).ok());
  }
}

TEST(record_codec, rejects_trailing_bytes_unknown_version_phase_and_flags) {
  auto bytes = encode(sample_domain(1));
  EXPECT_FALSE(decode_domain(bytes + "x").ok());
  auto bad = bytes;
  bad[0] = 9;
  auto res = decode_domain(bad);
  ASSERT_FALSE(res.ok());
  EXPECT_NE(res.err().detail.find("unknown format version"), std::string::npos);
  bad = bytes;
  bad[1] = 10;  // one past the last phase (disabled)
  EXPECT_FALSE(decode_domain(bad).ok());
  bad[1] = 9;
  EXPECT_TRUE(decode_domain(bad).ok());
  bad = bytes;
  bad[2] = 2;
  EXPECT_FALSE(decode_domain(bad).ok());
  auto pair = encode(sample_pair(false));
  pair[1] = 2;
  EXPECT_FALSE(decode_cert_pair(pair).ok());
}

TEST(record_codec, huge_length_prefix_is_an_error) {
  auto bytes = encode(sample_domain(1));
  // The name's length prefix follows the 55 fixed bytes.
  bytes[55] = '\xff';
  bytes[56] = '\xff';
  bytes[57] = '\xff';
  bytes[58] = '\x7f';
  auto res = decode_domain(bytes);
  ASSERT_FALSE(res.ok());
  EXPECT_NE(res.err().detail.find("truncated"), std::string::npos);
}

TEST(record_codec, garbage_and_mutations_never_crash) {
  std::mt19937_64 rng(12345);
  const std::string valid[] = {encode(sample_domain(35)), encode(sample_pair(true)),
                               encode(sample_account("https://x/dir"))};
  int accepted = 0;
  for (int round = 0; round < 20'000; ++round) {
    std::string input;
    if (round % 2 == 0) {
      input.resize(rng() % 300);
      for (auto& c : input) c = static_cast<char>(rng());
      if (!input.empty()) input[0] = static_cast<char>(rng() % 3);  // plausible version byte
    } else {
      input = valid[rng() % 3];
      for (int flips = 1 + static_cast<int>(rng() % 4); flips > 0; --flips)
        input[rng() % input.size()] = static_cast<char>(rng());
    }
    domain_record d;
    cert_pair p;
    account_record a;
    accepted += decode(input, d).ok() + decode(input, p).ok() + decode(input, a).ok();
  }
  // Mutations inside string bodies or timestamps stay valid; the point is no crash.
  EXPECT_GT(accepted, 0);
}

}  // namespace
}  // namespace certfleet::storage
