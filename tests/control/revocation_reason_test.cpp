// The revocation reasons an operator may give (RFC 5280 §5.3.1 names, RFC 8555 §7.6 codes).
#include "core/revocation_reason.hpp"

#include <gtest/gtest.h>

namespace certfleet {
namespace {

TEST(revocation_reason, names_map_to_the_crl_reason_codes) {
  EXPECT_EQ(revocation_reason_code("unspecified"), 0);
  EXPECT_EQ(revocation_reason_code("keyCompromise"), 1);
  EXPECT_EQ(revocation_reason_code("affiliationChanged"), 3);
  EXPECT_EQ(revocation_reason_code("superseded"), 4);
  EXPECT_EQ(revocation_reason_code("cessationOfOperation"), 5);
}

TEST(revocation_reason, reasons_for_cas_only_or_misspelt_are_refused) {
  EXPECT_FALSE(revocation_reason_code("cACompromise"));
  EXPECT_FALSE(revocation_reason_code("keycompromise"));
  EXPECT_FALSE(revocation_reason_code(""));
  EXPECT_EQ(revocation_reason_names(),
            "unspecified, keyCompromise, affiliationChanged, superseded, cessationOfOperation");
}

}  // namespace
}  // namespace certfleet
