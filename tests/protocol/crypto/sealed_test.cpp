#include "protocol/crypto/sealed.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "tests/support/temp_dir.hpp"

namespace certfleet::protocol {
namespace {

const std::string hex_a(64, 'a');
const std::string hex_b = "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF";

sealing_key key_of(const std::string& hex) { return sealing_key::from_hex(hex).value(); }

TEST(Sealed, OpensWhatItSealedUnderTheSameKeyAndName) {
  const std::string secret = "-----BEGIN PRIVATE KEY-----\nnot really\n-----END PRIVATE KEY-----\n";
  auto sealed = seal(key_of(hex_a), "certs/a.example", secret);
  ASSERT_TRUE(sealed);
  EXPECT_EQ(sealed->substr(0, 3), "cf1");
  EXPECT_EQ(sealed->size(), 3 + 12 + secret.size() + 16);
  EXPECT_EQ(sealed->find("PRIVATE KEY"), std::string::npos);
  auto opened = open_sealed(key_of(hex_a), "certs/a.example", *sealed);
  ASSERT_TRUE(opened) << opened.err().detail;
  EXPECT_EQ(*opened, secret);
  // A fresh nonce each time: the same secret never seals to the same bytes.
  EXPECT_NE(*seal(key_of(hex_a), "certs/a.example", secret), *sealed);
  EXPECT_EQ(*open_sealed(key_of(hex_a), "n", *seal(key_of(hex_a), "n", "")), "");
}

TEST(Sealed, RefusesAnotherKeyAnotherNameAndChangedBytes) {
  const std::string sealed = seal(key_of(hex_a), "certs/a.example", "key bytes").value();
  auto other_key = open_sealed(key_of(hex_b), "certs/a.example", sealed);
  ASSERT_FALSE(other_key);
  EXPECT_EQ(other_key.err().kind, error_kind::invalid_input);
  EXPECT_NE(other_key.err().detail.find("cluster_key_file"), std::string::npos);
  EXPECT_FALSE(open_sealed(key_of(hex_a), "certs/b.example", sealed));  // moved entry
  for (std::size_t i = 0; i < sealed.size(); i += 5) {
    std::string changed = sealed;
    changed[i] = static_cast<char>(changed[i] ^ 0x01);
    EXPECT_FALSE(open_sealed(key_of(hex_a), "certs/a.example", changed)) << i;
  }
  EXPECT_FALSE(open_sealed(key_of(hex_a), "certs/a.example", "cf1short"));
  EXPECT_FALSE(open_sealed(key_of(hex_a), "certs/a.example", "plain text, not sealed at all"));
}

TEST(Sealed, KeysAre64HexDigitsInAPrivateFile) {
  EXPECT_TRUE(sealing_key::from_hex(" " + hex_b + "\n"));
  for (const std::string& bad : {std::string(63, 'a'), std::string(66, 'a'), std::string(64, 'g'),
                                 std::string(), hex_a.substr(0, 62) + " a"}) {
    auto key = sealing_key::from_hex(bad);
    ASSERT_FALSE(key) << bad;
    EXPECT_NE(key.err().detail.find("openssl rand -hex 32"), std::string::npos);
    EXPECT_EQ(key.err().detail.find(bad.empty() ? "\x01" : bad), std::string::npos)
        << "the error never repeats the key file's content";
  }
  testing::temp_dir dir;
  const auto file = dir.path() / "cluster.key";
  std::ofstream(file) << hex_b << "\n";
  ::chmod(file.c_str(), 0644);
  auto readable = sealing_key::load(file);
  ASSERT_FALSE(readable);
  EXPECT_NE(readable.err().detail.find("chmod 600"), std::string::npos);
  ::chmod(file.c_str(), 0600);
  auto loaded = sealing_key::load(file);
  ASSERT_TRUE(loaded) << loaded.err().detail;
  EXPECT_EQ(loaded->bytes(), key_of(hex_b).bytes());
  auto missing = sealing_key::load(dir.path() / "none");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.err().detail.find("openssl rand -hex 32"), std::string::npos);
}

}  // namespace
}  // namespace certfleet::protocol
