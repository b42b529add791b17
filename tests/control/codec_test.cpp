// Every control message survives encode -> decode unchanged, and the wire format keeps the
// fields scripts (and the e2e tests) read.
#include "control/codec.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace certfleet::control {
namespace {

using json = nlohmann::json;

class request_round_trip : public ::testing::TestWithParam<request> {};

TEST_P(request_round_trip, decodes_to_what_was_encoded) {
  const std::string line = encode(GetParam());
  EXPECT_EQ(line.find('\n'), std::string::npos) << "one message is one line";
  auto decoded = decode_request(line);
  ASSERT_TRUE(decoded) << decoded.err().detail;
  EXPECT_EQ(*decoded, GetParam()) << line;
}

INSTANTIATE_TEST_SUITE_P(
    every_request, request_round_trip,
    ::testing::Values(request{ping_request{}}, request{reload_request{}}, request{retry_request{}},
                      request{save_problems_request{}}, request{queue_request{}},
                      request{revoke_request{}},
                      request{revoke_request{"a.example.com", "keyCompromise"}},
                      request{account_rollover_request{}},
                      request{retry_request{{"a.example.com"}}},
                      request{retry_request{{}, retry_scope::all}},
                      request{retry_request{{}, retry_scope::failing}},
                      request{retry_request{{"a.example.com", "B.Example.COM.", "bücher.example",
                                             "line\nbreak \"quoted\""}}}));

class response_round_trip : public ::testing::TestWithParam<response> {};

TEST_P(response_round_trip, decodes_to_what_was_encoded) {
  const std::string line = encode(GetParam());
  EXPECT_EQ(line.find('\n'), std::string::npos) << "one message is one line";
  auto decoded = decode_response(line);
  ASSERT_TRUE(decoded) << decoded.err().detail;
  EXPECT_EQ(*decoded, GetParam()) << line;
}

INSTANTIATE_TEST_SUITE_P(
    every_response, response_round_trip,
    ::testing::Values(
        response{ping_response{}}, response{ping_response{100000}}, response{reload_response{}},
        response{reload_response{{"new.example.com", "other.example.com"}, {"old.example.com"}}},
        response{reload_response{{}, {}, {"http_listen", "dns_servers"}}},
        response{reload_rejected{"/etc/certfleet/certfleet.conf:3: unknown directive\n"}},
        response{retry_response{}},
        response{retry_response{{
            {"a.example.com", retry_outcome::retrying, ""},
            {"b.example.com", retry_outcome::not_in_renewal_window, ""},
            {"c.example.com", retry_outcome::already_in_progress, ""},
            {"d.example.com", retry_outcome::unknown_domain, ""},
            {"-bad-", retry_outcome::invalid_domain, "a label starts with \"-\""},
            {"e.example.com", retry_outcome::no_answer, "the domain's actor did not answer"},
            {"f.example.com", retry_outcome::not_saved, ""},
            {"g.example.com", retry_outcome::not_enabled, ""},
        }}},
        response{save_problems_response{}},
        response{save_problems_response{{
            {"a.example.com", "could not save state: no space left on device in /var/lib/x"},
            {"b.example.com", "could not save state: permission denied in /var/lib/x"},
        }}},
        response{queue_response{}},
        response{queue_response{100000, 3, 7, 16, 16, 300, 10800, 0, 120, 3'600'000}},
        response{done_response{"revoked the certificate of a.example.com"}},
        response{error_response{"unknown command \"x\""}}));

TEST(control_wire_format, keeps_the_fields_scripts_read) {
  const json ping = json::parse(encode(ping_response{7}));
  EXPECT_EQ(ping["ok"], true);
  EXPECT_EQ(ping["domains"], 7);

  const json reload = json::parse(encode(reload_response{{"a"}, {"b"}}));
  EXPECT_EQ(reload["ok"], true);
  EXPECT_EQ(reload["added"], json::array({"a"}));
  EXPECT_EQ(reload["removed"], json::array({"b"}));

  const json rejected = json::parse(encode(reload_rejected{"x:1: bad\n"}));
  EXPECT_EQ(rejected["ok"], false);
  EXPECT_EQ(rejected["error"], "x:1: bad\n");

  const json retry = json::parse(encode(retry_response{{{"a", retry_outcome::retrying, ""}}}));
  EXPECT_EQ(retry["ok"], true);
  EXPECT_EQ(retry["results"][0]["domain"], "a");
  EXPECT_EQ(retry["results"][0]["outcome"], "retrying");

  EXPECT_EQ(json::parse(encode(error_response{"no"}))["ok"], false);
  EXPECT_EQ(json::parse(encode(retry_request{{"a"}})),
            json::parse(R"({"command":"retry","domains":["a"]})"));
}

TEST(control_wire_format, a_revocation_without_its_fields_is_refused) {
  auto no_reason = decode_request(R"({"command":"revoke","domain":"a.example"})");
  ASSERT_FALSE(no_reason);
  EXPECT_NE(no_reason.err().detail.find("\"reason\" is missing"), std::string::npos);
  auto long_name = decode_request(R"({"command":"revoke","reason":"unspecified","domain":")" +
                                  std::string(2000, 'a') + "\"}");
  ASSERT_FALSE(long_name);
  EXPECT_NE(long_name.err().detail.find("not a domain name"), std::string::npos);
}

TEST(control_wire_format, requests_as_older_clients_sent_them_decode) {
  // bench scripts sent the ping with a trailing newline inside the line's text.
  auto ping = decode_request("{\"command\":\"ping\"}\n");
  ASSERT_TRUE(ping) << ping.err().detail;
  EXPECT_EQ(*ping, request{ping_request{}});
  auto retry = decode_request(R"({"domains":["a.example.com"],"command":"retry","extra":1})");
  ASSERT_TRUE(retry) << retry.err().detail;
  EXPECT_EQ(*retry, request{retry_request{{"a.example.com"}}});
}

TEST(control_wire_format, an_unknown_retry_scope_is_refused) {
  auto bad = decode_request(R"({"command":"retry","domains":[],"scope":"some"})");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.err().detail.find("use \"all\" or \"failing\""), std::string::npos)
      << bad.err().detail;
}

TEST(control_wire_format, bytes_that_are_not_utf8_are_replaced_not_thrown) {
  const std::string bad = "caf\xe9.example";
  const std::string line = encode(retry_request{{bad}});
  auto decoded = decode_request(line);
  ASSERT_TRUE(decoded) << decoded.err().detail;
  const auto& domains = std::get<retry_request>(*decoded).domains;
  ASSERT_EQ(domains.size(), 1u);
  EXPECT_NE(domains[0], bad);
  EXPECT_EQ(domains[0].rfind("caf", 0), 0u);
}

TEST(control_text, every_outcome_has_its_sentence_and_exit_meaning) {
  const auto text = [](retry_outcome o, std::string detail = "") {
    return describe(retry_result{"a.example.com", o, std::move(detail)});
  };
  EXPECT_EQ(text(retry_outcome::retrying), "retrying");
  EXPECT_EQ(text(retry_outcome::not_in_renewal_window),
            "certificate is valid and not in its renewal window, nothing to do");
  EXPECT_EQ(text(retry_outcome::already_in_progress), "an attempt is already in progress");
  EXPECT_EQ(text(retry_outcome::unknown_domain), "unknown domain (not in the configuration)");
  EXPECT_EQ(text(retry_outcome::invalid_domain, "empty label"), "invalid domain name: empty label");
  EXPECT_EQ(text(retry_outcome::no_answer, "timeout"),
            "no answer from the daemon (timeout); try again, and check certfleetd's log if it "
            "persists");
  EXPECT_EQ(text(retry_outcome::not_saved),
            "not retried: its state could not be saved (see certfleetd's log); free space in the "
            "state directory and try again");
  EXPECT_EQ(text(retry_outcome::not_enabled),
            "not retried: Let's Encrypt is not enabled; set lets_encrypt_agree_to_terms_of_service "
            "yes and lets_encrypt_registration_email in certfleet.conf, then run certfleet reload");
  EXPECT_TRUE(is_problem(retry_outcome::not_enabled));
  EXPECT_TRUE(is_problem(retry_outcome::not_saved));
  EXPECT_TRUE(is_problem(retry_outcome::unknown_domain));
  EXPECT_TRUE(is_problem(retry_outcome::invalid_domain));
  EXPECT_FALSE(is_problem(retry_outcome::retrying));
  EXPECT_FALSE(is_problem(retry_outcome::not_in_renewal_window));
  EXPECT_FALSE(is_problem(retry_outcome::already_in_progress));
  EXPECT_FALSE(is_problem(retry_outcome::no_answer));
  EXPECT_EQ(describe(reload_rejected{"f:1: bad\n"}),
            "configuration rejected, still running on the previous one:\nf:1: bad\n");
}

}  // namespace
}  // namespace certfleet::control
