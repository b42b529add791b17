// httpd.ssl.listen decides which certificate a TLS client is served: any text gives rules or
// file:line errors, and every rule it gives has an address that reads back the same, absolute
// file paths and well-formed server names.

#include "config/control_files.hpp"
#include "config/domain_name.hpp"
#include "tests/fuzz/fuzz_check.hpp"

using namespace certfleet;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = fuzz::as_text(data, size);
  std::vector<config::diagnostic> errors;
  const auto rules = config::parse_listen_rules(text, "httpd.ssl.listen", errors);
  for (const auto& e : errors) FUZZ_CHECK(e.line > 0 && !e.message.empty());
  for (const auto& rule : rules) {
    auto back = config::parse_listen_address(rule.address.to_string());
    FUZZ_CHECK(back.ok() && *back == rule.address);
    FUZZ_CHECK(rule.cert_file.is_absolute() && rule.key_file.is_absolute());
    for (const auto& name : rule.server_names) {
      // "*.example.com" matches one label; the rest must be a normalised name.
      const std::string_view base = std::string_view(name).starts_with("*.")
                                        ? std::string_view(name).substr(2)
                                        : std::string_view(name);
      auto normal = config::normalize_domain(base);
      FUZZ_CHECK(normal.ok() && *normal == base);
    }
  }
  return 0;
}
