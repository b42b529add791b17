#include "config/value_parsers.hpp"

#include <gtest/gtest.h>

namespace certfleet::config {
namespace {

using namespace std::chrono_literals;

TEST(value_parsers, yes_no) {
  EXPECT_EQ(parse_yes_no("yes"), true);
  EXPECT_EQ(parse_yes_no("No"), false);
  EXPECT_EQ(parse_yes_no("y"), std::nullopt);
  EXPECT_EQ(parse_yes_no(""), std::nullopt);
}

TEST(value_parsers, durations) {
  EXPECT_EQ(*parse_duration("90"), 90s);
  EXPECT_EQ(*parse_duration("3h"), 3h);
  EXPECT_EQ(*parse_duration("1h30m"), 90min);
  EXPECT_EQ(*parse_duration("1d"), 24h);
  EXPECT_EQ(*parse_duration("45s"), 45s);
  EXPECT_FALSE(parse_duration("").ok());
  EXPECT_FALSE(parse_duration("h").ok());
  EXPECT_EQ(*parse_duration("3"), 3s);
  EXPECT_FALSE(parse_duration("3w").ok());
  EXPECT_FALSE(parse_duration("0s").ok());
  EXPECT_FALSE(parse_duration("1h 30m").ok());
  EXPECT_FALSE(parse_duration("99999999999h").ok());
  EXPECT_EQ(format_duration(3h), "3h");
  EXPECT_EQ(format_duration(90min), "1h30m");
  EXPECT_EQ(format_duration(86401s), "1d1s");
}

TEST(value_parsers, addresses) {
  EXPECT_EQ(*parse_listen_address("0.0.0.0:80"), (host_port{"0.0.0.0", 80}));
  EXPECT_EQ(*parse_listen_address("[::]:80"), (host_port{"::", 80}));
  EXPECT_EQ(parse_listen_address("[::]:80")->to_string(), "[::]:80");
  EXPECT_EQ(parse_listen_address("127.0.0.1:8080")->to_string(), "127.0.0.1:8080");
  EXPECT_FALSE(parse_listen_address("[::]").ok());
  EXPECT_FALSE(parse_listen_address("[0.0.0.0]:80").ok());
  EXPECT_FALSE(parse_listen_address("[::1:80").ok());
  EXPECT_FALSE(parse_listen_address("[::1]80").ok());
  EXPECT_EQ(*parse_host_port("localhost:8080"), (host_port{"localhost", 8080}));
  EXPECT_EQ(*parse_dns_server("192.0.2.1"), (host_port{"192.0.2.1", 53}));
  EXPECT_EQ(*parse_dns_server("::1"), (host_port{"::1", 53}));
  EXPECT_EQ(*parse_dns_server("[::1]:5353"), (host_port{"::1", 5353}));
  EXPECT_FALSE(parse_dns_server("256.0.0.1").ok());
}

// fuzz_config_file found "8::\0<bytes>" accepted as an IPv6 DNS server, the bytes kept.
TEST(value_parsers, a_nul_byte_never_ends_an_address_early) {
  using namespace std::string_literals;
  EXPECT_FALSE(parse_dns_server("8::\0x"s));
  EXPECT_FALSE(parse_dns_server("192.0.2.1\0:53"s));
  EXPECT_FALSE(parse_dns_server("[::1\0]:53"s));
  EXPECT_FALSE(parse_listen_address("[::1\0x]:80"s));
  EXPECT_FALSE(parse_listen_address("127.0.0.1\0:80"s));
}

TEST(value_parsers, bounded_numbers) {
  EXPECT_EQ(*parse_bounded("7", 1, 10), 7u);
  EXPECT_FALSE(parse_bounded("0", 1, 10).ok());
  EXPECT_FALSE(parse_bounded("11", 1, 10).ok());
  EXPECT_FALSE(parse_bounded("+5", 1, 10).ok());
  EXPECT_FALSE(parse_bounded("99999999999999999999999", 1, 10).ok());
}

TEST(value_parsers, emails) {
  EXPECT_EQ(*parse_email("Ops+tls@Example.COM"), "Ops+tls@example.com");
  EXPECT_FALSE(parse_email("ops").ok());
  EXPECT_FALSE(parse_email("ops@").ok());
  EXPECT_FALSE(parse_email("@example.com").ok());
  EXPECT_FALSE(parse_email("a@b@example.com").ok());
  EXPECT_FALSE(parse_email("<ops@example.com>").ok());
}

TEST(value_parsers, edit_distance) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("state_dir", "state_dir"), 0u);
}

TEST(value_parsers, node_names_are_checked_with_a_reason) {
  for (const std::string& good :
       {std::string("a"), std::string("node-1"), std::string("mx1.example.com"), std::string("n_2"),
        std::string(64, 'x')})
    EXPECT_TRUE(parse_node_name(good)) << good;
  for (const std::string& bad :
       {std::string(), std::string("-a"), std::string(".a"), std::string("Node"),
        std::string("a b"), std::string("a/b"), std::string("a\n"), std::string(65, 'x')}) {
    auto checked = parse_node_name(bad);
    ASSERT_FALSE(checked) << bad;
    EXPECT_EQ(checked.err().kind, error_kind::config);
    EXPECT_NE(checked.err().detail.find("node_name"), std::string::npos);
  }
}

TEST(value_parsers, etcd_endpoints_are_client_urls) {
  EXPECT_EQ(*parse_etcd_endpoint("http://10.0.0.1:2379"), "http://10.0.0.1:2379");
  EXPECT_EQ(*parse_etcd_endpoint("https://etcd1.example:2379/"), "https://etcd1.example:2379");
  EXPECT_EQ(*parse_etcd_endpoint("http://[::1]:2379"), "http://[::1]:2379");
  for (const char* bad : {"10.0.0.1:2379", "ftp://a:1", "http://", "http://a:1/v3", "http://a b:1",
                          "https://a:99999"}) {
    auto parsed = parse_etcd_endpoint(bad);
    ASSERT_FALSE(parsed) << bad;
    EXPECT_NE(parsed.err().detail.find("etcd member's client URL"), std::string::npos) << bad;
  }
}

}  // namespace
}  // namespace certfleet::config
