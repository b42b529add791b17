// A CA's error answers: any status, content type, body and Retry-After header give one
// certfleet error whose detail is short, well-formed UTF-8 (it ends up in status --json and
// on the control socket) and whose Retry-After is never negative nor beyond the cap.
//
// Input: byte 0 picks the HTTP status, byte 1 the content type; then the Retry-After header
// up to the first '\n', then the body.

#include "protocol/acme/problem.hpp"
#include "tests/fuzz/fuzz_check.hpp"
#include "tests/fuzz/utf8.hpp"

#include <array>

using namespace certfleet;

namespace {

constexpr std::array<int, 8> statuses{400, 401, 403, 404, 429, 500, 503, 200};
constexpr std::array<std::string_view, 6> content_types{"application/problem+json",
                                                        "application/json",
                                                        "Application/Problem+JSON; charset=utf-8",
                                                        "text/html",
                                                        "",
                                                        "application/problem+json\xff\x01"};
// 2026-12-06T00:00:00Z: any fixed "now" will do.
const timestamp now = from_unix_us(1796515200LL * 1000000);

void check_delay(const std::optional<std::chrono::seconds>& d) {
  if (d) FUZZ_CHECK(*d >= std::chrono::seconds{0} && *d <= protocol::max_retry_after);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const int status = statuses[data[0] % statuses.size()];
  const std::string_view content_type = content_types[data[1] % content_types.size()];
  std::string_view rest = fuzz::as_text(data + 2, size - 2);
  const auto newline = rest.find('\n');
  const std::string_view retry_after = rest.substr(0, newline);
  const std::string_view body =
      newline == std::string_view::npos ? std::string_view{} : rest.substr(newline + 1);

  const error e = protocol::parse_problem(status, content_type, body, retry_after, now);
  FUZZ_CHECK(!e.detail.empty());
  FUZZ_CHECK(e.detail.size() < 4096);
  FUZZ_CHECK(fuzz::valid_utf8(e.detail));
  check_delay(e.retry_after);
  check_delay(protocol::parse_retry_after(retry_after, now));
  check_delay(protocol::parse_retry_after(rest, now));
  return 0;
}
