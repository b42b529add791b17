#include "config/domain_name.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace certfleet::config {
namespace {

using ::testing::HasSubstr;

struct accepted_case {
  std::string input;
  std::string expected;
};

class domain_accepted : public ::testing::TestWithParam<accepted_case> {};

TEST_P(domain_accepted, normalizes) {
  const auto& c = GetParam();
  const auto name = normalize_domain(c.input);
  ASSERT_TRUE(name.ok()) << c.input << ": " << name.err().detail;
  EXPECT_EQ(*name, c.expected);
}

const std::string label63(63, 'a');
const std::string label64(64, 'a');
// 4 labels of 63 + "a" + dots = 63*3 + 61 + 3 dots = 253 characters.
const std::string name253 = label63 + "." + label63 + "." + label63 + "." + std::string(61, 'b');
const std::string name254 = label63 + "." + label63 + "." + label63 + "." + std::string(62, 'b');

INSTANTIATE_TEST_SUITE_P(
    table, domain_accepted,
    ::testing::Values(accepted_case{"example.com", "example.com"},
                      accepted_case{"www.example.com", "www.example.com"},
                      accepted_case{"Example.COM", "example.com"},
                      accepted_case{"WWW.EXAMPLE.COM", "www.example.com"},
                      accepted_case{"example.com.", "example.com"},
                      accepted_case{"  example.com  ", "example.com"},
                      accepted_case{"\texample.com\r\n", "example.com"},
                      accepted_case{" Mixed.Example.Org. ", "mixed.example.org"},
                      accepted_case{"a.b", "a.b"},
                      accepted_case{"a-b.example.com", "a-b.example.com"},
                      accepted_case{"a--b.example.com", "a--b.example.com"},
                      accepted_case{"123.example.com", "123.example.com"},
                      accepted_case{"0.example.com", "0.example.com"},
                      accepted_case{"1example.com", "1example.com"},
                      accepted_case{"xn--bcher-kva.example", "xn--bcher-kva.example"},
                      accepted_case{"XN--BCHER-KVA.example", "xn--bcher-kva.example"},
                      accepted_case{label63 + ".com", label63 + ".com"},
                      accepted_case{name253, name253}, accepted_case{name253 + ".", name253},
                      accepted_case{"deep.sub.domain.of.example.co.uk",
                                    "deep.sub.domain.of.example.co.uk"},
                      accepted_case{"example.xn--p1ai", "example.xn--p1ai"}));

struct refused_case {
  std::string input;
  std::string reason_part;  // a piece of the error detail that says why
};

class domain_refused : public ::testing::TestWithParam<refused_case> {};

TEST_P(domain_refused, is_invalid_input_naming_the_reason) {
  const auto& c = GetParam();
  const auto name = normalize_domain(c.input);
  ASSERT_FALSE(name.ok()) << c.input << " was accepted as " << *name;
  EXPECT_EQ(name.err().kind, error_kind::invalid_input);
  EXPECT_THAT(name.err().detail, HasSubstr(c.reason_part)) << c.input;
  EXPECT_THAT(name.err().detail, HasSubstr("invalid domain name")) << c.input;
}

INSTANTIATE_TEST_SUITE_P(
    table, domain_refused,
    ::testing::Values(
        refused_case{"", "empty"}, refused_case{"   ", "empty"}, refused_case{"\t\r\n", "empty"},
        refused_case{"*.example.com", "wildcards cannot be validated over HTTP-01"},
        refused_case{"*", "wildcards cannot be validated over HTTP-01"},
        refused_case{"www.*.example.com", "wildcards cannot be validated over HTTP-01"},
        refused_case{"192.0.2.1", "IP addresses cannot get certificates over HTTP-01"},
        refused_case{"192.0.2.1.", "IP addresses cannot get certificates over HTTP-01"},
        refused_case{"127.1", "IP addresses cannot get certificates over HTTP-01"},
        refused_case{"10", "IP addresses cannot get certificates over HTTP-01"},
        refused_case{"::1", "IP addresses cannot get certificates over HTTP-01"},
        refused_case{"2001:db8::1", "IP addresses cannot get certificates over HTTP-01"},
        refused_case{"[2001:db8::1]", "IP addresses cannot get certificates over HTTP-01"},
        refused_case{"::ffff:192.0.2.1", "IP addresses cannot get certificates over HTTP-01"},
        refused_case{"localhost", "single-label"}, refused_case{"com", "single-label"},
        refused_case{"example.", "single-label"}, refused_case{"example.com..", "empty label"},
        refused_case{".example.com", "empty label"},
        refused_case{"www..example.com", "empty label"}, refused_case{".", "empty label"},
        refused_case{label64 + ".com", "is 64 characters long; the limit is 63"},
        refused_case{name254, "is 254 characters long; the limit is 253"},
        refused_case{"foo_bar.example.com", "contains \"_\""},
        refused_case{"_acme-challenge.example.com", "contains \"_\""},
        refused_case{"exa mple.com", "contains \" \""},
        refused_case{"example!.com", "contains \"!\""},
        refused_case{"ex@mple.com", "contains \"@\""},
        refused_case{"-example.com", "starts or ends with a hyphen"},
        refused_case{"example-.com", "starts or ends with a hyphen"},
        refused_case{"www.example.com-", "starts or ends with a hyphen"},
        refused_case{"ab--cd.example.com", "third and fourth positions"},
        refused_case{"example.123", "all digits"},
        refused_case{"example.com:443", "remove \":443\""},
        refused_case{"https://example.com", "without a scheme"},
        refused_case{"example.com/path", "without a scheme"},
        refused_case{"exa\x01mple.com", "\\x01"}, refused_case{"example.com\x7f", "\\x7f"}));

TEST(domain_name, detail_names_the_value) {
  const auto name = normalize_domain("foo_bar.example.com");
  ASSERT_FALSE(name.ok());
  EXPECT_EQ(name.err().detail,
            "invalid domain name \"foo_bar.example.com\": label \"foo_bar\" contains \"_\"; only "
            "letters, digits and hyphens are allowed");
}

TEST(domain_name, internationalised_names_become_a_labels_or_are_refused_with_advice) {
  const auto name = normalize_domain("Bücher.example");
  if (idna_supported()) {
    ASSERT_TRUE(name.ok()) << name.err().detail;
    EXPECT_EQ(*name, "xn--bcher-kva.example");
    const auto with_dot = normalize_domain("münchen.de.");
    ASSERT_TRUE(with_dot.ok()) << with_dot.err().detail;
    EXPECT_EQ(*with_dot, "xn--mnchen-3ya.de");
    // An IDN that is still a wildcard stays refused.
    EXPECT_FALSE(normalize_domain("*.bücher.example").ok());
  } else {
    ASSERT_FALSE(name.ok());
    EXPECT_THAT(name.err().detail, HasSubstr("A-label"));
    EXPECT_THAT(name.err().detail, HasSubstr("xn--"));
  }
}

TEST(domain_name, xn_labels_must_be_valid_canonical_punycode) {
  if (!idna_supported()) GTEST_SKIP() << "built without libidn2: A-labels are not decoded";
  for (const char* raw : {"xn--zz.com", "www.xn--zz.example.com", "xn--a.com", "xn--ls8h.la"}) {
    const auto name = normalize_domain(raw);
    ASSERT_FALSE(name.ok()) << raw;
    EXPECT_THAT(name.err().detail, HasSubstr("not a valid internationalised label")) << raw;
  }
  EXPECT_TRUE(normalize_domain("xn--mnchen-3ya.de").ok());
}

TEST(domain_name, invalid_utf8_is_refused) {
  const auto name = normalize_domain("\xff\xfe.example");
  ASSERT_FALSE(name.ok());
  EXPECT_EQ(name.err().kind, error_kind::invalid_input);
}

TEST(domain_name, normalizing_twice_changes_nothing) {
  for (const char* raw : {"Example.COM.", " a.b ", "xn--bcher-kva.example"}) {
    const auto once = normalize_domain(raw);
    ASSERT_TRUE(once.ok());
    const auto twice = normalize_domain(*once);
    ASSERT_TRUE(twice.ok());
    EXPECT_EQ(*once, *twice);
  }
}

}  // namespace
}  // namespace certfleet::config
