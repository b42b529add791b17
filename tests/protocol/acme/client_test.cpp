// What a broken or hostile CA may answer: the RFC 8555 parsers on malformed
// documents, and acme_client against a scripted HTTP peer that answers badly.
// Every case is an error value with a message, never a crash or a hang. Also a CA
// behaviour pebble never shows: a finalize answered with the issued order.
#include <gtest/gtest.h>

#include "tests/support/net_test_support.hpp"

#include "protocol/acme/client.hpp"
#include "protocol/acme/issuance.hpp"
#include "protocol/net/challenge_tokens.hpp"
#include "protocol/acme/types.hpp"

namespace certfleet::protocol {
namespace {

using namespace certfleet::testing::net;

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
  auto odd_tos = parse_directory(R"({"newNonce":"n","newAccount":"a","newOrder":"o","meta":{"termsOfService":1}})");
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
  EXPECT_EQ(o->authorizations, (std::vector<std::string>{"https://ca/authz/1", "https://ca/authz/2"}));
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
  auto odd = parse_order("u", R"({"status":"ready","finalize":"f","identifiers":"x","authorizations":{}})");
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
  auto odd = parse_authorization("u", R"({"status":"pending","identifier":"a.example","challenges":{}})");
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

  auto no_url = parse_challenge("https://ca/chall/2", R"({"type":"http-01","status":"processing"})");
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
  auto d = parse_directory(R"({"newNonce":"n","newAccount":"a","newOrder":"o","junk":")" + filler + "\"}");
  EXPECT_TRUE(d);
  // 100k challenges: all kept, no quadratic blow-up worth a timeout.
  std::string many = R"({"status":"pending","challenges":[)";
  for (int i = 0; i < 100000; ++i) many += std::string(i ? "," : "") + R"({"type":"http-01","token":"t"})";
  many += "]}";
  auto a = parse_authorization("u", many);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->challenges.size(), 100000u);
}

// ---- acme_client against a peer answering the directory badly --------------------

fake_peer::handler answer_every_request(std::string reply) {
  return [reply](tcp::socket& s, int) {
    std::string buffer;
    while (read_request(s, buffer)) send(s, reply);
  };
}

std::string http_reply(const std::string& status, const std::string& content_type, const std::string& body) {
  return "HTTP/1.1 " + status + "\r\nContent-Type: " + content_type + "\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

asio::awaitable<result<acme_directory>> fetch_directory(acme_client& client) {
  co_return co_await client.directory();
}

const std::string good_directory =
    R"({"newNonce":"http://127.0.0.1:1/n","newAccount":"http://127.0.0.1:1/a","newOrder":"http://127.0.0.1:1/o"})";

TEST(acme_client_bad_ca, directory_answers_that_are_not_a_directory_are_errors) {
  struct row {
    const char* what;
    std::string reply;
    bool retryable;
  };
  const std::vector<row> rows = {
      {"HTML 502", http_reply("502 Bad Gateway", "text/html", "<html><h1>502 Bad Gateway</h1></html>"), true},
      {"HTML 200", http_reply("200 OK", "text/html", "<html>captive portal</html>"), true},
      {"JSON with an HTML content type", http_reply("200 OK", "text/html", good_directory), true},
      {"invalid JSON", http_reply("200 OK", "application/json", "{\"newNonce\": "), true},
      {"JSON array", http_reply("200 OK", "application/json", "[1,2,3]"), true},
      {"404", http_reply("404 Not Found", "application/json", "{}"), false},
      {"huge body", http_reply("200 OK", "application/json", "{\"x\":\"" + std::string(2 << 20, 'a') + "\"}"), true},
  };
  for (const auto& r : rows) {
    io_thread io;
    fake_peer peer(answer_every_request(r.reply));
    http_client http(io.executor(), {.timeout = 2000ms, .max_body_bytes = 1 << 20});
    acme_client client(http, peer.url("/dir"));
    auto d = io.run(fetch_directory(client));
    ASSERT_FALSE(d) << r.what;
    EXPECT_EQ(d.err().kind, error_kind::bad_response) << r.what << ": " << d.err().detail;
    EXPECT_EQ(d.err().retryable, r.retryable) << r.what << ": " << d.err().detail;
    EXPECT_FALSE(d.err().detail.empty());
  }
}

TEST(acme_client_bad_ca, a_json_directory_is_accepted_and_cached) {
  io_thread io;
  fake_peer peer(answer_every_request(http_reply("200 OK", "application/json; charset=utf-8", good_directory)));
  http_client http(io.executor(), {.timeout = 2000ms});
  acme_client client(http, peer.url("/dir"));
  auto d = io.run(fetch_directory(client));
  ASSERT_TRUE(d) << d.err().detail;
  EXPECT_EQ(d->new_order, "http://127.0.0.1:1/o");
  auto again = io.run(fetch_directory(client));
  ASSERT_TRUE(again);
  EXPECT_EQ(http.connections_opened(), 1u);
}

TEST(acme_client_bad_ca, a_silent_ca_is_a_timeout_not_a_hang) {
  io_thread io;
  silent_peer silent;
  fake_peer& peer = silent.peer;
  http_client http(io.executor(), {.timeout = 200ms});
  acme_client client(http, peer.url("/dir"));
  auto d = io.run(fetch_directory(client));
  ASSERT_FALSE(d);
  EXPECT_EQ(d.err().kind, error_kind::timeout) << d.err().detail;
}

// The directory of a scripted CA at `base`: /nonce, /acct and /order.
std::string directory_reply(const std::string& base) {
  return http_reply("200 OK", "application/json",
                    R"({"newNonce":")" + base + R"(/nonce","newAccount":")" + base + R"(/acct","newOrder":")" +
                        base + R"(/order"})");
}

asio::awaitable<result<acme_order>> order_one(acme_client& client, std::string domain) {
  std::vector<std::string> domains{std::move(domain)};
  co_return co_await client.new_order(domains);
}

// A CA whose directory is fine but whose other answers are broken in `mode`.
fake_peer::handler routed_ca(fake_peer*& self, std::string mode) {
  return [&self, mode](tcp::socket& s, int) {
    std::string buffer;
    while (auto req = read_request(s, buffer)) {
      const std::string base = "http://127.0.0.1:" + std::to_string(self->port());
      if (req->starts_with("GET /dir ")) {
        send(s, directory_reply(base));
      } else if (req->starts_with("HEAD /nonce ")) {
        send(s, mode == "no nonce" ? "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
                                   : "HTTP/1.1 200 OK\r\nReplay-Nonce: n1\r\nContent-Length: 0\r\n\r\n");
      } else if (req->starts_with("POST /order ")) {
        if (mode == "order not json") {
          send(s, "HTTP/1.1 201 Created\r\nLocation: " + base + "/order/1\r\nReplay-Nonce: n2\r\n"
                  "Content-Type: application/json\r\nContent-Length: 6\r\n\r\n<html>");
        } else if (mode == "no location") {
          send(s, http_reply("201 Created", "application/json", R"({"status":"pending","finalize":"f"})"));
        } else if (mode == "html 500") {
          send(s, http_reply("500 Internal Server Error", "text/html", "<html>oops</html>"));
        }
      }
    }
  };
}

TEST(acme_client_bad_ca, broken_answers_after_the_directory_are_errors) {
  auto key = private_key::generate(key_type::ec_p256);
  ASSERT_TRUE(key);
  auto shared_key = std::make_shared<const private_key>(std::move(key.value()));
  for (const std::string mode : {"no nonce", "order not json", "no location", "html 500"}) {
    io_thread io;
    fake_peer* peer_ptr = nullptr;
    fake_peer peer(routed_ca(peer_ptr, mode));
    peer_ptr = &peer;
    http_client http(io.executor(), {.timeout = 2000ms});
    acme_client client(http, peer.url("/dir"));
    client.use_account(shared_key, peer.url("/acct/1"));
    auto o = io.run(order_one(client, "a.example"));
    ASSERT_FALSE(o) << mode;
    EXPECT_FALSE(o.err().detail.empty()) << mode;
    EXPECT_TRUE(o.err().retryable) << mode << ": " << o.err().detail;
    if (mode != "html 500") {
      EXPECT_EQ(o.err().kind, error_kind::bad_response) << mode << ": " << o.err().detail;
    }
  }
}

// What the scripted CA below was asked.
struct ca_counters {
  std::atomic<int> order_fetches{0};
  std::atomic<int> finalizes{0};
};

// A CA that issues during the finalize request and answers with the valid order.
// With `first_finalize_not_ready`, the first finalize is refused with orderNotReady
// (a CA that has not yet counted the last validation).
fake_peer::handler issuing_ca(fake_peer*& self, std::string chain, ca_counters& counters,
                              bool first_finalize_not_ready = false) {
  return [&self, chain, &counters, first_finalize_not_ready](tcp::socket& s, int) {
    std::string buffer;
    while (auto req = read_request(s, buffer)) {
      const std::string base = "http://127.0.0.1:" + std::to_string(self->port());
      const std::string order = R"({"identifiers":[{"type":"dns","value":"a.example"}],"authorizations":[],"finalize":")" +
                                base + R"(/finalize/1")";
      if (req->starts_with("GET /dir ")) {
        send(s, directory_reply(base));
      } else if (req->starts_with("HEAD /nonce ")) {
        send(s, "HTTP/1.1 200 OK\r\nReplay-Nonce: n1\r\nContent-Length: 0\r\n\r\n");
      } else if (req->starts_with("POST /order/1 ")) {
        ++counters.order_fetches;
        send(s, http_reply("200 OK", "application/json", order + R"(,"status":"ready"})"));
      } else if (req->starts_with("POST /finalize/1 ")) {
        if (++counters.finalizes == 1 && first_finalize_not_ready) {
          send(s, http_reply("403 Forbidden", "application/problem+json",
                             R"({"type":"urn:ietf:params:acme:error:orderNotReady","detail":"not yet"})"));
        } else {
          send(s, http_reply("200 OK", "application/json",
                             order + R"(,"status":"valid","certificate":")" + base + R"(/cert/1"})"));
        }
      } else if (req->starts_with("POST /cert/1 ")) {
        send(s, http_reply("200 OK", "application/pem-certificate-chain", chain));
      } else {
        send(s, http_reply("404 Not Found", "text/plain", "no"));
      }
    }
  };
}

asio::awaitable<result<issued_certificate>> resume(acme_client& client, token_store& tokens,
                                                   issuance_request request) {
  co_return co_await issue_certificate(
      client, tokens, std::move(request),
      [](issuance_stage, const std::string&, const std::string&) -> asio::awaitable<result<void>> {
        co_return result<void>{};
      });
}

// Resumes the saved order /order/1 against issuing_ca and returns the result; the
// test knows the key the certificate must hold.
result<issued_certificate> resume_saved_order(ca_counters& counters, bool first_finalize_not_ready) {
  auto account_key = private_key::generate(key_type::ec_p256);
  auto cert_key = private_key::generate(key_type::ec_p256);
  if (!account_key) return std::move(account_key).err();
  if (!cert_key) return std::move(cert_key).err();
  const auto now = timestamp{std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::system_clock::now().time_since_epoch())};
  auto chain = make_self_signed_pem(*cert_key, "a.example", std::chrono::hours(24), now);
  if (!chain) return std::move(chain).err();
  io_thread io;
  fake_peer* peer_ptr = nullptr;
  fake_peer peer(issuing_ca(peer_ptr, *chain, counters, first_finalize_not_ready));
  peer_ptr = &peer;
  http_client http(io.executor(), {.timeout = 2000ms});
  acme_client client(http, peer.url("/dir"));
  client.use_account(std::make_shared<const private_key>(std::move(account_key.value())),
                     peer.url("/acct/1"));
  token_store tokens;
  issuance_request req{{"a.example"}, key_type::ec_p256, peer.url("/order/1"), cert_key->to_pem()};
  return io.run(resume(client, tokens, std::move(req)));
}

TEST(acme_issuance_scripted, a_finalize_answered_with_the_valid_order_is_not_polled) {
  ca_counters counters;
  auto cert = resume_saved_order(counters, false);
  ASSERT_TRUE(cert) << cert.err().detail;
  EXPECT_EQ(cert->info.sans, std::vector<std::string>{"a.example"});
  EXPECT_EQ(counters.order_fetches.load(), 1) << "only the resume fetched the order; the finalize answer was used";
  EXPECT_EQ(counters.finalizes.load(), 1);
}

TEST(acme_issuance_scripted, an_order_not_ready_at_finalize_is_fetched_and_finalized_again) {
  ca_counters counters;
  auto cert = resume_saved_order(counters, true);
  ASSERT_TRUE(cert) << cert.err().detail;
  EXPECT_EQ(cert->info.sans, std::vector<std::string>{"a.example"});
  EXPECT_EQ(counters.finalizes.load(), 2) << "refused once with orderNotReady, then accepted";
  EXPECT_EQ(counters.order_fetches.load(), 2) << "the resume, then one look at the refused order";
}

// ---- ca_pacing inside acme_client, against a scripted CA --------------------------

// A CA that answers new orders and authorization fetches after 100 ms and counts how
// many of those it is handling at once; /order/1 is a valid order, answered at once.
struct pacing_ca {
  pacing_ca()
      : peer([this](tcp::socket& s, int) {
          std::string buffer;
          while (auto req = read_request(s, buffer)) {
            const std::string base = "http://127.0.0.1:" + std::to_string(peer.port());
            const std::string order =
                R"({"status":"valid","finalize":")" + base + R"(/fin","certificate":")" + base + R"(/cert"})";
            if (req->starts_with("GET /dir ")) {
              send(s, directory_reply(base));
            } else if (req->starts_with("HEAD /nonce ")) {
              send(s, "HTTP/1.1 200 OK\r\nReplay-Nonce: n\r\nContent-Length: 0\r\n\r\n");
            } else if (req->starts_with("POST /order/1 ")) {
              send(s, json_reply("200 OK", order));
            } else if (req->starts_with("POST /order ") || req->starts_with("POST /authz/")) {
              const int now = ++in_flight;
              int seen = most_at_once;
              while (now > seen && !most_at_once.compare_exchange_weak(seen, now)) continue;
              std::this_thread::sleep_for(100ms);
              --in_flight;
              if (req->starts_with("POST /order ")) {
                send(s, json_reply("201 Created", order, "Location: " + base + "/order/1\r\n"));
              } else {
                send(s, json_reply("200 OK", R"({"status":"valid","identifier":{"type":"dns","value":"a.example"}})"));
              }
            } else {
              send(s, http_reply("404 Not Found", "text/plain", "no"));
            }
          }
        }) {}

  // A JSON answer with a fresh nonce, as every ACME answer carries one.
  static std::string json_reply(const std::string& status, const std::string& body,
                                const std::string& extra_headers = "") {
    return "HTTP/1.1 " + status + "\r\n" + extra_headers + "Replay-Nonce: n\r\nContent-Type: application/json\r\n" +
           "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  }

  std::atomic<int> in_flight{0};
  std::atomic<int> most_at_once{0};
  fake_peer peer;
};

asio::awaitable<bool> order_and_authorize(acme_client& client, std::string authz_url) {
  std::vector<std::string> domains{"a.example"};
  auto order = co_await client.new_order(domains);
  auto authz = co_await client.fetch_authorization(authz_url);
  co_return static_cast<bool>(order) && static_cast<bool>(authz);
}

// The scripted CA above and a client with an account on it.
class acme_client_pacing : public ::testing::Test {
 protected:
  acme_client& client_with(acme_client_options options = {}) {
    auto key = private_key::generate(key_type::ec_p256);
    EXPECT_TRUE(key);
    client_.emplace(http_, ca_.peer.url("/dir"), options);
    client_->use_account(std::make_shared<const private_key>(std::move(key.value())), ca_.peer.url("/acct/1"));
    return *client_;
  }

  io_thread io_;
  pacing_ca ca_;
  http_client http_{io_.executor(), {.timeout = 5000ms}};
  std::optional<acme_client> client_;
};

TEST_F(acme_client_pacing, new_orders_and_authorization_fetches_reach_the_ca_one_at_a_time) {
  acme_client& client = client_with();
  std::vector<std::future<bool>> runs;
  for (int i = 0; i < 4; ++i)
    runs.push_back(io_.start(order_and_authorize(client, ca_.peer.url("/authz/" + std::to_string(i)))));
  for (auto& r : runs) EXPECT_TRUE(io_thread::wait(std::move(r)));
  EXPECT_EQ(ca_.most_at_once.load(), 1) << "pebble 2.4 deadlocks on a new order and an authorization fetch at once";
  EXPECT_GE(http_.connections_opened(), 2u) << "the four ran concurrently, each on its own connection";
}

asio::awaitable<std::chrono::steady_clock::duration> timed_order_wait(acme_client& client, std::string url) {
  const auto start = std::chrono::steady_clock::now();
  auto order = co_await client.wait_for_order(url);
  EXPECT_TRUE(order) << order.err().detail;
  co_return std::chrono::steady_clock::now() - start;
}

asio::awaitable<bool> fetch_order_after(acme_client& client, std::string url, std::chrono::milliseconds when) {
  asio::steady_timer t(co_await asio::this_coro::executor, when);
  co_await t.async_wait(asio::use_awaitable);
  auto order = co_await client.fetch_order(url);
  co_return static_cast<bool>(order);
}

TEST_F(acme_client_pacing, a_poll_in_its_last_fifth_goes_out_with_another_answer) {
  acme_client& client = client_with({.first_poll_delay = 1000ms});
  auto waited = io_.start(timed_order_wait(client, ca_.peer.url("/order/1")));
  auto other = io_.start(fetch_order_after(client, ca_.peer.url("/order/1"), 850ms));
  EXPECT_TRUE(io_thread::wait(std::move(other)));
  const auto took = io_thread::wait(std::move(waited));
  EXPECT_GE(took, 800ms);
  EXPECT_LT(took, 980ms) << "the poll due at 1000 ms went out with the answer at ~850 ms";
}

}  // namespace
}  // namespace certfleet::protocol
