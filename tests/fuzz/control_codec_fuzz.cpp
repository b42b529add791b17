// The control socket's JSON lines: whatever a local client sends (decode_request, in the
// daemon) or a daemon answers (decode_response, in the CLI) gives a typed message or an
// error, never an exception; a decoded message survives encode -> decode unchanged, and its
// encoding is stable.

#include "control/codec.hpp"
#include "tests/fuzz/fuzz_check.hpp"

using namespace certfleet;

namespace {

template <class Message, class Decode>
void round_trip(const Message& m, Decode decode) {
  const std::string once = control::encode(m);
  FUZZ_CHECK(once.find('\n') == std::string::npos);  // one message, one line
  auto back = decode(once);
  FUZZ_CHECK(back.ok());
  FUZZ_CHECK(*back == m);
  FUZZ_CHECK(control::encode(*back) == once);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = fuzz::as_text(data, size);
  if (auto r = control::decode_request(text)) round_trip(*r, control::decode_request);
  if (auto r = control::decode_response(text)) round_trip(*r, control::decode_response);
  return 0;
}
