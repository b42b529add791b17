// plain_handler: what a page handler's answer becomes on the wire (the admin listener's pages).
#include <gtest/gtest.h>

#include <boost/beast/http.hpp>

#include "protocol/net/http_server.hpp"

namespace certfleet::protocol {
namespace {

namespace http = boost::beast::http;

http::request<http::empty_body> request(http::verb method, std::string target,
                                        std::string authorization = "") {
  http::request<http::empty_body> req{method, target, 11};
  if (!authorization.empty()) req.set(http::field::authorization, authorization);
  return req;
}

TEST(plain_handler, passes_the_request_and_sets_the_safety_headers) {
  plain_request seen;
  auto handler = plain_handler([&](const plain_request& r) {
    seen = r;
    return plain_response{200, "text/html; charset=utf-8", "<p>hi</p>"};
  });
  const auto res = handler(request(http::verb::get, "/x?page=2", "Bearer t"));
  EXPECT_EQ(seen.method, "GET");
  EXPECT_EQ(seen.target, "/x?page=2");
  EXPECT_EQ(seen.authorization, "Bearer t");
  EXPECT_EQ(res.result_int(), 200u);
  EXPECT_EQ(res[http::field::content_type], "text/html; charset=utf-8");
  EXPECT_EQ(res[http::field::cache_control], "no-store");
  EXPECT_EQ(res["X-Content-Type-Options"], "nosniff");
  EXPECT_EQ(res["X-Frame-Options"], "DENY");
  EXPECT_EQ(res.body(), "<p>hi</p>");
  EXPECT_TRUE(res.keep_alive());
}

TEST(plain_handler, head_has_the_length_but_no_body_and_other_methods_get_405) {
  int calls = 0;
  auto handler = plain_handler([&](const plain_request&) {
    ++calls;
    return plain_response{200, "text/plain", "twelve bytes"};
  });
  const auto head = handler(request(http::verb::head, "/"));
  EXPECT_EQ(head.body(), "");
  EXPECT_EQ(head[http::field::content_length], "12");
  const auto post = handler(request(http::verb::post, "/"));
  EXPECT_EQ(post.result_int(), 405u);
  EXPECT_EQ(post[http::field::allow], "GET, HEAD");
  EXPECT_EQ(calls, 1) << "the page never sees a POST";
}

TEST(plain_handler, a_401_asks_for_a_bearer_token) {
  auto handler = plain_handler([](const plain_request&) {
    return plain_response{401, "text/plain", "token needed\n"};
  });
  const auto res = handler(request(http::verb::get, "/metrics"));
  EXPECT_EQ(res.result_int(), 401u);
  EXPECT_EQ(res[http::field::www_authenticate], "Bearer");
}

}  // namespace
}  // namespace certfleet::protocol
