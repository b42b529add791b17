// The records certfleet reads back from LMDB (a disk error, a bad copy or an old or newer
// version can put anything there): any bytes decode to a record or a storage error, a record
// that decodes encodes back to exactly the same bytes (the encoding is canonical), and
// decoding into a record that already holds other values gives the same record as decoding
// into a fresh one (the decoders reuse their output's storage).
//
// Input: byte 0 picks the record type, the rest is the stored value.

#include "storage/record_codec.hpp"
#include "tests/fuzz/fuzz_check.hpp"

using namespace certfleet;
using namespace certfleet::storage;

namespace {

domain_record dirty_domain() {
  domain_record r;
  r.name = "stale.example.com";
  r.phase = domain_phase::failing;
  r.configured = false;
  r.cert_not_after = from_unix_us(42);
  r.failure_count = 7;
  r.last_error = "stale error";
  r.order_url = "https://ca.example/order/stale";
  r.ari_window_start = from_unix_us(5);
  r.ari_window_end = from_unix_us(6);
  r.ari_check_at = from_unix_us(7);
  r.ca_failures = 9;
  return r;
}

cert_record dirty_cert() {
  return cert_record{"stale.example.com", "stale chain", "stale key", from_unix_us(1),
                     from_unix_us(2),     "ff",          "stale CA"};
}

// A record of the current format encodes back to the same bytes; one of an older format that
// is still read encodes to the current format, which decodes to the same record.
template <class Record, class Encode>
void check(std::string_view bytes, result<Record> fresh, Record dirty, Encode encode_fn,
           std::uint8_t current_format) {
  const auto reused = decode(bytes, dirty);
  FUZZ_CHECK(reused.ok() == fresh.ok());
  if (!fresh) {
    FUZZ_CHECK(fresh.err().kind == error_kind::storage && !fresh.err().detail.empty());
    return;
  }
  FUZZ_CHECK(dirty == *fresh);
  std::string out;
  encode_fn(*fresh, out);
  if (static_cast<std::uint8_t>(bytes.front()) == current_format) {
    FUZZ_CHECK(out == bytes);
  } else {
    Record again;
    FUZZ_CHECK(decode(out, again).ok() && again == *fresh);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const auto bytes = fuzz::as_text(data + 1, size - 1);
  auto enc = [](const auto& r, std::string& out) { encode(r, out); };
  switch (data[0] % 6) {
    case 0:
      check(bytes, decode_domain(bytes), dirty_domain(), enc, domain_format);
      break;
    case 1:
      check(bytes, decode_cert_pair(bytes), cert_pair{dirty_cert(), dirty_cert()}, enc,
            cert_pair_format);
      break;
    case 2:
      check(bytes, decode_account(bytes), account_record{"stale", "stale", "stale", "stale"}, enc,
            account_format);
      break;
    case 3:
      check(bytes, decode_pending_order(bytes), pending_order_record{"stale", "stale", "stale"},
            enc, pending_order_format);
      break;
    case 5:
      check(bytes, decode_budget(bytes), budget_record{"stale", from_unix_us(3)}, enc,
            budget_format);
      break;
    case 4: {
      domain_record fresh;
      const auto ok = decode_domain_v0(bytes, fresh);
      domain_record dirty = dirty_domain();
      FUZZ_CHECK(decode_domain_v0(bytes, dirty).ok() == ok.ok());
      if (!ok) break;
      FUZZ_CHECK(dirty == fresh);
      FUZZ_CHECK(fresh.order_url.empty());
      std::string out;
      encode_domain_v0(fresh, out);
      FUZZ_CHECK(out == bytes);
      break;
    }
  }
  return 0;
}
