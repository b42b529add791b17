// Let's Encrypt counts certificates per registered domain by the Public Suffix List.
#include "config/registered_domain.hpp"

#include <gtest/gtest.h>

namespace certfleet::config {
namespace {

TEST(registered_domain, is_the_label_below_the_public_suffix) {
  EXPECT_EQ(registered_domain("www.shop.example.co.uk"), "example.co.uk");
  EXPECT_EQ(registered_domain("a.b.example.com"), "example.com");
  EXPECT_EQ(registered_domain("example.com"), "example.com");
  EXPECT_EQ(registered_domain("me.github.io"), "me.github.io") << "a private suffix counts";
  EXPECT_EQ(registered_domain("x.y.example.test"), "example.test") << "an unlisted suffix";
  EXPECT_EQ(registered_domain("click.xn--bcher-kva.example"), "xn--bcher-kva.example");
}

TEST(registered_domain, a_public_suffix_is_its_own) {
  EXPECT_EQ(registered_domain("co.uk"), "co.uk");
  EXPECT_EQ(registered_domain("localhost"), "localhost");
}

}  // namespace
}  // namespace certfleet::config
