// Certificates and keys as certfleet reads them back: stored chains and keys (the store,
// exports, httpd.ssl.listen files) and the CA's certificate download. Any text parses or
// fails cleanly; a key that parses writes back as PKCS#8 that reads as the same key; a chain
// that splits joins back to blocks that split the same way; the dates of a certificate that
// parses can be printed (status and cert-for print them).

#include "core/time.hpp"
#include "protocol/crypto/certificate.hpp"
#include "protocol/crypto/key.hpp"
#include "tests/fuzz/fuzz_check.hpp"

using namespace certfleet;
using namespace certfleet::protocol;

namespace {

const private_key& other_key() {
  static const auto* key =
      new private_key(std::move(private_key::generate(key_type::ec_p256)).value());
  return *key;
}

void check_info(const cert_info& info) {
  FUZZ_CHECK(!format_rfc3339(info.not_before).empty());
  FUZZ_CHECK(!format_rfc3339(info.not_after).empty());
  for (char c : info.serial_hex) FUZZ_CHECK((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = fuzz::as_text(data, size);

  auto key = private_key::from_pem(text);
  if (key) {
    const std::string pem = key->to_pem();
    auto again = private_key::from_pem(pem);
    FUZZ_CHECK(again.ok() && again->type() == key->type());
    FUZZ_CHECK(again->to_pem() == pem);
  }

  auto cert = certificate::from_pem(text);
  auto info = parse_certificate_pem(text);
  FUZZ_CHECK(cert.ok() == info.ok());
  if (cert) {
    check_info(cert->info());
    check_info(*info);
    (void)cert->holds_key(other_key());  // a key of another certificate: no crash
    if (key) FUZZ_CHECK(cert->holds_key(*key) == certificate_matches_key(text, *key));
  }

  auto chain = split_pem_chain(text);
  if (chain) {
    FUZZ_CHECK(!chain->blocks.empty());
    check_info(chain->leaf.info());
    auto again = split_pem_chain(chain->joined());
    FUZZ_CHECK(again.ok() && again->blocks == chain->blocks);
  }
  return 0;
}
