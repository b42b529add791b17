// RFC 9773 (ARI): the certificate identifier, the suggested window, RFC 3339 times.
#include "protocol/acme/renewal_info.hpp"

#include <gtest/gtest.h>

namespace certfleet::protocol {
namespace {

// RFC 9773 §4.1's example: keyIdentifier
// 69:88:5B:6B:87:46:40:41:E1:B3:7B:84:7B:A0:AE:2C:DE:01:C8:D4 and serial 00:87:65:43:21 give
// "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE".
TEST(renewal_info, certificate_id_is_the_rfc_example) {
  auto id = ari_certificate_id("69885b6b87464041e1b37b847ba0ae2cde01c8d4", "87654321");
  ASSERT_TRUE(id) << id.err().detail;
  EXPECT_EQ(*id, "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
}

// Checked against dropping the leading zero octet: "h2VDIQ" would name another certificate.
TEST(renewal_info, certificate_id_keeps_the_serial_positive_and_whole) {
  EXPECT_EQ(*ari_certificate_id("01", "7f"), "AQ.fw");
  EXPECT_EQ(*ari_certificate_id("01", "80"), "AQ.AIA") << "top bit set: a zero octet first";
  EXPECT_EQ(*ari_certificate_id("01", "abc"), "AQ.Crw") << "an odd number of digits";
  EXPECT_FALSE(ari_certificate_id("", "01")) << "no AKI";
  EXPECT_FALSE(ari_certificate_id("0g", "01"));
  EXPECT_FALSE(ari_certificate_id("01", "-05"));
}

TEST(renewal_info, reads_the_suggested_window_and_its_explanation) {
  auto w = parse_renewal_info(R"({"suggestedWindow": {"start": "2025-01-02T04:00:00Z",
      "end": "2025-01-03T04:00:00Z"}, "explanationURL": "https://acme.example.com/docs/ari"})");
  ASSERT_TRUE(w) << w.err().detail;
  EXPECT_EQ(format_rfc3339(w->start), "2025-01-02T04:00:00Z");
  EXPECT_EQ(w->end - w->start, std::chrono::hours(24));
  EXPECT_EQ(w->explanation_url, "https://acme.example.com/docs/ari");
}

TEST(renewal_info, refuses_a_window_it_cannot_use) {
  for (
      const char* body : {
          "",
          "[]",
          "{}",
          R"({"suggestedWindow": "soon"})",
          R"({"suggestedWindow": {"start": "2025-01-02T04:00:00Z"}})",
          R"({"suggestedWindow": {"start": "2025-01-02", "end": "2025-01-03T04:00:00Z"}})",
          R"({"suggestedWindow": {"start": "2025-01-03T04:00:00Z", "end": "2025-01-02T04:00:00Z"}})",
          R"({"suggestedWindow": {"start": "2025-01-03T04:00:00Z", "end": "2025-01-03T04:00:00Z"}})",
      }) {
    auto w = parse_renewal_info(body);
    ASSERT_FALSE(w) << body;
    EXPECT_EQ(w.err().kind, error_kind::bad_response) << body;
    EXPECT_NE(w.err().detail.find("renewal information is unusable"), std::string::npos);
    // The domain drops the window and keeps the fallback rule, not the window it had.
    EXPECT_FALSE(w.err().retryable) << body;
  }
}

TEST(renewal_info, rfc3339_times_with_fractions_and_offsets) {
  EXPECT_EQ(format_rfc3339_us(*parse_rfc3339("2025-06-30T23:59:59.5Z")),
            "2025-06-30T23:59:59.500000Z");
  EXPECT_EQ(*parse_rfc3339("2025-01-02T06:00:00+02:00"), *parse_rfc3339("2025-01-02T04:00:00Z"));
  EXPECT_EQ(*parse_rfc3339("2025-01-01T23:30:00-05:00"), *parse_rfc3339("2025-01-02T04:30:00z"));
  for (const char* bad : {"2025-02-30T00:00:00Z", "2025-01-02T24:00:00Z", "2025-01-02T04:00:00",
                          "2025-01-02 04:00:00Z", "2025-01-02T04:00:00.Z", "2025-01-02T04:00:00Zx",
                          "25-01-02T04:00:00Z"})
    EXPECT_FALSE(parse_rfc3339(bad)) << bad;
}

}  // namespace
}  // namespace certfleet::protocol
