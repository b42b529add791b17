#include "protocol/crypto/base64url.hpp"

#include <gtest/gtest.h>

#include <random>

namespace certfleet::protocol {
namespace {

TEST(Base64Url, Rfc4648Vectors) {
  // RFC 4648 §10, in the URL alphabet without padding.
  const std::pair<std::string_view, std::string_view> vectors[] = {
      {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},          {"foo", "Zm9v"},
      {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(base64url::encode(plain), encoded);
    auto decoded = base64url::decode(encoded);
    ASSERT_TRUE(decoded.ok()) << encoded;
    EXPECT_EQ(*decoded, plain);
  }
}

TEST(Base64Url, UsesUrlAlphabet) {
  // Standard base64 of these bytes is "+/8=" ; base64url is "-_8".
  EXPECT_EQ(base64url::encode("\xfb\xff"), "-_8");
  EXPECT_EQ(*base64url::decode("-_8"), "\xfb\xff");
}

TEST(Base64Url, RoundTripsEveryByteAndLength) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  EXPECT_EQ(*base64url::decode(base64url::encode(all)), all);

  std::mt19937 rng(42);
  for (std::size_t len = 0; len < 100; ++len) {
    std::string bytes(len, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    const std::string encoded = base64url::encode(bytes);
    EXPECT_EQ(encoded.find_first_of("+/="), std::string::npos);
    auto decoded = base64url::decode(encoded);
    ASSERT_TRUE(decoded.ok()) << len;
    EXPECT_EQ(*decoded, bytes);
  }
}

TEST(Base64Url, RejectsInvalidInput) {
  for (std::string_view bad :
       {"Zg==", "Zm8=", "Zm9v!", "Zm 9v", "Zm9v\n", "a+b/", "Z", "Zm9vY", "Zh", "Zm9"}) {
    auto decoded = base64url::decode(bad);
    ASSERT_FALSE(decoded.ok()) << bad;
    EXPECT_EQ(decoded.err().kind, error_kind::invalid_input);
    EXPECT_NE(decoded.err().detail.find("base64url"), std::string::npos);
  }
}

TEST(Base64Url, PaddingErrorSaysSo) {
  auto decoded = base64url::decode("Zg==");
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.err().detail.find("padding"), std::string::npos);
}

}  // namespace
}  // namespace certfleet::protocol
