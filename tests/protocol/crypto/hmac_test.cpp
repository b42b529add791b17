#include "protocol/crypto/hmac.hpp"

#include <gtest/gtest.h>

#include "protocol/crypto/base64url.hpp"

namespace certfleet::protocol {
namespace {

std::string hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

// RFC 4231 §4.3, test case 2.
TEST(hmac_sha256, rfc_4231_test_case_2) {
  auto mac = hmac_sha256("Jefe", "what do ya want for nothing?");
  ASSERT_TRUE(mac) << mac.err().detail;
  EXPECT_EQ(hex(*mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

// RFC 4231 §4.7, test case 6: a key longer than the block size is hashed first.
TEST(hmac_sha256, rfc_4231_test_case_6_long_key) {
  auto mac = hmac_sha256(std::string(131, '\xaa'),
                         "Test Using Larger Than Block-Size Key - Hash Key First");
  ASSERT_TRUE(mac) << mac.err().detail;
  EXPECT_EQ(hex(*mac), "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

}  // namespace
}  // namespace certfleet::protocol
