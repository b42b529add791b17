// The ClientHello extensions the HTTPS listener reads before OpenSSL does (TLS-ALPN-01):
// well-formed ones are read, and any length that does not add up reads as nothing.
#include "serving/client_hello.hpp"

#include <gtest/gtest.h>

namespace certfleet::serving {
namespace {

// An ALPN extension body (RFC 7301 §3.1) listing `protocols`.
std::string alpn(std::initializer_list<std::string_view> protocols) {
  std::string list;
  for (auto p : protocols) list += static_cast<char>(p.size()) + std::string(p);
  return std::string{static_cast<char>(list.size() >> 8), static_cast<char>(list.size() & 0xff)} +
         list;
}

// A server_name extension body (RFC 6066 §3) with one host_name.
std::string sni(std::string_view name) {
  const std::size_t entry = 3 + name.size();
  return std::string{static_cast<char>(entry >> 8), static_cast<char>(entry & 0xff), '\0',
                     static_cast<char>(name.size() >> 8), static_cast<char>(name.size() & 0xff)} +
         std::string(name);
}

TEST(client_hello, reads_the_offered_protocols) {
  EXPECT_TRUE(offers_protocol(alpn({"h2", "acme-tls/1"}), "acme-tls/1"));
  EXPECT_TRUE(offers_protocol(alpn({"acme-tls/1"}), "acme-tls/1"));
  EXPECT_FALSE(offers_protocol(alpn({"h2", "http/1.1"}), "acme-tls/1"));
  EXPECT_FALSE(offers_protocol(alpn({"acme-tls/11"}), "acme-tls/1")) << "whole names only";
}

TEST(client_hello, an_alpn_list_whose_lengths_do_not_add_up_offers_nothing) {
  std::string longer = alpn({"acme-tls/1"});
  longer[1] = static_cast<char>(longer[1] + 1);  // the list claims a byte more
  EXPECT_FALSE(offers_protocol(longer, "acme-tls/1"));
  std::string cut = alpn({"acme-tls/1"});
  cut[2] = 40;  // the entry runs past the end
  EXPECT_FALSE(offers_protocol(cut, "acme-tls/1"));
  EXPECT_FALSE(offers_protocol("", "acme-tls/1"));
  EXPECT_FALSE(offers_protocol(std::string("\0", 1), "acme-tls/1"));
}

TEST(client_hello, reads_the_server_name_in_lower_case) {
  EXPECT_EQ(server_name_of(sni("Alpn.Example.COM")), "alpn.example.com");
  EXPECT_EQ(server_name_of(sni("")), "");
  std::string other_type = sni("a.example");
  other_type[2] = 1;  // not host_name
  EXPECT_EQ(server_name_of(other_type), "");
  std::string cut = sni("a.example");
  cut.resize(cut.size() - 1);
  EXPECT_EQ(server_name_of(cut), "") << "a name that runs past the end";
  EXPECT_EQ(server_name_of("\x00\x01"), "");
}

}  // namespace
}  // namespace certfleet::serving
