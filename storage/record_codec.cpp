#include "storage/record_codec.hpp"

#include <cstring>

namespace certfleet::storage {
namespace {

// ---- writing --------------------------------------------------------------------------

void put_u8(std::string& out, std::uint8_t v) { out.push_back(static_cast<char>(v)); }

void put_u32(std::string& out, std::uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out.append(b, 4);
}

void put_i64(std::string& out, std::int64_t sv) {
  auto v = static_cast<std::uint64_t>(sv);
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out.append(b, 8);
}

void put_time(std::string& out, timestamp t) { put_i64(out, to_unix_us(t)); }

void put_str(std::string& out, std::string_view s) {
  put_u32(out, static_cast<std::uint32_t>(s.size()));
  out.append(s);
}

// ---- reading --------------------------------------------------------------------------

// A bounds-checked cursor. After the first failure every read fails, so a decoder can
// read all fields and check ok() once, and the error names the first bad offset.
class reader {
 public:
  reader(std::string_view bytes, const char* what)
      : p_(bytes.data()), end_(p_ + bytes.size()), begin_(p_), what_(what) {}

  std::uint8_t u8() {
    if (!need(1)) return 0;
    return static_cast<std::uint8_t>(*p_++);
  }
  std::uint32_t u32() {
    if (!need(4)) return 0;
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= std::uint32_t{static_cast<std::uint8_t>(p_[i])} << (8 * i);
    p_ += 4;
    return v;
  }
  std::int64_t i64() {
    if (!need(8)) return 0;
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= std::uint64_t{static_cast<std::uint8_t>(p_[i])} << (8 * i);
    p_ += 8;
    return static_cast<std::int64_t>(v);
  }
  timestamp time() { return from_unix_us(i64()); }
  void str(std::string& out) {
    std::uint32_t n = u32();
    if (!need(n)) return;
    out.assign(p_, n);
    p_ += n;
  }
  void fail(const char* why) {
    if (error_ == nullptr) {
      error_ = why;
      error_at_ = static_cast<std::size_t>(p_ - begin_);
    }
    p_ = end_;
  }
  result<void> finish() {
    if (error_ == nullptr && p_ != end_) fail("trailing bytes");
    if (error_ == nullptr) return {};
    // Not retryable, unlike most storage errors: reading the same bytes again fails again.
    return error(error_kind::storage,
                 std::string("stored ") + what_ + " is corrupt: " + error_ + " at byte " +
                     std::to_string(error_at_),
                 false);
  }

 private:
  bool need(std::size_t n) {
    if (error_ != nullptr) return false;
    if (static_cast<std::size_t>(end_ - p_) < n) {
      fail("truncated");
      return false;
    }
    return true;
  }

  const char* p_;
  const char* end_;
  const char* begin_;
  const char* what_;
  const char* error_ = nullptr;
  std::size_t error_at_ = 0;
};

void encode_domain_fields(const domain_record& r, std::string& out) {
  put_u8(out, static_cast<std::uint8_t>(r.phase));
  put_u8(out, r.configured ? 1 : 0);
  put_time(out, r.cert_not_before);
  put_time(out, r.cert_not_after);
  put_time(out, r.last_success);
  put_time(out, r.first_failure);
  put_time(out, r.last_failure);
  put_time(out, r.next_attempt);
  put_u32(out, r.failure_count);
  put_str(out, r.name);
  put_str(out, r.last_error);
}

void decode_domain_fields(reader& in, domain_record& r) {
  std::uint8_t phase = in.u8();
  if (phase > static_cast<std::uint8_t>(domain_phase::disabled)) in.fail("unknown phase");
  r.phase = static_cast<domain_phase>(phase);
  std::uint8_t flags = in.u8();
  if ((flags & ~1u) != 0) in.fail("unknown flags");
  r.configured = (flags & 1u) != 0;
  r.cert_not_before = in.time();
  r.cert_not_after = in.time();
  r.last_success = in.time();
  r.first_failure = in.time();
  r.last_failure = in.time();
  r.next_attempt = in.time();
  r.failure_count = in.u32();
  in.str(r.name);
  in.str(r.last_error);
}

void encode_cert(const cert_record& c, std::string& out) {
  put_str(out, c.domain);
  put_str(out, c.chain_pem);
  put_str(out, c.key_pem);
  put_time(out, c.not_before);
  put_time(out, c.not_after);
  put_str(out, c.serial);
  put_str(out, c.ca_url);
}

// Format 1 is what daemons before the fallback CA wrote: no ca_url.
void decode_cert(reader& in, cert_record& c, std::uint8_t version) {
  in.str(c.domain);
  in.str(c.chain_pem);
  in.str(c.key_pem);
  c.not_before = in.time();
  c.not_after = in.time();
  in.str(c.serial);
  c.ca_url.clear();
  if (version >= 2) in.str(c.ca_url);
}

void check_version(reader& in, std::uint8_t expected) {
  if (in.u8() != expected) in.fail("unknown format version");
}

template <class Record>
result<Record> decode_value(std::string_view bytes) {
  Record r;
  if (auto ok = decode(bytes, r); !ok) return std::move(ok).err();
  return r;
}

}  // namespace

void encode(const domain_record& r, std::string& out) {
  out.reserve(out.size() + 88 + r.name.size() + r.last_error.size() + r.order_url.size());
  put_u8(out, domain_format);
  encode_domain_fields(r, out);
  put_str(out, r.order_url);
  put_time(out, r.ari_window_start);
  put_time(out, r.ari_window_end);
  put_time(out, r.ari_check_at);
  put_u32(out, r.ca_failures);
}

result<void> decode(std::string_view bytes, domain_record& out) {
  reader in(bytes, "domain record");
  // Format 1 is what daemons before ARI wrote: the same without the window; format 2,
  // before the fallback CA, without ca_failures.
  const std::uint8_t version = in.u8();
  if (version < 1 || version > domain_format) in.fail("unknown format version");
  decode_domain_fields(in, out);
  in.str(out.order_url);
  if (version >= 2) {
    out.ari_window_start = in.time();
    out.ari_window_end = in.time();
    out.ari_check_at = in.time();
  } else {
    out.ari_window_start = out.ari_window_end = out.ari_check_at = no_time;
  }
  out.ca_failures = version >= 3 ? in.u32() : 0;
  return in.finish();
}

void encode_domain_v0(const domain_record& r, std::string& out) {
  put_u8(out, 0);
  encode_domain_fields(r, out);
}

result<void> decode_domain_v0(std::string_view bytes, domain_record& out) {
  reader in(bytes, "schema 0 domain record");
  check_version(in, 0);
  decode_domain_fields(in, out);
  out.order_url.clear();
  out.ari_window_start = out.ari_window_end = out.ari_check_at = no_time;
  out.ca_failures = 0;
  return in.finish();
}

void encode(const cert_pair& r, std::string& out) {
  put_u8(out, cert_pair_format);
  put_u8(out, r.previous ? 1 : 0);
  encode_cert(r.current, out);
  if (r.previous) encode_cert(*r.previous, out);
}

result<void> decode(std::string_view bytes, cert_pair& out) {
  reader in(bytes, "certificate record");
  const std::uint8_t version = in.u8();
  if (version < 1 || version > cert_pair_format) in.fail("unknown format version");
  std::uint8_t has_previous = in.u8();
  if (has_previous > 1) in.fail("bad previous-certificate flag");
  decode_cert(in, out.current, version);
  if (has_previous == 1) {
    if (!out.previous) out.previous.emplace();
    decode_cert(in, *out.previous, version);
  } else {
    out.previous.reset();
  }
  return in.finish();
}

void encode(const account_record& r, std::string& out) {
  put_u8(out, account_format);
  put_str(out, r.directory_url);
  put_str(out, r.account_url);
  put_str(out, r.key_pem);
  put_str(out, r.contact);
  put_str(out, r.next_key_pem);
}

result<void> decode(std::string_view bytes, account_record& out) {
  reader in(bytes, "account record");
  // Daemons before the contact was kept wrote format 1; before key rollover, format 2.
  const std::uint8_t version = in.u8();
  if (version < 1 || version > account_format) in.fail("unknown format version");
  in.str(out.directory_url);
  in.str(out.account_url);
  in.str(out.key_pem);
  out.contact.clear();
  out.next_key_pem.clear();
  if (version >= 2) in.str(out.contact);
  if (version >= 3) in.str(out.next_key_pem);
  return in.finish();
}

void encode(const budget_record& r, std::string& out) {
  put_u8(out, budget_format);
  put_str(out, r.directory_url);
  put_time(out, r.full_at);
}

result<void> decode(std::string_view bytes, budget_record& out) {
  reader in(bytes, "order budget record");
  check_version(in, budget_format);
  in.str(out.directory_url);
  out.full_at = in.time();
  return in.finish();
}

void encode(const pending_order_record& r, std::string& out) {
  put_u8(out, pending_order_format);
  put_str(out, r.domain);
  put_str(out, r.order_url);
  put_str(out, r.key_pem);
}

result<void> decode(std::string_view bytes, pending_order_record& out) {
  reader in(bytes, "pending order record");
  check_version(in, pending_order_format);
  in.str(out.domain);
  in.str(out.order_url);
  in.str(out.key_pem);
  return in.finish();
}

result<domain_record> decode_domain(std::string_view bytes) {
  return decode_value<domain_record>(bytes);
}
result<cert_pair> decode_cert_pair(std::string_view bytes) {
  return decode_value<cert_pair>(bytes);
}
result<account_record> decode_account(std::string_view bytes) {
  return decode_value<account_record>(bytes);
}
result<pending_order_record> decode_pending_order(std::string_view bytes) {
  return decode_value<pending_order_record>(bytes);
}
result<budget_record> decode_budget(std::string_view bytes) {
  return decode_value<budget_record>(bytes);
}

}  // namespace certfleet::storage
