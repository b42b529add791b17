// What a broken or hostile CA may answer, at the parsers: the RFC 8555 resource
// parsers on malformed documents. Every case is an error value with a message,
// never a crash. (The client against scripted CAs is in client_test.cpp.)
#include <gtest/gtest.h>

#include "protocol/acme/types.hpp"

namespace certfleet::protocol {
namespace {

std::string nested(std::size_t depth, char open, char close) {
  return std::string(depth, open) + std::string(depth, close);
}

std::string nested_objects(std::size_t depth) {
  std::string s;
  for (std::size_t i = 0; i < depth; ++i) s += "{\"a\":";
  s += "1";
  s += std::string(depth, '}');
  return s;
}

// Bodies that are not a usable document of any kind.
std::vector<std::string> unusable_bodies() {
  return {"",
          " ",
          "{",
          "{\"newNonce\":",
          "{\"status\":\"pending\"",
          "[]",
          "[{\"status\":\"valid\"}]",
          "null",
          "true",
          "42",
          "\"a string\"",
          "<html><body>502 Bad Gateway</body></html>",
          "{} trailing",
          "{\"a\":1}{\"b\":2}",
          std::string("{\"status\":\"valid\0\"}", 18),
          "\xff\xfe{\"status\":\"valid\"}",
          nested(100000, '[', ']'),
          nested(100000, '{', '}'),
          std::string(100000, '{'),
          nested_objects(50000)};
}

TEST(acme_parsers, unusable_bodies_are_bad_response_errors) {
  for (const auto& body : unusable_bodies()) {
    const auto shown = body.substr(0, 30);
    auto d = parse_directory(body);
    ASSERT_FALSE(d) << shown;
    EXPECT_EQ(d.err().kind, error_kind::bad_response) << shown;
    EXPECT_NE(d.err().detail.find("directory"), std::string::npos) << d.err().detail;
    auto o = parse_order("https://ca/order/1", body);
    ASSERT_FALSE(o) << shown;
    EXPECT_EQ(o.err().kind, error_kind::bad_response) << shown;
    auto a = parse_authorization("https://ca/authz/1", body);
    ASSERT_FALSE(a) << shown;
    EXPECT_EQ(a.err().kind, error_kind::bad_response) << shown;
  }
}

// Issue #19: Let's Encrypt's directory (2025) offers ARI, profiles; other CAs require EAB.
TEST(acme_parsers, directory_reads_renewal_info_profiles_and_eab) {
  auto d = parse_directory(
      R"({"newNonce":"n","newAccount":"a","newOrder":"o","renewalInfo":"https://ca/renewal-info",)"
      R"("meta":{"profiles":{"tlsserver":"https://ca/docs/tlsserver","classic":"The same","odd":7},)"
      R"("externalAccountRequired":true}})");
  ASSERT_TRUE(d) << d.err().detail;
  EXPECT_EQ(d->renewal_info, "https://ca/renewal-info");
  ASSERT_EQ(d->profiles.size(), 3u);
  EXPECT_EQ(d->profiles.begin()->first, "classic") << "sorted by name, for messages";
  EXPECT_EQ(d->profiles.at("tlsserver"), "https://ca/docs/tlsserver");
  EXPECT_EQ(d->profiles.at("odd"), "") << "a description that is not a string is dropped";
  EXPECT_TRUE(d->external_account_required);

  auto plain = parse_directory(R"({"newNonce":"n","newAccount":"a","newOrder":"o",)"
                               R"("meta":{"externalAccountRequired":"yes"}})");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->renewal_info, "") << "no ARI";
  EXPECT_TRUE(plain->profiles.empty());
  EXPECT_FALSE(plain->external_account_required) << "only a JSON true requires EAB";

  // A profile list that is not a map is no list: the directory is still usable, and a
  // configured profile is refused saying the CA lists none.
  auto listed = parse_directory(R"({"newNonce":"n","newAccount":"a","newOrder":"o",)"
                                R"("meta":{"profiles":["tlsserver","classic"]}})");
  ASSERT_TRUE(listed) << listed.err().detail;
  EXPECT_TRUE(listed->profiles.empty());
  auto refused = check_profile(*listed, "https://ca/dir", "tlsserver");
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.err().detail.find("offers no certificate profiles"), std::string::npos)
      << refused.err().detail;
}

TEST(acme_parsers, directory_needs_its_three_urls_as_strings) {
  const std::string full =
      R"({"newNonce":"https://ca/nonce","newAccount":"https://ca/acct","newOrder":"https://ca/order",)"
      R"("revokeCert":"https://ca/revoke","meta":{"termsOfService":"https://ca/tos"}})";
  auto d = parse_directory(full);
  ASSERT_TRUE(d) << d.err().detail;
  EXPECT_EQ(d->new_nonce, "https://ca/nonce");
  EXPECT_EQ(d->new_account, "https://ca/acct");
  EXPECT_EQ(d->new_order, "https://ca/order");
  EXPECT_EQ(d->revoke_cert, "https://ca/revoke");
  EXPECT_EQ(d->terms_of_service, "https://ca/tos");

  const std::vector<std::string> broken = {
      R"({"newAccount":"https://ca/acct","newOrder":"https://ca/order"})",
      R"({"newNonce":"https://ca/nonce","newOrder":"https://ca/order"})",
      R"({"newNonce":"https://ca/nonce","newAccount":"https://ca/acct"})",
      R"({"newNonce":5,"newAccount":"https://ca/acct","newOrder":"https://ca/order"})",
      R"({"newNonce":["https://ca/nonce"],"newAccount":"https://ca/acct","newOrder":"https://ca/order"})",
      R"({"newNonce":"https://ca/nonce","newAccount":null,"newOrder":"https://ca/order"})",
      R"({"newNonce":"https://ca/nonce","newAccount":"https://ca/acct","newOrder":{}})",
      R"({"newNonce":"","newAccount":"https://ca/acct","newOrder":"https://ca/order"})",
      R"({"directory":{"newNonce":"https://ca/nonce","newAccount":"https://ca/acct","newOrder":"https://ca/order"}})",
  };
  for (const auto& body : broken) {
    auto r = parse_directory(body);
    ASSERT_FALSE(r) << body;
    EXPECT_NE(r.err().detail.find("newNonce, newAccount or newOrder is missing"), std::string::npos)
        << r.err().detail;
    EXPECT_TRUE(r.err().retryable);
  }
  // Optional members of the wrong type are ignored, not fatal.
  auto odd_meta = parse_directory(
      R"({"newNonce":"n","newAccount":"a","newOrder":"o","meta":"x","revokeCert":7})");
  ASSERT_TRUE(odd_meta);
  EXPECT_FALSE(odd_meta->terms_of_service);
  EXPECT_EQ(odd_meta->revoke_cert, "");
  auto odd_tos = parse_directory(
      R"({"newNonce":"n","newAccount":"a","newOrder":"o","meta":{"termsOfService":1}})");
  ASSERT_TRUE(odd_tos);
  EXPECT_FALSE(odd_tos->terms_of_service);
}

TEST(acme_parsers, order_needs_a_status_and_a_finalize_url) {
  auto o = parse_order("https://ca/order/1", R"({"status":"pending","finalize":"https://ca/fin",
      "identifiers":[{"type":"dns","value":"a.example"},"junk",{"type":"dns","value":"b.example"}],
      "authorizations":["https://ca/authz/1",7,null,"https://ca/authz/2"]})");
  ASSERT_TRUE(o) << o.err().detail;
  EXPECT_EQ(o->url, "https://ca/order/1");
  EXPECT_EQ(o->identifiers, (std::vector<std::string>{"a.example", "b.example"}));
  EXPECT_EQ(o->authorizations,
            (std::vector<std::string>{"https://ca/authz/1", "https://ca/authz/2"}));
  EXPECT_EQ(o->certificate, "");

  const std::vector<std::string> broken = {
      R"({"finalize":"https://ca/fin"})",
      R"({"status":"pending"})",
      R"({"status":1,"finalize":"https://ca/fin"})",
      R"({"status":"pending","finalize":false})",
      R"({"status":{"x":1},"finalize":"https://ca/fin"})",
  };
  for (const auto& body : broken) {
    auto r = parse_order("https://ca/order/1", body);
    ASSERT_FALSE(r) << body;
    EXPECT_EQ(r.err().kind, error_kind::bad_response);
    EXPECT_NE(r.err().detail.find("order"), std::string::npos) << r.err().detail;
  }
  // Wrong-typed lists are treated as empty.
  auto odd = parse_order(
      "u", R"({"status":"ready","finalize":"f","identifiers":"x","authorizations":{}})");
  ASSERT_TRUE(odd);
  EXPECT_TRUE(odd->identifiers.empty());
  EXPECT_TRUE(odd->authorizations.empty());
}

TEST(acme_parsers, authorization_keeps_well_formed_challenges_and_the_error_detail) {
  auto a = parse_authorization("https://ca/authz/1", R"({"status":"invalid",
      "identifier":{"type":"dns","value":"a.example"},
      "challenges":[5,"x",{"type":"http-01","url":"https://ca/chall/1","token":"tok","status":"invalid",
                    "error":{"type":"urn:ietf:params:acme:error:connection","detail":"refused"}},
                   {"type":"dns-01","url":"https://ca/chall/2","token":7}]})");
  ASSERT_TRUE(a) << a.err().detail;
  EXPECT_EQ(a->identifier, "a.example");
  ASSERT_EQ(a->challenges.size(), 2u);
  EXPECT_EQ(a->challenges[0].type, "http-01");
  EXPECT_EQ(a->challenges[0].token, "tok");
  EXPECT_EQ(a->challenges[1].token, "") << "a non-string token is dropped, not trusted";
  EXPECT_EQ(a->error_detail, "refused");

  for (const std::string body : {R"({})", R"({"status":null})", R"({"status":["valid"]})",
                                 R"({"identifier":{"value":"a"},"challenges":[]})"}) {
    auto r = parse_authorization("u", body);
    ASSERT_FALSE(r) << body;
    EXPECT_NE(r.err().detail.find("authorization"), std::string::npos) << r.err().detail;
  }
  auto odd =
      parse_authorization("u", R"({"status":"pending","identifier":"a.example","challenges":{}})");
  ASSERT_TRUE(odd);
  EXPECT_EQ(odd->identifier, "");
  EXPECT_TRUE(odd->challenges.empty());
}

TEST(acme_parsers, a_challenge_keeps_its_status_and_the_cas_error_detail) {
  auto c = parse_challenge("https://ca/chall/1", R"({"type":"http-01","status":"invalid",
      "url":"https://ca/chall/1","token":"tok",
      "error":{"type":"urn:ietf:params:acme:error:connection","detail":"connection refused"}})");
  ASSERT_TRUE(c) << c.err().detail;
  EXPECT_EQ(c->status, "invalid");
  EXPECT_EQ(c->token, "tok");
  EXPECT_EQ(c->error_detail, "connection refused");

  auto no_url =
      parse_challenge("https://ca/chall/2", R"({"type":"http-01","status":"processing"})");
  ASSERT_TRUE(no_url) << no_url.err().detail;
  EXPECT_EQ(no_url->url, "https://ca/chall/2") << "the polled URL stands in for a missing one";
  EXPECT_EQ(no_url->error_detail, "");

  for (const std::string body : {R"({})", R"({"status":7})", R"([])", "<html>", ""}) {
    auto r = parse_challenge("u", body);
    ASSERT_FALSE(r) << body;
    EXPECT_EQ(r.err().kind, error_kind::bad_response) << body;
    EXPECT_NE(r.err().detail.find("challenge"), std::string::npos) << r.err().detail;
  }
}

TEST(acme_parsers, huge_documents_are_parsed_or_refused_without_crashing) {
  // A 4 MB directory with valid URLs and a huge unknown member still parses.
  const std::string filler(4 << 20, 'x');
  auto d = parse_directory(R"({"newNonce":"n","newAccount":"a","newOrder":"o","junk":")" + filler +
                           "\"}");
  EXPECT_TRUE(d);
  // 100k challenges: all kept, no quadratic blow-up worth a timeout.
  std::string many = R"({"status":"pending","challenges":[)";
  for (int i = 0; i < 100000; ++i)
    many += std::string(i ? "," : "") + R"({"type":"http-01","token":"t"})";
  many += "]}";
  auto a = parse_authorization("u", many);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->challenges.size(), 100000u);
}

TEST(acme_parsers, a_profile_is_checked_against_what_the_ca_offers) {
  acme_directory dir;
  dir.profiles = {{"classic", "the usual"}, {"shortlived", "6 days"}, {"tlsserver", "TLS"}};
  EXPECT_TRUE(check_profile(dir, "https://ca/dir", "shortlived"));
  auto unknown = check_profile(dir, "https://ca/dir", "tlsservr");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.err().kind, error_kind::config);
  EXPECT_EQ(unknown.err().detail,
            "the CA at https://ca/dir offers no profile \"tlsservr\"; it offers: classic, "
            "shortlived, tlsserver");
  auto none = check_profile(acme_directory{}, "https://ca/dir", "classic");
  ASSERT_FALSE(none);
  EXPECT_NE(none.err().detail.find("offers no certificate profiles"), std::string::npos);
}

}  // namespace
}  // namespace certfleet::protocol
