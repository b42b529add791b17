#include "cluster/shared_challenge_tokens.hpp"

#include <gtest/gtest.h>

namespace certfleet::cluster {
namespace {

// A stranger's request for a challenge path costs no etcd read unless its token could be
// the CA's (RFC 8555 §8.1: base64url, at least 128 bits of entropy).
TEST(SharedChallengeTokens, OnlyPlausibleTokensAreLookedUp) {
  EXPECT_TRUE(plausible_token("LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"));
  EXPECT_TRUE(plausible_token(std::string(16, 'a')));
  EXPECT_TRUE(plausible_token(std::string(128, '_')));
  for (const std::string& bad :
       {std::string(), std::string(15, 'a'), std::string(129, 'a'), std::string("a/b/../../etc"),
        std::string(20, 'a') + "=", std::string(20, 'a') + "%00", std::string(20, 'a') + " "})
    EXPECT_FALSE(plausible_token(bad)) << bad;
}

}  // namespace
}  // namespace certfleet::cluster
