// What arrives on port 80 from anyone: the bytes are parsed as the HTTP-01 server parses them
// (Beast, the server's header limit, no body), and every request that parses is answered by
// the server's own http01_answer. Properties: a live token's key authorization is served only
// for exactly its path, nothing of the request is echoed in a body, and the answer serializes.

#include "protocol/net/http01_answer.hpp"
#include "protocol/net/http01_server.hpp"
#include "tests/fuzz/fuzz_check.hpp"

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/write.hpp>
#include <sstream>

using namespace certfleet;
namespace http = boost::beast::http;

namespace {

constexpr std::string_view token = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA";
constexpr std::string_view key_authorization =
    "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.nP1qzpXGymHBrUEepNY9HCsQk7K8KhOypzEt62jcerQ";

const protocol::token_store& tokens() {
  static const auto* store = [] {
    auto* s = new protocol::token_store;
    s->publish(std::string(token), std::string(key_authorization));
    return s;
  }();
  return *store;
}

// url_domains_always_use_tls for one domain.
bool redirect(const std::string& host) { return host == "www.example.com"; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const protocol::http01_options options;
  http::request_parser<http::empty_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
  parser.body_limit(0);
  parser.eager(true);
  boost::system::error_code ec;
  parser.put(boost::asio::buffer(data, size), ec);
  if (ec || !parser.is_done()) return 0;
  const auto& req = parser.get();

  const std::function<bool(const std::string&)> redirects[] = {nullptr, redirect};
  for (const auto& r : redirects) {
    const auto res = protocol::http01_answer(req, tokens(), r);
    const std::string_view target(req.target().data(), req.target().size());
    const bool is_get = req.method() == http::verb::get;
    const bool served = res.result() == http::status::ok;
    FUZZ_CHECK(served ==
               ((is_get || req.method() == http::verb::head) &&
                target == std::string(protocol::http01_challenge_prefix) + std::string(token)));
    if (served && is_get) FUZZ_CHECK(res.body() == key_authorization);
    if (!served) FUZZ_CHECK(res.body().size() < 32);  // a fixed text, never the input
    if (res.result() == http::status::moved_permanently) FUZZ_CHECK(r != nullptr);
    std::ostringstream out;
    out << res;
    FUZZ_CHECK(out.good());
  }
  return 0;
}
