#include "protocol/acme/problem.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

namespace certfleet::protocol {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr std::string_view problem_json = "application/problem+json";
const timestamp now = timestamp{std::chrono::sys_days{std::chrono::year{1994} / 11 / 6}} + 8h +
                      49min + 37s - 90s;  // 90 s before "Sun, 06 Nov 1994 08:49:37 GMT"

std::string problem(std::string_view type, std::string_view detail) {
  return json{{"type", "urn:ietf:params:acme:error:" + std::string(type)},
              {"detail", detail},
              {"status", 400}}
      .dump();
}

struct expected_type {
  std::string_view name;
  error_kind kind;
  bool retryable;
};

// RFC 8555 §6.7, written out independently of the table under test.
const expected_type all_types[] = {
    {"accountDoesNotExist", error_kind::account_does_not_exist, false},
    {"alreadyRevoked", error_kind::already_revoked, false},
    {"badCSR", error_kind::bad_csr, false},
    {"badNonce", error_kind::bad_nonce, true},
    {"badPublicKey", error_kind::bad_public_key, false},
    {"badRevocationReason", error_kind::bad_revocation_reason, false},
    {"badSignatureAlgorithm", error_kind::bad_signature_algorithm, false},
    {"caa", error_kind::caa, true},
    {"compound", error_kind::compound, false},
    {"connection", error_kind::connection, true},
    {"dns", error_kind::dns, true},
    {"externalAccountRequired", error_kind::external_account_required, false},
    {"incorrectResponse", error_kind::incorrect_response, true},
    {"invalidContact", error_kind::invalid_contact, false},
    {"malformed", error_kind::malformed, false},
    {"orderNotReady", error_kind::order_not_ready, true},
    {"rateLimited", error_kind::rate_limited, true},
    {"rejectedIdentifier", error_kind::rejected_identifier, false},
    {"serverInternal", error_kind::server_internal, true},
    {"tls", error_kind::tls, true},
    {"unauthorized", error_kind::unauthorized, true},
    {"unsupportedContact", error_kind::unsupported_contact, false},
    {"unsupportedIdentifier", error_kind::unsupported_identifier, false},
    {"userActionRequired", error_kind::user_action_required, false},
    {"alreadyReplaced", error_kind::already_replaced, false},  // RFC 9773 §7.4
};

TEST(Problem, TableCoversAll25TypesOnce) {
  ASSERT_EQ(acme_problem_types().size(), 25u);
  std::set<std::string_view> names;
  std::set<error_kind> kinds;
  for (const auto& row : acme_problem_types()) {
    names.insert(row.name);
    kinds.insert(row.kind);
  }
  EXPECT_EQ(names.size(), 25u);
  EXPECT_EQ(kinds.size(), 25u);
}

// The decisions the daemon made before the policy had one home (acme_service's
// switch): only these kinds leave a stored order resumable.
TEST(ErrorPolicy, OnlyTransientOrLocalErrorsKeepTheOrder) {
  const std::set<error_kind> keeps_order{error_kind::network,      error_kind::timeout,
                                         error_kind::server_error, error_kind::server_internal,
                                         error_kind::bad_nonce,    error_kind::rate_limited,
                                         error_kind::storage,      error_kind::not_enabled};
  ASSERT_EQ(error_policies().size(), static_cast<std::size_t>(error_kind::internal) + 1);
  for (const auto& row : error_policies()) {
    EXPECT_EQ(row.invalidates_order, !keeps_order.count(row.kind)) << row.name;
    EXPECT_EQ(&policy_of(row.kind), &row) << row.name;
    EXPECT_EQ(to_string(row.kind), row.name);
    EXPECT_EQ(invalidates_order(error{row.kind, "x"}), row.invalidates_order) << row.name;
  }
}

TEST(ErrorPolicy, AnErrorIsRetryableAsItsKindUnlessTheProducerSaysOtherwise) {
  for (const auto& t : all_types) EXPECT_EQ(policy_of(t.kind).retryable, t.retryable) << t.name;
  EXPECT_TRUE(error(error_kind::network, "x").retryable);
  EXPECT_FALSE(error(error_kind::config, "x").retryable);
  EXPECT_TRUE(error(error_kind::bad_response, "x", true).retryable);
}

TEST(Problem, EveryTypeMapsToItsKind) {
  for (const auto& t : all_types) {
    const std::string detail = "detail of " + std::string(t.name);
    const error e = parse_problem(400, problem_json, problem(t.name, detail), "", now);
    EXPECT_EQ(e.kind, t.kind) << t.name;
    EXPECT_EQ(e.retryable, t.retryable) << t.name;
    EXPECT_NE(e.detail.find(detail), std::string::npos) << e.detail;
    EXPECT_NE(e.detail.find(t.name), std::string::npos) << e.detail;
    EXPECT_NE(e.detail.find("400"), std::string::npos) << e.detail;
    EXPECT_FALSE(e.retry_after.has_value());
  }
}

TEST(Problem, ContentTypeParametersAndPlainJsonAreAccepted) {
  for (std::string_view ct : {"application/problem+json; charset=utf-8", "Application/Problem+JSON",
                              "application/json"}) {
    const error e = parse_problem(400, ct, problem("badNonce", "stale"), "", now);
    EXPECT_EQ(e.kind, error_kind::bad_nonce) << ct;
  }
}

TEST(Problem, SubproblemsAreSummarized) {
  const json body = {{"type", "urn:ietf:params:acme:error:rejectedIdentifier"},
                     {"detail", "Error creating new order :: Cannot issue for 2 identifiers"},
                     {"subproblems",
                      {{{"type", "urn:ietf:params:acme:error:rejectedIdentifier"},
                        {"detail", "blocked by policy"},
                        {"identifier", {{"type", "dns"}, {"value", "bad.example"}}}},
                       {{"type", "urn:ietf:params:acme:error:malformed"},
                        {"detail", "invalid label"},
                        {"identifier", {{"type", "dns"}, {"value", "-x.example"}}}}}}};
  const error e = parse_problem(400, problem_json, body.dump(), "", now);
  EXPECT_EQ(e.kind, error_kind::rejected_identifier);
  EXPECT_FALSE(e.retryable);
  for (const char* part : {"Cannot issue for 2 identifiers", "bad.example", "blocked by policy",
                           "-x.example", "invalid label", "malformed"})
    EXPECT_NE(e.detail.find(part), std::string::npos) << part << " in " << e.detail;
}

json compound_of(std::initializer_list<std::string_view> types) {
  json subs = json::array();
  int i = 0;
  for (auto type : types)
    subs.push_back(
        {{"type", "urn:ietf:params:acme:error:" + std::string(type)},
         {"detail", "sub " + std::to_string(i)},
         {"identifier", {{"type", "dns"}, {"value", "d" + std::to_string(i++) + ".example"}}}});
  return {{"type", "urn:ietf:params:acme:error:compound"},
          {"detail", "several problems"},
          {"subproblems", subs}};
}

TEST(Problem, CompoundIsRetryableOnlyWhenAllSubproblemsAre) {
  EXPECT_TRUE(parse_problem(400, problem_json, compound_of({"dns", "connection"}).dump(), "", now)
                  .retryable);
  const error mixed =
      parse_problem(400, problem_json, compound_of({"dns", "rejectedIdentifier"}).dump(), "", now);
  EXPECT_EQ(mixed.kind, error_kind::compound);
  EXPECT_FALSE(mixed.retryable);
}

TEST(Problem, ManySubproblemsAreCapped) {
  const error e = parse_problem(
      400, problem_json,
      compound_of({"dns", "dns", "dns", "dns", "dns", "dns", "dns", "dns", "dns", "dns"}).dump(),
      "", now);
  EXPECT_NE(e.detail.find("d4.example"), std::string::npos);
  EXPECT_EQ(e.detail.find("d5.example"), std::string::npos);
  EXPECT_NE(e.detail.find("and 5 more"), std::string::npos) << e.detail;
}

TEST(Problem, MalformedJson) {
  const error client = parse_problem(400, problem_json, "{\"type\": ", "", now);
  EXPECT_EQ(client.kind, error_kind::bad_response);
  EXPECT_FALSE(client.retryable);
  EXPECT_NE(client.detail.find("not a JSON object"), std::string::npos) << client.detail;

  const error server = parse_problem(500, problem_json, "not json at all", "", now);
  EXPECT_EQ(server.kind, error_kind::server_error);
  EXPECT_TRUE(server.retryable);

  EXPECT_EQ(parse_problem(400, problem_json, "[1,2]", "", now).kind, error_kind::bad_response);
  EXPECT_EQ(parse_problem(400, problem_json, "", "", now).kind, error_kind::bad_response);
}

TEST(Problem, MissingOrUnknownType) {
  const error missing = parse_problem(403, problem_json, R"({"detail":"nope"})", "", now);
  EXPECT_EQ(missing.kind, error_kind::bad_response);
  EXPECT_NE(missing.detail.find("\"type\""), std::string::npos) << missing.detail;
  EXPECT_NE(missing.detail.find("nope"), std::string::npos);

  const error wrong_type = parse_problem(400, problem_json, R"({"type":7})", "", now);
  EXPECT_EQ(wrong_type.kind, error_kind::bad_response);

  const error unknown =
      parse_problem(409, problem_json, problem("orderRefused", "the CA said no"), "", now);
  EXPECT_EQ(unknown.kind, error_kind::bad_response);
  EXPECT_NE(unknown.detail.find("orderRefused"), std::string::npos);
  EXPECT_NE(unknown.detail.find("the CA said no"), std::string::npos);

  const error about_blank =
      parse_problem(503, problem_json, R"({"type":"about:blank","detail":"down"})", "", now);
  EXPECT_EQ(about_blank.kind, error_kind::server_error);
  EXPECT_TRUE(about_blank.retryable);

  const error no_detail = parse_problem(
      400, problem_json, R"({"type":"urn:ietf:params:acme:error:malformed","detail":5})", "", now);
  EXPECT_EQ(no_detail.kind, error_kind::malformed);
  EXPECT_NE(no_detail.detail.find("no detail"), std::string::npos);
}

TEST(Problem, HtmlGatewayError) {
  const error e =
      parse_problem(502, "text/html",
                    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n</html>", "", now);
  EXPECT_EQ(e.kind, error_kind::server_error);
  EXPECT_TRUE(e.retryable);
  EXPECT_NE(e.detail.find("502"), std::string::npos);
  EXPECT_NE(e.detail.find("text/html"), std::string::npos);
  EXPECT_NE(e.detail.find("502 Bad Gateway"), std::string::npos);
  EXPECT_EQ(e.detail.find('\r'), std::string::npos);
  EXPECT_EQ(e.detail.find('\n'), std::string::npos);
}

TEST(Problem, RateLimitWithoutProblemDocument) {
  const error e = parse_problem(429, "text/plain", "slow down", "30", now);
  EXPECT_EQ(e.kind, error_kind::rate_limited);
  EXPECT_TRUE(e.retryable);
  EXPECT_EQ(e.retry_after, 30s);
}

TEST(Problem, HugeBodiesAreTruncated) {
  const std::string html = "<html>" + std::string(1 << 20, 'x') + "</html>";
  const error e = parse_problem(500, "text/html", html, "", now);
  EXPECT_LT(e.detail.size(), 400u);
  EXPECT_NE(e.detail.find("..."), std::string::npos);

  const error big_detail =
      parse_problem(400, problem_json, problem("malformed", std::string(100000, 'y')), "", now);
  EXPECT_EQ(big_detail.kind, error_kind::malformed);
  EXPECT_LT(big_detail.detail.size(), 400u);

  // A cut through a multi-byte character must not leave half of it.
  std::string utf8;
  for (int i = 0; i < 300; ++i) utf8 += "\xc3\xa9";  // é
  const error accents = parse_problem(400, problem_json, problem("malformed", utf8), "", now);
  const std::string& d = accents.detail;
  const auto cut = d.rfind("...");
  ASSERT_NE(cut, std::string::npos);
  EXPECT_EQ(d.substr(cut - 2, 2), "\xc3\xa9");
}

TEST(Problem, BinaryBodyIsSanitized) {
  std::string junk;
  for (int i = 0; i < 256; ++i) junk += static_cast<char>(i);
  const error e = parse_problem(400, "application/octet-stream", junk, "", now);
  EXPECT_EQ(e.kind, error_kind::bad_response);
  for (char c : e.detail) {
    EXPECT_GE(static_cast<unsigned char>(c), 0x20);
    EXPECT_LT(static_cast<unsigned char>(c), 0x7f);
  }
}

TEST(Problem, RetryAfterTravelsWithTheError) {
  const error seconds =
      parse_problem(429, problem_json, problem("rateLimited", "too many"), "3600", now);
  EXPECT_EQ(seconds.kind, error_kind::rate_limited);
  EXPECT_TRUE(seconds.retryable);
  EXPECT_EQ(seconds.retry_after, 3600s);

  const error date = parse_problem(503, problem_json, problem("serverInternal", "busy"),
                                   "Sun, 06 Nov 1994 08:49:37 GMT", now);
  EXPECT_EQ(date.retry_after, 90s);

  const error invalid =
      parse_problem(429, problem_json, problem("rateLimited", "too many"), "soon", now);
  EXPECT_TRUE(invalid.retryable);
  EXPECT_FALSE(invalid.retry_after.has_value());
}

TEST(RetryAfter, DeltaSeconds) {
  EXPECT_EQ(parse_retry_after("0", now), 0s);
  EXPECT_EQ(parse_retry_after("120", now), 120s);
  EXPECT_EQ(parse_retry_after(" \t86400 ", now), 86400s);
  // Huge values are a week, not an overflow further on.
  EXPECT_EQ(parse_retry_after("9223372036854775807", now), max_retry_after);
  EXPECT_EQ(parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now), max_retry_after);
}

TEST(RetryAfter, HttpDate) {
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now), 90s);
  // Partial seconds round up: never come back early.
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now + 500ms), 90s);
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now + 1h), 0s) << "in the past";
  EXPECT_EQ(parse_retry_after("Mon, 07 Nov 1994 08:49:37 GMT", now), 90s + 24h);
  EXPECT_EQ(parse_retry_after("Thu, 29 Feb 2024 00:00:00 GMT",
                              timestamp{std::chrono::sys_days{std::chrono::year{2024} / 2 / 28}}),
            24h);
}

TEST(RetryAfter, Invalid) {
  for (std::string_view bad : {"", "   ", "soon", "-5", "1.5", "12abc", "99999999999999999999999",
                               "Sun, 06 Nov 1994 08:49:37 UTC", "Foo, 06 Nov 1994 08:49:37 GMT",
                               "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 31 Feb 2024 08:49:37 GMT",
                               "Sun, 06 Nov 1994 25:49:37 GMT", "Sun, 06 Nov 1994 08:61:37 GMT",
                               "Sun, 6 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT",
                               "Sun Nov  6 08:49:37 1994"}) {
    EXPECT_FALSE(parse_retry_after(bad, now).has_value()) << '"' << bad << '"';
  }
}

}  // namespace
}  // namespace certfleet::protocol
