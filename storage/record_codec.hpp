#pragma once
// The binary encoding of what certfleet keeps in LMDB.
//
// Every record starts with one format-version byte. Integers are little-endian and
// fixed-size, strings are a u32 length followed by the bytes, timestamps are int64
// microseconds since the Unix epoch. Decoders check every length against the input,
// reject unknown versions, out-of-range enum values and trailing bytes, and never read
// outside the input. Error messages name the record and the offset, never its content
// (records hold private keys).
//
// domain_record, format 2 (current):
//   u8 version=2 | u8 phase | u8 flags (bit 0: configured)
//   i64 cert_not_before | i64 cert_not_after | i64 last_success | i64 first_failure
//   i64 last_failure | i64 next_attempt | u32 failure_count
//   str name | str last_error | str order_url
//   i64 ari_window_start | i64 ari_window_end | i64 ari_check_at
// domain_record, format 1: as format 2 with version=1 and without the ari_ fields (read as
//   no_time: the daemon asks the CA for the window again). Read, never written.
// domain_record, format 0 (schema 0, read only by the migration): as format 1 with
//   version=0 and without order_url.
// cert_pair, format 1:  u8 version=1 | u8 has_previous | cert current | [cert previous]
//   cert: str domain | str chain_pem | str key_pem | i64 not_before | i64 not_after | str serial
// account_record, format 2: u8 version=2 | str directory_url | str account_url | str key_pem
//   | str contact
// account_record, format 1: as format 2 with version=1 and without contact (read as ""). Read,
//   never written.
// pending_order_record, format 1: u8 version=1 | str domain | str order_url | str key_pem
// budget_record, format 1: u8 version=1 | str directory_url | i64 full_at

#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "storage/records.hpp"

namespace certfleet::storage {

inline constexpr std::uint8_t domain_format = 3;
inline constexpr std::uint8_t cert_pair_format = 2;
inline constexpr std::uint8_t account_format = 3;
inline constexpr std::uint8_t pending_order_format = 1;
inline constexpr std::uint8_t budget_format = 1;

/// Appends the encoding of r to out.
void encode(const domain_record& r, std::string& out);
void encode(const cert_pair& r, std::string& out);
void encode(const account_record& r, std::string& out);
void encode(const budget_record& r, std::string& out);
void encode(const pending_order_record& r, std::string& out);

/// Returns the encoding of r.
template <class Record>
std::string encode(const Record& r) {
  std::string out;
  encode(r, out);
  return out;
}

/// Decodes into out (reusing its string capacity). Errors: kind storage, not retryable.
result<void> decode(std::string_view bytes, domain_record& out);
result<void> decode(std::string_view bytes, cert_pair& out);
result<void> decode(std::string_view bytes, account_record& out);
result<void> decode(std::string_view bytes, budget_record& out);
result<void> decode(std::string_view bytes, pending_order_record& out);

result<domain_record> decode_domain(std::string_view bytes);
result<cert_pair> decode_cert_pair(std::string_view bytes);
result<account_record> decode_account(std::string_view bytes);
result<pending_order_record> decode_pending_order(std::string_view bytes);
result<budget_record> decode_budget(std::string_view bytes);

/// Schema 0 domain records (no order_url); used by the migration and its tests.
void encode_domain_v0(const domain_record& r, std::string& out);
result<void> decode_domain_v0(std::string_view bytes, domain_record& out);

}  // namespace certfleet::storage
