// What a TLS client puts in its ClientHello's ALPN and server_name extensions, read as the
// HTTPS listener reads them before OpenSSL does. Properties: no read past the input; a
// protocol offered is in the input; a server name is no longer than the input and in lower
// case.

#include <cctype>

#include "serving/client_hello.hpp"
#include "tests/fuzz/fuzz_check.hpp"

using namespace certfleet;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes = fuzz::as_text(data, size);
  if (serving::offers_protocol(bytes, "acme-tls/1"))
    FUZZ_CHECK(bytes.find("acme-tls/1") != std::string_view::npos);
  const std::string name = serving::server_name_of(bytes);
  FUZZ_CHECK(name.size() + 5 <= size || name.empty());
  for (const char c : name) {
    const auto byte = static_cast<unsigned char>(c);
    FUZZ_CHECK(std::tolower(byte) == byte);
  }
  return 0;
}
