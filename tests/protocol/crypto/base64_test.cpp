#include "protocol/crypto/base64.hpp"

#include <gtest/gtest.h>

namespace certfleet::protocol {
namespace {

TEST(Base64, EncodesWithPaddingAsRfc4648Says) {
  // RFC 4648 §10's test vectors.
  EXPECT_EQ(base64::encode(""), "");
  EXPECT_EQ(base64::encode("f"), "Zg==");
  EXPECT_EQ(base64::encode("fo"), "Zm8=");
  EXPECT_EQ(base64::encode("foo"), "Zm9v");
  EXPECT_EQ(base64::encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64::encode(std::string("\xfb\xff", 2)), "+/8=");
}

TEST(Base64, DecodesWhatItEncodes) {
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  for (std::size_t n = 0; n <= all.size(); n += 37) {
    const std::string bytes = all.substr(0, n);
    auto back = base64::decode(base64::encode(bytes));
    ASSERT_TRUE(back) << n;
    EXPECT_EQ(*back, bytes);
  }
  auto two = base64::decode("Zm8=");
  ASSERT_TRUE(two);
  EXPECT_EQ(*two, "fo");
}

TEST(Base64, RefusesWhatIsNotBase64) {
  for (const char* bad : {"Zm9", "Zm9v\n", " Zm9v", "Zm-v", "Z=9v", "Zg=a", "Zm9v====", "===="}) {
    auto decoded = base64::decode(bad);
    ASSERT_FALSE(decoded) << bad;
    EXPECT_EQ(decoded.err().kind, error_kind::invalid_input);
  }
}

}  // namespace
}  // namespace certfleet::protocol
