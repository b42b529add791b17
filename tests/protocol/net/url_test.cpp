// parse_url over a table of the URLs a CA or a configuration may hand us.
#include <gtest/gtest.h>

#include "protocol/net/url.hpp"

namespace certfleet::protocol {
namespace {

struct url_row {
  const char* url;
  bool tls;
  const char* host;
  const char* port;
  const char* target;
};

TEST(parse_url, accepts_what_a_ca_sends) {
  const url_row rows[] = {
      {"https://acme-v02.api.letsencrypt.org/directory", true, "acme-v02.api.letsencrypt.org",
       "443", "/directory"},
      {"https://ca.example", true, "ca.example", "443", "/"},
      {"https://ca.example/", true, "ca.example", "443", "/"},
      {"http://ca.example", false, "ca.example", "80", "/"},
      {"http://a:8080", false, "a", "8080", "/"},
      {"https://a:1/x", true, "a", "1", "/x"},
      {"https://a:65535/x", true, "a", "65535", "/x"},
      {"https://127.0.0.1:14000/dir", true, "127.0.0.1", "14000", "/dir"},
      {"https://[::1]:14000/dir?x=1", true, "::1", "14000", "/dir?x=1"},
      {"https://[2001:db8::1]/", true, "2001:db8::1", "443", "/"},
      {"http://[fe80::1]", false, "fe80::1", "80", "/"},
      {"https://a?q=1", true, "a", "443", "/?q=1"},
      {"https://a:8443?q", true, "a", "8443", "/?q"},
      {"https://a/p/q?x=1&y=/z", true, "a", "443", "/p/q?x=1&y=/z"},
      {"https://a/acme/chall/abc#frag", true, "a", "443", "/acme/chall/abc"},
      {"https://a#frag", true, "a", "443", "/"},
      {"https://a:/x", true, "a", "443", "/x"},  // RFC 3986 §3.2.3: an empty port is the default
      {"https://[::1]:/x", true, "::1", "443", "/x"},
  };
  for (const auto& r : rows) {
    auto u = parse_url(r.url);
    ASSERT_TRUE(u) << r.url << ": " << u.err().detail;
    EXPECT_EQ(u->tls, r.tls) << r.url;
    EXPECT_EQ(u->host, r.host) << r.url;
    EXPECT_EQ(u->port, r.port) << r.url;
    EXPECT_EQ(u->target, r.target) << r.url;
  }
}

TEST(parse_url, refuses_what_it_cannot_connect_to_and_names_the_url) {
  const char* bad[] = {
      "",                          // nothing
      "ca.example/dir",            // no scheme
      "//ca.example/dir",          // scheme-relative
      "ftp://ca.example/",         // other scheme
      "HTTPS//ca.example",         // mangled scheme
      "https://",                  // no host
      "https:///dir",              // no host
      "https://:443/",             // no host, only a port
      "https://a:0/",              // port out of range
      "https://a:65536/",          // port out of range
      "https://a:99999/",          // port out of range
      "https://a:123456/",         // too many digits
      "https://a:-1/",             // sign
      "https://a:+1/",             // sign
      "https://a:8x/",             // not a number
      "https://a:x/",              // not a number
      "https://user@a/",           // userinfo
      "https://user:pw@a:443/",    // userinfo with a password
      "https://[::1/",             // unterminated IPv6 literal
      "https://[::1]x/",           // garbage after the literal
      "https://[]/",               // empty literal
      "https://a:b:c/",            // IPv6 without brackets
      "https://a:b:80/",           // IPv6 without brackets
      "https://::1/",              // IPv6 without brackets
      "https://a b/",              // space in the host
      "https://a/x y",             // space in the path
      "https://a/x\r\nX-Evil: 1",  // header injection through the target
      "https://a/\x7f",            // control character
  };
  for (const char* url : bad) {
    auto u = parse_url(url);
    EXPECT_FALSE(u) << url << " -> host \"" << (u ? u->host : "") << "\" port \""
                    << (u ? u->port : "") << "\"";
    if (!u) {
      EXPECT_EQ(u.err().kind, error_kind::invalid_input) << url;
      EXPECT_NE(u.err().detail.find(std::string("\"") + url + "\""), std::string::npos)
          << u.err().detail;
    }
  }
}

TEST(parse_url, a_huge_url_is_refused_with_a_short_message) {
  const std::string url = "https://a:" + std::string(100000, '9') + "/";
  auto u = parse_url(url);
  ASSERT_FALSE(u);
  EXPECT_LT(u.err().detail.size(), 400u);
}

}  // namespace
}  // namespace certfleet::protocol
