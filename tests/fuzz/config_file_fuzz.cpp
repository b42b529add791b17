// certfleet.conf as the daemon reads it at start and on every reload: any text gives settings
// or file:line diagnostics, never a crash, and the same text always gives the same answer.

#include "config/config_file.hpp"
#include "tests/fuzz/fuzz_check.hpp"

using namespace certfleet;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = fuzz::as_text(data, size);
  auto parsed = config::parse_config_text(text, "certfleet.conf");
  FUZZ_CHECK(parsed.ok() == parsed.errors.empty());
  for (const auto& d : parsed.errors) FUZZ_CHECK(!d.message.empty());
  auto again = config::parse_config_text(text, "certfleet.conf");
  FUZZ_CHECK(again.ok() == parsed.ok());
  if (parsed.ok()) FUZZ_CHECK(*again.value == *parsed.value);

  // The value parsers the directives use, on the whole input: what they accept, written back
  // in canonical form, reads as the same value.
  if (auto d = config::parse_duration(text)) {
    auto back = config::parse_duration(config::format_duration(*d));
    FUZZ_CHECK(back.ok() && *back == *d);
  }
  if (auto hp = config::parse_listen_address(text)) {
    auto back = config::parse_listen_address(hp->to_string());
    FUZZ_CHECK(back.ok() && *back == *hp);
  }
  if (auto hp = config::parse_host_port(text)) {
    auto back = config::parse_host_port(hp->to_string());
    FUZZ_CHECK(back.ok() && *back == *hp);
  }
  if (auto hp = config::parse_dns_server(text)) {
    auto back = config::parse_dns_server(hp->to_string());
    FUZZ_CHECK(back.ok() && *back == *hp);
  }
  if (auto email = config::parse_email(text)) {
    auto back = config::parse_email(*email);
    FUZZ_CHECK(back.ok() && *back == *email);
  }
  return 0;
}
