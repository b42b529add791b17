// Malformed and hostile control messages: each is an error that says what was wrong; none
// throws or crashes (the daemon decodes whatever any local user sends to its socket).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "control/codec.hpp"

namespace certfleet::control {
namespace {

struct malformed {
  const char* name;
  std::string text;
  std::string says;  ///< a part of the error message
};

void PrintTo(const malformed& m, std::ostream* os) { *os << m.name; }

std::string list_of(std::size_t n, const std::string& entry) {
  std::string out = "[";
  for (std::size_t i = 0; i < n; ++i) out += (i ? "," : "") + entry;
  return out + "]";
}

class malformed_request : public ::testing::TestWithParam<malformed> {};

TEST_P(malformed_request, is_a_clear_error) {
  const auto decoded = decode_request(GetParam().text);
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.err().kind, error_kind::invalid_input);
  EXPECT_EQ(decoded.err().detail.rfind("malformed control request: ", 0), 0u)
      << decoded.err().detail;
  EXPECT_NE(decoded.err().detail.find(GetParam().says), std::string::npos) << decoded.err().detail;
}

INSTANTIATE_TEST_SUITE_P(
    table, malformed_request,
    ::testing::Values(
        malformed{"empty", "", "is not JSON"}, malformed{"text", "reload please", "is not JSON"},
        malformed{"truncated", R"({"command":"retry","domains":["a.exa)", "is not JSON"},
        malformed{"binary", std::string("\x00\xff\xfe{", 4), "is not JSON"},
        malformed{"invalid_utf8", "{\"command\":\"ping\xff\"}", "is not JSON"},
        malformed{"deeply_nested", std::string(100000, '['), "is not JSON"},
        malformed{"null", "null", "is not a JSON object"},
        malformed{"array", R"(["ping"])", "is not a JSON object"},
        malformed{"number", "42", "is not a JSON object"},
        malformed{"no_command", R"({"domains":[]})", "\"command\" is missing"},
        malformed{"command_number", R"({"command":5})", "\"command\" is not a string"},
        malformed{"command_object", R"({"command":{"name":"ping"}})",
                  "\"command\" is not a string"},
        malformed{"unknown_command", R"({"command":"shutdown"})", "unknown command \"shutdown\""},
        malformed{"command_case", R"({"command":"PING"})", "install them together"},
        malformed{"long_unknown_command", R"({"command":")" + std::string(5000, 'x') + "\"}",
                  "...;"},
        malformed{"retry_without_domains", R"({"command":"retry"})", "\"domains\" is not a list"},
        malformed{"retry_domains_string", R"({"command":"retry","domains":"a.example"})",
                  "\"domains\" is not a list"},
        malformed{"retry_domain_number", R"({"command":"retry","domains":["a",7]})",
                  "holds 7, which is not a domain name"},
        malformed{"retry_domain_null", R"({"command":"retry","domains":[null]})", "holds null"},
        malformed{"retry_domain_too_long",
                  R"({"command":"retry","domains":[")" + std::string(2000, 'a') + "\"]}",
                  "which is not a domain name"},
        malformed{"retry_too_many",
                  R"({"command":"retry","domains":)" + list_of(max_domains + 1, "\"a\"") + "}",
                  "at most 250000 are allowed"}));

class malformed_response : public ::testing::TestWithParam<malformed> {};

TEST_P(malformed_response, is_a_clear_error) {
  const auto decoded = decode_response(GetParam().text);
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.err().kind, error_kind::bad_response);
  EXPECT_EQ(decoded.err().detail.rfind("malformed answer from certfleetd: ", 0), 0u)
      << decoded.err().detail;
  EXPECT_NE(decoded.err().detail.find("check certfleetd's log"), std::string::npos);
  EXPECT_NE(decoded.err().detail.find(GetParam().says), std::string::npos) << decoded.err().detail;
}

INSTANTIATE_TEST_SUITE_P(
    table, malformed_response,
    ::testing::Values(
        malformed{"empty", "", "is not JSON"}, malformed{"array", "[1,2]", "is not a JSON object"},
        malformed{"old_format_without_type", R"({"ok":true,"domains":3})", "\"type\" is missing"},
        malformed{"unknown_type", R"({"ok":true,"type":"status"})", "unknown answer type"},
        malformed{"ping_negative", R"({"type":"ping","domains":-1})",
                  "\"domains\" is not a number"},
        malformed{"ping_fraction", R"({"type":"ping","domains":1.5})",
                  "\"domains\" is not a number"},
        malformed{"ping_string", R"({"type":"ping","domains":"3"})", "\"domains\" is not a number"},
        malformed{"reload_without_removed", R"({"type":"reload","added":[]})",
                  "\"removed\" is not a list"},
        malformed{"reload_added_numbers", R"({"type":"reload","added":[1],"removed":[]})",
                  "\"added\" holds 1"},
        malformed{
            "reload_too_many",
            R"({"type":"reload","removed":[],"added":)" + list_of(max_domains + 1, "\"a\"") + "}",
            "at most 250000"},
        malformed{"rejected_without_error", R"({"type":"reload_rejected"})",
                  "\"error\" is missing"},
        malformed{"retry_results_object", R"({"type":"retry","results":{}})",
                  "\"results\" is not a list"},
        malformed{"retry_result_string", R"({"type":"retry","results":["a: retrying"]})",
                  "a retry result is not a JSON object"},
        malformed{"retry_unknown_outcome",
                  R"({"type":"retry","results":[{"domain":"a","outcome":"exploded"}]})",
                  "unknown retry outcome \"exploded\""},
        malformed{"retry_outcome_as_old_text",
                  R"({"type":"retry","results":[{"domain":"a","outcome":"unknown domain"}]})",
                  "unknown retry outcome"},
        malformed{"retry_without_domain", R"({"type":"retry","results":[{"outcome":"retrying"}]})",
                  "\"domain\" is missing"},
        malformed{"retry_detail_number",
                  R"({"type":"retry","results":[{"domain":"a","outcome":"no_answer","detail":1}]})",
                  "\"detail\" is not a string"},
        malformed{"error_without_message", R"({"ok":false,"type":"error"})",
                  "\"error\" is missing"}));

}  // namespace
}  // namespace certfleet::control
