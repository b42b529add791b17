// Domain names from url_domains, me, certfleet.conf and the control socket all go through
// normalize_domain: any bytes give a name or an error, and a normalised name is a fixed point
// that obeys the documented shape (so it is safe as an LMDB key, a file name and a SAN).

#include "config/control_files.hpp"
#include "config/domain_name.hpp"
#include "tests/fuzz/fuzz_check.hpp"

using namespace certfleet;

namespace {

void check_normal(const std::string& name) {
  FUZZ_CHECK(!name.empty() && name.size() <= config::max_domain_length);
  FUZZ_CHECK(name.find('.') != std::string::npos);
  for (char c : name)
    FUZZ_CHECK((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.');
  auto again = config::normalize_domain(name);
  FUZZ_CHECK(again.ok() && *again == name);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = fuzz::as_text(data, size);
  if (auto name = config::normalize_domain(text)) check_normal(*name);

  std::vector<config::diagnostic> warnings;
  for (const auto& name : config::parse_url_domains(text, "url_domains", warnings))
    check_normal(name);
  const std::string me = config::parse_me(text, "me", warnings);
  if (!me.empty()) check_normal(me);
  return 0;
}
